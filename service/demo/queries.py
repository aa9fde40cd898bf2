"""The SQL of the demo loader."""

LOADED = "select exists(select 1 from jurisdiction where code = $1)"
