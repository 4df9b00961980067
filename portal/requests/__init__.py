"""Requests of data subjects (inspection, rectification, erasure, …) and their statutory clocks."""
