"""The registry's API (lists, entries, releases, import/export), the enforcement check, and the public pages."""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.serialization import encode_json

from service.audit import service as audit_service
from service.audit.schemas import RecordProof
from service.core import written
from service.core.audit import Actor, refuse
from service.core.auth import identity_of
from service.core.authz import Permission, path_domain
from service.core.clock import today
from service.core.db import DB, ReadDB
from service.core.errors import NotFound, ServiceError
from service.core.exports import CSV_MEDIA_TYPE
from service.core.httpcache import ResponseCache
from service.core.lifespan import STARTERS
from service.core.openapi import AUTHED, problems
from service.policy.apply import language
from service.registry import certificates, checks, provincial, published, service
from service.registry.schemas import (
    AddItem,
    Adjustment,
    AmendItem,
    CertificateAnswer,
    CheckAnswer,
    CheckBatchAnswer,
    CheckBatchRequest,
    CheckRequest,
    EffectiveList,
    EntryPage,
    EntryRead,
    ImportReport,
    ItemRead,
    ListDifference,
    ProvincialCertificates,
    ProvincialLoadReport,
    Receipt,
    ReleaseCreate,
    ReleaseRead,
    ScopeItems,
)

KindQuery = Annotated[str | None, QueryParameter(pattern="^(task|plaque|certificate|report|digital)$")]
ListQuery = Annotated[str | None, QueryParameter(pattern="^[a-z_]{2,20}$")]
TextQuery = Annotated[str | None, QueryParameter(max_length=100)]
SECURED: list[dict[str, list[str]]] = [{"BearerToken": []}]


async def _scope_domain(connection: Any) -> str:
    return service.scope_domain(str(connection.path_params["list_scope"]))


_adjust = Permission("registry", "adjust", domain=_scope_domain)


