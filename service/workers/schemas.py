from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from service.core.schemas import Input, Output

Post = Literal["party_committee", "residents_committee", "community_staff"]
WorkerStatus = Literal["in_post", "left"]
WorkerRef = Annotated[str, msgspec.Meta(
    pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$",
    description="pseudonymous worker reference (3-32 letters, digits, - or _); never a national ID number")]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{12}$", description="a community's 12-digit code")]


class WorkerCreate(Input):
    worker_ref: WorkerRef
    display_name: DisplayName
    community_code: Code
    post: Post
    start_date: date


class WorkerUpdate(Input):
    display_name: DisplayName | msgspec.UnsetType = msgspec.UNSET
    community_code: Code | msgspec.UnsetType = msgspec.UNSET
    post: Post | msgspec.UnsetType = msgspec.UNSET
    status: WorkerStatus | msgspec.UnsetType = msgspec.UNSET
    left_date: date | msgspec.UnsetType | None = msgspec.UNSET


class WorkerRead(Output):
    worker_ref: str
    display_name: str
    community_code: str
    community_name: str
    post: str
    start_date: date
    status: str
    left_date: date | None
    seconded_by_request: int | None = None
    """the secondment the worker is away on today, if any"""


class ImportRowProblem(Output):
    line: int
    worker_ref: str | None
    reason: str


class WorkerImportReport(Output):
    created: int
    updated: int
    unchanged: int
    rejected: list[ImportRowProblem]
    committed: bool


class CommunityStaffing(Output):
    community_code: str
    community_name: str
    street_code: str | None
    population: int | None
    workers_per_10k_residents: float
    standard: float
    """workers_per_10k_residents × population / 10,000"""
    required: int
    """the standard rounded up"""
    in_post: int
    seconded: int
    present: int
    """in post and not seconded"""
    shortfall: int
    below_standard: bool


class StaffingReport(Output):
    jurisdiction_code: str
    on: date
    communities: list[CommunityStaffing]
    total_present: int
    total_required: int
    communities_below_standard: int


class StaffingPoint(Output):
    on: date
    in_post: int
    seconded: int
    present: int
    required: int
    shortfall: int


class StaffingHistory(Output):
    community_code: str
    community_name: str
    population: int | None
    method: str
    points: list[StaffingPoint]
