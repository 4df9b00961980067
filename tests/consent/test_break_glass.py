"""The safety exception: a written reason, 24 hours, flagged, and the DPO told at once."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.consent.models import BreakGlassGrant
from portal.demo import DEMO_CASE, stable_id
from portal.mail.models import OutboxMessage
from tests.consent._portal import person
from tests.consent.test_portal import logged_in, reads
from tests.harness import Running

SAM_CASE = stable_id("case", DEMO_CASE.key)
REASON = "Sam vertelde vandaag over geweld thuis; ik moet de gezondheidsnotities inzien."


def test_break_glass_opens_health_for_24_hours_and_reaches_the_dpo(running: Running) -> None:
    assert not reads(running, "mentor", SAM_CASE, "health")
    mentor = logged_in(running, "mentor")
    consent_page = mentor.page(f"/cases/{SAM_CASE}/consent")
    assert "Uitzondering gebruiken" in consent_page.text
    too_short = mentor.submit(f"/cases/{SAM_CASE}/break-glass", {"reason": "zorgen"})
    assert too_short.status_code == 400 and "minstens een zin" in too_short.text
    opened = mentor.submit(f"/cases/{SAM_CASE}/break-glass", {"reason": REASON})
    assert opened.status_code == 200 and str(opened.url).endswith(f"/cases/{SAM_CASE}")
    assert "Mirjam de Vries, van" in opened.text and "actief" in opened.text
    assert reads(running, "mentor", SAM_CASE, "health")
    assert not reads(running, "ib", SAM_CASE, "health")  # personal

    with running.portal.sessions() as db:
        grant = db.scalars(select(BreakGlassGrant)).one()
        assert REASON.encode() not in grant.reason_ct  # encrypted at rest
        assert (grant.expires_at - grant.granted_at).total_seconds() == 24 * 3600
        mail = db.scalars(select(OutboxMessage)
                          .where(OutboxMessage.kind == "break_glass.dpo")).one()
        opened_record = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "break_glass.open",
            AccessRecord.outcome == "allowed")).one()
    assert mail.recipient == "fg@demo.mdo-portaal.test"
    assert "Sam" not in mail.body + mail.subject and "geweld" not in mail.body  # content-free
    assert opened_record.object_id == grant.id and opened_record.user_id == person("mentor")

    dpo = logged_in(running, "fg")
    assert "1 wacht op uw beoordeling" in dpo.page("/").text  # the FG's start page counts it
    review = dpo.page("/dpo/break-glass")
    assert review.status_code == 200 and REASON in review.text and "Mirjam de Vries" in review.text
    dpo.submit(f"/dpo/break-glass/{grant.id}/reviewed")
    assert "beoordeeld door Fenna Gerritsen" in dpo.page("/dpo/break-glass").text
    assert "wacht op uw beoordeling" not in dpo.page("/").text

    running.clock.advance(hours=24, minutes=1)
    assert not reads(running, "mentor", SAM_CASE, "health")


def test_minute_takers_and_outsiders_cannot_break_the_glass(running_sqlite: Running) -> None:
    notulist = logged_in(running_sqlite, "notulist")
    notulist.page(f"/cases/{SAM_CASE}")
    assert notulist.submit(f"/cases/{SAM_CASE}/break-glass",
                           {"reason": REASON}).status_code == 403
    outsider = logged_in(running_sqlite, "buitenstaander")
    outsider.page("/cases")
    assert outsider.submit(f"/cases/{SAM_CASE}/break-glass",
                           {"reason": REASON}).status_code == 404
    with running_sqlite.portal.sessions() as db:
        assert db.scalars(select(BreakGlassGrant)).all() == []
        denied = db.scalars(select(AccessRecord.outcome).where(
            AccessRecord.event_type == "break_glass.open")).all()
    assert denied == ["denied", "denied"]
    assert logged_in(running_sqlite, "mentor").get("/dpo/break-glass").status_code == 403
