"""The registry's shapes: an item's fields, entries, releases, lists, differences, checks."""

from __future__ import annotations

import builtins
import datetime
from typing import Annotated, Any, Literal

import msgspec

from service.core.schemas import Input, Output
from service.policy.digital import Demand

Kind = Literal["task", "plaque", "certificate", "report", "digital"]
ListName = Literal[
    "duty", "assisting", "prohibited",  # task
    "exterior", "interior", "mechanism",  # plaque
    "retained", "cancelled",  # certificate
    "report_form", "ledger",  # report
    "app", "account", "work_group",  # digital
]
LISTS_OF_KIND: dict[str, tuple[str, ...]] = {
    "task": ("duty", "assisting", "prohibited"),
    "plaque": ("exterior", "interior", "mechanism"),
    "certificate": ("retained", "cancelled"),
    "report": ("report_form", "ledger"),
    "digital": ("app", "account", "work_group"),
}
# lists that forbid rather than admit: a county cannot undo what a template level puts on them
NEGATIVE_LISTS = frozenset({"prohibited", "cancelled"})
Level = Literal["national", "province", "city", "county", "street", "community", "other"]
AppliesTo = Literal["urban_community", "rural_community", "village"]
Frequency = Literal["once", "daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly", "on_demand"]
EntryType = Literal["add", "amend", "suspend", "resume", "retire"]
Status = Literal["active", "suspended", "retired"]

ItemCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                                       description="the item's code, unique within its list scope")]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Scope = Annotated[str, msgspec.Meta(pattern=r"^(national|[0-9]{2}|[0-9]{6})$",
                                    description="'national', a province code (2 digits) or a county code (6 digits)")]


class ItemCreate(Input):
    """An item's fields, as DOMAIN.md lists them. Status and dates of effect come from its entries."""

    kind: Kind
    list: ListName
    code: ItemCode
    title: Title
    content: Text = ""
    basis: Short | None = None
    """legal or policy basis: the document's title"""
    basis_number: Short | None = None
    department: Short | None = None
    """the responsible department"""
    department_level: Level | None = None
    applies_to: builtins.list[AppliesTo] = msgspec.field(default_factory=lambda: ["urban_community"])
    funding_yuan: Annotated[int, msgspec.Meta(ge=0)] | None = None
    funding_source: Short | None = None
    staff: Annotated[int, msgspec.Meta(ge=0)] | None = None
    authority: Short | None = None
    """authority transferred with the matter (权随责走)"""
    time_limit: Short | None = None
    data_needs: Text | None = None
    report_fields: builtins.list[Short] = msgspec.field(default_factory=builtins.list)
    frequency: Frequency | None = None
    issued_instead_by: Short | None = None
    """for a cancelled certificate: who issues or verifies it instead"""
    filing_number: Short | None = None
    """for an app (kind digital, list app): its filing number (备案号); the owner is `department` at
    `department_level`"""
    user_demands: builtins.list[Demand] = msgspec.field(default_factory=builtins.list)
    """for a digital item: what it demands of its users (check_in, points_ranking, online_time,
    round_the_clock, reply_within_minutes): each is refused (policies/digital.toml)"""
    expires_on: datetime.date | None = None
    source_issuer: Short | None = None
    source_number: Short | None = None
    source_date: datetime.date | None = None


ITEM_FIELDS = tuple(ItemCreate.__struct_fields__)


class Adjustment(Input):
    """Suspend, resume or retire: when it takes effect and why."""

    effective_from: datetime.date
    reason: Reason
    source_ref: Short = ""


class AddItem(Input):
    item: ItemCreate
    effective_from: datetime.date
    reason: Reason
    source_ref: Short = ""


class AmendItem(Input):
    """The fields that change (any of ItemCreate's but `code`), when, and why."""

    changes: dict[str, Any]
    effective_from: datetime.date
    reason: Reason
    source_ref: Short = ""


class ItemRead(Output):
    scope: str
    code: str
    kind: str
    list: str
    title: str
    status: str
    created_from: datetime.date
    effective_from: datetime.date
    entry_number: int
    item: dict[str, Any]


class EntryRead(Output):
    entry_number: int
    entry_type: str
    scope: str
    code: str
    status: str
    effective_from: datetime.date
    entered_at: datetime.datetime
    actor: str
    reason: str
    source_ref: str
    item: dict[str, Any]
    leaf: str
    """the canonical JSON of the entry (the Merkle leaf), as text"""
    item_digest: str
    """SHA-256 of the leaf, hex"""


class EntryPage(Output):
    entries: builtins.list[EntryRead]
    next_start: int | None
    total: int


class ReleaseCreate(Input):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    release_date: datetime.date
    issuing_body: Short
    document_number: Short
    approving_government: Short
    filed_upward_on: datetime.date | None = None


class ReleaseRead(Output):
    id: int
    county_code: str
    name: str
    release_date: datetime.date
    issuing_body: str
    document_number: str
    approving_government: str
    filed_upward_on: datetime.date | None
    entry_cap: int
    created_at: datetime.datetime


class ListedItem(Output):
    """An item as it stands in an effective list, with where it comes from."""

    scope: str
    code: str
    kind: str
    list: str
    title: str
    content: str
    basis: str | None
    basis_number: str | None
    department: str | None
    status: str
    effective_from: datetime.date
    expires_on: datetime.date | None
    entry_number: int
    item: dict[str, Any]


