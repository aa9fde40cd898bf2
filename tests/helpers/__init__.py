"""Helpers shared by tests of several areas (no test module imports another test module)."""
