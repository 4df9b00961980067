"""What the family pages and the child's access log show, by family standing.

Title and purpose are case content: only the adults with custody (child under
16) and the pupil from 16 see them. A foster parent or parent let in by a
consent, and a parent with general information only, see that a case exists
and who takes part. "Who looked at my child's data" asks the same standing,
with custody from the recorded facts, and answers 404 without standing.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.consent.models import CustodyRecord
from portal.consent.rules import Relationship
from portal.demo import DEMO_CASE, stable_id
from portal.people.models import ChildRelation
from tests.consent._portal import person
from tests.consent.test_portal import give, logged_in
from tests.harness import Running

SAM_CASE = stable_id("case", DEMO_CASE.key)
NOOR_CASE = stable_id("case", "noor-mdo")
SAM = stable_id("child", "sam")
NOOR = stable_id("child", "noor")
NOOR_TITLE, NOOR_PURPOSE = "verzuim en steun thuis", "regelmatig naar school"


def records_of(running: Running, persona: str, event_type: str) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(
            AccessRecord.user_id == person(persona), AccessRecord.event_type == event_type)
            .order_by(AccessRecord.seq)))


def test_a_parent_let_in_by_the_pupil_does_not_see_title_or_purpose(running: Running) -> None:
    noor = logged_in(running, "leerling16")
    home = noor.page("/family").text
    assert NOOR_TITLE in home
    assert records_of(running, "leerling16", "family.case.content")[-1].outcome == "allowed"
    give(noor, NOOR_CASE, ["school_progress"], [f"adult:{person('pleegouder')}",
                                                f"adult:{person('ouder-zonder-gezag')}"])
    for persona in ("pleegouder", "ouder-zonder-gezag"):
        client = logged_in(running, persona)
        page = client.page(f"/family/cases/{NOOR_CASE}")
        assert page.status_code == 200
        assert "Jeugdhulp Noord" in page.text  # general information: who takes part
        for text in (NOOR_TITLE, NOOR_PURPOSE, "Toestemming geven"):
            assert text not in page.text, (persona, text)
        assert NOOR_TITLE not in client.page("/family").text
        assert records_of(running, persona, "family.case.content") == []
        assert records_of(running, persona, "family.case.view")[-1].outcome == "allowed"


def test_the_child_access_log_is_404_without_standing(running: Running) -> None:
    expected = {("mentor", SAM): 404, ("ib", NOOR): 404, ("pleegouder", NOOR): 404,
                ("buitenstaander", SAM): 404, ("ouder-zonder-gezag", NOOR): 403,
                ("ouder1", SAM): 200, ("leerling16", NOOR): 200, ("ouder1", NOOR): 404}
    for (persona, child), status in expected.items():
        client = logged_in(running, persona)
        assert client.get(f"/child-access/{child}").status_code == status, (persona, child)
        last = records_of(running, persona, "audit.child")[-1]
        assert last.outcome == ("allowed" if status == 200 else "denied"), persona


def test_the_child_access_log_follows_the_recorded_custody_facts(
        running_sqlite: Running) -> None:
    """ouder2 is linked as a parent with custody; the recorded facts say otherwise."""
    running = running_sqlite
    father = logged_in(running, "ouder2")
    assert father.get(f"/child-access/{SAM}").status_code == 200
    with running.portal.sessions() as db:
        relation = db.scalars(select(ChildRelation).where(
            ChildRelation.child_id == SAM, ChildRelation.person_id == person("ouder2"))).one()
        db.add(CustodyRecord(child_relation_id=relation.id, relationship=Relationship.UNMARRIED,
                             is_mother=False, custody_applied=False, recorded_by=person("ib"),
                             recorded_at=running.clock()))
        db.commit()
    # Recognition without a custody application: general information only.
    assert father.get(f"/child-access/{SAM}").status_code == 403
    page = father.page(f"/family/cases/{SAM_CASE}")
    assert page.status_code == 200 and "alleen algemene informatie" in page.text


def test_an_unknown_consent_on_the_withdrawal_page_is_recorded(running_sqlite: Running) -> None:
    running = running_sqlite
    mother = logged_in(running, "ouder1")
    unknown = str(uuid.uuid4())
    for consent_id in (unknown, "not-a-uuid"):
        response = mother.get(f"/family/cases/{SAM_CASE}/consents/{consent_id}/withdraw")
        assert response.status_code == 404
        denied = records_of(running, "ouder1", "consent.withdraw.form")[-1]
        assert (denied.outcome, denied.reason) == ("denied", "no_such_consent")
        assert denied.case_id == SAM_CASE and denied.object_id is None
    mother.page(f"/family/cases/{SAM_CASE}")
    assert mother.submit(f"/family/cases/{SAM_CASE}/consents/{unknown}/withdraw"
                         ).status_code == 403
    refused = records_of(running, "ouder1", "consent.withdraw")[-1]
    assert refused.outcome == "denied" and refused.object_id is None


def test_a_weak_login_giving_consent_to_an_unknown_case_records_no_case_id(
        sqlite_url: str, start_portal: object) -> None:
    running = start_portal(sqlite_url,  # type: ignore[operator]
                           consent_acr="http://eidas.europa.eu/LoA/substantial")
    mother = logged_in(running, "ouder1")
    mother.page(f"/family/cases/{SAM_CASE}")
    for case_id, status, reason in ((str(uuid.uuid4()), 404, "no_such_case"),
                                    ("x" * 36, 404, "no_such_case"),
                                    (SAM_CASE, 403, "insufficient_assurance")):
        response = give(mother, case_id, ["health"], ["org:x"])
        assert response.status_code == status
        last = records_of(running, "ouder1", "consent.give")[-1]
        assert (last.outcome, last.reason) == ("denied", reason)
        assert last.case_id == (SAM_CASE if status == 403 else None)
