"""Objection through the pages: the family objects, the case is restricted at once and the
FG is told (content-free); the FG upholds (it stays) or rejects (lifted); the family reads it."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.consent.models import Restriction
from portal.mail.models import OutboxMessage
from portal.rights.models import Objection, ObjectionStatus, RestrictionGround, RestrictionNote
from tests.consent.test_portal import logged_in, reads
from tests.harness import Running
from tests.minutes.helpers import CASE_ID

FAMILY = f"/family/cases/{CASE_ID}"
FG_CASE = f"/rights/cases/{CASE_ID}"
WHY = "Wij willen niet dat het gedragsverslag met de jeugdhulp wordt gedeeld."


def object_as_mother(running: Running) -> str:
    mother = logged_in(running, "ouder1")
    mother.page(FAMILY)
    short = mother.submit(f"{FAMILY}/objections", {"objection": "nee"})
    assert short.status_code == 400 and 'id="objection-error"' in short.text
    filed = mother.submit(f"{FAMILY}/objections", {"objection": WHY})
    assert filed.status_code == 200
    assert "Uw bezwaar is naar de functionaris gegevensbescherming gestuurd" in filed.text
    with running.portal.sessions() as db:
        objection = db.scalars(select(Objection)).one()
        assert WHY.encode() not in objection.reason_ct
        return str(objection.id)


def test_an_objection_restricts_the_case_until_the_fg_rejects_it(running: Running) -> None:
    assert reads(running, "mentor", CASE_ID, "behaviour")
    objection_id = object_as_mother(running)
    # Restricted at once; the professionals see why (the ground, not the family's words).
    assert not reads(running, "mentor", CASE_ID, "behaviour")
    case_page = logged_in(running, "mentor").page(f"/cases/{CASE_ID}")
    assert "een bezwaar van de familie wordt beoordeeld" in case_page.text
    assert WHY not in case_page.text
    # The FG is told, without content.
    with running.portal.sessions() as db:
        mails = db.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "rights.objection.fg")).all()
    assert mails and all(WHY not in m.body and "Sam" not in m.body for m in mails)
    assert all(FG_CASE in m.body for m in mails)
    # A second objection while one is pending is refused.
    again = logged_in(running, "ouder2")
    again.page(FAMILY)
    assert again.submit(f"{FAMILY}/objections", {"objection": WHY}).status_code == 400

    fg = logged_in(running, "fg")
    # It reaches the FG's start page, and the restrictions desk names its ground.
    assert "1 bezwaar wacht op uw besluit" in fg.page("/").text
    assert "een bezwaar van de familie wordt beoordeeld" in fg.page("/rights/restrictions").text
    page = fg.page(FG_CASE)
    assert WHY in page.text and re.search(r"Petra Mulder", page.text)
    rejected = fg.submit(f"{FG_CASE}/objections/decide", {
        "objection_id": objection_id, "outcome": "rejected",
        "decision": "Het delen met de jeugdhulp rust op uw eigen toestemming; die geldt nog."})
    assert rejected.status_code == 200
    assert reads(running, "mentor", CASE_ID, "behaviour")
    assert "bezwaar wacht op uw besluit" not in fg.page("/").text
    family = logged_in(running, "ouder1").page(FAMILY)
    assert "afgewezen" in family.text
    assert "die geldt nog" in family.text


def test_an_upheld_objection_keeps_the_restriction(running_sqlite: Running) -> None:
    running = running_sqlite
    objection_id = object_as_mother(running)
    fg = logged_in(running, "fg")
    page = fg.page(FG_CASE)
    assert "Beperking opheffen" not in page.text  # it ends with the decision
    with running.portal.sessions() as db:
        restriction_id = db.get_one(Objection, objection_id).restriction_id
    assert restriction_id is not None
    refused = fg.submit(f"{FG_CASE}/restrictions/lift", {
        "restriction_id": restriction_id, "lift_reason": "Even opheffen zonder besluit."})
    assert refused.status_code == 400
    missing = fg.submit(f"{FG_CASE}/objections/decide", {
        "objection_id": objection_id, "outcome": "upheld", "decision": ""})
    assert missing.status_code == 400
    fg.submit(f"{FG_CASE}/objections/decide", {
        "objection_id": objection_id, "outcome": "upheld",
        "decision": "Het bezwaar is terecht: er is geen grondslag meer voor de verwerking."})
    assert not reads(running, "mentor", CASE_ID, "behaviour")
    with running.portal.sessions() as db:
        objection = db.get_one(Objection, objection_id)
        assert objection.status is ObjectionStatus.UPHELD
        restriction = db.get_one(Restriction, objection.restriction_id)
        assert restriction.lifted_at is None
        assert db.get_one(RestrictionNote, restriction.id).ground \
            is RestrictionGround.UPHELD_OBJECTION
    assert "het bezwaar van de familie is toegewezen" in logged_in(running, "ib").page(
        f"/cases/{CASE_ID}").text
    family = logged_in(running, "ouder1").page(FAMILY)
    assert "toegewezen" in family.text and "geen grondslag meer" in family.text


def test_only_custodians_object_and_only_the_fg_decides(running_sqlite: Running) -> None:
    running = running_sqlite
    outsider = logged_in(running, "pleegouder")
    outsider.page("/family")
    assert outsider.submit(f"{FAMILY}/objections", {"objection": WHY}).status_code == 404
    objection_id = object_as_mother(running)
    chair = logged_in(running, "ib")
    refused = chair.submit(f"{FG_CASE}/objections/decide", {
        "objection_id": objection_id, "outcome": "rejected", "decision": WHY})
    assert refused.status_code == 403
    with running.portal.sessions() as db:
        assert db.get_one(Objection, objection_id).status is ObjectionStatus.PENDING


def test_erasing_the_case_shreds_the_rights_texts(running_sqlite: Running) -> None:
    running = running_sqlite
    objection_id = object_as_mother(running)
    chair = logged_in(running, "ib")
    chair.page(f"/cases/{CASE_ID}")
    chair.submit(f"/cases/{CASE_ID}/erase", {"confirm": "on"})
    with running.portal.sessions() as db:
        assert db.get_one(Objection, objection_id).reason_ct == b""
        assert all(n.reason_ct == b"" for n in db.scalars(select(RestrictionNote)))
    # The family still sees that the case existed and was erased, and nothing fails.
    family = logged_in(running, "ouder1").page(FAMILY)
    assert family.status_code == 200 and WHY not in family.text
