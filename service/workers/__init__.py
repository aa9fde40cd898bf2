"""The community-worker roster and staffing against the county's standard."""
