"""Refusals by communities, and complaints (anonymous ones too) about matters put on communities."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

import msgspec

from service.core.schemas import Input, Output

Code = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6,12}$")]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Long = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
ComplaintStatus = Literal["received", "under_investigation", "substantiated", "unfounded"]


class RefusalCreate(Input):
    community_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{12}$")]
    department: Short
    matter_title: Short
    reason: Long
    receipt_id: uuid.UUID | None = None
    """the enforcement check's refusal receipt (its id), when the community asked first"""


class RefusalRead(Output):
    id: int
    community_code: str
    county_code: str
    department: str
    matter_title: str
    receipt_id: uuid.UUID | None
    reason: str
    recorded_by: str
    recorded_at: datetime.datetime


class ComplaintCreate(Input):
    jurisdiction_code: Code
    """the community (or street) the matter was put on"""
    department: Short
    subject_kind: Literal["task", "app", "work_group", "plaque", "certificate", "report", "other"]
    matter: Short
    description: Long
    admission_request_id: int | None = None
    refusal_id: int | None = None
    contact: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    """optional: personal data is stored only when the filer gives it"""


class ComplaintRead(Output):
    id: int
    county_code: str
    jurisdiction_code: str
    department: str
    subject_kind: str
    matter: str
    description: str
    admission_request_id: int | None
    refusal_id: int | None
    contact: str | None
    anonymous: bool
    status: ComplaintStatus
    finding: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ComplaintReceipt(Output):
    id: int
    status: ComplaintStatus
    county_code: str
    created_at: datetime.datetime
    follow_code: str | None = None
    """shown once: with the receipt number (id) it lets the filer follow the complaint without an account;
    only its keyed hash is stored"""


FollowCode = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class ComplaintFollow(Input):
    id: Annotated[int, msgspec.Meta(ge=1)]
    """the receipt number"""
    code: FollowCode
    """the follow-up code given with the receipt"""


class ComplaintProgress(Output):
    """What the filer sees when following a complaint: its state and finding, never anyone's contact."""

    id: int
    status: ComplaintStatus
    department: str
    subject_kind: str
    matter: str
    finding: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ComplaintUpdate(Input):
    status: Literal["under_investigation", "substantiated", "unfounded"]
    finding: Annotated[str, msgspec.Meta(max_length=4000)] | None = None


class DepartmentCount(Output):
    department: str
    received: int
    under_investigation: int
    substantiated: int
    unfounded: int
    total: int
    refusals: int
