from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from service.core.schemas import Input, Output

Level = Literal["province", "city", "county", "street", "community"]
Code = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2,12}$", description="national administrative division code")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Population = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]


class JurisdictionCreate(Input):
    code: Code
    parent_code: Code
    level: Level
    name: Name
    population: Population | None = None


class JurisdictionUpdate(Input):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    population: Population | msgspec.UnsetType | None = msgspec.UNSET


class JurisdictionMove(Input):
    new_parent_code: Code


class JurisdictionRead(Output):
    code: str
    parent_code: str | None
    level: str
    name: str
    population: int | None
    county_code: str | None
    path: list[str]


class Subtree(Output):
    root: JurisdictionRead
    nodes: list[JurisdictionRead]
    truncated: bool


class ImportRowProblem(Output):
    line: int
    code: str | None
    reason: str


class ImportReport(Output):
    loaded: int
    unchanged: int
    rejected: list[ImportRowProblem]
    committed: bool
