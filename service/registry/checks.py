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

from service.core import audit
from service.core.audit import Actor
from service.core.authz import Authorizer
from service.core.db import CONNECTION_ERRORS
from service.core.errors import NotFound
from service.core.tree import SEQ_OVERLAP
from service.policy import digital
from service.policy.apply import COUNTY_RULES, check_text, judge
from service.policy.apply import documents_of as policy_documents
from service.policy.engine import Finding, default_engine
from service.registry import queries
from service.registry.schemas import NEGATIVE_LISTS, CheckAnswer, CheckRequest, Citation, Receipt
from service.registry.service import template_scopes, today

log = logging.getLogger(__name__)

QUEUE_MAX = 20_000
BATCH_MAX = 2_000
FLUSH_EVERY_S = 0.05
CLIENT_CACHE_S = 30
PRELOAD_BATCH = 50

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
    # what the policy engine refuses in the item's own words: (for any role, only when responsible)
    bans: tuple[Finding | None, Finding | None] | None = None


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


_NO_BANS = (None, None)


def _bans(r: asyncpg.Record, memo: dict[tuple[Any, ...], tuple[Finding | None, Finding | None]]
          ) -> tuple[Finding | None, Finding | None] | None:
    """The engine's refusals of a listed item's own words, for an assisting and a responsible community
    (the same words are judged once per process)."""
    if r["list"] in NEGATIVE_LISTS:
        return None
    if r["kind"] == "digital":  # an app, account or group: what it declares (policies/digital.toml)
        declared = digital.findings([digital.row_ask(r)])  # type: ignore[list-item]
        if declared:
            return (declared[0], declared[0])
    engine = default_engine()
    fields = {"title": r["title"], "content": r["content"], "authority": r["authority"]}
    if not engine.possible(fields):  # most items: one pass of the automaton, nothing kept
        return None
    key = (r["title"], r["content"], r["authority"])
    held = memo.get(key)
    if held is None:
        assisting = engine.evaluate(fields, role="assisting").refused
        responsible = engine.evaluate(fields, role="responsible").refused
        held = (assisting[0] if assisting else None, responsible[0] if responsible else None)
        if held == (None, None):
            held = _NO_BANS
        memo[key] = held
    return None if held is _NO_BANS else held


