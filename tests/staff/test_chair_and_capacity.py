"""Over HTTP: the administrator disables a chair, the care coordinator appoints a new one;
a participant in two organisations chooses the capacity they act in."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.cases.models import Case, CaseParticipant, CaseRole
from portal.demo import stable_id
from portal.people.models import Membership, Role
from portal.staff.models import ChairVacancy
from tests.cases.test_flow import create_case
from tests.harness import Running

MENTOR = stable_id("person", "mentor")
NOTULIST = stable_id("person", "notulist")
LEADER = stable_id("person", "schoolleider")
WORKER = stable_id("person", "jeugdhulp")
BAKEN = stable_id("org", "het-baken")
NOORD = stable_id("org", "jeugdhulp-noord")


def test_a_disabled_chair_leaves_and_the_care_coordinator_appoints_a_new_one(
        running: Running) -> None:
    case_id = create_case(running, persona="mentor", title="MDO Sam huiswerkbegeleiding")
    mentor = running.client()
    mentor.login("mentor")
    mentor.page(f"/cases/{case_id}")
    added = mentor.submit(f"/cases/{case_id}/participants",
                          {"person_id": NOTULIST, "case_role": "minute_taker"})
    assert added.status_code == 200
    ib = running.client()
    ib.login("ib")
    assert ib.get(f"/cases/{case_id}").status_code == 404, "the IB is no participant"

    admin = running.client()
    admin.login("beheerder")
    admin.page("/admin")
    admin.submit(f"/admin/people/{MENTOR}/active", {"active": "0", "confirm": "1"})

    assert mentor.get(f"/cases/{case_id}").url.path == "/login"
    notulist = running.client()
    notulist.login("notulist")
    page = notulist.page(f"/cases/{case_id}")
    assert "geen voorzitter" in page.text and "Ilse Bakker" in page.text
    with running.portal.sessions() as db:
        assert db.get(ChairVacancy, case_id) is not None
        assert not db.scalars(select(CaseParticipant).where(
            CaseParticipant.case_id == case_id, CaseParticipant.person_id == MENTOR)).all()

    listed = ib.page("/cases")
    assert "Casussen die een nieuwe voorzitter nodig hebben" in listed.text
    assert f"/cases/{case_id}/chair" in listed.text and "huiswerkbegeleiding" not in listed.text
    assert "nieuwe voorzitter nodig" not in notulist.page("/cases").text
    form = ib.page(f"/cases/{case_id}/chair")
    assert form.status_code == 200
    assert "Mirjam de Vries" in form.text, "who left is named"
    assert "huiswerkbegeleiding" not in form.text, "no case content on the appointment page"
    refused = ib.submit(f"/cases/{case_id}/chair", {"chair": f"{LEADER}|mentor"})
    assert refused.status_code == 400 and "Kies wie de voorzitter wordt" in refused.text
    done = ib.submit(f"/cases/{case_id}/chair", {"chair": f"{LEADER}|school_leader"})
    assert done.status_code == 200
    with running.portal.sessions() as db:
        assert db.get(ChairVacancy, case_id) is None
        chair = db.scalars(select(CaseParticipant).where(
            CaseParticipant.case_id == case_id, CaseParticipant.case_role == CaseRole.CHAIR)
        ).one()
        assert (chair.person_id, chair.capacity_role) == (LEADER, "school_leader")
    leader = running.client()
    leader.login("schoolleider")
    assert leader.get(f"/cases/{case_id}").status_code == 200
    assert "geen voorzitter" not in notulist.page(f"/cases/{case_id}").text
    assert "nieuwe voorzitter nodig" not in ib.page("/cases").text


def test_a_person_in_two_organisations_chooses_their_capacity(running: Running) -> None:
    worker = running.client()
    worker.login("jeugdhulp")
    with running.portal.sessions() as db, db.begin():
        # Youssef also works at the school (his login refreshes only his own IdP's claims).
        db.add(Membership(person_id=WORKER, organisation_id=BAKEN,
                          role=Role.SCHOOL_SOCIAL_WORKER))
    case_id = create_case(running, persona="ib")
    ib = running.client()
    ib.login("ib")
    page = ib.page(f"/cases/{case_id}")
    offered = re.findall(rf'<option value="({WORKER}\|[^"]+)"', page.text)
    assert sorted(offered) == sorted([f"{WORKER}|{BAKEN}|school_social_worker",
                                      f"{WORKER}|{NOORD}|youth_care_worker"])
    wrong = ib.submit(f"/cases/{case_id}/participants",
                      {"person_id": f"{WORKER}|{BAKEN}|youth_care_worker",
                       "case_role": "participant"})
    assert wrong.status_code == 400, "a capacity he does not hold is refused"
    ib.submit(f"/cases/{case_id}/participants",
              {"person_id": f"{WORKER}|{BAKEN}|school_social_worker", "case_role": "participant",
               "confirm": "1"})

    def capacity() -> tuple[str, str | None]:
        with running.portal.sessions() as db:
            row = db.scalars(select(CaseParticipant).where(
                CaseParticipant.case_id == case_id, CaseParticipant.person_id == WORKER)).one()
            return row.organisation_id, row.capacity_role

    assert capacity() == (BAKEN, "school_social_worker")
    own = worker.page(f"/cases/{case_id}")
    assert "U neemt aan deze casus deel als" in own.text
    assert worker.submit(f"/cases/{case_id}/capacity",
                         {"capacity": f"{NOORD}|mentor"}).status_code == 400
    worker.submit(f"/cases/{case_id}/capacity", {"capacity": f"{NOORD}|youth_care_worker"})
    assert capacity() == (NOORD, "youth_care_worker")


def test_a_person_in_two_organisations_chooses_whose_case_they_start(running: Running) -> None:
    worker = running.client()
    worker.login("jeugdhulp")
    with running.portal.sessions() as db, db.begin():
        db.add(Membership(person_id=WORKER, organisation_id=BAKEN,
                          role=Role.SCHOOL_SOCIAL_WORKER))
    form = worker.page("/cases/new")
    assert "U start en leidt deze casus als" in form.text
    fields = {"anonymous": "on", "title": "Overleg klas 2b", "purpose": "Afstemmen",
              "legal_basis": "consent"}
    refused = worker.submit("/cases", {**fields, "capacity": f"{BAKEN}|youth_care_worker"})
    assert refused.status_code == 400
    assert "Kies de hoedanigheid" in refused.text and "Overleg klas 2b" in refused.text
    created = worker.submit("/cases", {**fields, "capacity": f"{BAKEN}|school_social_worker"})
    case_id = str(created.url).rsplit("/", 1)[-1]
    with running.portal.sessions() as db:
        case = db.get_one(Case, case_id)
        chair = db.scalars(select(CaseParticipant).where(
            CaseParticipant.case_id == case_id)).one()
    assert case.organisation_id == BAKEN
    assert (chair.organisation_id, chair.capacity_role) == (BAKEN, "school_social_worker")
