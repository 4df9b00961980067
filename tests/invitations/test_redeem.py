"""Redeeming an invitation over HTTP, real OIDC (the dev IdP) and real SMTP, on both engines.

The school's care coordinator invites through the web page; the mail arrives
at the aiosmtpd catcher; the invitee logs in at the family IdP (an unknown
subject), lands on the redemption page, and redeems the code from the mail.
"""

from __future__ import annotations

import re
import time
from datetime import date

from sqlalchemy import select

from portal.invitations.models import FamilyInvitation
from portal.mail.models import OutboxMessage
from portal.people.models import ChildRelation, Person, Relation
from tests.harness import Running
from tests.invitations._family import (
    SAM,
    code_in,
    invite,
    login_as,
    records,
    redeem,
    register_adult,
    register_child,
    wait_for_mail,
)
from tests.invitations._family import person_row as row_of


def invited(running: Running):  # type: ignore[no-untyped-def]
    school = running.client()
    school.login("ib")
    member = register_adult(running)
    invite(school, member)
    return school, member, code_in(wait_for_mail(running, member.email)[0])


def status_on_school_page(running: Running, school, member) -> str:  # type: ignore[no-untyped-def]
    page = school.page(f"/invitations/children/{SAM}")
    return next(row for row in page.text.split("<tr>") if f"<td>{member.email}</td>" in row)


def test_a_parent_redeems_the_code_and_their_login_is_bound(running: Running) -> None:
    _, member, code = invited(running)
    parent = login_as(running, member.subject, f"/invitation/{code}")
    page = parent.page(f"/invitation/{code}")
    assert "Uitnodiging accepteren" in page.text
    # The unbound login is nobody yet: no person was created for it.
    with running.portal.sessions() as db:
        assert db.scalar(select(Person.id).where(Person.subject == member.subject)) is None
        assert db.scalars(select(FamilyInvitation)).one().opened_at is not None
    unbound_cookie = parent.cookies.get("mdo_session")
    done = redeem(parent, code)
    assert done.status_code == 200 and "Uw inlog is gekoppeld" in done.text
    # Logged in with a new session id (no fixation of the pre-redemption session).
    assert parent.cookies.get("mdo_session") not in (None, unbound_cookie)
    bound = row_of(running, member.person_id)
    assert (bound.idp, bound.subject) == ("dev", member.subject)
    # Logged in as that family member at once: the family pages open.
    assert parent.page("/child-access").status_code == 200
    assert [r.outcome for r in records(running, "invitation.redeem")] == ["allowed"]
    # The next login with the same subject is that person, not the redemption page.
    again = running.client()
    assert again.login(member.subject).url.path != "/invitation"
    assert again.page("/child-access").status_code == 200


def test_a_code_binds_once(running: Running) -> None:
    _, member, code = invited(running)
    assert redeem(login_as(running, member.subject), code).status_code == 200
    other = register_adult(running)  # somebody else holding the same (forwarded) link
    second = redeem(login_as(running, other.subject), code)
    assert second.status_code == 400 and "al gebruikt" in second.text
    assert row_of(running, other.person_id).idp is None
    failed = [r for r in records(running, "invitation.redeem") if r.outcome == "failed"]
    assert [r.reason for r in failed] == ["already_used"]


def test_an_expired_code_is_refused(running: Running) -> None:
    _, member, code = invited(running)
    running.clock.advance(days=14, seconds=1)
    refused = redeem(login_as(running, member.subject), code)
    assert refused.status_code == 400 and "verlopen" in refused.text
    assert row_of(running, member.person_id).idp is None
    assert [r.reason for r in records(running, "invitation.redeem")] == ["expired"]


def test_a_revoked_code_is_refused(running: Running) -> None:
    school, member, code = invited(running)
    invitation_id = _invitation_id(running)
    revoked = school.submit(f"/invitations/children/{SAM}/{invitation_id}/revoke")
    assert revoked.status_code == 200 and "ingetrokken" in revoked.text
    refused = redeem(login_as(running, member.subject), code)
    assert refused.status_code == 400 and "ingetrokken" in refused.text
    assert row_of(running, member.person_id).idp is None
    assert [r.reason for r in records(running, "invitation.redeem")] == ["revoked"]
    assert [r.outcome for r in records(running, "invitation.revoke")] == ["allowed"]


def test_a_code_for_a_deactivated_person_is_refused(running: Running) -> None:
    _, member, code = invited(running)
    with running.portal.sessions() as db:
        found = db.get(Person, member.person_id)
        assert found is not None
        found.active = False
        db.commit()
    refused = redeem(login_as(running, member.subject), code)
    assert refused.status_code == 400 and "niet meer gebruikt" in refused.text
    assert row_of(running, member.person_id).idp is None
    assert [r.reason for r in records(running, "invitation.redeem")] == ["person_inactive"]


