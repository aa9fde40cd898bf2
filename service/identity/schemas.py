from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.core.schemas import Input, Output

Role = Literal["department", "street_office", "county_reviewer", "org_department", "community", "supervisor", "admin"]
OrgLevel = Literal["national", "province", "city", "county", "street", "community", "other"]
Username = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9._-]{3,64}$")]
Password = Annotated[str, msgspec.Meta(min_length=10, max_length=256)]
Text100 = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2,12}$")]


class UserCreate(Input):
    username: Username
    display_name: Text100
    password: Password
    locale: Literal["zh-CN", "en"] = "zh-CN"
    organisation: Text100 | None = None
    """a department's or street office's user: the organisation it speaks for, as an API client's
    `organisation` (with `organisation_level` and `jurisdiction_code`: all three or none)"""
    organisation_level: OrgLevel | None = None
    jurisdiction_code: Code | None = None
    """where the organisation sits"""


class UserRead(Output):
    id: int
    username: str
    display_name: str
    locale: str
    created_at: datetime
    locked_until: datetime | None = None
    disabled_at: datetime | None = None
    organisation: str | None = None
    organisation_level: str | None = None
    jurisdiction_code: str | None = None


class ClientCreate(Input):
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9._-]{3,64}$")]
    organisation: Text100
    organisation_level: OrgLevel
    jurisdiction_code: Code
    callback_url: Annotated[str, msgspec.Meta(pattern=r"^https?://", max_length=500)] | None = None


class ClientRead(Output):
    id: int
    name: str
    organisation: str
    organisation_level: str
    jurisdiction_code: str
    callback_url: str | None
    created_at: datetime


class TokenCreate(Input):
    label: Annotated[str, msgspec.Meta(max_length=100)] = ""
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = 365


class TokenIssued(Output):
    id: int
    client_id: int
    token: str
    """Shown once; only its hash is stored."""
    prefix: str
    expires_at: datetime | None


class TokenRead(Output):
    id: int
    client_id: int
    prefix: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class RoleGrant(Input):
    principal_type: Literal["user", "client"]
    principal_id: Annotated[int, msgspec.Meta(ge=1)]
    role: Role
    jurisdiction_code: Code


class RoleAssignmentRead(Output):
    id: int
    principal_type: str
    principal_id: int
    role: str
    jurisdiction_code: str
    granted_at: datetime
    granted_by: str
    revoked_at: datetime | None


class HeldRole(Output):
    role: str
    jurisdiction_code: str
    jurisdiction_name: str | None


class Me(Output):
    kind: str
    id: int | None
    name: str
    organisation: str | None
    roles: list[HeldRole]
