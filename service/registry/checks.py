"""The enforcement check: may department D put matter M on community C in role R?

Answered from memory. Each process holds the lists it has been asked about (a scope is loaded on
first use: the national and provincial templates and the county's own list), with each item's
entries from the one in force today onward, so a future-dated change takes effect on its date
without a reload. The `registry` change topic reloads the scopes that moved, in every process.

Every answer is recorded: put on a bounded queue and written in batches with COPY; the stopper
drains the queue on a graceful shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gc
import logging
import re
import time
import uuid
from typing import Any

import asyncpg
import msgspec

from service.core.authz import Authorizer
from service.core.db import CONNECTION_ERRORS
from service.core.errors import NotFound
from service.core.tree import SEQ_OVERLAP
from service.registry import queries
from service.registry.schemas import NEGATIVE_LISTS, CheckAnswer, CheckRequest, Citation, Receipt
from service.registry.service import template_scopes, today

log = logging.getLogger(__name__)

QUEUE_MAX = 20_000
BATCH_MAX = 2_000
FLUSH_EVERY_S = 0.05
CLIENT_CACHE_S = 30
PRELOAD_BATCH = 50

# The 2024 opinion: the community may assist with these, never be the responsible party.
RESPONSIBLE_PARTY_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("administrative enforcement (行政执法)", re.compile(r"行政执法|执法")),
    ("demolition of illegal structures (拆除违法建设)", re.compile(r"拆违|拆除|违法建设|违法建筑|违章建筑|违建")),
    ("environmental rectification (环境整治)", re.compile(r"环境整治|环境综合整治|环保督察|污染整治")),
    ("urban management (城市管理)", re.compile(r"城市管理|城管")),
    ("work safety (安全生产)", re.compile(r"安全生产")),
]
# National prohibitions that hold whatever a matter is called.
PROHIBITED_TEXT_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("investment-attraction targets (招商引资)", re.compile(r"招商引资")),
    ("tax assistance (协税护税)", re.compile(r"协税护税")),
    ("revenue generation (创收)", re.compile(r"创收|经济创收|组织收入")),
    ("selling commercial insurance (推销商业保险)", re.compile(r"商业保险")),
    ("newspaper subscriptions (报刊征订)", re.compile(r"报刊征订|征订报刊|订阅报刊")),
    ("responsibility pledges and one-vote vetoes (责任书、一票否决)", re.compile(r"责任状|责任书|一票否决")),
    ("judging work by screenshots or paper trails (以截图、留痕考核)", re.compile(r"截图|留痕")),
]


class State(msgspec.Struct, array_like=True, gc=False, frozen=True):
    """An item as one entry left it (only what a check needs to answer and cite)."""

    effective_from: datetime.date
    entry_number: int
    status: str
    kind: str
    list: str
    title: str
    expires_on: datetime.date | None
    basis: str | None
    basis_number: str | None


class ScopeList(msgspec.Struct, gc=False):
    items: dict[str, tuple[State, ...]]
    releases: list[tuple[datetime.date, int, str, str]]
    # normalised title -> code, built on the first question by title
    titles: dict[str, str] | None = None

    def code_by_title(self, key: str) -> str | None:
        if self.titles is None:
            self.titles = {_norm(s[-1].title): code for code, s in self.items.items() if s}
        return self.titles.get(key)


def _norm(text: str) -> str:
    return re.sub(r"[\s，,。.：:；;（）()“”\"'、]+", "", text).lower()


class _Interner:
    """Shares equal dates and repeated strings (kinds, lists, bases) between the states held."""

    def __init__(self) -> None:
        self._values: dict[object, object] = {}

    def __call__(self, value: Any) -> Any:
        if value is None:
            return None
        return self._values.setdefault(value, value)


def _states(rows: list[asyncpg.Record], on: datetime.date, share: _Interner) -> tuple[State, ...]:
    states = [State(
        effective_from=share(r["effective_from"]), entry_number=r["entry_number"], status=share(r["status"]),
        kind=share(r["kind"]), list=share(r["list"]), title=r["title"], expires_on=share(r["expires_on"]),
        basis=share(r["basis"]), basis_number=share(r["basis_number"]),
    ) for r in rows]
    # keep the entry in force today and those that will take effect later
    start = 0
    for i, s in enumerate(states):
        if s.effective_from <= on:
            start = i
    return tuple(states[start:])


def state_on(states: tuple[State, ...], on: datetime.date) -> State | None:
    """The state in force on a date: the last entry whose date has come (dates never go backwards)."""
    found = None
    for s in states:
        if s.effective_from <= on:
            found = s
        else:
            break
    return found


class Recorder:
    """Writes check records in batches with COPY from a bounded queue."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue(QUEUE_MAX)
        self.pending: dict[uuid.UUID, tuple[Any, ...]] = {}
        self._task: asyncio.Task[None] | None = None
        self.written = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def put(self, record: tuple[Any, ...]) -> None:
        self.pending[record[0]] = record
        if self._queue.full():
            log.warning("check record queue full: the answer waits for the writer")
        await self._queue.put(record)  # waits only when the queue is full: nothing is dropped

    async def _write(self, batch: list[tuple[Any, ...]]) -> None:
        todo, retrying = batch, False
        while True:
            try:
                async with self._pool.acquire(timeout=5) as conn:
                    if retrying:
                        # a failed attempt may have committed before its answer was lost (the database
                        # stopped): write only what is not there, or the retry would collide forever
                        done = {row["id"] for row in await conn.fetch(queries.CHECKS_PRESENT, [r[0] for r in todo])}
                        todo = [r for r in todo if r[0] not in done]
                    if todo:
                        await conn.copy_records_to_table("check_record", records=todo, columns=queries.CHECK_COLUMNS)
                break
            except CONNECTION_ERRORS:
                log.exception("writing %d check records failed; retrying", len(todo))
                retrying = True
                await asyncio.sleep(1)
        self.written += len(batch)
        for r in batch:
            self.pending.pop(r[0], None)

    def _drain(self, batch: list[tuple[Any, ...]]) -> None:
        while len(batch) < BATCH_MAX and not self._queue.empty():
            batch.append(self._queue.get_nowait())

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(FLUSH_EVERY_S)
            self._drain(batch)
            await self._write(batch)

    async def stop(self) -> None:
        """Graceful shutdown: stop the loop, then write everything still queued."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # anything the loop had taken but not written is still in `pending`
        rest = {r[0]: r for r in self.pending.values()}
        while not self._queue.empty():
            r = self._queue.get_nowait()
            rest[r[0]] = r
        if rest:
            async with self._pool.acquire(timeout=10) as conn:
                done = {row["id"] for row in await conn.fetch(queries.CHECKS_PRESENT, list(rest))}
                todo = [r for k, r in rest.items() if k not in done]
                if todo:
                    await conn.copy_records_to_table("check_record", records=todo, columns=queries.CHECK_COLUMNS)
            self.written += len(rest)
            self.pending.clear()


class Checker:
    def __init__(self, pool: asyncpg.Pool, authorizer: Authorizer) -> None:
        self._pool = pool
        self._authorizer = authorizer
        self.scopes: dict[str, ScopeList] = {}
        self._loading: dict[str, asyncio.Future[ScopeList]] = {}
        self._clients: dict[str, tuple[float, int | None]] = {}
        self.last_seq = 0
        self.recorder = Recorder(pool)
        self._share = _Interner()
        self._preload: asyncio.Task[None] | None = None

    # ---- keeping the lists ----

    async def _load_many(self, conn: asyncpg.Connection, scopes: list[str]) -> dict[str, ScopeList]:
        on = today()
        by_scope: dict[str, dict[str, list[asyncpg.Record]]] = {s: {} for s in scopes}
        for r in await conn.fetch(queries.SCOPE_ENTRIES, scopes):
            by_scope[r["scope"]].setdefault(r["code"], []).append(r)
        releases: dict[str, list[tuple[datetime.date, int, str, str]]] = {}
        for r in await conn.fetch(queries.SCOPE_RELEASES, [s for s in scopes if len(s) == 6]):
            releases.setdefault(r["county_code"], []).append(
                (r["release_date"], r["entry_cap"], r["name"], r["document_number"]))
        return {scope: ScopeList(items={code: _states(rows, on, self._share) for code, rows in codes.items()},
                                 releases=releases.get(scope, []))
                for scope, codes in by_scope.items()}

    async def _load(self, conn: asyncpg.Connection, scope: str) -> ScopeList:
        return (await self._load_many(conn, [scope]))[scope]

    async def scope(self, name: str) -> ScopeList:
        held = self.scopes.get(name)
        if held is not None:
            return held
        pending = self._loading.get(name)
        if pending is not None:
            return await pending
        future: asyncio.Future[ScopeList] = asyncio.get_running_loop().create_future()
        self._loading[name] = future
        try:
            async with self._pool.acquire() as conn:
                loaded = await self._load(conn, name)
            self.scopes.setdefault(name, loaded)
            future.set_result(self.scopes[name])
            return self.scopes[name]
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._loading[name]

    async def start(self) -> None:
        async with self._pool.acquire() as conn:
            self.last_seq = int(await conn.fetchval(queries.MAX_SEQ) or 0)
            self.scopes["national"] = await self._load(conn, "national")
        self._preload = asyncio.create_task(self._preload_all())

    async def _preload_all(self) -> None:
        """Load every scope in the background, a batch at a time, so the first checks of a county
        need not wait for its list (a scope asked for before its turn is loaded on demand)."""
        try:
            async with self._pool.acquire() as conn:
                wanted = sorted(r["scope"] for r in await conn.fetch(queries.ALL_SCOPES))
            for i in range(0, len(wanted), PRELOAD_BATCH):
                batch = [s for s in wanted[i:i + PRELOAD_BATCH] if s not in self.scopes and s not in self._loading]
                if not batch:
                    continue
                async with self._pool.acquire() as conn:
                    loaded = await self._load_many(conn, batch)
                for scope, held in loaded.items():
                    self.scopes.setdefault(scope, held)
                await asyncio.sleep(0)
            # the held lists live as long as the process: keep full collections from walking them
            gc.collect()
            gc.freeze()
            log.info("registry checker holds %d scopes", len(self.scopes))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.exception("preloading the registry failed; scopes load on demand")

    async def stop(self) -> None:
        if self._preload is not None:
            self._preload.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._preload
        await self.recorder.stop()

    async def refresh(self, pool: asyncpg.Pool) -> int:
        """Reload every held scope that changed since the last refresh."""
        async with pool.acquire() as conn:
            rows = await conn.fetch(queries.CHANGED_SCOPES, max(0, self.last_seq - SEQ_OVERLAP))
            changed = {r["scope"] for r in rows}
            for r in rows:
                self.last_seq = max(self.last_seq, r["change_seq"])
            held = [scope for scope in changed if scope in self.scopes]
            if held:
                self.scopes.update(await self._load_many(conn, held))
        return len(changed)

    async def _client_subject(self, name: str) -> str | None:
        now = time.monotonic()
        cached = self._clients.get(name)
        if cached is None or cached[0] < now:
            async with self._pool.acquire() as conn:
                client_id = await conn.fetchval(queries.CLIENT_BY_NAME, name)
            cached = (now + CLIENT_CACHE_S, client_id)
            self._clients[name] = cached
        return f"client:{cached[1]}" if cached[1] is not None else None

    # ---- answering ----

    async def _lookup(self, county: str, code: str | None, title: str | None,
                      on: datetime.date) -> tuple[str, str, State | None, tuple[State, ...]] | None:
        """The county's nearest record of a code (or exact title): scope, code, state today, held states."""
        lists = [(s, await self.scope(s)) for s in reversed(template_scopes(county))]
        if code is None and title:
            key = _norm(title)
            code = next((c for _, held in lists if (c := held.code_by_title(key)) is not None), None)
        if code is None:
            return None
        for name, held in lists:
            states = held.items.get(code)
            if states:
                return name, code, state_on(states, on), states
        return None

    async def decide(self, *, asker_subject: str, asker_name: str, request: CheckRequest,
                     community_county: str) -> CheckAnswer:
        on = today()
        matter = request.matter
        text = " ".join(t for t in (matter.title, matter.description) if t)
        department_subject = asker_subject
        if request.department is not None:
            subject = await self._client_subject(request.department)
            if subject is None:
                raise NotFound(f"部门 {request.department} 不存在 (unknown department {request.department})",
                               extra={"department": request.department})
            department_subject = subject
        found = await self._lookup(community_county, matter.code, matter.title, on)
        if matter.code is not None and found is None:
            raise NotFound(f"事项代码 {matter.code} 不在 {community_county} 的清单中 (unknown matter code "
                           f"{matter.code} in the lists of county {community_county})", extra={"code": matter.code})
        if matter.code is None and not matter.title:
            from service.core.errors import ValidationFailed

            raise ValidationFailed.field("matter", "须给出事项代码，或名称和说明 (give a registry code, or a title "
                                         "and description)", rule="check.matter-named")
        scope, code, state, states = found if found is not None else (None, None, None, ())
        citation_item = state or (states[-1] if states else None)
        # what the department says is always judged; a listed item's own title only for the role it is
        # asked in (a county's admitted wording is not second-guessed against the national keywords)
        with_title = f"{text} {citation_item.title}" if citation_item is not None else text
        held = self.scopes.get(community_county)
        release = _release_for(held, citation_item.entry_number if citation_item else None, on)

        def cite(rule: str, s: State | None = citation_item) -> Citation:
            if s is None:
                return Citation(rule=rule)
            return Citation(rule=rule, list=s.list, scope=scope, code=code, title=s.title,
                            entry_number=s.entry_number, release=release[0] if release else None,
                            document_number=release[1] if release else None,
                            basis=" ".join(x for x in (s.basis, s.basis_number) if x) or None)

        allowed = False
        if state is not None and state.list in NEGATIVE_LISTS and state.status == "active":
            what = "被取消的证明事项" if state.list == "cancelled" else "禁止事项"
            reason, citation = (f"{what}：{state.title} (on the {state.list} list: this may never be put on a "
                                "community)"), cite(f"registry.{state.list}")
        elif (rule := _first_rule(PROHIBITED_TEXT_RULES, text)) is not None:
            reason, citation = (f"禁止事项：{rule} (prohibited by the national rules: {rule})",
                                Citation(rule="prohibited.national", title=rule))
        elif request.role == "responsible" and (rule := _first_rule(RESPONSIBLE_PARTY_RULES, with_title)) is not None:
            reason = (f"社区不得作为{rule}的责任主体，可以协助 (a community may not be the responsible party for "
                      f"{rule}; it may assist)")
            citation = Citation(rule="responsible-party.prohibited", title=rule)
        elif not self._authorizer.allowed(department_subject, "matter", "assign", request.community_code):
            reason = "该部门无权向该社区交办事项 (the department has no right to assign matters to this community)"
            citation = Citation(rule="department.no-right")
        elif citation_item is None:
            reason = ("未列入准入清单，社区有权拒绝 (not admitted: the matter is on no list of this county, so the "
                      "community may refuse it)")
            citation = Citation(rule="not-admitted")
        elif state is None:
            reason = (f"尚未生效，生效日期 {citation_item.effective_from} (not yet in force: it takes effect on "
                      f"{citation_item.effective_from})")
            citation = cite("registry.not-yet-effective")
        elif state.status != "active":
            word = "已暂停" if state.status == "suspended" else "已退出清单"
            reason, citation = f"{word} (the item is {state.status})", cite(f"registry.{state.status}")
        elif state.expires_on is not None and state.expires_on <= on:
            reason = f"已于 {state.expires_on} 失效 (expired on {state.expires_on})"
            citation = cite("registry.expired")
        elif request.role == "responsible" and state.list == "assisting":
            reason = ("该事项属协助事项，社区只能协助，不能作为责任主体 "
                      "(an assisting matter: the community may assist, not be responsible)")
            citation = cite("registry.assisting-only")
        else:
            allowed = True
            reason = f"已列入清单：{state.title} (admitted: on the {state.list} list)"
            citation = cite("registry.admitted")
        check_id = uuid.uuid4()
        await self.recorder.put((
            check_id, datetime.datetime.now(datetime.UTC), asker_name, request.department, request.community_code,
            community_county, matter.code, matter.title, request.role, allowed, citation.rule, reason, citation.scope,
            citation.code, citation.list, citation.entry_number, citation.release, citation.document_number,
        ))
        return CheckAnswer(id=str(check_id), allowed=allowed, reason=reason, citation=citation,
                           receipt_url=None if allowed else f"/checks/{check_id}")


