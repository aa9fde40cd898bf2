"""Admission review (准入审核): requests, screening, decisions."""
