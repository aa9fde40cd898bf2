"""Admission requests: what a department submits, what screening finds, what a reviewer decides."""

from __future__ import annotations

import builtins
import datetime
from typing import Annotated, Any, Literal

import msgspec

from service.core.schemas import MONEY_MAX, Input, Output, Title
from service.policy.digital import Demand

Kind = Literal["task", "plaque", "certificate", "report", "digital"]
ListName = Literal[
    "duty", "assisting", "prohibited", "exterior", "interior", "mechanism", "retained", "cancelled",
    "report_form", "ledger", "app", "account", "work_group",
]
Status = Literal["draft", "submitted", "in_review", "approved", "rejected", "returned", "resubmitted", "withdrawn",
                 "revoked", "refused"]
Verdict = Literal["clear", "flagged", "refused"]
Severity = Literal["refuse", "flag"]
Frequency = Literal["once", "daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly", "on_demand"]
Code = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6,12}$", description="county, street or community code")]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
ItemCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class Resources(Input):
    """What follows the matter to the community (权随责走、费随事转、人随事转)."""

    funding_yuan: Annotated[int, msgspec.Meta(ge=0, le=MONEY_MAX)] | None = None
    funding_source: Short | None = None
    staff: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | None = None
    authority: Short | None = None

    def any_given(self) -> bool:
        return bool(self.funding_yuan) or bool(self.staff) or bool(self.authority and self.authority.strip())


class ReportForm(Input):
    name: Short
    fields: Annotated[list[Short], msgspec.Meta(min_length=1, max_length=300)]
    frequency: Frequency


class DigitalNeed(Input):
    """An app, public account or work group the matter would have communities use, as its owner declares
    it: screened by the rules of policies/digital.toml (service/policy/digital.py) and, for its words, by
    the engine."""

    kind: Literal["app", "account", "work_group"]
    name: Short
    owner: Short | None = None
    """the unit that builds or runs it (default: the submitting department)"""
    owner_level: Literal["national", "province", "city", "county", "street", "community", "other"] | None = None
    """the owner's level; a name that says a lower level (…街道办事处, …社区居民委员会) wins"""
    filing_number: Short | None = None
    """an app's filing number (备案号)"""
    demands: Annotated[list[Demand], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)
    """what it demands of users: check_in, points_ranking, online_time, round_the_clock, reply_within_minutes"""
    description: Text | None = None
    """what it asks of community workers, in words (read by the engine)"""


class Attachment(Input):
    url: Annotated[str, msgspec.Meta(pattern=r"^https?://", max_length=1000)]
    sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
    name: Short | None = None


class AdmissionSubmission(Input, kw_only=True):
    """A request to put a new matter on communities. Targets: a county, or streets or communities in it
    (targets in several counties are split into one linked request per county)."""

    kind: Kind
    list: ListName
    title: Title
    content: Text = ""
    targets: Annotated[builtins.list[Code], msgspec.Meta(min_length=1, max_length=500)]
    community_role: Literal["responsible", "assisting"]
    policy_area: Short | None = None
    """the field the matter belongs to (民政, 城市管理, ...): read by the responsible-party rules"""
    basis: Short | None = None
    """legal or policy basis: the document's title"""
    basis_number: Short | None = None
    resources: Resources = msgspec.field(default_factory=Resources)
    start_date: datetime.date
    end_date: datetime.date | None = None
    time_limit: Short | None = None
    data_needs: Text | None = None
    report_form: ReportForm | None = None
    digital_needs: Annotated[builtins.list[DigitalNeed], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=builtins.list)
    justification: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    attachments: Annotated[builtins.list[Attachment], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=builtins.list)
    item_code: ItemCode | None = None
    """the code the item should carry on the list once approved (default adm-<request id>)"""


class Finding(Output):
    rule: str
    severity: Severity
    message: str
    cited: dict[str, Any] | None = None
    documents: list[dict[str, Any]] | None = None
    """for a policy finding: the documents it comes from (title, issuer, number where one exists, date, clause)"""
    span: dict[str, Any] | None = None
    """for a policy finding: the text that triggered it (field, start and end offsets, text)"""


