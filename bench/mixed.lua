-- wrk script for bench/__main__.py: a load of several kinds of request in fixed shares.
--
--   wrk -t2 -c64 -d20s --latency -s bench/mixed.lua http://127.0.0.1:PORT -- DATA_FILE MODE TOKEN
--
-- DATA_FILE holds one request per line, "kind<TAB>payload": check (a JSON body for POST /api/v1/checks),
-- submit (a JSON body for POST /api/v1/admission-requests, "__N__" replaced by a unique number),
-- list (a path, GET, anonymous). MODE chooses the shares:
--   mixed     80% checks, 10% submissions, 10% public list reads (the issue's mix)
--   baseline  the same shares of the baselines: 90% GET /healthz, 10% POST of one plain INSERT
--   check, submit, list, bare (/healthz), insert (plain INSERT): one kind only
--   batch (POST /api/v1/checks/batch, BATCH_SIZE checks a call), revalidate (a list's GET with
--   If-None-Match: its ETag, answered 304; lines "revalidate<TAB>path<TAB>etag")
-- At the end it prints one line "STATUS {...}" with the responses counted per HTTP status and the
-- requests sent per kind, over all threads.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local MODES = {
  mixed = { { "check", 80 }, { "submit", 10 }, { "list", 10 } },
  baseline = { { "bare", 80 }, { "insert", 10 }, { "bare", 10 } },
  check = { { "check", 100 } },
  submit = { { "submit", 100 } },
  list = { { "list", 100 } },
  bare = { { "bare", 100 } },
  insert = { { "insert", 100 } },
  batch = { { "batch", 100 } },
  revalidate = { { "revalidate", 100 } },
}

local pool = { check = {}, submit = {}, list = {}, batch = {}, revalidate = {} }
local shares
local auth
local counter = 0
statuses = {}
sent = {}

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local kind, payload = line:match("^(%a+)\t(.*)$")
    if kind then
      table.insert(pool[kind], payload)
    end
  end
  file:close()
  shares = assert(MODES[args[2]], "unknown mode " .. tostring(args[2]))
  auth = { ["Authorization"] = "Bearer " .. args[3], ["Content-Type"] = "application/json" }
  math.randomseed(os.time() * 1000 + id)
end

local function pick(list)
  return list[math.random(#list)]
end

local function submission()
  counter = counter + 1
  return (string.gsub(pick(pool.submit), "__N__", id .. "-" .. counter .. "-" .. math.random(1, 1000000000)))
end

function request()
  local roll = math.random(100)
  local kind = shares[#shares][1]
  for _, share in ipairs(shares) do
    if roll <= share[2] then
      kind = share[1]
      break
    end
    roll = roll - share[2]
  end
  sent[kind] = (sent[kind] or 0) + 1
  if kind == "check" then
    return wrk.format("POST", "/api/v1/checks", auth, pick(pool.check))
  elseif kind == "submit" then
    return wrk.format("POST", "/api/v1/admission-requests", auth, submission())
  elseif kind == "list" then
    return wrk.format("GET", pick(pool.list))
  elseif kind == "insert" then
    return wrk.format("POST", "/api/v1/bench/plain-insert", auth, submission())
  elseif kind == "batch" then
    return wrk.format("POST", "/api/v1/checks/batch", auth, pick(pool.batch))
  elseif kind == "revalidate" then
    local path, etag = pick(pool.revalidate):match("^(%S+)\t(.*)$")
    return wrk.format("GET", path, { ["If-None-Match"] = etag })
  end
  return wrk.format("GET", "/healthz")
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local function merge(into, name, thread)
  for key, count in pairs(thread:get(name)) do
    into[tostring(key)] = (into[tostring(key)] or 0) + count
  end
end

function done(summary, latency, requests)
  local all_statuses, all_sent = {}, {}
  for _, thread in ipairs(threads) do
    merge(all_statuses, "statuses", thread)
    merge(all_sent, "sent", thread)
  end
  local parts = {}
  for key, count in pairs(all_statuses) do
    table.insert(parts, string.format('"%s": %d', key, count))
  end
  local kinds = {}
  for key, count in pairs(all_sent) do
    table.insert(kinds, string.format('"%s": %d', key, count))
  end
  io.write(string.format('STATUS {"statuses": {%s}, "sent": {%s}, "p95_ms": %.3f}\n',
    table.concat(parts, ", "), table.concat(kinds, ", "), latency:percentile(95) / 1000))
end
