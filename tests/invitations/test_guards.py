"""What stands between a guesser, a weak login or an outsider and a family account."""

from __future__ import annotations

from sqlalchemy import select

from conftest import StartPortal
from portal.invitations.models import FamilyInvitation, InvitationFailure
from portal.invitations.redeem import FAILURE_LIMIT
from portal.people.models import Person
from tests.harness import Running
from tests.invitations._family import (
    SAM,
    code_in,
    invite,
    login_as,
    records,
    redeem,
    register_adult,
    wait_for_mail,
)
from tests.invitations._family import person_row as row_of

SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"


def invited(running: Running):  # type: ignore[no-untyped-def]
    school = running.client()
    school.login("ib")
    member = register_adult(running)
    invite(school, member)
    return school, member, code_in(wait_for_mail(running, member.email)[0])


def test_the_21st_wrong_code_in_a_minute_is_refused_without_checking(running: Running) -> None:
    _, member, code = invited(running)
    guesser = login_as(running, member.subject)
    for attempt in range(FAILURE_LIMIT):
        wrong = redeem(guesser, f"guess{attempt:02d}{code[7:]}")
        assert wrong.status_code == 400 and "niet geldig" in wrong.text
    # The 21st attempt carries the right code, and is still refused: not looked at.
    limited = redeem(guesser, code)
    assert limited.status_code == 429 and "Te veel pogingen" in limited.text
    assert row_of(running, member.person_id).idp is None
    with running.portal.sessions() as db:
        assert db.scalars(select(FamilyInvitation)).one().bound_at is None
    reasons = [r.reason for r in records(running, "invitation.redeem")]
    assert reasons == ["unknown_code"] * FAILURE_LIMIT + ["rate_limited"]
    # Per source address too: a fresh session from the same address is held back.
    fresh = login_as(running, member.subject)
    assert redeem(fresh, code).status_code == 429
    # A minute later the same code works (it was never spent).
    running.clock.advance(minutes=1, seconds=1)
    assert redeem(fresh, code).status_code == 200
    assert row_of(running, member.person_id).subject == member.subject


def test_failures_are_counted_in_the_database_across_workers(running: Running) -> None:
    """Another worker's failures (rows in the shared table) count for this one too."""
    _, member, code = invited(running)
    now = running.clock()
    with running.portal.sessions() as db:
        for _ in range(FAILURE_LIMIT):
            db.add(InvitationFailure(session_ref="another-worker", client_address="127.0.0.1",
                                     failed_at=now))
        db.commit()
    assert redeem(login_as(running, member.subject), code).status_code == 429


def test_a_login_below_the_required_assurance_cannot_redeem(
        database_url: str, start_portal: StartPortal) -> None:
    running = start_portal(database_url, consent_acr=SUBSTANTIAL)
    _, member, code = invited(running)
    refused = redeem(login_as(running, member.subject), code)  # the dev IdP's lowest level
    assert refused.status_code == 400 and "niet sterk genoeg" in refused.text
    assert row_of(running, member.person_id).idp is None
    assert [r.reason for r in records(running, "invitation.redeem")] == ["assurance_too_low"]
    # From the invitation page the login asks the IdP for the level up front; a
    # weaker ID token is then refused at the callback already.
    asking = running.client()
    rejected = asking.login(member.subject, provider="dev?for=invitation&next=/invitation")
    assert rejected.status_code == 400 and "Inloggen mislukt" in rejected.text
    assert row_of(running, member.person_id).idp is None


def test_unbinding_logs_the_family_member_out_at_once(running: Running) -> None:
    school, member, code = invited(running)
    parent = login_as(running, member.subject)
    assert redeem(parent, code).status_code == 200
    assert parent.page("/child-access").url.path == "/child-access"
    page = school.page(f"/invitations/children/{SAM}")
    assert "Inlog ontkoppelen" in page.text
    unbound = school.submit(f"/invitations/children/{SAM}/unbind", {"person": member.person_id})
    assert unbound.status_code == 200 and "ontkoppeld" in unbound.text
    # The parent's next request finds no session: back to the login page.
    assert parent.get("/child-access").url.path == "/login"
    assert row_of(running, member.person_id).idp is None
    assert [r.outcome for r in records(running, "invitation.unbind")] == ["allowed"]
    # Their login is nobody now: it is sent to redeem a code again.
    again = login_as(running, member.subject)
    assert again.history_of_last_login[-1].headers["location"] == "/invitation"


def test_a_family_login_without_an_invitation_reaches_no_data(running_sqlite: Running) -> None:
    running = running_sqlite  # the engine plays no part here
    stranger = register_adult(running)
    client = login_as(running, stranger.subject)
    assert client.get("/child-access").url.path == "/login"
    with running.portal.sessions() as db:
        assert db.scalar(select(Person.id).where(Person.subject == stranger.subject)) is None
    assert [r.reason for r in records(running, "auth.login") if r.outcome == "failed"] == \
        ["not_linked_to_person"]


