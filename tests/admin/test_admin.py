"""The administrator manages organisations and accounts, and reads no case content."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.demo import DEMO_CASE, stable_id
from portal.people.models import Organisation
from tests.harness import Running
from tests.web.words import visible_text

CASE_PATH = f"/cases/{stable_id('case', DEMO_CASE.key)}"


def test_admin_cannot_open_case_content(running: Running) -> None:
    admin = running.client()
    admin.login("beheerder")
    response = admin.get(CASE_PATH)
    assert response.status_code == 404
    assert "zorgen over gedrag" not in response.text
    assert admin.get("/cases", follow_redirects=False).status_code == 403


def test_admin_adds_an_organisation_with_validation(running: Running) -> None:
    admin = running.client()
    admin.login("beheerder")
    overview = admin.page("/admin")
    assert "Scholengemeenschap Het Baken" in overview.text
    refused = admin.submit("/admin/organisations", {"name": "", "slug": "X!", "kind": "school"})
    assert refused.status_code == 400
    assert "Gebruik 3 tot 64 kleine letters" in refused.text
    kept = admin.submit("/admin/organisations", {"name": "", "slug": "jeugdhulp-zuid",
                                                 "kind": "youth_care"})
    assert '<option value="youth_care" selected>Jeugdhulp</option>' in kept.text
    added = admin.submit("/admin/organisations",
                         {"name": "OBS De Regenboog", "slug": "obs-de-regenboog",
                          "kind": "school"})
    assert added.status_code == 200
    assert '<p role="status">De organisatie is toegevoegd.</p>' in added.text
    assert "<td>Beheerder (" in added.text and "<td>admin (" not in added.text
    with running.portal.sessions() as db:
        assert db.scalars(select(Organisation.name).where(
            Organisation.slug == "obs-de-regenboog")).one() == "OBS De Regenboog"


def test_a_disabled_account_is_logged_out_at_once(running: Running) -> None:
    mentor = running.client()
    mentor.login("mentor")
    assert mentor.get("/cases").url.path == "/cases"
    admin = running.client()
    admin.login("beheerder")
    admin.page("/admin")
    done = admin.submit(f"/admin/people/{stable_id('person', 'mentor')}/active",
                        {"active": "0", "confirm": "1"})
    assert '<p role="status">Het account is uitgeschakeld.</p>' in done.text
    assert mentor.get("/cases").url.path == "/login"
    again = running.client()
    assert again.login("mentor").status_code == 400, "a disabled account cannot log in"


def test_overview_names_citizens_and_shows_words_not_codes(running: Running) -> None:
    """Citizens' names are sealed at rest: the overview opens them (under its own
    access record), and roles and kinds read as Dutch words, not enum values."""
    admin = running.client()
    admin.login("beheerder")
    overview = admin.page("/admin")
    assert overview.status_code == 200
    with running.portal.sessions() as db:
        assert db.scalars(select(AccessRecord.id).where(
            AccessRecord.event_type == "admin.overview")).first() is not None
    text = visible_text(overview.text)
    for raw in ("youth_care", "care_coordinator", "minute_taker", "school_leader"):
        assert raw not in text, raw
    assert "Intern begeleider / zorgcoördinator (Scholengemeenschap Het Baken)" in text
    assert "Jeugdhulp" in text
    assert "Petra Mulder" in text  # a parent: blank before, her name is sealed at rest
    assert "<td></td>" not in overview.text, "an account shown without a name"
    assert "Ouder, voogd of leerling" in text


def test_a_refused_form_has_an_error_summary_linking_to_each_field(
        running_sqlite: Running) -> None:
    admin = running_sqlite.client()
    admin.login("beheerder")
    admin.page("/admin")
    refused = admin.submit("/admin/organisations", {"name": "", "slug": "X!", "kind": "boat"})
    assert refused.status_code == 400
    assert "<title>Fout: Beheer" in refused.text
    assert "data-error-summary" in refused.text and "Er is een probleem" in refused.text
    for target in ('href="#org-name"', 'href="#slug"', 'href="#kind"'):
        assert target in refused.text, target
    for field_id in ('id="org-name"', 'id="slug"', 'id="kind"'):
        assert field_id in refused.text, field_id


def test_disabling_asks_for_confirmation_and_never_offers_the_own_account(
        running: Running) -> None:
    """The button alone changes nothing: the administrator first reads what
    disabling does (logged out everywhere, leaves their cases) and confirms."""
    mentor = running.client()
    mentor.login("mentor")
    admin = running.client()
    admin.login("beheerder")
    overview = admin.page("/admin")
    own = stable_id("person", "beheerder")
    assert f"/admin/people/{own}/active" not in overview.text
    assert "uw eigen account" in overview.text
    mentor_id = stable_id("person", "mentor")
    asked = admin.submit(f"/admin/people/{mentor_id}/active", {"active": "0"})
    assert asked.status_code == 200
    text = visible_text(asked.text)
    assert "Dit account uitschakelen?" in text and "wordt meteen overal uitgelogd" in text
    assert 'name="confirm" value="1"' in asked.text
    assert mentor.get("/cases").url.path == "/cases", "nothing changed before the confirmation"
    refused = admin.submit(f"/admin/people/{own}/active", {"active": "0", "confirm": "1"})
    assert refused.status_code == 400
    assert "U kunt uw eigen account niet uitschakelen" in visible_text(refused.text)