class EffectiveList(Output):
    county_code: str
    community_code: str | None
    as_of: datetime.date
    release: ReleaseRead | None
    items: builtins.list[ListedItem]


class ScopeItems(Output):
    """One list scope's own items in force on a date (a template level, or a county without its templates)."""

    scope: str
    as_of: datetime.date
    items: builtins.list[ListedItem]


class FieldChange(Output):
    field: str
    before: Any
    after: Any


class ItemDifference(Output):
    code: str
    title: str
    change: Literal["added", "removed", "changed"]
    fields: builtins.list[FieldChange] = msgspec.field(default_factory=builtins.list)


class ListDifference(Output):
    county_code: str
    from_: str = msgspec.field(name="from")
    to: str
    differences: builtins.list[ItemDifference]


class ImportRowProblem(Output):
    line: int
    code: str | None
    reason: str
    rule: str | None = None
    """the rule that refused the row (a policy rule family, or a registry rule)"""
    findings: builtins.list[dict[str, Any]] | None = None
    """for a row the policy engine refuses: each finding with its documents and span"""


class ImportReport(Output):
    loaded: int
    rejected: builtins.list[ImportRowProblem]
    committed: bool


class SimilarItem(Output):
    scope: str
    code: str
    title: str
    list: str
    kind: str
    similarity: float


class CertificateAnswer(Output):
    community_code: str
    query: str
    found: bool
    may_issue: bool
    answer: str
    code: str | None = None
    title: str | None = None
    list: str | None = None
    basis: str | None = None
    basis_number: str | None = None
    issued_instead_by: str | None = None
    scope: str | None = None
    entry_number: int | None = None
    matched_name: str | None = None
    """the official (listed) name the query was read as"""
    matched_by: str | None = None
    """the name or near name that matched the query"""
    match: Literal["exact", "near_name", "partial", "similar"] | None = None
    confidence: float | None = None
    """how sure the reading is: 1 exact, 0.95 a known near name, less for partial or similar wording"""
    usually_issued_by: str | None = None
    """when nothing matched: the department that usually issues what the query is about"""
    document: str | None = None
    """the document the answer rests on, cited in full"""


# ---- the enforcement check ----

class Matter(Input):
    code: ItemCode | None = None
    title: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=4000)] | None = None


class CheckRequest(Input):
    community_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{12}$")]
    matter: Matter
    role: Literal["responsible", "assisting"]
    department: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    """the API client name of the department that would assign the matter; default: the caller"""


BATCH_MAX = 500


class CheckBatchRequest(Input):
    checks: Annotated[builtins.list[CheckRequest], msgspec.Meta(min_length=1, max_length=BATCH_MAX)]
    """up to 500 questions, each as `POST /api/v1/checks` takes it; answered in this order"""


class Citation(Output):
    rule: str
    list: str | None = None
    scope: str | None = None
    code: str | None = None
    title: str | None = None
    entry_number: int | None = None
    release: str | None = None
    document_number: str | None = None
    basis: str | None = None
    documents: builtins.list[dict[str, Any]] | None = None
    """for a policy refusal: the documents the rule comes from (title, issuer, number where one exists, date,
    clause)"""
    span: dict[str, Any] | None = None
    """for a policy refusal: the words that triggered it (field, start, end, text)"""


class CheckAnswer(Output):
    id: str
    allowed: bool
    reason: str
    citation: Citation
    receipt_url: str | None = None
    department_unknown: bool = False
    """the department named is not registered: the answer is about the matter alone"""


class CheckBatchAnswer(Output):
    answers: builtins.list[CheckAnswer]
    """one per question, in the order asked"""


class Receipt(Output):
    id: str
    asked_at: datetime.datetime
    asker: str
    department: str | None
    community_code: str
    matter_code: str | None
    matter_title: str | None
    role: str
    allowed: bool
    reason: str
    citation: Citation


# ---- a province's own certificate list (its additions to the national list) ----

class ProvincialDocument(Input):
    """The provincial document that publishes the list: cited by every item it adds. A number is required:
    a list without a document number is not loaded (no number is ever made up)."""

    title: Title
    issuer: Short
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    date: datetime.date
    list_name: Short | None = None
    """the list's own name, e.g. 《…不应由基层群众性自治组织出具证明事项清单（第一批）》"""


class ProvincialCertificate(Input):
    name: Title
    """the name as the provincial list gives it"""
    issued_instead_by: Short | None = None
    """who issues or verifies it instead, where the list says so"""


class ProvincialCertificates(Input):
    """A province's certificate template: the certificates it adds to the national list of 民发〔2020〕20号,
    each loaded into the province's scope as a cancelled certificate citing the provincial document."""

    province: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2}$")]
    document: ProvincialDocument
    certificates: Annotated[builtins.list[ProvincialCertificate], msgspec.Meta(min_length=1, max_length=200)]


class ProvincialCertificateRead(Output):
    name: str
    outcome: Literal["added", "unchanged", "national"]
    """added to the province's list; already there; or the national certificate under the province's wording
    (not added: the national item answers for it)"""
    code: str | None = None
    national_name: str | None = None


class ProvincialLoadReport(Output):
    province: str
    document: str
    """the document as every added item cites it"""
    certificates: builtins.list[ProvincialCertificateRead]
