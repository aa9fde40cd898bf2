"""The residents' pages (public, no sign-in, phone first, no script): find a community, its duty list, "can
the community issue this certificate?", a complaint and its follow-up, and a refused check's receipt as a
letter the community hands back."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from service.complaints import service as complaints
from service.complaints.schemas import ComplaintCreate
from service.core.audit import Actor
from service.core.db import DB, ReadDB
from service.core.errors import NotFound, ServiceError
from service.core.network import keyed_address
from service.core.tree import Node
from service.identity import service as identity
from service.registry import checks, documents, published, service
from service.registry.schemas import CertificateAnswer, ListedItem
from service.web.context import PAGE_HEADERS, page_context
from service.web.pages.common import PAGE_ERRORS, STATUS_LABELS, may

# the duty page's sections, in the order a resident reads them: (anchor, heading, what it is, lists)
SECTIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("duty", "本社区依法履行的职责", "居民委员会依照法律自己承担的工作。", ("duty",)),
    ("assisting", "协助政府的工作", "政府部门的工作，社区依法协助，由负责部门提供经费和工作条件。", ("assisting",)),
    ("prohibited", "不得交由社区承担的事项", "任何部门都不得把这些事项交给社区；遇到可以拒绝并投诉。",
     ("prohibited",)),
    ("cancelled", "社区不再出具的证明", "这些证明社区不再开具，请向括号中的部门办理。", ("cancelled",)),
    ("retained", "社区可以出具的证明", "有法律法规依据、保留由社区出具的证明。", ("retained",)),
    ("plaques", "社区可以悬挂的牌子", "社区外部和室内可以悬挂的牌子，以及保留的工作机制。",
     ("exterior", "interior", "mechanism")),
    ("reports", "社区填报的报表和台账", "经准入、社区需要填报的报表和台账。", ("report_form", "ledger")),
    ("digital", "社区使用的政务应用程序和工作群组", "经准入、社区需要使用的应用程序、公众账号和工作群组。",
     ("app", "account", "work_group")),
)
SECTION_OF = {name: anchor for anchor, _h, _w, names in SECTIONS for name in names}
SUBJECT_KINDS = (("task", "工作事项"), ("app", "政务应用程序"), ("work_group", "工作群组"), ("plaque", "牌子"),
                 ("certificate", "证明事项"), ("report", "报表或台账"), ("other", "其他"))
SearchText = Annotated[str | None, QueryParameter(max_length=100)]
CommunityCode = Annotated[str | None, QueryParameter(pattern=r"^([0-9]{12})?$")]
FIND_LIMIT = 50


def _community(request: Request[Any, Any, Any], code: str) -> Node:
    node = request.app.state.tree.get(code)
    if node is None or node.level != "community":
        raise NotFound(f"社区 {code} 不存在 (unknown community {code})", extra={"community_code": code})
    return node


def _places(request: Request[Any, Any, Any], node: Node) -> dict[str, Any]:
    tree = request.app.state.tree
    street = tree.get(node.parent_code) if node.parent_code else None
    county = tree.get(node.county_code) if node.county_code else None
    return {"community": node, "street": street, "county": county}


_NAMED = re.compile(r"[A-Za-z][A-Za-z ,'\-]* \(([^()]*[\u4e00-\u9fff][^()]*)\)")
_CHINESE_NOTE = re.compile(r" \([^()]*[\u4e00-\u9fff][^()]*\)")


def chinese_half(text: str, locale: str = "zh-CN") -> str:
    """The half of a service message written as "中文 (English)" that the reader's language wants; a rule
    named inside it as "english (中文)" reads as its own language's name."""
    head, tail = text, ""
    if text.endswith(")"):
        depth = 0
        for i in range(len(text) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(text[i], 0)
            if depth == 0:
                if i > 0 and text[i - 1] == " " and text[i + 1:i + 2].isascii() and text[i + 1:i + 2].isalpha():
                    head, tail = text[:i - 1], text[i + 1:-1]
                break
    if locale == "en" and tail:
        return _CHINESE_NOTE.sub("", tail)
    return _NAMED.sub(r"\1", head)


def _locale(request: Request[Any, Any, Any]) -> str:
    return str(page_context(request)["locale"])


def _matches(item: ListedItem, words: list[str]) -> bool:
    hay = " ".join((item.title, item.content, item.department or "", str(item.item.get("issued_instead_by") or "")))
    return all(w in hay for w in words)


def certificate_reply(community_code: str, query: str, item: ListedItem | None) -> CertificateAnswer:
    """The answer of the CanCommunityIssueCertificate operation, for the page (same lookup, same answer)."""
    if item is None:
        return CertificateAnswer(
            community_code=community_code, query=query, found=False, may_issue=False,
            answer="本社区的证明事项清单中没有这项证明。没有法律法规依据、未列入保留清单的证明，社区可以不出具。",
            basis=f"《{documents.CERTIFICATES_2020.title}》", basis_number=documents.CERTIFICATES_2020.number)
    retained = item.list == "retained"
    return CertificateAnswer(
        community_code=community_code, query=query, found=True, may_issue=retained,
        answer=(f"可以出具：“{item.title}”列入保留的证明事项，社区可以为您开具。" if retained else
                f"不予出具：“{item.title}”已列入取消的证明事项，社区不再开具。"),
        code=item.code, title=item.title, list=item.list, basis=item.basis, basis_number=item.basis_number,
        issued_instead_by=item.item.get("issued_instead_by"), scope=item.scope, entry_number=item.entry_number)


async def department_name(conn: Any, department: str | None, asker: str) -> str:
    """The organisation a receipt is addressed to: the named department's, else the asker's (an API client's
    organisation, a person's name)."""
    subject, _sep, name = asker.partition(" ")
    kind, _colon, number = subject.partition(":")
    try:
        if department is not None:
            return (await identity.get_client(conn, name=department)).organisation
        if kind == "client" and number.isdigit():
            return (await identity.get_client(conn, client_id=int(number))).organisation
    except NotFound:
        pass
    return department or name or asker


class ComplaintForm(msgspec.Struct):
    community_code: str = ""
    department: str = ""
    subject_kind: str = ""
    matter: str = ""
    description: str = ""
    contact: str = ""


class FollowForm(msgspec.Struct):
    number: str = ""
    code: str = ""


def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response


class PublicPages(Controller):
    path = "/"
    include_in_schema = False
    response_headers = PAGE_HEADERS
    exception_handlers = PAGE_ERRORS

    # ---- find a community ----

    @get("/communities", opt={"public": True})
    async def find_community(self, request: Request[Any, Any, Any], q: SearchText = None) -> Template:
        needle = (q or "").strip()
        found: list[dict[str, Any]] = []
        if needle:
            tree = request.app.state.tree
            for node in tree.nodes.values():
                if node.level == "community" and needle in node.name:
                    found.append(_places(request, node))
                    if len(found) >= FIND_LIMIT:
                        break
            found.sort(key=lambda p: p["community"].code)
        return Template("public/communities.html", context=page_context(request, q=needle, found=found,
                                                                          limit=FIND_LIMIT))

    # ---- the duty page ----

    @get("/duty/{code:str}", opt={"public": True})
    async def duty_page(self, request: Request[Any, Any, Any], read_db: ReadDB, code: FromPath[str],
                        q: SearchText = None) -> Template:
        county = await service.county_of_community(read_db, code=code)
        node = _community(request, code)
        when, release, items = await published.list_at(request, read_db, county_code=county)  # held in memory
        needle = (q or "").strip()
        shown, certificate = items, None
        if needle:
            words = needle.split()
            shown = [i for i in items if _matches(i, words)]
            # residents' words for a certificate: the certificate lookup's own matching
            certificate = (await service.certificate_answer(read_db, community_code=code, query=needle))["item"]
            if certificate is not None and all(i.code != certificate.code for i in shown):
                shown = [certificate, *shown]
        sections = []
        for anchor, heading, what, names in SECTIONS:
            rows = [i for i in shown if i.list in names]
            if rows or (not needle and anchor in ("duty", "assisting", "prohibited", "cancelled")):
                sections.append({"anchor": anchor, "heading": heading, "what": what, "rows": rows})
        cited = {i.code: documents.cite(i.basis, i.basis_number, issuer=i.item.get("source_issuer"),
                                        date=i.item.get("source_date")) for i in shown}
        return Template("public/duty.html", context=page_context(
            request, **_places(request, node), as_of=when, release=release, q=needle, sections=sections,
            total=len(shown), certificate=certificate, cited=cited,
            all_sections=[(a, h) for a, h, _w, _n in SECTIONS]))

    # ---- can the community issue this certificate? ----

    @get("/duty/{code:str}/certificates", opt={"public": True})
    async def certificate_page(self, request: Request[Any, Any, Any], read_db: ReadDB, code: FromPath[str],
                               q: SearchText = None) -> Template:
        await service.county_of_community(read_db, code=code)
        node = _community(request, code)
        needle = (q or "").strip()
        answer, cited, instead = None, None, None
        if needle:
            found = await service.certificate_answer(read_db, community_code=code, query=needle)
            item = found["item"]
            answer = certificate_reply(code, needle, item)
            cited = documents.cite(answer.basis, answer.basis_number,
                                   issuer=item.item.get("source_issuer") if item else None,
                                   date=item.item.get("source_date") if item else None)
            instead = answer.issued_instead_by
        return Template("public/certificate.html", context=page_context(
            request, **_places(request, node), q=needle, answer=answer, cited=cited, instead=instead))

    # ---- complaints ----

    def _complaint_form(self, request: Request[Any, Any, Any], form: ComplaintForm, *, errors: dict[str, str] | None
                        = None, error: str | None = None, status_code: int = 200) -> Template:
        node = request.app.state.tree.get(form.community_code) if form.community_code else None
        place = _places(request, node) if node is not None and node.level == "community" else {}
        return Template("public/complaint_form.html", status_code=status_code, context=page_context(
            request, form=form, errors=errors or {}, error=error, kinds=SUBJECT_KINDS, **place))

    @get("/complaints", opt={"public": True})
    async def complaint_form(
        self, request: Request[Any, Any, Any], community: CommunityCode = None,
        department: Annotated[str | None, QueryParameter(max_length=200)] = None,
        matter: Annotated[str | None, QueryParameter(max_length=200)] = None,
        kind: Annotated[str | None, QueryParameter(pattern="^(|task|app|work_group|plaque|certificate|report|other)$")]
        = None,
    ) -> Template:
        return self._complaint_form(request, ComplaintForm(community_code=community or "", department=department or "",
                                                           matter=matter or "", subject_kind=kind or "task"))

    @post("/complaints", opt={"public": True, "keyed_address": True}, status_code=303)
    async def file_complaint(self, request: Request[Any, Any, Any], db: DB,
                             data: Annotated[ComplaintForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
                             ) -> Template | Redirect:
        form = ComplaintForm(**{f: getattr(data, f).strip() for f in ComplaintForm.__struct_fields__})
        errors: dict[str, str] = {}
        node = request.app.state.tree.get(form.community_code) if form.community_code else None
        if node is None or node.level != "community":
            errors["community_code"] = "请先选择社区。"
        if not form.department:
            errors["department"] = "请填写交办的部门。"
        elif len(form.department) > 200:
            errors["department"] = "部门名称最多200字。"
        if form.subject_kind not in dict(SUBJECT_KINDS):
            errors["subject_kind"] = "请选择交办的是什么。"
        if not form.matter:
            errors["matter"] = "请填写事项名称。"
        elif len(form.matter) > 200:
            errors["matter"] = "事项名称最多200字。"
        if not form.description:
            errors["description"] = "请简要说明情况。"
        elif len(form.description) > 4000:
            errors["description"] = "情况说明最多4000字。"
        if len(form.contact) > 200:
            errors["contact"] = "联系方式最多200字。"
        if errors:
            return self._complaint_form(request, form, errors=errors, status_code=422)
        complaint = ComplaintCreate(jurisdiction_code=form.community_code, department=form.department,
                                    subject_kind=form.subject_kind,  # type: ignore[arg-type]
                                    matter=form.matter, description=form.description, contact=form.contact or None)
        try:
            async with db.transaction():
                receipt = await complaints.file_complaint(
                    db, actor=Actor.from_connection(request), data=complaint,
                    client_addr=keyed_address(request, "complaint"),
                    pepper=request.app.state.settings.token_pepper)
        except ServiceError as exc:
            return self._complaint_form(request, form, error=chinese_half(exc.detail, _locale(request)),
                                        status_code=exc.status)
        # shown once, on the next page: the code never travels in an address
        request.session["filed_complaint"] = {"id": receipt.id, "code": receipt.follow_code,
                                              "community": form.community_code}
        return Redirect("/complaints/filed", status_code=303)

    @get("/complaints/filed", opt={"public": True})
    async def complaint_filed(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        filed = request.session.pop("filed_complaint", None) if isinstance(request.session, dict) else None
        if not isinstance(filed, dict):
            return Redirect("/complaints/follow", status_code=303)
        node = request.app.state.tree.get(str(filed.get("community", "")))
        place = _places(request, node) if node is not None else {}
        return _no_store(Template("public/complaint_filed.html", context=page_context(
            request, number=filed["id"], code=filed["code"], **place)))

    @get("/complaints/follow", opt={"public": True})
    async def follow_form(self, request: Request[Any, Any, Any],
                          number: Annotated[str | None, QueryParameter(pattern=r"^[0-9]{0,12}$")] = None
                          ) -> Template:
        return Template("public/complaint_follow.html", context=page_context(
            request, form=FollowForm(number=number or ""), progress=None, error=None))

    @post("/complaints/follow", opt={"public": True}, status_code=200)
    async def follow(self, request: Request[Any, Any, Any], db: DB,
                     data: Annotated[FollowForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Response[Any]:
        form = FollowForm(number=data.number.strip()[:20], code=data.code.strip()[:40])
        progress, error, status = None, None, 200
        if not form.number.isdigit() or not form.code:
            error, status = "请填写回执编号和查询码。", 422
        else:
            try:
                progress = await complaints.follow_complaint(db, complaint_id=int(form.number), code=form.code,
                                                             pepper=request.app.state.settings.token_pepper)
            except NotFound:
                error, status = "回执编号或查询码不正确，请核对后再试。", 404
        kinds = dict(SUBJECT_KINDS)
        return _no_store(Template("public/complaint_follow.html", status_code=status, context=page_context(
            request, form=FollowForm(number=form.number), progress=progress, error=error, kinds=kinds,
            status_labels=STATUS_LABELS)))

    # ---- a check's receipt, as a letter ----

    @get("/checks/{receipt_id:str}", opt={"public": True})
    async def receipt_page(self, request: Request[Any, Any, Any], db: DB, receipt_id: FromPath[str]) -> Template:
        found = await checks.receipt(db, getattr(request.app.state, "checker", None), receipt_id=receipt_id)
        node = request.app.state.tree.get(found.community_code)
        place = _places(request, node) if node is not None else {}
        sentence, rule_documents = documents.for_rule(found.citation.rule)
        item = None
        if found.citation.scope and found.citation.code:
            try:
                item = await service.get_record(db, scope=found.citation.scope, code=found.citation.code)
            except NotFound:
                item = None
        # a policy refusal carries the documents of its rule; the other rules' are in service/registry/documents.py
        cited = ([documents.from_policy(d) for d in found.citation.documents] if found.citation.documents
                 else [documents.as_cited(d) for d in rule_documents])
        if item is not None:
            own = documents.cite(item.item.get("basis"), item.item.get("basis_number"),
                                 issuer=item.item.get("source_issuer"), date=item.item.get("source_date"))
            if own is not None and all(c.title != own.title for c in cited):
                cited.insert(0, own)
        department = await department_name(db, found.department, found.asker)
        # a signed-in community records its refusal from here in one click
        may_refuse = not found.allowed and may(request, "refusal", "create", found.community_code)
        refusal = (await complaints.refusal_for_receipt(db, receipt_id=uuid.UUID(found.id))) if may_refuse else None
        section = SECTION_OF.get(found.citation.list or "")
        return Template("public/receipt.html", context=page_context(
            request, receipt=found, **place, department=department, rule_sentence=sentence, cited=cited,
            reason=chinese_half(found.reason, _locale(request)), item=item, may_refuse=may_refuse, refusal=refusal,
            section=next((h for a, h, _w, _n in SECTIONS if a == section), None),
            verify_url=f"{str(request.base_url).rstrip('/')}/checks/{found.id}",
            api_url=f"/api/v1/checks/receipts/{found.id}"))
