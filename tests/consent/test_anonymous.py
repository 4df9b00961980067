"""Anonymous cases: the identifier check before saving, and conversion to a named case."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from sqlalchemy import select

from portal.cases.models import Case
from portal.consent.models import CaseConversion, ConsentRecord, IdentifierOverride
from portal.demo import stable_id
from tests.consent._portal import org, person
from tests.consent.test_portal import FORM, logged_in
from tests.harness import PortalClient, Running

CASE_URL = re.compile(r"/cases/([0-9a-f-]{36})$")


def create_anonymous(client: PortalClient, title: str, purpose: str,
                     confirm: bool = False) -> object:
    client.page("/cases/new")
    data = {"child_id": "", "anonymous": "on", "title": title, "purpose": purpose,
            "legal_basis": "consent"}
    if confirm:
        data["confirm_identifiers"] = "on"
    return client.submit("/cases", data)


def test_a_bsn_blocks_saving_until_removed_or_confirmed(running: Running) -> None:
    mentor = logged_in(running, "mentor")
    blocked = create_anonymous(mentor, "Leerling groep 7", "Zorgen; BSN 123456782 genoteerd")
    assert blocked.status_code == 400  # type: ignore[attr-defined]
    assert "burgerservicenummer (BSN)" in blocked.text  # type: ignore[attr-defined]
    assert "123456782" in blocked.text  # shown to the writer so they can find it
    with running.portal.sessions() as db:
        assert db.scalars(select(Case).where(Case.anonymous.is_(True))).all() == []

    saved = create_anonymous(mentor, "Leerling groep 7", "Zorgen; BSN 123456782 genoteerd",
                             confirm=True)
    case_id = CASE_URL.search(str(saved.url)).group(1)  # type: ignore[attr-defined,union-attr]
    with running.portal.sessions() as db:
        override = db.scalars(select(IdentifierOverride)
                              .where(IdentifierOverride.case_id == case_id)).one()
    assert (override.field, override.kinds, override.person_id) == (
        "purpose", ["bsn"], person("mentor"))


def test_names_of_registered_children_are_found_and_clean_text_passes(
        running_sqlite: Running) -> None:
    mentor = logged_in(running_sqlite, "mentor")
    named = create_anonymous(mentor, "Zorgen om Sam", "Gedrag in de klas")
    assert named.status_code == 400 and "naam van een geregistreerd kind" in named.text  # type: ignore[attr-defined]
    clean = create_anonymous(mentor, "Leerling groep 7", "Gedrag in de klas, zorgen thuis")
    assert CASE_URL.search(str(clean.url))  # type: ignore[attr-defined]
    with running_sqlite.portal.sessions() as db:
        assert db.scalars(select(IdentifierOverride)).all() == []


def convert(client: PortalClient, case_id: str, consenters: list[str]) -> object:
    sam = stable_id("child", "sam")
    page = client.page(f"/cases/{case_id}/convert?child_id={sam}")
    assert "Petra Mulder" in page.text and "Peter Mulder" in page.text
    pairs = [("csrf_token", client.csrf), ("child_id", sam),
             *(("consenter", c) for c in consenters), ("category", "behaviour"),
             ("recipient", f"org:{org('het-baken')}"), ("valid_until", ""),
             ("form_seen", "on")]
    return client.post(f"/cases/{case_id}/convert", content=urlencode(pairs).encode(),
                       headers=FORM)


def test_conversion_to_a_named_case_once_consent_exists(running: Running) -> None:
    chair = logged_in(running, "ib")
    created = create_anonymous(chair, "Leerling groep 7", "Gedrag in de klas")
    case_id = CASE_URL.search(str(created.url)).group(1)  # type: ignore[attr-defined,union-attr]
    assert f"/cases/{case_id}/convert" in created.text  # type: ignore[attr-defined]
    assert chair.get(f"/cases/{case_id}/consent").status_code == 403  # no child, no consent

    incomplete = convert(chair, case_id, [person("ouder1")])
    assert incomplete.status_code == 400  # type: ignore[attr-defined]
    assert "nog niet volledig" in incomplete.text  # type: ignore[attr-defined]
    with running.portal.sessions() as db:
        assert db.get_one(Case, case_id).anonymous is True
        assert db.scalars(select(ConsentRecord).where(ConsentRecord.case_id == case_id)
                          ).all() == []

    done = convert(chair, case_id, [person("ouder1"), person("ouder2")])
    assert str(done.url).endswith(f"/cases/{case_id}")  # type: ignore[attr-defined]
    assert "Sam Mulder" in done.text  # type: ignore[attr-defined]
    with running.portal.sessions() as db:
        case = db.get_one(Case, case_id)
        conversion = db.scalars(select(CaseConversion)
                                .where(CaseConversion.case_id == case_id)).one()
        consents = db.scalars(select(ConsentRecord)
                              .where(ConsentRecord.case_id == case_id)).all()
    assert case.anonymous is False and case.child_id == stable_id("child", "sam")
    assert conversion.converted_by == person("ib")
    assert sorted(conversion.consent_ids) == sorted(c.id for c in consents) and len(consents) == 2
    mentor = logged_in(running, "mentor")
    assert mentor.get(f"/cases/{case_id}/convert").status_code == 404  # not a participant