class RegistryController(Controller):
    path = "/api/v1/registry"
    tags = ["registry"]

    # ---- the log, for replication ----

    @get("/entries", operation_id="ListRegistryEntries", opt={"public": True}, responses=problems(),
         summary="The entry log from entry number `start` (public): replay it to rebuild every record")
    async def list_entries(
        self, request: Request[Any, Any, Any], start: Annotated[int, QueryParameter(ge=1)] = 1,
        limit: Annotated[int, QueryParameter(ge=1, le=service.ENTRY_PAGE_MAX)] = 100,
    ) -> Response[EntryPage]:
        async def produce(conn: Any) -> tuple[bytes, str]:
            return encode_json(await service.entries(conn, start=start, limit=limit)), published.ENTRIES_TAG

        response: Response[EntryPage] = await published.answer(request, ("entries", start, limit), produce)
        return response

    @get("/scopes/{list_scope:str}/items/{code:str}", operation_id="GetRegistryItem", opt={"public": True},
         summary="An item's record: its latest state, which may take effect in the future (public)",
         responses=problems(404))
    async def get_item(self, read_db: ReadDB, list_scope: FromPath[str], code: FromPath[str]) -> ItemRead:
        return await service.get_record(read_db, scope=list_scope, code=code)

    @get("/scopes/{list_scope:str}/items/{code:str}/entries", operation_id="GetRegistryItemHistory",
         opt={"public": True}, summary="Every entry of one item, oldest first (public)", responses=problems(404))
    async def item_history(self, read_db: ReadDB, list_scope: FromPath[str], code: FromPath[str]) -> list[EntryRead]:
        return await service.item_history(read_db, scope=list_scope, code=code)

    @get("/scopes/{list_scope:str}/items", operation_id="GetScopeList", opt={"public": True},
         summary="One list scope's own items in force on a date: the national or a provincial template, or a "
                 "county's own additions and overrides (public)", responses=problems(404))
    async def scope_list(
        self, read_db: ReadDB, list_scope: FromPath[str], as_of: FromQuery[datetime.date | None] = None,
        kind: KindQuery = None, list_name: Annotated[str | None, QueryParameter(name="list",
                                                                                pattern="^[a-z_]{2,20}$")] = None,
        q: TextQuery = None,
    ) -> ScopeItems:
        items = await service.scope_items(read_db, scope=list_scope, as_of=as_of)
        return ScopeItems(scope=list_scope, as_of=as_of or today(),
                          items=service.filter_items(items, kind=kind, list_name=list_name, q=q))

    @get("/scopes/{list_scope:str}/export", operation_id="ExportScopeList", opt={"public": True},
         summary="Export one list scope's own items (a date) as CSV or JSON (public)", responses=problems(404))
    async def export_scope(
        self, read_db: ReadDB, list_scope: FromPath[str], format: FromQuery[Literal["csv", "json"]] = "csv",
        as_of: FromQuery[datetime.date | None] = None,
    ) -> Response[Any]:
        items = await service.scope_items(read_db, scope=list_scope, as_of=as_of)
        when = as_of or today()
        name = f"{list_scope}-{when.isoformat()}"
        if format == "json":
            return Response(msgspec.json.encode(ScopeItems(scope=list_scope, as_of=when, items=items)),
                            media_type="application/json",
                            headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
        return Response(service.export_csv(items), media_type=CSV_MEDIA_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})

    # ---- adjustment ----

    @post("/scopes/{list_scope:str}/items", operation_id="AddRegistryItem", opt={"permission": _adjust},
          summary="Add an item to a list ('national', a province or a county), effective from a date",
          responses=problems(*AUTHED, 404, 409), security=SECURED)
    async def add_item(self, request: Request[Any, Any, Any], db: DB, list_scope: FromPath[str],
                       data: JSONBody[AddItem]) -> ItemRead:
        return await service.add_item(db, actor=Actor.from_connection(request, "registry"), scope=list_scope,
                                      item=data.item, effective_from=data.effective_from, reason=data.reason,
                                      source_ref=data.source_ref)

    @post("/scopes/{list_scope:str}/items/{code:str}/amend", operation_id="AmendRegistryItem",
          opt={"permission": _adjust}, summary="Amend an item's fields from a date",
          responses=problems(*AUTHED, 404), security=SECURED)
    async def amend(self, request: Request[Any, Any, Any], db: DB, list_scope: FromPath[str], code: FromPath[str],
                    data: JSONBody[AmendItem]) -> ItemRead:
        return await service.adjust(db, actor=Actor.from_connection(request, "registry"), scope=list_scope, code=code,
                                    entry_type="amend", effective_from=data.effective_from, reason=data.reason,
                                    source_ref=data.source_ref, changes=data.changes)

    async def _status(self, request: Request[Any, Any, Any], db: Any, scope: str, code: str, entry_type: str,
                      data: Adjustment) -> ItemRead:
        return await service.adjust(db, actor=Actor.from_connection(request, "registry"), scope=scope, code=code,
                                    entry_type=entry_type, effective_from=data.effective_from, reason=data.reason,
                                    source_ref=data.source_ref)

    @post("/scopes/{list_scope:str}/items/{code:str}/suspend", operation_id="SuspendRegistryItem",
          opt={"permission": _adjust}, summary="Suspend an item from a date (a county may suspend a template item)",
          responses=problems(*AUTHED, 404), security=SECURED)
    async def suspend(self, request: Request[Any, Any, Any], db: DB, list_scope: FromPath[str], code: FromPath[str],
                      data: JSONBody[Adjustment]) -> ItemRead:
        return await self._status(request, db, list_scope, code, "suspend", data)

    @post("/scopes/{list_scope:str}/items/{code:str}/resume", operation_id="ResumeRegistryItem",
          opt={"permission": _adjust}, summary="Resume a suspended item from a date",
          responses=problems(*AUTHED, 404), security=SECURED)
    async def resume(self, request: Request[Any, Any, Any], db: DB, list_scope: FromPath[str], code: FromPath[str],
                     data: JSONBody[Adjustment]) -> ItemRead:
        return await self._status(request, db, list_scope, code, "resume", data)

    @post("/scopes/{list_scope:str}/items/{code:str}/retire", operation_id="RetireRegistryItem",
          opt={"permission": _adjust},
          summary="Retire an item from a date (for a template item on a county list: the county excludes it)",
          responses=problems(*AUTHED, 404), security=SECURED)
    async def retire(self, request: Request[Any, Any, Any], db: DB, list_scope: FromPath[str], code: FromPath[str],
                     data: JSONBody[Adjustment]) -> ItemRead:
        return await self._status(request, db, list_scope, code, "retire", data)

    @post("/scopes/{list_scope:str}/import", operation_id="ImportRegistryItems", opt={"permission": _adjust},
          summary="Load items from CSV or JSON; bad rows are reported; nothing is loaded unless partial=true",
          responses=problems(*AUTHED, 404), security=SECURED, status_code=200)
    async def import_items(
        self, request: Request[Any, Any, Any], db: DB, list_scope: FromPath[str],
        format: FromQuery[Literal["csv", "json"]] = "csv", partial: FromQuery[bool] = False,
    ) -> ImportReport:
        text = (await request.body()).decode("utf-8", errors="replace")
        return await service.import_items(db, actor=Actor.from_connection(request, "registry"), scope=list_scope,
                                          text=text, fmt=format, partial=partial)

    @post("/scopes/{list_scope:str}/certificate-template", operation_id="LoadProvincialCertificates",
          opt={"permission": _adjust},
          summary="Load a province's own additions to the national certificate list (its document cited by each)",
          responses=problems(*AUTHED, 404), security=SECURED, status_code=201)
    async def load_provincial_certificates(self, request: Request[Any, Any, Any], db: DB, list_scope: FromPath[str],
                                           data: JSONBody[ProvincialCertificates]) -> ProvincialLoadReport:
        """Each name not already national becomes a cancelled certificate C-<province>-NN of the province's
        scope, citing the document; a national certificate under the province's wording is reported, not
        added; loading the same list again changes nothing."""
        return await provincial.load(db, actor=Actor.from_connection(request, "registry"), scope=list_scope,
                                     data=data)

    # ---- counties: effective lists, releases, differences, export ----

    @get("/counties/{code:str}/items", operation_id="GetCountyList", opt={"public": True},
         summary="A county's effective list on a date (default today) or as a release fixed it (public)",
         responses=problems(404))
    async def county_list(
        self, request: Request[Any, Any, Any], code: FromPath[str], as_of: FromQuery[datetime.date | None] = None,
        release: FromQuery[str | None] = None, kind: KindQuery = None, list_name: Annotated[
            str | None, QueryParameter(name="list", pattern="^[a-z_]{2,20}$")] = None, q: TextQuery = None,
    ) -> Response[EffectiveList]:
        when = None if release is not None else (as_of or service.today())

        async def produce(conn: Any) -> tuple[bytes, str]:
            return await service.effective_list_json(conn, county_code=code, community_code=None, as_of=when,
                                                     release=release, kind=kind, list_name=list_name, q=q), code

        response: Response[EffectiveList] = await published.answer(
            request, ("county", code, when, release, kind, list_name, q), produce)
        return response

    @get("/counties/{code:str}/export", operation_id="ExportCountyList", opt={"public": True},
         summary="Export a county's list (date or release) as CSV or JSON; the CSV can be imported again",
         responses=problems(404))
    async def export(
        self, read_db: ReadDB, code: FromPath[str], format: FromQuery[Literal["csv", "json"]] = "csv",
        as_of: FromQuery[datetime.date | None] = None, release: FromQuery[str | None] = None,
    ) -> Response[Any]:
        when, fixed, items = await service.list_at(read_db, county_code=code, as_of=as_of, release=release)
        label = release or when.isoformat()
        if format == "json":
            body = EffectiveList(county_code=code, community_code=None, as_of=when, release=fixed, items=items)
            return Response(msgspec.json.encode(body), media_type="application/json", headers={
                "Content-Disposition": f'attachment; filename="{code}-{label}.json"'})
        return Response(service.export_csv(items), media_type=CSV_MEDIA_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{code}-{label}.csv"'})

    @get("/counties/{code:str}/releases", operation_id="ListCountyReleases", opt={"public": True},
         summary="A county's releases (public)", responses=problems(404))
    async def releases(self, read_db: ReadDB, code: FromPath[str]) -> list[ReleaseRead]:
        return await service.list_releases(read_db, county_code=code)

    @post("/counties/{code:str}/releases", operation_id="CreateCountyRelease",
          opt={"permission": Permission("registry", "adjust", domain=path_domain("code"))},
          summary="Fix a named, dated version of a county's list (issuing body, document number, approval, filing)",
          responses=problems(*AUTHED, 404, 409), security=SECURED)
    async def create_release(self, request: Request[Any, Any, Any], db: DB, code: FromPath[str],
                             data: JSONBody[ReleaseCreate]) -> ReleaseRead:
        return await service.create_release(db, actor=Actor.from_connection(request, "county_reviewer"),
                                            county_code=code, data=data)

    @get("/counties/{code:str}/diff", operation_id="DiffCountyLists", opt={"public": True},
         summary="What changed between two releases or dates, item by item (public)", responses=problems(404))
    async def diff(
        self, read_db: ReadDB, code: FromPath[str], from_release: FromQuery[str | None] = None,
        from_date: FromQuery[datetime.date | None] = None, to_release: FromQuery[str | None] = None,
        to_date: FromQuery[datetime.date | None] = None,
    ) -> ListDifference:
        return await service.difference(read_db, county_code=code, from_release=from_release, from_date=from_date,
                                        to_release=to_release, to_date=to_date)

    # ---- communities: duty publicity ----

    @get("/communities/{code:str}/items", operation_id="GetCommunityList", opt={"public": True},
         summary="A community's effective list (its county's), searchable by kind, list and text (public)",
         responses=problems(404))
    async def community_list(
        self, request: Request[Any, Any, Any], code: FromPath[str], as_of: FromQuery[datetime.date | None] = None,
        kind: KindQuery = None,
        list_name: Annotated[str | None, QueryParameter(name="list", pattern="^[a-z_]{2,20}$")] = None,
        q: TextQuery = None,
    ) -> Response[EffectiveList]:
        when = as_of or service.today()

        async def produce(conn: Any) -> tuple[bytes, str]:
            county = await service.county_of_community(conn, code=code)
            return await service.effective_list_json(conn, county_code=county, community_code=code, as_of=when,
                                                     release=None, kind=kind, list_name=list_name, q=q), county

        response: Response[EffectiveList] = await published.answer(
            request, ("community", code, when, kind, list_name, q), produce)
        return response

    @get("/communities/{code:str}/certificates", operation_id="CanCommunityIssueCertificate",
         opt={"public": True}, responses=problems(404),
         summary="Can my community issue this certificate? By name or code: retained or cancelled, and why (public)")
    async def certificate(self, read_db: ReadDB, code: FromPath[str],
                          q: Annotated[str, QueryParameter(min_length=1, max_length=100)]) -> CertificateAnswer:
        found = await service.certificate_answer(read_db, community_code=code, query=q)
        return certificate_reply(code, q, found["item"], found["match"])


def certificate_reply(community_code: str, query: str, item: Any, match: Any) -> CertificateAnswer:
    """The answer a resident reads: what the words were taken for, how sure, and who issues it."""
    if item is None and match is None:
        usual = certificates.usual_issuer(query)
        return CertificateAnswer(
            community_code=community_code, query=query, found=False, may_issue=False,
            answer=(f"本社区的证明事项清单中没有与“{query}”相符的证明。{certificates.RULE_NOT_ISSUED}"
                    f"社区可以不出具，请向{usual}咨询办理。"),
            usually_issued_by=usual, document=certificates.DOCUMENT_CITATION)
    national = match.national
    reading = dict(matched_name=match.official_name, matched_by=match.matched_name, match=match.match,
                   confidence=match.confidence)
    if item is not None and item.list == "retained" and national is None:
        return CertificateAnswer(
            community_code=community_code, query=query, found=True, may_issue=True,
            answer=f"“{item.title}”列入保留的证明事项清单，社区可以出具。", code=item.code, title=item.title,
            list=item.list, basis=item.basis, basis_number=item.basis_number, scope=item.scope,
            entry_number=item.entry_number, document=" ".join(x for x in (item.basis, item.basis_number) if x) or None,
            **reading)
    if item is None or item.list == "retained":
        # cancelled by the national list, whatever a list says (or with no list item at all)
        assert national is not None
        return CertificateAnswer(
            community_code=community_code, query=query, found=True, may_issue=False,
            answer=f"“{national.name}”已取消，社区不予出具，请向{national.issued_instead_by}办理。",
            code=national.code, title=national.name, list="cancelled", basis=f"《{certificates.DOCUMENT_TITLE}》",
            basis_number=certificates.DOCUMENT_NUMBER, issued_instead_by=national.issued_instead_by,
            scope="national", document=f"{certificates.DOCUMENT_CITATION}附件《{certificates.LIST_NAME}》",
            **{**reading, "matched_name": national.name})
    instead = item.item.get("issued_instead_by") or (
        national.issued_instead_by if national is not None else certificates.RESPONSIBLE_DEPARTMENT)
    return CertificateAnswer(
        community_code=community_code, query=query, found=True, may_issue=False,
        answer=f"“{item.title}”已取消，社区不予出具，请向{instead}办理。", code=item.code, title=item.title,
        list=item.list, basis=item.basis, basis_number=item.basis_number, issued_instead_by=instead,
        scope=item.scope, entry_number=item.entry_number,
        document=" ".join(x for x in (item.basis, item.basis_number) if x) or None, **reading)


class CheckController(Controller):
    path = "/api/v1/checks"
    tags = ["checks"]

    # The right to ask is the casbin permission (check, ask) at the community, decided in the handler after
    # the community is known, so that an unknown community is a 404 for every caller.
    @post("/", operation_id="CheckMatter", status_code=200, security=SECURED, opt={"authenticated": True},
          summary="May this department put this matter on this community in this role? Answer with citation "
                  "(roles: department, street_office, community, county_reviewer, supervisor, admin)",
          responses=problems(*AUTHED, 404))
    async def check(self, request: Request[Any, Any, Any], data: JSONBody[CheckRequest]) -> CheckAnswer:
        checker: checks.Checker = request.app.state.checker
        identity = identity_of(request)
        county = await _may_ask(request, identity, data.community_code)
        return await checker.decide(asker_subject=identity.subject, asker_name=f"{identity.subject} {identity.name}",
                                    request=data, community_county=county,
                                    asker_is_community=identity.organisation_level == "community",
                                    lang=language(request.headers.get("accept-language")))

    # Each question is decided as the single check decides it: the community must exist (404) and the caller
    # may ask there (casbin check ask, per target, through the authorizer); then each is prepared (the same
    # 422 and 404 as a single check, naming `checks[i]...`). Only when every question passes are they
    # answered and recorded, in order, one receipt per denial.
    @post("/batch", operation_id="CheckMattersBatch", status_code=200, security=SECURED,
          opt={"authenticated": True},
          summary="Up to 500 checks in one call (e.g. a matter for every community of a county), each answered "
                  "and recorded as a single check is, in order",
          responses=problems(*AUTHED, 404, 422))
    async def check_batch(self, request: Request[Any, Any, Any],
                          data: JSONBody[CheckBatchRequest]) -> CheckBatchAnswer:
        checker: checks.Checker = request.app.state.checker
        identity = identity_of(request)
        is_community = identity.organisation_level == "community"
        prepared = []
        for i, question in enumerate(data.checks):
            try:
                county = await _may_ask(request, identity, question.community_code)
                prepared.append(await checker.prepare(asker_subject=identity.subject, request=question,
                                                      community_county=county, asker_is_community=is_community))
            except ServiceError as exc:
                raise _at(exc, i) from None
        lang = language(request.headers.get("accept-language"))
        asker = f"{identity.subject} {identity.name}"
        return CheckBatchAnswer(answers=[await checker.answer(p, asker_name=asker, lang=lang) for p in prepared])

    @get("/receipts/{receipt_id:str}", operation_id="GetCheckReceipt", opt={"public": True},
         summary="A check's decision and citation, at a stable public address (public)", responses=problems(404))
    async def receipt(self, request: Request[Any, Any, Any], db: DB, receipt_id: FromPath[str]) -> Receipt:
        return await checks.receipt(db, getattr(request.app.state, "checker", None), receipt_id=receipt_id)

    @get("/receipts/{receipt_id:str}/proof", operation_id="GetCheckReceiptProof", opt={"public": True},
         summary="A refused check's proof in the audit log: the event's leaf, its inclusion proof and the (cosigned) "
                 "checkpoint, to keep and verify offline (public; 404 until the next checkpoint covers it)",
         responses=problems(404))
    async def receipt_proof(self, request: Request[Any, Any, Any], db: DB, receipt_id: FromPath[str]) -> RecordProof:
        found = await checks.receipt(db, getattr(request.app.state, "checker", None), receipt_id=receipt_id)
        if found.allowed:
            raise NotFound("只有不予准入的核验回执记入审计日志 (only a refused check is in the audit log)")
        return await audit_service.record_proof(db, action=checks.REFUSED_ACTION, subject_type=checks.RECEIPT_SUBJECT,
                                                subject_id=found.id, settings=request.app.state.settings)


async def _may_ask(request: Request[Any, Any, Any], identity: Any, community_code: str) -> str:
    """The community's county, once it is known to exist (404) and the caller may ask there (403)."""
    node = request.app.state.tree.get(community_code)
    if node is None or node.level != "community":
        raise NotFound(f"社区 {community_code} 不存在 (unknown community {community_code})",
                       extra={"community_code": community_code})
    if not request.app.state.authorizer.allowed(identity.subject, "check", "ask", community_code):
        await refuse(request, status=403, action="check.ask", subject_type="check",
                     jurisdiction=community_code, reason="role does not cover this jurisdiction")
    return str(node.county_code or "")


def _at(exc: ServiceError, index: int) -> ServiceError:
    """The refusal of one question of a batch, naming it: `checks[i].field`, and `index` in `extra`."""
    for param in exc.invalid_params or ():
        param.name = f"checks[{index}].{param.name}"
    exc.extra = {**(exc.extra or {}), "index": index}
    return exc


LIST_LABELS = {
    "duty": "依法履行职责事项", "assisting": "依法协助政府工作事项", "prohibited": "禁止事项（负面清单）",
    "exterior": "外挂牌子", "interior": "室内牌子", "mechanism": "工作机制", "retained": "保留的证明事项",
    "cancelled": "取消的证明事项", "report_form": "报表", "ledger": "台账", "app": "政务应用程序",
    "account": "公众账号", "work_group": "工作群组",
}


async def start_checker(app: Any) -> Any:
    """Hold the lists for the check in this process; keep them current; write the check records."""
    checker = checks.Checker(app.state.pool, app.state.authorizer)
    await checker.start()
    checker.recorder.start()
    app.state.checker = checker
    app.state.listener.on("registry", checker.refresh)
    return checker.stop


async def start_published(app: Any) -> Any:
    """Keep the public lists' answers in this process; forget them when the registry or the tree moves."""
    settings = app.state.settings
    lists = published.PublishedLists(ResponseCache(
        max_entries=settings.list_cache_entries, max_bytes=settings.list_cache_mb * 1024 * 1024))
    async with app.state.pool.acquire() as conn:
        await lists.start(conn)
    app.state.published = lists
    app.state.listener.on("registry", lists.refresh)
    app.state.listener.on("jurisdictions", lists.on_jurisdictions)
    written.on_local_commit("registry", lists.forget_all)

    async def stop() -> None:
        written.off_local_commit("registry", lists.forget_all)

    return stop


for _starter in (start_checker, start_published):
    if _starter not in STARTERS:
        STARTERS.append(_starter)

# the public pages (duty list, certificate question, receipt letter) are in service/web/pages/public.py
ROUTES = [RegistryController, CheckController]