def test_resending_replaces_the_code(running: Running) -> None:
    school, member, first = invited(running)
    resent = school.submit(f"/invitations/children/{SAM}/{_invitation_id(running)}/resend")
    assert resent.status_code == 200 and "eerdere link werkt niet meer" in resent.text
    codes = {code_in(m) for m in wait_for_mail(running, member.email, count=2)}
    assert len(codes) == 2 and first in codes
    second = (codes - {first}).pop()
    parent = login_as(running, member.subject)
    assert redeem(parent, first).status_code == 400
    assert redeem(parent, second).status_code == 200
    assert row_of(running, member.person_id).subject == member.subject


def test_the_school_sees_each_status(running_sqlite: Running) -> None:
    running = running_sqlite  # the engine plays no part here
    school, member, code = invited(running)
    assert "verstuurd" in status_on_school_page(running, school, member)
    parent = login_as(running, member.subject, f"/invitation/{code}")
    assert "geopend" in status_on_school_page(running, school, member)
    redeem(parent, code)
    assert "inlog gekoppeld" in status_on_school_page(running, school, member)
    other = register_adult(running)
    invite(school, other)
    running.clock.advance(days=15)
    school = running.client()
    school.login("ib")  # the earlier session has timed out meanwhile
    assert "verlopen" in status_on_school_page(running, school, other)


def test_the_code_lives_in_the_outbox_only_until_it_is_delivered(running_sqlite: Running) -> None:
    running = running_sqlite  # the engine plays no part here
    _, _, code = invited(running)
    running.portal.mail.poke()
    with running.portal.sessions() as db:
        invitation = db.scalars(select(FamilyInvitation)).one()
        assert code not in invitation.code_hash and len(invitation.code_hash) == 64
    deadline_rounds = 200
    for _ in range(deadline_rounds):
        running.portal.mail.poke()
        with running.portal.sessions() as db:
            bodies = db.scalars(select(OutboxMessage.body).where(
                OutboxMessage.kind == "family.invitation")).all()
        if bodies and all(code not in body for body in bodies):
            break
        time.sleep(0.05)
    assert bodies and all(code not in body for body in bodies)


def _invitation_id(running: Running) -> str:
    with running.portal.sessions() as db:
        return db.scalars(select(FamilyInvitation.id)).one()


def test_a_parent_of_two_pupils_redeems_the_second_invitation_logged_in(
        running: Running) -> None:
    school, member, first = invited(running)
    sibling = register_child(running, date(2015, 6, 1))
    with running.portal.sessions() as db:
        db.add(ChildRelation(child_id=sibling, person_id=member.person_id,
                             relation=Relation.PARENT_WITH_CUSTODY))
        db.commit()
    invite(school, member, sibling)
    codes = {code_in(m) for m in wait_for_mail(running, member.email, count=2)}
    second = (codes - {first}).pop()
    parent = login_as(running, member.subject)
    assert redeem(parent, first).status_code == 200
    # Now logged in as that person: the second code is theirs, and binds nothing new.
    assert redeem(parent, second).status_code == 200
    with running.portal.sessions() as db:
        assert all(i.bound_at is not None for i in db.scalars(select(FamilyInvitation)))


def test_somebody_else_logged_in_cannot_take_an_invitation(running: Running) -> None:
    _, member, code = invited(running)
    petra = running.client()
    petra.login("ouder1")  # a bound parent of Sam, holding a forwarded link
    refused = redeem(petra, code)
    assert refused.status_code == 400 and "als iemand anders ingelogd" in refused.text
    assert row_of(running, member.person_id).idp is None
    assert [r.reason for r in records(running, "invitation.redeem")] == ["login_already_bound"]


def test_a_code_for_someone_no_longer_linked_to_the_child_is_refused(running: Running) -> None:
    _, member, code = invited(running)
    with running.portal.sessions() as db:  # the register drops them (a custody change)
        relation = db.scalars(select(ChildRelation).where(
            ChildRelation.person_id == member.person_id)).one()
        db.delete(relation)
        db.commit()
    refused = redeem(login_as(running, member.subject), code)
    assert refused.status_code == 400 and "niet meer gebruikt" in refused.text
    assert row_of(running, member.person_id).idp is None
    assert [r.reason for r in records(running, "invitation.redeem")] == ["no_longer_related"]


def test_the_overview_counts_each_pupils_invitations(running_sqlite: Running) -> None:
    running = running_sqlite  # the engine plays no part here
    school, member, code = invited(running)
    row = next(r for r in school.page("/invitations").text.split("<tr>") if "Sam Mulder" in r)
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "0", "0"]
    redeem(login_as(running, member.subject), code)
    invite(school, register_adult(running))
    running.clock.advance(days=15)
    school = running.client()
    school.login("ib")
    row = next(r for r in school.page("/invitations").text.split("<tr>") if "Sam Mulder" in r)
    assert re.findall(r"<td>(\d+)</td>", row) == ["0", "1", "1"]
