"""SQL of the policy area: a county's own rules."""

COUNTY_RULES = """
select rule, match_type, pattern, severity, message, definition
from screening_rule
where retired_at is null and county_code = $1 and match_type in ('phrase', 'policy', 'responsible_area')
order by id
"""
