"""Each organisation's FG sees the requests about the cases their organisation takes part in.

A request about a case shared by a school and a youth-care provider reaches
both FGs (mail and desk); the FG of an unrelated school sees nothing and gets
the 404 of a request that does not exist, on record. One of them answers the
family, once.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.audit.service import Requester
from portal.demo import DEMO_CASE, stable_id
from portal.errors import AccessDenied
from portal.mail.models import OutboxMessage
from portal.people.models import Membership, Person, PersonKind, Role
from portal.policy import Actor
from portal.requests import desk
from tests.consent.test_portal import add_participant, logged_in
from tests.harness import Running
from tests.requests.test_desk import file, request_id_of

SAM = stable_id("child", "sam")
SAM_CASE = stable_id("case", DEMO_CASE.key)
FGS = {"het-baken": "fg-baken@school.test", "jeugdhulp-noord": "fg-jeugd@zorg.test",
       "het-lichtpunt": "fg-lichtpunt@school.test"}


def organisation_fgs(running: Running) -> dict[str, Actor]:
    now = running.clock()
    actors = {}
    with running.portal.sessions() as db:
        for slug, email in FGS.items():
            fg = Person(kind=PersonKind.PROFESSIONAL, display_name=f"FG {slug}", email=email,
                        active=True, created_at=now)
            db.add(fg)
            db.flush()
            org = stable_id("org", slug)
            db.add(Membership(person_id=fg.id, organisation_id=org, role=Role.DPO))
            actors[slug] = Actor(person_id=fg.id, kind=PersonKind.PROFESSIONAL,
                                 name=fg.display_name, memberships=frozenset({(org, Role.DPO)}))
        db.commit()
    return actors


def who(actor: Actor) -> Requester:
    return Requester(user_id=actor.person_id, user_name=actor.name, user_role="dpo",
                     organisation_id=min(actor.organisation_ids), session_ref="test",
                     client_address="127.0.0.1")


def test_a_shared_case_reaches_the_fg_of_each_organisation_in_it(running: Running) -> None:
    fgs = organisation_fgs(running)
    add_participant(running, SAM_CASE, "Youssef El Amrani")
    filed = file(logged_in(running, "ouder1"), SAM, "objection", case=SAM_CASE)
    assert filed.status_code == 200, filed.text
    request_id = request_id_of(filed)
    with running.portal.sessions() as db:
        told = sorted(db.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.kind == "request.new")))
    assert told == ["fg-baken@school.test", "fg-jeugd@zorg.test"]

    vault, now = running.portal.vault, running.clock()
    with running.portal.sessions() as db:
        for slug in ("het-baken", "jeugdhulp-noord"):
            rows = desk.desk(db, vault, who(fgs[slug]), fgs[slug], now)
            assert [r.id for r in rows] == [request_id], slug
            assert desk.waiting(db, fgs[slug], now) == desk.Waiting(open=1, urgent=0)
        outsider = fgs["het-lichtpunt"]
        assert desk.desk(db, vault, who(outsider), outsider, now) == []
        assert desk.waiting(db, outsider, now) == desk.Waiting(open=0, urgent=0)
        with pytest.raises(AccessDenied) as refused:
            desk.desk_request(db, vault, who(outsider), outsider, now, request_id)
        assert refused.value.decision.hide
        denied = db.scalars(select(AccessRecord).where(
            AccessRecord.user_id == outsider.person_id,
            AccessRecord.event_type == "request.view")).one()
        assert denied.outcome == "denied" and denied.child_id is None  # nothing leaks
        youth_care = fgs["jeugdhulp-noord"]
        desk.decide_request(db, vault, who(youth_care), youth_care, now, request_id,
                            {"outcome": "partly_granted", "reasons": "Deels: zie toelichting."},
                            running.portal.settings.public_url)
        db.commit()
        school = fgs["het-baken"]
        shown = desk.desk_request(db, vault, who(school), school, now, request_id).request
        assert shown.outcome is not None and shown.outcome.value == "partly_granted"
        db.commit()
    answer = logged_in(running, "ouder1").page(f"/family/requests/{request_id}")
    assert "Deels: zie toelichting." in answer.text and "Gedeeltelijk toegewezen" in answer.text