class Screening(Output):
    verdict: Verdict
    findings: list[Finding]


class LinkedRequest(Output):
    id: int
    county_code: str
    status: str


class AdmissionRequestRead(Output):
    id: int
    group_id: int
    revision: int
    previous_id: int | None
    status: Status
    county_code: str
    reviewing_body: str
    department: str
    targets: builtins.list[str]
    kind: str
    list: str
    title: str
    screening: Screening | None
    decision_due: datetime.date | None
    overdue: bool
    submitted_at: datetime.datetime | None
    decided_at: datetime.datetime | None
    decision_reason: str | None
    effective_from: datetime.date | None
    item_code: str | None
    allowed_transitions: builtins.list[str]
    linked: builtins.list[LinkedRequest]
    submission: dict[str, Any]
    created_at: datetime.datetime
    updated_at: datetime.datetime


class AdmissionRequestSummary(Output):
    id: int
    group_id: int
    revision: int
    status: str
    county_code: str
    targets: list[str]
    """the streets and communities (or the whole county) the request reaches"""
    department: str
    title: str
    verdict: str | None
    decision_due: datetime.date | None
    overdue: bool
    submitted_at: datetime.datetime | None


class AdmissionRequestPage(Output):
    items: list[AdmissionRequestSummary]
    next_cursor: int | None = None


class Decision(Input):
    outcome: Literal["approved", "rejected", "returned"]
    reason: Reason | None = None
    """required for rejected and returned: the reviewer's reasons"""
    effective_from: datetime.date | None = None
    """approval: the date the item takes effect on the list (default: today; never before the submission)"""
    acknowledged_findings: list[Annotated[str, msgspec.Meta(max_length=80)]] | None = None
    """optional: the screening findings (their `rule`) the reviewer acknowledged before deciding; kept in
    the decision's audit event. The web UI asks for it when the request was flagged; the API does not."""


class Revocation(Input):
    reason: Reason
    effective_from: datetime.date | None = None


class Withdrawal(Input):
    reason: Reason | None = None


class TransitionRead(Output):
    from_status: str | None
    to_status: str
    at: datetime.datetime
    actor: str
    reason: str | None


class DeliveryRead(Output):
    outbox_id: int
    topic: str
    created_at: datetime.datetime
    delivered_at: datetime.datetime | None
    given_up_at: datetime.datetime | None
    attempts: int
    next_attempt_at: datetime.datetime
    last_error: str | None
    log: list[dict[str, Any]]


class ScreeningRuleCreate(Input):
    """A county's own rule. `policy`: a rule in the engine's form (`definition`: word groups `all`, `unless`,
    `scope`, `when_role`, `examples` = {match, no_match}; docs/policy.md); it and a `phrase` are proved
    against their examples before anything is stored."""

    county_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]
    rule: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9._-]{3,80}$")]
    match_type: Literal["phrase", "category", "responsible_area", "policy"]
    severity: Severity
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    pattern: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    """the phrase, category or area word; for a policy rule, defaults to the rule id"""
    definition: dict[str, Any] | None = None
    """a policy rule: the engine's form (as in policies/prohibitions.toml)"""


class ScreeningRuleRead(Output):
    id: int
    county_code: str | None
    rule: str
    match_type: str
    pattern: str
    severity: str
    message: str
    source: str
    created_at: datetime.datetime
    definition: dict[str, Any] | None = None


class CallbackRegistration(Input):
    url: Annotated[str, msgspec.Meta(pattern=r"^https?://", max_length=500)]


class CallbackRead(Output):
    client_id: int
    url: str
    secret: str
    """HMAC-SHA256 key for the X-MR-Signature header; shown once, rotated at each registration"""
    standard_webhooks_secret: str
    """the same key in the Standard Webhooks form (whsec_…), for the webhook-signature header"""
    signature_header: str = "X-MR-Signature"