def _states(rows: list[asyncpg.Record], on: datetime.date, share: _Interner,
            memo: dict[tuple[Any, ...], tuple[Finding | None, Finding | None]] | None = None) -> tuple[State, ...]:
    memo = {} if memo is None else memo
    states = [State(
        effective_from=share(r["effective_from"]), entry_number=r["entry_number"], status=share(r["status"]),
        kind=share(r["kind"]), list=share(r["list"]), title=r["title"], expires_on=share(r["expires_on"]),
        basis=share(r["basis"]), basis_number=share(r["basis_number"]), bans=_bans(r, memo),
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


REFUSED_ACTION = "check.refused"
RECEIPT_SUBJECT = "check_receipt"


def _asker(asker: str) -> Actor:
    """The asker as recorded ("client:3 xingsha-office", "user:2 李娟"), as the audit event's actor."""
    subject, _, name = asker.partition(" ")
    kind, _, ident = subject.partition(":")
    if kind in ("client", "user") and ident:
        return Actor(actor_type=kind, actor_id=ident, actor_name=name or None)
    return Actor(actor_type="anonymous", actor_id=None, actor_name=asker or None)


async def store_checks(conn: asyncpg.Connection, todo: list[tuple[Any, ...]]) -> None:
    """Check records in one COPY, and for each refusal an audit event (`check.refused` about the receipt),
    in one transaction: a refusal's receipt is then in the signed log, and its proof can be handed out
    (GET /api/v1/checks/receipts/{id}/proof). No address or request id: the event says what the receipt says."""
    async with conn.transaction():
        await conn.copy_records_to_table("check_record", records=todo, columns=queries.CHECK_COLUMNS)
        refusals = [dict(zip(queries.CHECK_COLUMNS, r, strict=True)) for r in todo]
        events = [audit.statement(actor=_asker(v["asker"] or ""), action=REFUSED_ACTION, subject_type=RECEIPT_SUBJECT,
                                  subject_id=str(v["id"]), jurisdiction=v["community_code"], outcome="refused",
                                  detail={"rule": v["rule"], "matter_code": v["matter_code"],
                                          "matter_title": v["matter_title"], "role": v["role"],
                                          "department": v["department"]})
                  for v in refusals if not v["allowed"]]
        if events:
            await conn.executemany(events[0][0], [args for _sql, args in events])


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
                        await store_checks(conn, todo)
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
                    await store_checks(conn, todo)
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
        self._bans: dict[tuple[Any, ...], tuple[Finding | None, Finding | None]] = {}
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
        return {scope: ScopeList(items={code: _states(rows, on, self._share, self._bans)
                                        for code, rows in codes.items()},
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
                     community_county: str, asker_is_community: bool = False, lang: str = "zh") -> CheckAnswer:
        prepared = await self.prepare(asker_subject=asker_subject, request=request,
                                      community_county=community_county, asker_is_community=asker_is_community)
        return await self.answer(prepared, asker_name=asker_name, lang=lang)

    async def prepare(self, *, asker_subject: str, request: CheckRequest, community_county: str,
                      asker_is_community: bool = False) -> Prepared:
        """Everything a question needs before it is answered, and every way it can be refused as a question
        (422 for text that is not text or a matter not named, 404 for an unknown code): nothing recorded."""
        on = today()
        matter = request.matter
        # what the department says is judged first, by the one engine (a 422 naming the field for text
        # that is not text)
        check_text("department", request.department)
        engine = None
        if matter.title or matter.description:  # the county's own rules too (held a minute, cleared on change)
            engine = COUNTY_RULES.held(community_county)
            if engine is None:
                async with self._pool.acquire() as conn:
                    engine = await COUNTY_RULES.engine(conn, community_county)
        said = judge({"matter.title": matter.title, "matter.description": matter.description}, role=request.role,
                     engine=engine)
        department_subject: str | None = asker_subject
        department_unknown = False
        if request.department is not None:
            department_subject = await self._client_subject(request.department)
            department_unknown = department_subject is None
        elif asker_is_community:
            department_subject = None  # a community asking for itself: the answer is about the matter
        found = await self._lookup(community_county, matter.code, matter.title, on)
        if matter.code is not None and found is None:
            raise NotFound(f"事项代码 {matter.code} 不在 {community_county} 的清单中 (unknown matter code "
                           f"{matter.code} in the lists of county {community_county})", extra={"code": matter.code})
        if matter.code is None and not matter.title:
            from service.core.errors import ValidationFailed

            raise ValidationFailed.field("matter", "须给出事项代码，或名称和说明 (give a registry code, or a title "
                                         "and description)", rule="check.matter-named")
        return Prepared(request=request, community_county=community_county, on=on, said=said,
                        department_subject=department_subject, department_unknown=department_unknown, found=found)

    async def answer(self, prepared: Prepared, *, asker_name: str, lang: str = "zh") -> CheckAnswer:
        """The answer to a prepared question, recorded (a denial with its receipt)."""
        request, community_county, on, said = (prepared.request, prepared.community_county, prepared.on,
                                               prepared.said)
        department_subject, department_unknown = prepared.department_subject, prepared.department_unknown
        matter = request.matter
        found = prepared.found
        scope, code, state, states = found if found is not None else (None, None, None, ())
        citation_item = state or (states[-1] if states else None)
        held = self.scopes.get(community_county)
        release = _release_for(held, citation_item.entry_number if citation_item else None, on)
        en = lang == "en"

        def cite(rule: str, s: State | None = citation_item, finding: Finding | None = None) -> Citation:
            documents = [d.as_dict() for d in finding.documents] if finding is not None else None
            span = finding.citation()["span"] if finding is not None else None
            number = next((d.number for d in finding.documents if d.number), None) if finding is not None else None
            if s is None:
                return Citation(rule=rule, documents=documents, span=span, document_number=number)
            return Citation(rule=rule, list=s.list, scope=scope, code=code, title=s.title,
                            entry_number=s.entry_number, release=release[0] if release else None,
                            document_number=(release[1] if release else None) if finding is None else number,
                            basis=" ".join(x for x in (s.basis, s.basis_number) if x) or None,
                            documents=documents, span=span)

        listed_ban = None
        if state is not None and state.bans is not None:
            listed_ban = state.bans[0] or (state.bans[1] if request.role == "responsible" else None)
        allowed = False
        if state is not None and state.list in NEGATIVE_LISTS and state.status == "active":
            what = "被取消的证明事项" if state.list == "cancelled" else "禁止事项"
            reason, citation = (f"{what}：{state.title} (on the {state.list} list: this may never be put on a "
                                "community)"), cite(f"registry.{state.list}")
        elif said.refused:
            f = said.refused[0]
            reason = f.message_in(lang)
            citation = cite(f.family, s=None, finding=f)
        elif listed_ban is not None and state is not None:
            reason = (f"The listed item '{state.title}' asks what is prohibited: {listed_ban.message_in(lang)}"
                      if en else f"清单内事项“{state.title}”要求的内容属于禁止事项：{listed_ban.message}")
            citation = cite(listed_ban.family, finding=listed_ban)
        elif department_subject is not None and not self._authorizer.allowed(
                department_subject, "matter", "assign", request.community_code):
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
        if department_unknown:
            reason += (f" (department '{request.department}' is not registered: this answer is about the matter alone)"
                       if en else f"（部门“{request.department}”未登记，此答复仅针对事项本身）")
        check_id = uuid.uuid4()
        await self.recorder.put((
            check_id, datetime.datetime.now(datetime.UTC), asker_name, request.department, request.community_code,
            community_county, matter.code, matter.title, request.role, allowed, citation.rule, reason, citation.scope,
            citation.code, citation.list, citation.entry_number, citation.release, citation.document_number,
        ))
        return CheckAnswer(id=str(check_id), allowed=allowed, reason=reason, citation=citation,
                           receipt_url=None if allowed else f"/checks/{check_id}",
                           department_unknown=department_unknown)


class Prepared(msgspec.Struct, frozen=True):
    """A question checked and looked up, ready to answer (Checker.prepare)."""

    request: CheckRequest
    community_county: str
    on: datetime.date
    said: Any
    department_subject: str | None
    department_unknown: bool
    found: tuple[str, str, State | None, tuple[State, ...]] | None


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
                          release=values["cited_release"], document_number=values["cited_document"],
                          documents=policy_documents(values["rule"])),
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
