"""The data-breach register: a report, the FG's assessment and decisions against the
72-hour clock, the scope computed from the real access log reaching every partner
organisation's FG (real SMTP, content-free), and the register's exports."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import datetime, timedelta

import pypdf
import pytest
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.audit.service import Requester
from portal.breaches import export, scope, service
from portal.breaches.models import Breach, ScopeKind
from portal.demo import CHILDREN, DEMO_CASE, NOOR_CASE, PEOPLE, stable_id
from portal.errors import InvalidInput
from portal.localtime import LOCAL_TIME
from portal.mail.catcher import CaughtMessage
from portal.mail.models import OutboxMessage
from portal.people.models import Membership, Person, PersonKind, Role
from portal.policy import Actor
from tests.consent.test_portal import add_participant, logged_in
from tests.documents.helpers import upload_new
from tests.harness import Running
from tests.mail.test_content_free import decoded_parts

SAM_CASE = stable_id("case", DEMO_CASE.key)
NOOR = stable_id("case", NOOR_CASE.key)
WHAT = "Laptop van de IB-er met het verslag over Sam in de trein laten liggen, =cmd"
HOW = "De IB-er merkte het bij aankomst op school en belde meteen."
DEV_LOGIN = service.FgLogin("urn:mdo:acr:dev", "urn:mdo:acr:dev")
ASSESSMENT = "Laptop was versleuteld maar ontgrendeld; hoog risico voor de betrokken kinderen."
# What no mail may carry: the children, the cases, the report's text, and people.
FORBIDDEN = (*(c.name for c in CHILDREN), *(p for c in CHILDREN for p in c.name.split()),
             DEMO_CASE.title, NOOR_CASE.title, "Laptop", "trein", "versleuteld",
             *(p.name for p in PEOPLE))


def local(moment: datetime) -> tuple[str, str]:
    at = moment.astimezone(LOCAL_TIME)
    return at.strftime("%Y-%m-%d"), at.strftime("%H:%M")


def add_fg(running: Running, organisation: str) -> Actor:
    """An FG of one organisation (the demo has only the portal-wide supervisor)."""
    person_id = stable_id("person", f"fg-{organisation}")
    org_id = stable_id("org", organisation)
    with running.portal.sessions() as db:
        db.add(Person(id=person_id, kind=PersonKind.PROFESSIONAL,
                      display_name=f"FG {organisation}", email=f"fg-{organisation}@example.test",
                      idp="dev", subject=f"fg-{organisation}", active=True,
                      created_at=running.clock()))
        db.flush()
        db.add(Membership(person_id=person_id, organisation_id=org_id, role=Role.DPO))
        db.commit()
    return Actor(person_id=person_id, kind=PersonKind.PROFESSIONAL, name=f"FG {organisation}",
                 memberships=frozenset({(org_id, Role.DPO)}))


def report(running: Running, persona: str) -> str:
    reporter = logged_in(running, persona)
    form = reporter.page("/breaches/new")
    assert form.status_code == 200 and "Datalek melden" in form.text
    day, clock = local(running.clock() - timedelta(hours=2))
    refused = reporter.submit("/breaches", {"what": "Laptop \u202ekwijt\u202c in de trein",
                                            "date": day, "time": clock, "how": HOW})
    assert refused.status_code == 400 and "verborgen" in refused.text
    future_day, future_clock = local(running.clock() + timedelta(hours=2))
    assert reporter.submit("/breaches", {"what": WHAT, "date": future_day,
                                         "time": future_clock, "how": HOW}).status_code == 400
    done = reporter.submit("/breaches", {"what": WHAT, "date": day, "time": clock, "how": HOW})
    assert done.status_code == 200 and "Datalek gemeld" in done.text
    with running.portal.sessions() as db:
        breach = db.scalars(select(Breach).where(Breach.origin_id.is_(None))).one()
        return str(breach.id)


def test_report_assessment_decisions_and_the_72_hour_clock(running_sqlite: Running) -> None:
    running = running_sqlite
    breach_id = report(running, "mentor")
    with running.portal.sessions() as db:
        breach = db.get_one(Breach, breach_id)
        assert breach.what_ct and WHAT.encode() not in breach.what_ct  # sealed at rest
        assert HOW.encode() not in (breach.how_ct or b"")
        assert breach.organisation_id == stable_id("org", "het-baken")
        assert breach.discovered_at == (running.clock() - timedelta(hours=2)).replace(
            second=0, microsecond=0)
        mail = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "breach.report")).one()
        reported = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "breach.report")).one()
    # No FG at Het Baken: the portal's supervisor is told (portal.dpo.scope.fg_emails).
    assert mail.recipient == "fg@demo.mdo-portaal.test"
    assert not any(word in mail.subject + mail.body for word in FORBIDDEN)
    assert reported.object_id == breach_id and reported.action_code == "C"

    fg = logged_in(running, "fg")
    start = fg.page("/")
    assert "Datalekken" in start.text and "1 wacht op een besluit" in start.text
    register = fg.page("/dpo/breaches")
    assert "uiterlijk" in register.text and WHAT not in register.text  # no free text listed
    shown = fg.page(f"/dpo/breaches/{breach_id}")
    assert WHAT.replace("=", "") in shown.text.replace("=", "") and HOW in shown.text
    assert "Mirjam de Vries" in shown.text

    running.clock.advance(hours=69)  # 71 hours after the discovery
    fg = logged_in(running, "fg")  # a new login: sessions do not last days
    assert "termijn verstreken" not in fg.page("/dpo/breaches").text
    running.clock.advance(hours=1, minutes=1)  # 72 hours after the discovery, and a minute
    fg = logged_in(running, "fg")
    assert "termijn verstreken" in fg.page("/dpo/breaches").text
    assert "over de termijn van 72 uur" in fg.page("/").text

    too_short = fg.submit(f"/dpo/breaches/{breach_id}/assessment", {"assessment": "hoog"})
    assert too_short.status_code == 400 and "minstens één zin" in too_short.text
    fg.submit(f"/dpo/breaches/{breach_id}/assessment", {"assessment": ASSESSMENT})
    no_reason = fg.submit(f"/dpo/breaches/{breach_id}/decision",
                          {"about": "ap", "decision": "notify", "reasons": ""})
    assert no_reason.status_code == 400
    fg.submit(f"/dpo/breaches/{breach_id}/decision",
              {"about": "ap", "decision": "notify",
               "reasons": "Hoog risico: bijzondere gegevens van kinderen."})
    assert "termijn verstreken" in fg.page("/dpo/breaches").text  # the families still wait
    fg.submit(f"/dpo/breaches/{breach_id}/decision",
              {"about": "family", "decision": "inform",
               "reasons": "De ouders horen het van de school zelf."})
    decided = fg.page("/dpo/breaches").text
    assert "termijn verstreken" not in decided and "besloten" in decided
    assert "melden bij de Autoriteit Persoonsgegevens" in decided
    assert ASSESSMENT in fg.page(f"/dpo/breaches/{breach_id}").text
    assert "De ouders horen het van de school zelf." in fg.page(f"/dpo/breaches/{breach_id}").text
    with running.portal.sessions() as db:
        breach = db.get_one(Breach, breach_id)
        assert ASSESSMENT.encode() not in (breach.assessment_ct or b"")
        events = db.scalars(select(AccessRecord.event_type).where(
            AccessRecord.object_id == breach_id)).all()
    assert events.count("breach.assess") == 1 and events.count("breach.decide") == 2

    assert logged_in(running, "ouder1").get("/breaches/new").status_code == 403
    mentor = logged_in(running, "mentor")
    assert mentor.get("/dpo/breaches").status_code == 403
    assert mentor.get(f"/dpo/breaches/{breach_id}").status_code == 403


def wait_for(running: Running, recipients: set[str]) -> list[CaughtMessage]:
    deadline = time.monotonic() + 20
    while True:
        running.portal.mail.poke()
        caught = [m for m in running.portal.mail_catcher.snapshot()
                  if "partnerorganisatie" in m.subject]
        if {r for m in caught for r in m.recipients} >= recipients:
            return caught
        assert time.monotonic() < deadline, "the partners' FGs were not all told"
        time.sleep(0.1)


def test_scope_from_the_access_log_informs_every_partner_fg(running: Running) -> None:
    partners = {org: add_fg(running, org) for org in ("jeugdhulp-noord",
                                                       "jeugdbescherming-regio")}
    add_fg(running, "het-baken")
    outsider_fg = add_fg(running, "het-lichtpunt")
    add_participant(running, SAM_CASE, "Jeroen Bos")  # Jeugdbescherming Regio joins Sam's MDO
    start = running.clock() - timedelta(minutes=5)
    # What leaked: the care coordinator's reads of both cases (Noor's has Jeugdhulp Noord).
    ib = logged_in(running, "ib")
    assert ib.page(f"/cases/{SAM_CASE}").status_code == 200
    assert ib.page(f"/cases/{NOOR}").status_code == 200
    breach_id = report(running, "ib")

    fg = logged_in(running, "fg")
    refused = fg.submit(f"/dpo/breaches/{breach_id}/scope", {"kind": "reads", "person_id": "",
                                                             "from_date": "", "to_date": ""})
    assert refused.status_code == 400
    from_day, from_time = local(start)
    to_day, to_time = local(running.clock() + timedelta(minutes=1))
    scoped = fg.submit(f"/dpo/breaches/{breach_id}/scope", {
        "kind": "reads", "person_id": stable_id("person", "ib"), "from_date": from_day,
        "from_time": from_time, "to_date": to_day, "to_time": to_time})
    assert scoped.status_code == 200
    reach = re.search(r'<p id="reach">(.*?)</p>', scoped.text, re.S)
    assert reach, scoped.text
    assert "2 kinderen" in reach.group(1) and "2 casussen" in reach.group(1)
    for name in ("Jeugdhulp Noord", "Jeugdbescherming Regio", "Scholengemeenschap Het Baken"):
        assert name in reach.group(1)
    assert DEMO_CASE.title not in scoped.text and NOOR_CASE.title not in scoped.text
    assert "Sam Mulder" not in scoped.text

    expected = {f"fg-{org}@example.test" for org in partners}
    caught = wait_for(running, expected)
    assert {r for m in caught for r in m.recipients} == expected  # not Het Baken's own FG
    for message in caught:
        for part in decoded_parts(message):
            for word in FORBIDDEN:
                assert word not in part, (word, message.subject)

    with running.portal.sessions() as db:
        now = running.clock()
        for org, actor in partners.items():
            rows = service.rows(db, actor, now)
            assert len(rows) == 1, org
            assert rows[0].origin_organisation == "Scholengemeenschap Het Baken"
            assert rows[0].discovered_at == db.get_one(Breach, breach_id).discovered_at
            partner_view = service.view(db, running.portal.vault, actor, now,
                                        db.get_one(Breach, rows[0].id))
            assert partner_view.what is None  # the reporter's text stays with them
            with pytest.raises(InvalidInput):  # the finder sets the scope, not the partner
                scope.define_scope(db, _who(actor), actor, now, rows[0].id, DEV_LOGIN,
                                   {"kind": "exports", "from_date": "2026-01-01",
                                    "to_date": "2026-01-02"}, "")
        assert service.rows(db, partners["jeugdhulp-noord"], now)[0].cases == 1
        assert service.rows(db, outsider_fg, now) == []
        scope_record = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "breach.scope")).one()
    assert scope_record.query and "kind=reads" in scope_record.query

    # Computing the same scope again tells nobody twice.
    fg.submit(f"/dpo/breaches/{breach_id}/scope", {
        "kind": "reads", "person_id": stable_id("person", "ib"), "from_date": from_day,
        "from_time": from_time, "to_date": to_day, "to_time": to_time})
    with running.portal.sessions() as db:
        told = db.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "breach.partner")).all()
    assert len(told) == len(expected)


def test_register_export_csv_and_pdf_scoped_to_the_fg(running_sqlite: Running) -> None:
    running = running_sqlite
    breach_id = report(running, "mentor")
    lichtpunt_fg = add_fg(running, "het-lichtpunt")
    fg = logged_in(running, "fg")
    exported = fg.get("/dpo/breaches/register.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][0] == "kenmerk" and len(rows) == 2
    what = rows[1][rows[0].index("wat er gebeurde")]
    assert what == WHAT  # "=cmd" is inside the text, not at its start
    assert rows[1][rows[0].index("organisatie")] == "Scholengemeenschap Het Baken"
    pdf = fg.get("/dpo/breaches/register.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Register van datalekken" in text and "Laptop van de IB-er" in text
    with running.portal.sessions() as db:
        records = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "breach.export")).all()
        assert {r.object_id for r in records} == {breach_id} and len(records) == 2
        # The FG of another school exports nothing of it.
        other = export.export_csv(db, running.portal.vault, _who(lichtpunt_fg), lichtpunt_fg,
                                  running.clock(), DEV_LOGIN)
    assert len(list(csv.reader(io.StringIO(other.content.decode())))) == 1
    assert logged_in(running, "mentor").get("/dpo/breaches/register.csv").status_code == 403


def _who(actor: Actor) -> Requester:
    return Requester(user_id=actor.person_id, user_name=actor.name, user_role="dpo",
                     organisation_id=min(actor.organisation_ids), session_ref="test",
                     client_address=None)


def test_scope_of_exports_in_a_period(running_sqlite: Running) -> None:
    running = running_sqlite
    start = running.clock() - timedelta(minutes=5)
    ib = logged_in(running, "ib")
    document_id = upload_new(running, ib, b"verslag van het gesprek\n" * 20, "gesprek.txt")
    download = ib.get(f"/cases/{SAM_CASE}/documents/{document_id}/download")
    assert download.status_code == 200
    breach_id = report(running, "mentor")
    fg = logged_in(running, "fg")
    from_day, from_time = local(start)
    to_day, to_time = local(running.clock() + timedelta(minutes=1))
    scoped = fg.submit(f"/dpo/breaches/{breach_id}/scope", {
        "kind": "exports", "person_id": "", "from_date": from_day, "from_time": from_time,
        "to_date": to_day, "to_time": to_time})
    reach = re.search(r'<p id="reach">(.*?)</p>', scoped.text, re.S)
    assert reach and ": 1 kind, 1 casus" in reach.group(1)
    assert "gesprek.txt" not in scoped.text
    # The same kind of scope for a period before the download reaches nothing.
    with running.portal.sessions() as db:
        found = scope.reach(db, ScopeKind.EXPORTS, None, start - timedelta(days=2),
                            start - timedelta(days=1))
    assert found.records == 0 and not found.cases
