"""Restriction through the pages: the case's FG places and lifts it with a reason; the
case page shows it, and why, to everyone who would otherwise read; reads stop meanwhile."""

from __future__ import annotations

from sqlalchemy import select, update

from portal.audit.models import AccessRecord
from portal.consent.models import Restriction
from portal.demo import DEMO_CASE, stable_id
from portal.people.models import Membership, Role
from portal.rights.models import RestrictionNote
from tests.consent._portal import org, person
from tests.consent.test_portal import logged_in, reads
from tests.harness import Running

SAM_CASE = stable_id("case", DEMO_CASE.key)
REASON = "Ouders maken bezwaar tegen het delen van het gedragsverslag met de jeugdhulp."
LIFT = "Bezwaar is afgehandeld in overleg met de ouders; verwerking mag weer."


def _events(running: Running, event_type: str) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == event_type)))


def test_fg_places_and_lifts_a_restriction_that_everyone_sees(running: Running) -> None:
    # On both engines: the notes' foreign keys and the sealed reasons on PostgreSQL too.
    assert reads(running, "mentor", SAM_CASE, "behaviour")
    fg = logged_in(running, "fg")
    page = fg.page(f"/rights/cases/{SAM_CASE}")
    assert page.status_code == 200
    assert "nooit een beperking ingesteld" in page.text

    placed = fg.submit(f"/rights/cases/{SAM_CASE}/restrictions", {"reason": REASON})
    assert placed.status_code == 200, placed.text
    assert REASON in placed.text
    assert not reads(running, "mentor", SAM_CASE, "behaviour")
    assert not reads(running, "ib", SAM_CASE, "behaviour")

    # The reason is sealed: not in the database in plaintext.
    with running.portal.sessions() as db:
        note = db.scalars(select(RestrictionNote)).one()
        assert REASON.encode() not in note.reason_ct
    # Everyone who would otherwise read sees that it is in force, and why.
    for persona in ("mentor", "ib"):
        case_page = logged_in(running, persona).page(f"/cases/{SAM_CASE}")
        assert case_page.status_code == 200
        assert 'id="restriction-heading"' in case_page.text
        assert REASON in case_page.text
    family = logged_in(running, "ouder1").page(f"/family/cases/{SAM_CASE}")
    assert 'id="restriction-heading"' in family.text and REASON in family.text
    listed = fg.page("/rights/restrictions")
    assert f"/rights/cases/{SAM_CASE}" in listed.text

    restriction_id = note.restriction_id
    short = fg.submit(f"/rights/cases/{SAM_CASE}/restrictions/lift",
                      {"restriction_id": restriction_id, "lift_reason": "ok"})
    assert short.status_code == 400 and 'aria-invalid="true"' in short.text
    lifted = fg.submit(f"/rights/cases/{SAM_CASE}/restrictions/lift",
                       {"restriction_id": restriction_id, "lift_reason": LIFT})
    assert lifted.status_code == 200 and LIFT in lifted.text
    assert reads(running, "mentor", SAM_CASE, "behaviour")
    assert 'id="restriction-heading"' not in logged_in(running, "mentor").page(
        f"/cases/{SAM_CASE}").text
    # Every step is on record.
    for event in ("rights.restriction.place", "rights.restriction.lift",
                  "rights.restriction.read"):
        assert any(r.outcome == "allowed" and r.case_id == SAM_CASE
                   for r in _events(running, event)), event


def test_only_the_cases_fg_may_restrict(running_sqlite: Running) -> None:
    running = running_sqlite
    # A professional in the case is refused, and the attempt is recorded.
    mentor = logged_in(running, "mentor")
    refused = mentor.submit(f"/rights/cases/{SAM_CASE}/restrictions", {"reason": REASON})
    assert refused.status_code in (403, 404)
    assert any(r.outcome == "denied" for r in _events(running, "rights.restriction.place"))
    # A reason is required.
    fg = logged_in(running, "fg")
    empty = fg.submit(f"/rights/cases/{SAM_CASE}/restrictions", {"reason": " "})
    assert empty.status_code == 400 and 'id="reason-error"' in empty.text
    # The FG of an organisation outside the case learns nothing (404).
    with running.portal.sessions() as db:
        db.execute(update(Membership).where(Membership.person_id == person("fg"),
                                            Membership.role == Role.DPO)
                   .values(organisation_id=org("het-lichtpunt")))
        db.commit()
    assert fg.page(f"/rights/cases/{SAM_CASE}").status_code == 404
    outsider = fg.submit(f"/rights/cases/{SAM_CASE}/restrictions", {"reason": REASON})
    assert outsider.status_code == 404
    assert f"/rights/cases/{SAM_CASE}" not in fg.page("/rights/restrictions").text
    with running.portal.sessions() as db:
        assert db.scalars(select(Restriction)).first() is None
