"""Per-county figures: every number of docs/domain.md is a default a county may change."""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.core.schemas import Output

# a document number's format: {abbr} (the county's abbreviation), {year} and {n} (the number), {n} required
DocumentFormat = Annotated[str, msgspec.Meta(min_length=3, max_length=40,
                                             pattern=r"^(?=.*\{n\})[^{}]*(\{(abbr|year|n)\}[^{}]*)*$")]


class CountySettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # admission (准入)
    notice_working_days: int = 30
    """a matter's start date must be at least this many working days after submission"""
    decision_working_days: int = 15
    reviewing_body: str = "县委社会工作部"
    near_deadline_working_days: int = 3
    # plaques: boards on a community's outside wall (the Party organisation and the residents' committee)
    exterior_plaques_max: int = 2
    # staffing
    workers_per_10k_residents: float = 18.0
    # secondment (借调)
    secondment_max_months: int = 6
    secondment_total_max_months: int = 12
    secondment_cooldown_months: int = 24
    secondment_requires_consent: bool = True
    secondment_decision_working_days: int = 15
    organisation_department: str = "县委组织部"
    """who decides secondments (printed on the secondment decision document)"""
    # decision documents (决定书): numbered per county, series and year
    document_abbreviation: Annotated[str, msgspec.Meta(max_length=8)] = ""
    """the county's abbreviation in document numbers (机关代字), e.g. 长; empty: the county name's first character"""
    admission_document_format: DocumentFormat = "{abbr}社工准〔{year}〕{n}号"
    secondment_document_format: DocumentFormat = "{abbr}组借〔{year}〕{n}号"


DEFAULTS = CountySettings()


class CountySettingsRead(Output):
    county_code: str
    settings: CountySettings
    overridden: list[str]
    """the keys this county set; every other value is the default"""
    defaults: CountySettings
