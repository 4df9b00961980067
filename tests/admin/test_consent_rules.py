"""The administrator sets each organisation's consent rule and birthday warning period."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.cases.models import CaseRole
from portal.consent.models import OrganisationConsentRule
from portal.consent.rules import OrganisationRule
from tests.consent._portal import build_world, org
from tests.consent.test_portal import logged_in, reads
from tests.harness import Running

HET_BAKEN = org("het-baken")


def test_one_custodian_suffices_once_the_admin_says_so(running_sqlite: Running) -> None:
    running = running_sqlite
    today = running.clock().date()
    world = build_world(
        running, birthdate=today.replace(year=today.year - 9),
        adults=[{"id": "A", "relation": "parent", "custody": True},
                {"id": "B", "relation": "parent", "custody": True}],
        consents=[{"by": "A", "categories": ["behaviour"], "recipients": ["org:X"],
                   "valid_from": (today - timedelta(days=1)).isoformat()}],
        participants=[("ib", CaseRole.CHAIR), ("mentor", CaseRole.PARTICIPANT)],
        recipient_of={"org:X": f"org:{HET_BAKEN}"})
    assert not reads(running, "mentor", world.case_id, "behaviour")  # B has not consented
    admin = logged_in(running, "beheerder")
    page = admin.page("/admin/consent-rules")
    assert page.status_code == 200 and "Scholengemeenschap Het Baken" in page.text
    saved = admin.submit("/admin/consent-rules", {"organisation_id": HET_BAKEN,
                                                  "rule": "one_custodian", "warning_days": "30"})
    assert saved.status_code == 200
    assert reads(running, "mentor", world.case_id, "behaviour")
    with running.portal.sessions() as db:
        row = db.get_one(OrganisationConsentRule, HET_BAKEN)
        assert (row.rule, row.warning_days) == (OrganisationRule.ONE_CUSTODIAN, 30)
        written = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "admin.consent_rule.update")).one()
    assert (written.outcome, written.action_code, written.object_id) == ("allowed", "U", HET_BAKEN)


def test_the_rule_form_validates_and_only_admins_use_it(running_sqlite: Running) -> None:
    running = running_sqlite
    admin = logged_in(running, "beheerder")
    admin.page("/admin/consent-rules")
    refused = admin.submit("/admin/consent-rules", {"organisation_id": HET_BAKEN,
                                                    "rule": "nobody", "warning_days": "-3"})
    assert refused.status_code == 400
    assert "Geef een aantal dagen van 0 tot 365" in refused.text
    unknown = admin.submit("/admin/consent-rules", {"organisation_id": "x" * 36,
                                                    "rule": "one_custodian",
                                                    "warning_days": "10"})
    assert unknown.status_code == 400
    mentor = logged_in(running, "mentor")
    assert mentor.get("/admin/consent-rules").status_code == 403
    mentor.page("/cases")
    assert mentor.submit("/admin/consent-rules", {"organisation_id": HET_BAKEN,
                                                  "rule": "one_custodian",
                                                  "warning_days": "10"}).status_code == 403
    with running.portal.sessions() as db:
        assert db.get(OrganisationConsentRule, HET_BAKEN) is None
        denied = db.scalars(select(AccessRecord.outcome).where(
            AccessRecord.event_type == "admin.consent_rule.update")).all()
    assert denied == ["allowed", "allowed", "denied"]
