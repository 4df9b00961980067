"""The family's rights on case data, with the portal's own machinery (issue 13).

Restriction and objection: ``restriction.py`` (placed and lifted by the case's
FG, or automatically while an objection is pending), ``objection.py``.
"""
