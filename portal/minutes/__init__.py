"""Structured minutes of MDO meetings (issue 6)."""
