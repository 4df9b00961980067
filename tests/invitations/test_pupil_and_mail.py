"""The 16+ pupil's invitation, what the mail says, and mail that cannot be sent yet."""

from __future__ import annotations

import email
import email.policy
import time
from datetime import timedelta

from sqlalchemy import select

from portal.consent.access import local_date
from portal.demo import CHILDREN, PEOPLE
from portal.invitations.models import FamilyInvitation
from portal.mail.catcher import CaughtMessage, MailCatcher
from portal.mail.models import OutboxMessage
from portal.mail.service import SmtpConfig, deliver_pending
from portal.people.models import Child
from tests.harness import Running, bind_socket
from tests.invitations._family import (
    SAM,
    add_login,
    code_in,
    invite,
    login_as,
    redeem,
    register_adult,
    register_child,
    wait_for_mail,
)
from tests.invitations._family import person_row as row_of


def _years_ago(running: Running, years: int, days: int = 0):  # type: ignore[no-untyped-def]
    today = local_date(running.clock())
    return today.replace(year=today.year - years) - timedelta(days=days)


def test_the_pupil_is_offered_from_the_16th_birthday(running: Running) -> None:
    turns_16_tomorrow = register_child(running, _years_ago(running, 16, days=-1))
    turned_16_today = register_child(running, _years_ago(running, 16))
    school = running.client()
    school.login("ib")
    before = school.page(f"/invitations/children/{turns_16_tomorrow}")
    assert before.status_code == 200 and "de leerling (16+)" not in before.text
    page = school.page(f"/invitations/children/{turned_16_today}")
    assert "beslist nu zelf over toestemming" in page.text
    assert '<option value="pupil"' in page.text
    overview = school.page("/invitations")
    assert overview.text.count("kan worden uitgenodigd") >= 1
    sent = school.submit(f"/invitations/children/{turned_16_today}",
                         {"person": "pupil", "email": "leerling@example.org"})
    assert sent.status_code == 200 and "De uitnodiging is verstuurd" in sent.text
    with running.portal.sessions() as db:
        child = db.get(Child, turned_16_today)
        assert child is not None and child.person_id is not None
        pupil_id = child.person_id
    code = code_in(wait_for_mail(running, "leerling@example.org")[0])
    add_login(running, "digid-pupil")
    assert redeem(login_as(running, "digid-pupil"), code).status_code == 200
    assert row_of(running, pupil_id).subject == "digid-pupil"
    # The pupil's own family pages open to them.
    assert login_as(running, "digid-pupil", "/").get("/child-access").status_code == 200


def test_the_invitation_mail_is_content_free(running_sqlite: Running) -> None:
    running = running_sqlite  # the engine plays no part here
    school = running.client()
    school.login("ib")
    member = register_adult(running)
    invite(school, member)
    message = wait_for_mail(running, member.email)[0]
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
    texts = [f"{k}: {v}" for k, v in parsed.items()]
    for part in parsed.walk():
        if not part.is_multipart():
            texts.append(part.get_content())
    whole = "\n".join(texts)
    forbidden = [*(c.name for c in CHILDREN), *(p for c in CHILDREN for p in c.name.split()),
                 *(p.name for p in PEOPLE), "Het Baken", "Baken", "zorg", "gezag", "voogd",
                 "pleeg", "leerling", member.person_id, SAM]
    assert [word for word in forbidden if word.lower() in whole.lower()] == []
    assert message.recipients == (member.email,)
    code = code_in(message)
    assert len(code) >= 43  # 256 bits, url-safe base64
    with running.portal.sessions() as db:
        stored = db.scalars(select(FamilyInvitation)).one()
        assert stored.code_hash != code and code not in stored.code_hash


def test_an_smtp_outage_loses_no_invitation(database_url: str, start_portal) -> None:  # type: ignore[no-untyped-def]
    closed = bind_socket()  # bound, never listening: every delivery attempt fails
    running = start_portal(database_url, smtp_host="127.0.0.1",
                           smtp_port=closed.getsockname()[1])
    school = running.client()
    school.login("ib")
    member = register_adult(running)
    invite(school, member)
    with running.portal.sessions() as db:
        waiting = db.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "family.invitation")).one()
        assert waiting.sent_at is None
    # The mail server is back: the next round delivers the same, still valid link.
    catcher = MailCatcher().start()
    try:
        config = SmtpConfig(host="127.0.0.1", port=catcher.port, sender="portal@example.org")
        deadline = time.monotonic() + 20
        delivered: list[CaughtMessage] = []
        # The portal's own dispatcher may hold the row at this moment (skip locked).
        while not delivered and time.monotonic() < deadline:
            deliver_pending(running.portal.sessions, config, running.clock)
            delivered = [m for m in catcher.snapshot() if member.email in m.recipients]
            time.sleep(0 if delivered else 0.05)
    finally:
        catcher.stop()
        closed.close()
    assert len(delivered) == 1
    assert redeem(login_as(running, member.subject), code_in(delivered[0])).status_code == 200
