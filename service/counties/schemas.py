"""Per-county figures: every number of docs/domain.md is a default a county may change."""

from __future__ import annotations

import msgspec

from service.core.schemas import Output


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


DEFAULTS = CountySettings()


class CountySettingsRead(Output):
    county_code: str
    settings: CountySettings
    overridden: list[str]
    """the keys this county set; every other value is the default"""
    defaults: CountySettings
