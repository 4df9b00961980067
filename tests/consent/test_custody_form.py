"""The custody form, over HTTP: facts in, custody derived by the engine, evidence kept."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.consent.models import CustodyRecord
from portal.consent.rules import CustodyEvidence, Relationship
from portal.demo import DEMO_CASE, stable_id
from portal.people.models import ChildRelation, Relation
from tests.consent._portal import person
from tests.consent.test_portal import logged_in
from tests.harness import Running

SAM = stable_id("child", "sam")
SAM_CASE = stable_id("case", DEMO_CASE.key)
FORM = f"/children/{SAM}/custody"


def relation_of(running: Running, persona: str) -> ChildRelation:
    with running.portal.sessions() as db:
        return db.scalars(select(ChildRelation).where(
            ChildRelation.child_id == SAM, ChildRelation.person_id == person(persona))).one()


def test_the_engine_derives_custody_from_the_recorded_facts(running: Running) -> None:
    ib = logged_in(running, "ib")
    page = ib.page(FORM)
    assert page.status_code == 200 and "Peter Mulder" in page.text
    father = relation_of(running, "ouder2").id
    # Unmarried, recognised the child, never applied for custody: no custody.
    saved = ib.submit(FORM, {"relation_id": father, "relationship": "unmarried",
                             "is_mother": "no", "court_custody": ""})
    assert saved.status_code == 200 and "zijn vastgelegd" in saved.text
    assert relation_of(running, "ouder2").relation is Relation.PARENT_WITHOUT_CUSTODY
    # The engine now gives him general information only: no access log, no consent picture.
    peter = logged_in(running, "ouder2")
    assert peter.get(f"/child-access/{SAM}").status_code == 403
    assert "alleen algemene informatie" in peter.page(f"/family/cases/{SAM_CASE}").text
    consent_page = ib.page(f"/cases/{SAM_CASE}/consent").text
    assert re.search(r"<strong>Peter Mulder</strong>:\s*geen gezag", consent_page)
    with running.portal.sessions() as db:
        written = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "custody.record")).all()
    assert [(w.outcome, w.child_id) for w in written] == [("allowed", SAM)]


def test_a_sole_custody_claim_needs_the_evidence_seen(running_sqlite: Running) -> None:
    running = running_sqlite
    ib = logged_in(running, "ib")
    ib.page(FORM)
    mother = relation_of(running, "ouder1").id
    claim = {"relation_id": mother, "relationship": "divorced", "court_custody": "yes",
             "sole_custody": "on"}
    refused = ib.submit(FORM, claim)
    assert refused.status_code == 400
    assert "geef aan welk bewijs u hebt gezien" in refused.text
    # The error summary's entry leads to the first choice of evidence, on the page.
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', refused.text, re.S)
    assert summary is not None and 'href="#evidence-gezagsregister"' in summary.group(1)
    assert 'id="evidence-gezagsregister"' in refused.text
    assert ib.submit(FORM, {**claim, "evidence": "brp"}).status_code == 200
    with running.portal.sessions() as db:
        row = db.scalars(select(CustodyRecord).where(
            CustodyRecord.child_relation_id == mother)).one()
        assert (row.relationship, row.evidence, row.sole_custody_claimed, row.recorded_by) == (
            Relationship.DIVORCED, CustodyEvidence.BRP, True, person("ib"))
    shown = ib.page(f"/cases/{SAM_CASE}/consent").text
    assert "stelt eenhoofdig gezag te hebben" in shown
    assert "gezien bewijs: uittreksel uit de Basisregistratie Personen (BRP)" in shown
    assert "vastgelegd door Ilse Bakker" in shown


def test_facts_that_do_not_settle_custody_are_refused(running_sqlite: Running) -> None:
    running = running_sqlite
    ib = logged_in(running, "ib")
    ib.page(FORM)
    father = relation_of(running, "ouder2").id
    for form in ({"relation_id": father, "relationship": "unmarried"},
                 {"relation_id": father, "relationship": "single"},
                 {"relation_id": father, "relationship": "divorced", "court_custody": "no",
                  "sole_custody": "on", "evidence": "brp"},
                 {"relation_id": "x" * 36, "relationship": "married"},
                 {"relation_id": father, "relationship": "polygamous"}):
        assert ib.submit(FORM, form).status_code == 400, form
    with running.portal.sessions() as db:
        assert db.scalars(select(CustodyRecord)).all() == []
        # Nothing was written: no record may say a write was allowed (F6).
        assert db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "custody.record")).all() == []


def test_only_the_care_coordinator_of_the_childs_school(running_sqlite: Running) -> None:
    running = running_sqlite
    for persona, status in (("mentor", 403), ("buitenstaander", 404), ("jeugdhulp", 404),
                            ("beheerder", 404), ("ouder1", 404)):
        client = logged_in(running, persona)
        assert client.get(FORM).status_code == status, persona
    ib = logged_in(running, "ib")
    assert ib.get(f"/children/{stable_id('child', 'nobody')}/custody").status_code == 404
    with running.portal.sessions() as db:
        unknown = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "custody.view",
            AccessRecord.reason == "no_such_child")).one()
    assert unknown.child_id is None and unknown.object_id is None


def test_a_sole_custody_claim_backed_by_an_extract_takes_the_other_parents_custody(
        running: Running) -> None:
    ib = logged_in(running, "ib")
    ib.page(FORM)
    peter = logged_in(running, "ouder2")
    assert "alleen algemene informatie" not in peter.page(f"/family/cases/{SAM_CASE}").text
    mother = relation_of(running, "ouder1").id
    saved = ib.submit(FORM, {"relation_id": mother, "relationship": "divorced",
                             "court_custody": "yes", "sole_custody": "on",
                             "evidence": "gezagsregister"})
    assert saved.status_code == 200 and "zijn vastgelegd" in saved.text
    father = relation_of(running, "ouder2")
    assert father.relation is Relation.PARENT_WITHOUT_CUSTODY
    with running.portal.sessions() as db:
        derived = db.scalars(select(CustodyRecord).where(
            CustodyRecord.child_relation_id == father.id)).one()
        assert (derived.court_custody, derived.evidence, derived.sole_custody_claimed,
                derived.recorded_by) == (False, CustodyEvidence.GEZAGSREGISTER, False,
                                         person("ib"))
    # The engine follows: he is no longer asked for consent and reads general information only.
    consent_page = ib.page(f"/cases/{SAM_CASE}/consent").text
    assert re.search(r"<strong>Peter Mulder</strong>:\s*geen gezag", consent_page)
    assert "alleen algemene informatie" in peter.page(f"/family/cases/{SAM_CASE}").text
    assert peter.get(f"/child-access/{SAM}").status_code == 403


def test_a_parents_statement_alone_does_not_take_the_other_parents_custody(
        running_sqlite: Running) -> None:
    running = running_sqlite
    ib = logged_in(running, "ib")
    ib.page(FORM)
    mother = relation_of(running, "ouder1").id
    refused = ib.submit(FORM, {"relation_id": mother, "relationship": "divorced",
                               "court_custody": "yes", "sole_custody": "on",
                               "evidence": "parent_statement"})
    assert refused.status_code == 400
    assert "Gezagsregister" in refused.text
    assert relation_of(running, "ouder2").relation is Relation.PARENT_WITH_CUSTODY
    with running.portal.sessions() as db:
        assert db.scalars(select(CustodyRecord)).all() == []
        # Nothing was written, so no record says a write was allowed (F6).
        assert db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "custody.record")).all() == []
