"""Secondments (借调): requests, the rules, the county organisation department's decisions, returns."""
