"""Every message the portal sends is content-free (issue 6).

Each kind is triggered the real way — the chair schedules and cancels an MDO
through the web routes, a participant uses the safety exception, the mail
dispatcher's reminder job runs as the clock passes an action item's due
date — and delivered over SMTP to the aiosmtpd server on loopback. Then every
part of every message (all headers, the text, any HTML, the .ics) is decoded
and searched for the case's content and for other people's addresses.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from datetime import timedelta
from email.utils import parseaddr

from portal.demo import CHILDREN, DEMO_CASE, NOOR_CASE, PEOPLE, stable_id
from portal.mail.catcher import CaughtMessage
from tests.harness import Running

CASE_PATH = f"/cases/{stable_id('case', DEMO_CASE.key)}"
PLACE = "Lokaal 3.07 bij de gymzaal"
AGENDA = "Bespreking van de thuissituatie en de woede-uitbarstingen"
REASON = "Sam vertelde vandaag over geweld thuis; ik moet de gezondheidsnotities inzien."

# What no message may carry: the child, the cases, what is discussed, and people.
FORBIDDEN = (
    *(child.name for child in CHILDREN),
    *(part for child in CHILDREN for part in child.name.split()),
    DEMO_CASE.title, DEMO_CASE.purpose, NOOR_CASE.title, NOOR_CASE.purpose,
    PLACE, AGENDA, "thuissituatie", REASON, "geweld",
    "Het Baken, kamer 2.14", "Observaties in de klas",  # the demo meeting's place, agenda
    "Twee weken observeren in de klas",  # the demo action item
    *(person.name for person in PEOPLE),
)
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
KINDS = {"invitation": "Uitnodiging voor een MDO", "changed": "Een MDO is gewijzigd",
         "reminder": "Herinnering: actiepunt", "break_glass": "veiligheidsuitzondering"}


def decoded_parts(message: CaughtMessage) -> list[str]:
    """Every header value and every leaf part's decoded content (text, HTML, .ics)."""
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
    texts = [f"{name}: {value}" for name, value in parsed.items()]
    for part in parsed.walk():
        if part.is_multipart():
            continue
        texts.extend(f"{name}: {value}" for name, value in part.items())
        content = part.get_content()
        texts.append(content.decode("utf-8") if isinstance(content, bytes) else content)
    return texts


def wait_for_kinds(running: Running) -> list[CaughtMessage]:
    deadline = time.monotonic() + 20
    while True:
        running.portal.mail.poke()
        mail = running.portal.mail_catcher.snapshot()
        seen = {kind for kind, subject in KINDS.items() if any(subject in m.subject for m in mail)}
        reminders = sum(KINDS["reminder"] in m.subject for m in mail)
        if seen == set(KINDS) and reminders >= 2:
            return mail
        assert time.monotonic() < deadline, f"only {sorted(seen)} arrived"
        time.sleep(0.1)


def trigger_every_message(running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    chair.page(f"{CASE_PATH}/meetings/new")
    day = (running.clock.now + timedelta(days=3)).date().isoformat()
    scheduled = chair.post(f"{CASE_PATH}/meetings", data={
        "date": day, "time": "14:30", "duration": "60", "place": PLACE, "agenda": AGENDA,
        "invite_family": "on", "minute_taker_id": stable_id("person", "notulist"),
        "category": "behaviour", "csrf_token": chair.csrf,
        "invitee": [stable_id("person", "mentor"), stable_id("person", "notulist")]})
    assert scheduled.status_code == 200, scheduled.text
    meeting_id = scheduled.url.path.rsplit("/", 1)[1]
    assert chair.submit(f"/meetings/{meeting_id}/cancel").status_code == 200

    mentor = running.client()
    mentor.login("mentor")
    mentor.page(f"{CASE_PATH}/consent")
    assert mentor.submit(f"{CASE_PATH}/break-glass", {"reason": REASON}).status_code == 200

    # The demo action item is due in 14 days: one reminder before, one when overdue.
    running.clock.advance(days=13)
    running.portal.mail.poke()
    deadline = time.monotonic() + 20
    while not any(KINDS["reminder"] in m.subject for m in running.portal.mail_catcher.snapshot()):
        assert time.monotonic() < deadline, "no reminder before the due date"
        running.portal.mail.poke()
        time.sleep(0.1)
    running.clock.advance(days=2)


def test_no_message_carries_case_content_or_other_addresses(running: Running) -> None:
    trigger_every_message(running)
    mail = wait_for_kinds(running)
    sender = parseaddr(running.portal.settings.smtp_from)[1]  # the portal's own address
    for message in mail:
        assert message.raw, "the catcher keeps the whole message"
        assert len(message.recipients) == 1, "one recipient per message"
        own = message.recipients[0]
        texts = decoded_parts(message)
        whole = "\n".join(texts)
        for secret in FORBIDDEN:
            assert not re.search(rf"\b{re.escape(secret)}\b", whole), \
                (message.subject, own, secret)
        addresses = set(ADDRESS.findall(whole))
        assert addresses <= {own, sender}, (message.subject, addresses - {own, sender})
        parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
        for part in parsed.walk():
            if part.get_content_type() == "text/calendar":
                calendar = part.get_content()
                calendar = calendar.decode() if isinstance(calendar, bytes) else calendar
                assert not re.search(r"^(ORGANIZER|ATTENDEE|LOCATION)", calendar, re.M), calendar
    subjects = [m.subject for m in mail]
    assert sum(KINDS["invitation"] in s for s in subjects) >= 4  # ib, mentor, notulist, parents
    assert sum(KINDS["changed"] in s for s in subjects) >= 4
    assert sum(".ics" in " ".join(m.attachments) for m in mail) >= 8
    assert [m.recipients for m in mail if KINDS["break_glass"] in m.subject] == \
        [("fg@demo.mdo-portaal.test",)]
    assert {m.recipients for m in mail if KINDS["reminder"] in m.subject} == \
        {("mentor@demo.mdo-portaal.test",)}
