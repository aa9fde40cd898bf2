"""The SQL of counties' own figures (county_setting)."""

SETTINGS = "select settings from county_setting where county_code = $1"
UPSERT = """
insert into county_setting (county_code, settings, updated_by) values ($1, $2, $3)
on conflict (county_code) do update set settings = county_setting.settings || excluded.settings,
    updated_at = now(), updated_by = excluded.updated_by
returning settings
"""
