"""The requests desk through the web routes: the family files, the FG handles and decides.

Personas from the demo: ``ouder1`` (mother with custody of Sam), ``leerling16``
(Noor herself), ``pleegouder`` and ``ouder-zonder-gezag`` (no standing for a
request about Noor), ``fg`` (the portal's supervising FG), ``mentor``.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.demo import DEMO_CASE, stable_id
from portal.mail.catcher import CaughtMessage
from portal.mail.models import OutboxMessage
from portal.requests.clock import local_day
from portal.requests.models import SubjectRequest, SubjectRequestEvent
from tests.consent.test_portal import logged_in
from tests.harness import PortalClient, Running
from tests.mail.test_content_free import decoded_parts

SAM = stable_id("child", "sam")
NOOR = stable_id("child", "noor")
SAM_CASE = stable_id("case", DEMO_CASE.key)
WISH = "Ik wil alles inzien wat over Sam is vastgelegd."
QUESTION = "Stuur ons een kopie van uw identiteitsbewijs met het BSN afgeschermd."
NOTE = "Intern: eerst de jeugdhulp vragen welke stukken zij hebben."
REASON = "Er liggen gegevens bij drie organisaties; dat kost meer tijd."
DECISION = "U krijgt de kopie via het portaal; de namen van derden zijn weggelaten."


def request_id_of(response: httpx.Response) -> str:
    path = response.url.path
    found = re.fullmatch(r"/(?:family|dpo)/requests/([0-9a-f-]{36})", path)
    assert found, path
    return found.group(1)


def file(client: PortalClient, child: str, kind: str = "inspection", **more: str) -> httpx.Response:
    client.page("/family/requests/new")
    return client.submit("/family/requests", {"child": child, "kind": kind, **more})


def records(running: Running, event_type: str) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(AccessRecord.event_type == event_type)
                               .order_by(AccessRecord.seq)))


def test_a_parent_files_an_inspection_request_and_the_fg_decides(running: Running) -> None:
    mother = logged_in(running, "ouder1")
    assert 'href="/family/requests"' in mother.page("/family").text
    form = mother.page("/family/requests/new")
    assert form.status_code == 200 and "Sam Mulder" in form.text
    filed = file(mother, SAM, description=WISH)
    assert filed.status_code == 200, filed.text
    request_id = request_id_of(filed)
    received = local_day(running.clock.now)
    due = received + timedelta(weeks=4)
    assert "Uw verzoek is ontvangen" in filed.text and "Inzage en een kopie" in filed.text
    assert due.strftime("%d-%m-%Y") in filed.text
    assert records(running, "request.file")[-1].outcome == "allowed"

    fg = logged_in(running, "fg")
    start = fg.page("/")
    assert "Verzoeken van betrokkenen" in start.text and "1 verzoek wacht op antwoord" in start.text
    desk = fg.page("/dpo/requests")
    assert f'href="/dpo/requests/{request_id}"' in desk.text and "Sam Mulder" in desk.text
    shown = fg.page(f"/dpo/requests/{request_id}")
    assert WISH in shown.text and "Petra Mulder" in shown.text

    asked = fg.submit(f"/dpo/requests/{request_id}/identity", {"question": QUESTION})
    assert asked.status_code == 200 and "Staat stil" in asked.text
    running.clock.advance(days=3)
    mother, fg = logged_in(running, "ouder1"), logged_in(running, "fg")  # sessions timed out
    waiting = mother.page(f"/family/requests/{request_id}")
    assert QUESTION in waiting.text and "Wacht op uw identiteitscontrole" in waiting.text
    answered = mother.submit(f"/family/requests/{request_id}/identity",
                             {"answer": "Verstuurd per post."})
    assert answered.status_code == 200 and "De termijn loopt weer" in answered.text
    assert (due + timedelta(days=3)).strftime("%d-%m-%Y") in answered.text

    extended = fg.submit(f"/dpo/requests/{request_id}/extend", {"reason": REASON})
    assert extended.status_code == 200 and "verlengd" in extended.text
    again = fg.submit(f"/dpo/requests/{request_id}/extend", {"reason": REASON})
    assert again.status_code == 400 and "maar één keer" in again.text
    assert fg.submit(f"/dpo/requests/{request_id}/notes", {"text": NOTE}).status_code == 200
    empty = fg.submit(f"/dpo/requests/{request_id}/decision", {"outcome": "granted",
                                                               "reasons": " "})
    assert empty.status_code == 400 and "Dit veld is verplicht" in empty.text
    decided = fg.submit(f"/dpo/requests/{request_id}/decision",
                        {"outcome": "granted", "reasons": DECISION})
    assert decided.status_code == 200 and "Het besluit is vastgelegd" in decided.text

    seen = mother.page(f"/family/requests/{request_id}").text
    assert DECISION in seen and "Toegewezen" in seen and REASON in seen
    assert NOTE not in seen and "Fenna Gerritsen" not in seen  # internal, and by role only
    assert "Besloten" in mother.page("/family/requests").text
    late = fg.submit(f"/dpo/requests/{request_id}/notes", {"text": "na het besluit"})
    assert late.status_code == 200  # notes stay possible; the decision does not change
    assert fg.submit(f"/dpo/requests/{request_id}/decision",
                     {"outcome": "refused", "reasons": "x"}).status_code == 400

    for event_type in ("request.view", "request.identity", "request.extend", "request.note",
                       "request.decide", "request.list"):
        mine = [r for r in records(running, event_type) if r.object_id == request_id]
        assert mine and all(r.child_id == SAM for r in mine), event_type
    with running.portal.sessions() as db:
        row = db.get_one(SubjectRequest, request_id)
        sealed = [row.description_ct, row.reasons_ct or b"", *(e.text_ct or b"" for e in
                  db.scalars(select(SubjectRequestEvent).where(
                      SubjectRequestEvent.request_id == request_id)))]
        outbox = db.scalars(select(OutboxMessage)).all()
    for text in (WISH, QUESTION, NOTE, REASON, DECISION):
        assert all(text.encode() not in blob for blob in sealed), text
    kinds = {(m.kind, m.recipient) for m in outbox}
    assert ("request.new", "fg@demo.mdo-portaal.test") in kinds
    assert ("request.changed", "ouder1@demo.mdo-portaal.test") in kinds
    for message in outbox:
        assert "Sam" not in message.body and "Sam" not in message.subject


def test_no_standing_answers_as_a_child_that_does_not_exist(running_sqlite: Running) -> None:
    running = running_sqlite
    for persona in ("pleegouder", "ouder-zonder-gezag"):
        client = logged_in(running, persona)
        assert "Noor Haddad" not in client.page("/family/requests/new").text
        refused = file(client, NOOR)
        missing = file(client, str(uuid.uuid4()))
        assert refused.status_code == missing.status_code == 404, persona
        assert "Pagina niet gevonden" in refused.text and "Pagina niet gevonden" in missing.text
    denied = [r for r in records(running, "request.file") if r.outcome == "denied"]
    assert len(denied) == 4 and {r.child_id for r in denied} == {NOOR, None}
    # Noor herself (16+) has standing; the mother of Sam cannot read her request.
    noor = logged_in(running, "leerling16")
    own = file(noor, NOOR, "erasure", description="Wis de oude notities.")
    assert own.status_code == 200
    mother = logged_in(running, "ouder1")
    assert mother.get(f"/family/requests/{request_id_of(own)}").status_code == 404
    assert mother.submit(f"/family/requests/{request_id_of(own)}/identity",
                         {"answer": "x"}).status_code == 404
    assert file(logged_in(running, "mentor"), SAM).status_code == 403


def test_bad_input_names_the_field(running_sqlite: Running) -> None:
    mother = logged_in(running_sqlite, "ouder1")
    no_kind = file(mother, SAM, "everything")
    assert no_kind.status_code == 400 and "Kies waar u om vraagt" in no_kind.text
    other_case = file(mother, SAM, case=stable_id("case", "noor-mdo"))
    assert other_case.status_code == 400 and "Kies een van de casussen" in other_case.text
    hidden = file(mother, SAM, description="a\u202eb")
    assert hidden.status_code == 400
    with running_sqlite.portal.sessions() as db:
        assert db.scalars(select(SubjectRequest)).all() == []


@pytest.mark.parametrize(("received", "status"), [
    (-10, 200), (1, 400)], ids=["ten-days-ago", "tomorrow"])
def test_the_fg_registers_a_paper_request_with_its_receipt_date(
        running_sqlite: Running, received: int, status: int) -> None:
    running = running_sqlite
    fg = logged_in(running, "fg")
    choose = fg.page(f"/dpo/requests/new?child={SAM}")
    assert "Petra Mulder" in choose.text and "Peter Mulder" in choose.text
    day = local_day(running.clock.now) + timedelta(days=received)
    registered = fg.submit("/dpo/requests", {
        "child": SAM, "requester": stable_id("person", "ouder2"), "kind": "erasure",
        "case": SAM_CASE, "received_on": day.isoformat(), "identity": "signed_letter",
        "description": "Brief van de vader: verwijder het verslag van 3 oktober."})
    assert registered.status_code == status, registered.text
    if status == 400:
        assert "toekomst" in registered.text
        return
    request_id = request_id_of(registered)
    due = day.replace(month=day.month % 12 + 1, year=day.year + day.month // 12)
    assert due.strftime("%d-%m-%Y") in registered.text  # one month from receipt, not today
    father = logged_in(running, "ouder2")
    page = father.page(f"/family/requests/{request_id}")
    assert page.status_code == 200 and "Verzoek geregistreerd" in page.text


def test_a_paper_request_needs_a_requester_with_standing_and_a_paper_check(
        running_sqlite: Running) -> None:
    fg = logged_in(running_sqlite, "fg")
    fg.page(f"/dpo/requests/new?child={NOOR}")
    refused = fg.submit("/dpo/requests", {
        "child": NOOR, "requester": stable_id("person", "pleegouder"), "kind": "inspection",
        "received_on": local_day(running_sqlite.clock.now).isoformat(),
        "identity": "portal_login", "description": "Brief"})
    assert refused.status_code == 400
    assert "Kies een ouder met gezag" in refused.text and "Leg vast hoe" in refused.text


def test_the_owner_is_reminded_content_free_when_nearly_due_and_when_overdue(
        running: Running) -> None:
    filed = file(logged_in(running, "ouder1"), SAM, description=WISH)
    request_id = request_id_of(filed)
    fg = logged_in(running, "fg")
    fg.page(f"/dpo/requests/{request_id}")
    assigned = fg.submit(f"/dpo/requests/{request_id}/assign",
                         {"owner": stable_id("person", "fg")})
    assert assigned.status_code == 200 and "De behandelaar is toegewezen" in assigned.text

    def reminders(count: int) -> list[CaughtMessage]:
        deadline = time.monotonic() + 20
        while True:
            running.portal.mail.poke()
            found = [m for m in running.portal.mail_catcher.snapshot()
                     if "Herinnering: verzoek" in m.subject]
            if len(found) >= count:
                return found
            assert time.monotonic() < deadline, f"{len(found)} of {count} reminders arrived"
            time.sleep(0.1)

    running.clock.advance(days=22)  # 6 days before the 4 weeks end
    first = reminders(1)
    running.clock.advance(days=7)  # one day late
    both = reminders(2)
    running.clock.advance(hours=2)
    running.portal.mail.poke()
    assert len([m for m in running.portal.mail_catcher.snapshot()
                if "Herinnering: verzoek" in m.subject]) == 2  # each stage once
    for message in both:
        assert message.recipients == ("fg@demo.mdo-portaal.test",)
        body = "\n".join(decoded_parts(message))
        assert "Sam" not in body and WISH not in body and request_id in body
    assert "bijna af" in "\n".join(decoded_parts(first[0]))
    assert sum("is verstreken" in "\n".join(decoded_parts(m))
               for m in both) == 1
    start = logged_in(running, "fg").page("/")
    assert "1 met verstreken of bijna verstreken termijn" in start.text


def test_the_fg_records_an_answer_received_outside_the_portal(running_sqlite: Running) -> None:
    running = running_sqlite
    request_id = request_id_of(file(logged_in(running, "ouder1"), SAM, "restriction"))
    fg = logged_in(running, "fg")
    fg.page(f"/dpo/requests/{request_id}")
    fg.submit(f"/dpo/requests/{request_id}/identity", {"question": QUESTION})
    early = fg.submit(f"/dpo/requests/{request_id}/decision",
                      {"outcome": "granted", "reasons": DECISION})
    assert early.status_code == 400 and "nog niet beantwoord" in early.text
    twice = fg.submit(f"/dpo/requests/{request_id}/identity", {"question": QUESTION})
    assert twice.status_code == 400 and "wacht al een identiteitscontrole" in twice.text
    recorded = fg.submit(f"/dpo/requests/{request_id}/identity-answer",
                         {"answer": "Paspoort getoond aan de balie."})
    assert recorded.status_code == 200 and "de termijn loopt weer" in recorded.text
    assert "In behandeling" in recorded.text
    again = fg.submit(f"/dpo/requests/{request_id}/identity-answer", {"answer": "nogmaals"})
    assert again.status_code == 400 and "Er wacht geen identiteitscontrole" in again.text
    with running.portal.sessions() as db:
        kinds = [e.kind.value for e in db.scalars(select(SubjectRequestEvent).where(
            SubjectRequestEvent.request_id == request_id).order_by(SubjectRequestEvent.at))]
    assert kinds == ["filed", "identity_asked", "identity_answered"]