def _first_rule(rules: list[tuple[str, re.Pattern[str]]], text: str) -> str | None:
    return next((name for name, pattern in rules if pattern.search(text)), None)


def _release_for(held: ScopeList | None, entry_number: int | None,
                 on: datetime.date) -> tuple[str, str] | None:
    """The county's latest release in force whose log position covers the cited entry."""
    if held is None or entry_number is None:
        return None
    for release_date, cap, name, document in reversed(held.releases):
        if release_date <= on:
            return (name, document) if entry_number <= cap else None
    return None


def receipt_from(row: asyncpg.Record | tuple[Any, ...]) -> Receipt:
    values = dict(zip(queries.CHECK_COLUMNS, row, strict=True)) if isinstance(row, tuple) else dict(row)
    return Receipt(
        id=str(values["id"]), asked_at=values["asked_at"], asker=values["asker"], department=values["department"],
        community_code=values["community_code"], matter_code=values["matter_code"],
        matter_title=values["matter_title"], role=values["role"], allowed=values["allowed"], reason=values["reason"],
        citation=Citation(rule=values["rule"], list=values["cited_list"], scope=values["cited_scope"],
                          code=values["cited_code"], entry_number=values["cited_entry"],
                          release=values["cited_release"], document_number=values["cited_document"]),
    )


async def receipt(conn: asyncpg.Connection, checker: Checker | None, *, receipt_id: str) -> Receipt:
    try:
        key = uuid.UUID(receipt_id)
    except ValueError:
        key = None
    if key is not None:
        row = await conn.fetchrow(queries.RECEIPT, key)
        if row is not None:
            return receipt_from(row)
        held = checker.recorder.pending.get(key) if checker is not None else None
        if held is not None:
            return receipt_from(held)
    raise NotFound(f"回执 {receipt_id} 不存在 (unknown receipt {receipt_id})", extra={"receipt": receipt_id})