def test_only_the_childs_school_care_coordinator_manages_invitations(
        running_sqlite: Running) -> None:
    running = running_sqlite  # the engine plays no part here
    path = f"/invitations/children/{SAM}"
    anonymous = running.client()
    assert anonymous.get(path).url.path == "/login"
    for persona, status in (("mentor", 403), ("buitenstaander", 404), ("ouder1", 404),
                            ("beheerder", 404)):
        client = running.client()
        client.login(persona)
        assert client.get(path).status_code == status, persona
        assert client.get("/invitations").status_code == 403, persona
    school = running.client()
    school.login("ib")
    assert school.get(f"{path}/unbind").status_code == 405
    assert school.get("/invitations/children/not-a-child").status_code == 404
    denied = [r for r in records(running, "invitation.child.view") if r.outcome == "denied"]
    assert len(denied) == 5  # the four personas and the unknown child


def test_bad_input_names_the_field_and_keeps_what_was_typed(running_sqlite: Running) -> None:
    running = running_sqlite  # the engine plays no part here
    school = running.client()
    school.login("ib")
    member = register_adult(running)
    school.page(f"/invitations/children/{SAM}")
    bad = school.submit(f"/invitations/children/{SAM}",
                        {"person": member.person_id, "email": "ouder@@voorbeeld"})
    assert bad.status_code == 400
    assert 'aria-invalid="true" aria-describedby="email-error' in bad.text
    assert 'value="ouder@@voorbeeld"' in bad.text and "Geef een geldig e-mailadres" in bad.text
    nobody = school.submit(f"/invitations/children/{SAM}",
                           {"person": "7d0f4a56-0000-4000-8000-000000000000",
                            "email": member.email})
    assert nobody.status_code == 400 and "Kies een ouder, voogd of pleegouder" in nobody.text
    # Sam is 13: the pupil cannot be invited yet.
    pupil = school.submit(f"/invitations/children/{SAM}", {"person": "pupil",
                                                            "email": "sam@example.org"})
    assert pupil.status_code == 400 and "vanaf de 16e verjaardag" in pupil.text
    with running.portal.sessions() as db:
        assert db.scalars(select(FamilyInvitation)).all() == []


def test_an_already_linked_parent_is_not_invited_again(running_sqlite: Running) -> None:
    running = running_sqlite  # the engine plays no part here
    school = running.client()
    school.login("ib")
    school.page(f"/invitations/children/{SAM}")
    petra = school.submit(f"/invitations/children/{SAM}",
                          {"person": str(row_id(running, "ouder1")),
                           "email": "ouder1@demo.mdo-portaal.test"})
    assert petra.status_code == 400 and "heeft al een inlog" in petra.text


def row_id(running: Running, subject: str) -> str:
    with running.portal.sessions() as db:
        found = db.scalar(select(Person.id).where(Person.subject == subject))
        assert found is not None
        return found


def test_an_empty_address_means_the_chosen_persons_own(running_sqlite: Running) -> None:
    running = running_sqlite  # the engine plays no part here
    school = running.client()
    school.login("ib")
    first, second = register_adult(running), register_adult(running)
    school.page(f"/invitations/children/{SAM}")
    sent = school.submit(f"/invitations/children/{SAM}",
                         {"person": second.person_id, "email": ""})
    assert sent.status_code == 200, sent.text
    assert wait_for_mail(running, second.email)
    assert not [m for m in running.portal.mail_catcher.snapshot()
                if first.email in m.recipients]
    with running.portal.sessions() as db:
        without = db.get(Person, first.person_id)
        assert without is not None
        without.email = None
        db.commit()
    missing = school.submit(f"/invitations/children/{SAM}",
                            {"person": first.person_id, "email": " "})
    assert missing.status_code == 400 and "geen e-mailadres geregistreerd" in missing.text
    assert 'aria-describedby="email-error' in missing.text


def test_redeeming_without_a_login_or_with_garbage_is_refused_and_recorded(
        running_sqlite: Running) -> None:
    running = running_sqlite  # the engine plays no part here
    anonymous = running.client()
    first = redeem(anonymous, "whatever")
    assert first.status_code == 400 and "Log eerst in" in first.text
    member = register_adult(running)
    client = login_as(running, member.subject)
    for garbage in ("", "x" * 500, "<script>alert(1)</script>", "../../etc/passwd"):
        refused = redeem(client, garbage)
        assert refused.status_code == 400 and "niet geldig" in refused.text
        assert "<script>alert" not in refused.text
    # What was typed comes back in the field, marked, with the message beside it.
    kept = redeem(client, "abc-typo")
    assert 'value="abc-typo" aria-invalid="true" aria-describedby="code-error"' in kept.text
    assert [r.reason for r in records(running, "invitation.redeem")] == \
        ["not_logged_in"] + ["unknown_code"] * 5
    assert running.client().get("/invitation/%3Cscript%3E").status_code == 400
