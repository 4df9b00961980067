"""Words, not codes: no page a persona can open shows a raw enum value or a
policy basis string, and every enum value has a translated label."""

from __future__ import annotations

import re

import pytest

from portal.cases.models import CaseRole, LegalBasis
from portal.consent.rules import Basis, Duty
from portal.people.models import OrganisationKind, Role
from portal.web import i18n, labels
from tests.harness import Running
from tests.web.test_route_matrix import concrete, portal_routes
from tests.web.words import visible_text

# A code a reader would never write: snake_case values, and the basis grammar.
RAW = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(?:participant|basis|ground|role|family):[a-z]")
# Pages that show files or exports, not text a person reads in the portal.
NOT_PAGES = (".csv", ".json", "/pdf", "/download", "/metrics", "/healthz", "/readyz",
             "/logout", "/auth/", "/dev-idp", "/dev/mail", "/scim", "/static")
PERSONAS = ("ib", "mentor", "notulist", "fg", "beheerder", "ouder1", "jeugdhulp")


@pytest.mark.parametrize(("kind", "enum"), [
    ("role", Role), ("case_role", CaseRole), ("legal_basis", LegalBasis),
    ("legal_basis", Basis), ("organisation_kind", OrganisationKind), ("duty", Duty)])
def test_every_enum_value_has_a_dutch_label(kind: str, enum: type) -> None:
    i18n.set_language("nl")
    for member in enum:
        word = labels.label(kind, member)
        assert word != member.value and not RAW.search(word), (kind, member.value, word)


def test_basis_strings_read_as_words() -> None:
    i18n.set_language("nl")
    text = labels.basis_text("participant:chair;basis:consent;consent:abc,+def")
    assert text == ("deelnemer aan de casus als voorzitter; grondslag: Toestemming; "
                    "vastgelegde toestemming")
    assert labels.basis_text("family:custodian") == "gezin: ouder met gezag"
    assert labels.basis_text("") == ""


def test_no_page_shows_a_raw_code(running_sqlite: Running) -> None:
    paths = sorted({concrete(route.path) for route in portal_routes(running_sqlite)
                    if "GET" in (route.methods or ()) and not any(
                        part in route.path for part in NOT_PAGES)})
    found = []
    pages = 0
    for persona in PERSONAS:
        client = running_sqlite.client()
        client.login(persona)
        for path in paths:
            response = client.get(path, follow_redirects=False)
            if response.status_code != 200 or "text/html" not in response.headers.get(
                    "content-type", ""):
                continue
            pages += 1
            codes = sorted(set(RAW.findall(visible_text(response.text))))
            if codes:
                found.append(f"{persona} {path}: {codes}")
    assert pages > 20, "the matrix reached too few pages to mean anything"
    assert found == [], "\n".join(found)
