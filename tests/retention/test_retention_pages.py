"""The administrator confirms the board's period; the FG sees what expires, holds and lifts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.audit.service import Requester
from portal.demo import stable_id
from portal.errors import AccessDenied
from portal.people.models import PersonKind, Role
from portal.policy import Actor
from portal.retention import job, service
from portal.retention.models import LegalHold, RetentionPolicy
from portal.retention.rules import add_months
from tests.harness import Running
from tests.retention.helpers import SAM_CASE, SCHOOL, close, intact, shredded


def _events(running: Running) -> list[tuple[str, str]]:
    with running.portal.sessions() as db:
        return [(r.event_type, r.outcome) for r in db.scalars(
            select(AccessRecord).where(AccessRecord.event_type.like("retention.%"))
            .order_by(AccessRecord.seq))]


def test_board_confirms_then_the_fg_holds_and_lifts_and_the_job_erases(
        running_sqlite: Running) -> None:
    running = running_sqlite
    admin = running.client()
    admin.login("beheerder")
    page = admin.page("/admin/retention")
    assert page.status_code == 200
    assert "Niet bevestigd: van deze organisatie wordt niets verwijderd." in page.text
    refused = admin.submit("/admin/retention", {"organisation_id": SCHOOL, "months": "24",
                                                "counted_from": "case_closed"})
    assert refused.status_code == 400
    assert "Bevestig dat het bestuur deze bewaartermijn heeft vastgesteld." in refused.text
    bad = admin.submit("/admin/retention", {"organisation_id": SCHOOL, "months": "0",
                                            "counted_from": "case_closed", "confirm": "on"})
    assert bad.status_code == 400 and "Geef een aantal maanden van 1 tot en met 1200." in bad.text
    done = admin.submit("/admin/retention", {"organisation_id": SCHOOL, "months": "24",
                                             "counted_from": "case_closed", "confirm": "on"})
    assert done.status_code == 200 and "De bewaartermijn is bevestigd." in done.text
    with running.portal.sessions() as db:
        policy = db.scalars(select(RetentionPolicy)).one()
        assert (policy.organisation_id, policy.period_months,
                policy.confirmed_by) == (SCHOOL, 24, stable_id("person", "beheerder"))
        # Closed three years ago: over, but a period just confirmed gives 30 days' notice.
        close(db, SAM_CASE, add_months(running.clock.now, -36))
        db.commit()

    fg = running.client()
    fg.login("fg")
    assert "Bewaartermijnen: casussen waarvan de bewaartermijn binnen 30 dagen afloopt" \
        in fg.page("/").text
    overview = fg.page("/dpo/retention")
    assert overview.status_code == 200 and SAM_CASE in overview.text
    assert "MDO Sam" not in overview.text, "the FG sees references, not content"
    held = fg.submit("/dpo/retention/holds", {"case_id": SAM_CASE, "reason": "litigation"})
    assert held.status_code == 200 and "De bewaarplicht geldt." in held.text
    assert "Juridische procedure" in held.text

    running.clock.advance(days=31)
    with running.portal.sessions() as db:
        assert job.run_retention(db, running.portal.vault, running.clock.now) == 0
        db.commit()
        assert intact(db, running.portal.vault, SAM_CASE)
        hold_id = db.scalars(select(LegalHold.id)).one()
    fg.login("fg")  # a month on, the session has timed out
    assert f"/dpo/retention/holds/{hold_id}/lift" in fg.page("/dpo/retention").text
    lifted = fg.submit(f"/dpo/retention/holds/{hold_id}/lift", {"lift_reason": "ended"})
    assert lifted.status_code == 200 and "De bewaarplicht is opgeheven." in lifted.text
    # The portal's own background round may get there first (it runs the same job
    # after every write); either way the case goes, once.
    with running.portal.sessions() as db:
        job.run_retention(db, running.portal.vault, running.clock.now)
        db.commit()
    with running.portal.sessions() as db:
        assert shredded(db, running.portal.vault, SAM_CASE)
    after = fg.page("/dpo/retention").text
    listed = after.split("Gewist omdat de bewaartermijn verstreek", 1)[1]
    assert SAM_CASE in listed and "24 maanden na het sluiten van de casus" in listed

    ib = running.client()
    ib.login("ib")
    case_page = ib.page(f"/cases/{SAM_CASE}")
    assert case_page.status_code == 200
    assert "bewaartermijn verstreken (door het bestuur bevestigd)" in case_page.text
    events = _events(running)
    assert ("retention.policy.view", "allowed") in events
    assert ("retention.overview", "allowed") in events
    # Every write on record, the refused confirmations (bad input) included, in order.
    assert [e for e in events if not e[0].endswith(("view", "overview"))] == [
        ("retention.policy.confirm", "allowed"), ("retention.policy.confirm", "allowed"),
        ("retention.policy.confirm", "allowed"), ("retention.hold.place", "allowed"),
        ("retention.hold.lift", "allowed"), ("retention.erase", "allowed")]


def test_a_professional_cannot_confirm_or_hold(running_sqlite: Running) -> None:
    ib = running_sqlite.client()
    ib.login("ib")
    assert ib.page("/admin/retention").status_code == 403
    assert ib.submit("/admin/retention", {"organisation_id": SCHOOL, "months": "1",
                                          "counted_from": "case_closed",
                                          "confirm": "on"}).status_code == 403
    assert ib.submit("/dpo/retention/holds", {"case_id": SAM_CASE,
                                              "reason": "litigation"}).status_code == 403
    with running_sqlite.portal.sessions() as db:
        assert db.scalars(select(RetentionPolicy)).all() == []
        assert db.scalars(select(LegalHold)).all() == []


def test_an_fg_of_another_organisation_sees_nothing_and_cannot_hold(
        running_sqlite: Running) -> None:
    other = Actor(person_id=stable_id("person", "ib-lichtpunt"), kind=PersonKind.PROFESSIONAL,
                  name="Lotte de Boer",
                  memberships=frozenset({(stable_id("org", "het-lichtpunt"), Role.DPO)}))
    who = Requester(user_id=other.person_id, user_name=other.name, user_role="dpo",
                    organisation_id=stable_id("org", "het-lichtpunt"), session_ref=None,
                    client_address="127.0.0.1")
    with running_sqlite.portal.sessions() as db:
        now = running_sqlite.clock.now
        close(db, SAM_CASE, add_months(now, -24))
        db.add(RetentionPolicy(organisation_id=SCHOOL, data_kind="case_file", period_months=24,
                               counted_from="case_closed", confirmed_at=now,
                               confirmed_by=stable_id("person", "beheerder")))
        db.flush()
        assert service.overview(db, who, other, now).expiring == []
        with pytest.raises(AccessDenied) as refused:
            service.place_hold(db, who, other, now, case_id=SAM_CASE, whole_child=False,
                               reason="litigation")
        assert refused.value.decision.hide, "another organisation's case: as if it did not exist"
        denied = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "retention.hold.place")).one()
        assert denied.outcome == "denied" and denied.case_id is None
        assert re.fullmatch(r"no_such_case", denied.reason or "")


def test_a_legal_hold_also_stops_the_chairs_erasure(running_sqlite: Running) -> None:
    fg = running_sqlite.client()
    fg.login("fg")
    held = fg.submit("/dpo/retention/holds", {"case_id": SAM_CASE, "reason": "complaint",
                                              "whole_child": "on"})
    assert held.status_code == 200 and "Alle casussen van kind" in held.text
    ib = running_sqlite.client()
    ib.login("ib")
    assert ib.submit(f"/cases/{SAM_CASE}/erase", {"confirm": "on"}).status_code == 400
    with running_sqlite.portal.sessions() as db:
        assert intact(db, running_sqlite.portal.vault, SAM_CASE)
        hold_id = db.scalars(select(LegalHold.id)).one()
    assert fg.submit(f"/dpo/retention/holds/{hold_id}/lift",
                     {"lift_reason": "mistake"}).status_code == 200
    erased = ib.submit(f"/cases/{SAM_CASE}/erase", {"confirm": "on"})
    assert erased.status_code == 200 and "Deze casus is gewist" in erased.text
