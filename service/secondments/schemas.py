from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from service.core.schemas import VISIBLE, Input, Output

OrganLevel = Literal["national", "province", "city", "county", "street", "other"]
OtherLevel = Literal["national", "province", "city", "county", "street", "community"]
OrganType = Literal["organ", "public_institution", "state_owned_enterprise", "mass_organisation", "other"]
Form = Literal["secondment", "temporary_transfer", "shadow_learning", "task_force"]
Status = Literal["refused", "pending_approval", "approved", "rejected", "withdrawn", "active", "overdue", "returned"]
Code = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2,12}$")]
WorkerRef = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=VISIBLE)]


class Organ(Input):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    level: OrganLevel
    other_level: OtherLevel | None = None
    """required when level is `other`: the level the organ actually sits at"""
    type: OrganType | None = None
    """机关 (organ), 事业单位 (public_institution), 国有企业 (state_owned_enterprise), 群团组织
    (mass_organisation) or other; read from the name when not given"""


class SecondmentCreate(Input):
    organ: Organ
    form: Form
    """借调, 抽调 (temporary transfer), 跟班学习 (shadow-learning), 工作专班 (task force): all count as secondment"""
    home_community_code: Code
    workers: Annotated[list[WorkerRef], msgspec.Meta(min_length=1, max_length=20)]
    purpose: Text
    start_date: date
    end_date: date
    worker_consent: bool
    community_consent: bool
    destination: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    """where the worker would work, if not at the borrowing office itself"""


class SecondmentDecision(Input):
    outcome: Literal["approve", "reject"]
    reasons: Text


class SecondmentWithdraw(Input):
    reason: Text


class SecondmentReturn(Input):
    returned_on: date | None = None
    """defaults to today"""
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ExtensionCreate(Input):
    new_end_date: date
    reason: Text


class BrokenRule(Output):
    rule: str
    """a stable key (county_level_organ, max_duration, ...)"""
    text: str
    """the rule, cited in Chinese"""
    detail: str | None = None
    field: str | None = None


class SecondedWorker(Output):
    worker_ref: str
    display_name: str | None


class ExtensionRead(Output):
    id: int
    previous_end: date
    requested_end: date
    reason: str
    status: str
    decided_at: datetime | None
    decided_by: str | None
    decision_reasons: str | None
    created_at: datetime


class SecondmentRead(Output):
    id: int
    status: Status
    organ: dict[str, Any]
    effective_level: str
    """the highest of the declared level, the calling client's level and the level read from the name"""
    form: str
    home_community_code: str | None
    home_community_name: str | None
    county_code: str
    workers: list[SecondedWorker]
    purpose: str
    start_date: date
    end_date: date
    worker_consent: bool
    community_consent: bool
    broken_rules: list[BrokenRule]
    routed_to: str | None
    """who decides: the county organisation department (none for a refused attempt)"""
    decision_due: date | None
    decided_at: datetime | None
    decided_by: str | None
    decision_reasons: str | None
    staffing_warning: dict[str, Any] | None
    returned_on: date | None
    return_note: str
    """what the street office wrote when it recorded the return ('' if nothing)"""
    return_recorded_by: str | None
    """who recorded the return (the actor, as `submitted_by`)"""
    overdue_since: date | None
    submitted_by: str
    created_at: datetime
    extensions: list[ExtensionRead] = []
    allowed_transitions: list[str] = []
    destination: str | None = None
    requested_start_date: date | None = None
    """the start the request asked for, when the approval came after it and the secondment starts later"""


class SecondmentList(Output):
    items: list[SecondmentRead]
    truncated: bool


class RefusalCount(Output):
    organ_name: str
    declared_levels: list[str]
    effective_level: str
    client: str | None
    refused: int
    last_attempt_at: datetime


class RefusalCounts(Output):
    jurisdiction_code: str
    organs: list[RefusalCount]
    total: int


class DailyRunReport(Output):
    ran: bool
    """false when another process held the lock and did the run"""
    activated: list[int]
    overdue: list[int]
