"""Consent in the running portal, over real HTTP on both engines.

A parent gives consent in the portal and the youth-care worker's access follows;
the parent withdraws and the very next request is refused; a foster parent sees
nothing; a parent without custody gets general information; the pupil of 16
manages their own consent; giving consent needs the configured assurance.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

from httpx import Response
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.cases.gate import case_facts
from portal.cases.models import CaseRole
from portal.consent.models import ConsentMethod, ConsentRecord, Restriction
from portal.demo import DEMO_CASE, stable_id
from portal.policy import Action, Allow, Deny, ItemFacts, decide
from portal.web.endpoint import _load_actor
from tests.consent._portal import build_world, org, person, your_access
from tests.harness import PortalClient, Running

SAM_CASE = stable_id("case", DEMO_CASE.key)
NOOR_CASE = stable_id("case", "noor-mdo")
JEUGDHULP = f"org:{org('jeugdhulp-noord')}"


def logged_in(running: Running, persona: str) -> PortalClient:
    client = running.client()
    client.login(persona)
    return client


def add_participant(running: Running, case_id: str, persona: str) -> None:
    chair = logged_in(running, "ib")
    page = chair.page(f"/cases/{case_id}")
    option = re.search(rf'<option value="([0-9a-f-]{{36}})">[^<]*{persona}', page.text)
    assert option, f"{persona} is not offered"
    # Confirmed up front: the consequence preview is tested in tests/cases/test_setting.py.
    chair.submit(f"/cases/{case_id}/participants",
                 {"person_id": option.group(1), "case_role": "participant", "confirm": "1"})


def reads(running: Running, persona: str, case_id: str, category: str) -> bool:
    """The policy's answer with the facts the portal loads, as the documents ask it."""
    with running.portal.sessions() as db:
        actor = _load_actor(db, person(persona))
        facts = case_facts(db, case_id, running.portal.vault, running.clock())
        assert actor is not None and facts is not None
        return decide(actor, Action.ITEM_READ, facts,
                      ItemFacts("minutes_section", "x", frozenset({category}))).allowed


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def form_body(pairs: list[tuple[str, str]]) -> bytes:
    """A form with repeated fields (checkboxes), as a browser sends it."""
    return urlencode(pairs).encode()


def give(client: PortalClient, case_id: str, categories: list[str],
         recipients: list[str]) -> Response:
    client.page(f"/family/cases/{case_id}")
    pairs = [("csrf_token", client.csrf), *(("category", c) for c in categories),
             *(("recipient", r) for r in recipients), ("valid_until", "")]
    return client.post(f"/family/cases/{case_id}/consents", content=form_body(pairs),
                       headers=FORM)


def record_signed(client: PortalClient, case_id: str, consenter: str, categories: list[str],
                  recipients: list[str], form_seen: bool = True) -> Response:
    client.page(f"/cases/{case_id}/consent")
    pairs = [("csrf_token", client.csrf), ("consenter", consenter),
             *(("category", c) for c in categories), *(("recipient", r) for r in recipients),
             ("valid_until", "")] + ([("form_seen", "on")] if form_seen else [])
    return client.post(f"/cases/{case_id}/consent", content=form_body(pairs), headers=FORM)


def test_parents_give_consent_and_the_youth_care_worker_reads_behaviour_not_health(
        running: Running) -> None:
    add_participant(running, SAM_CASE, "Youssef El Amrani")
    assert not reads(running, "jeugdhulp", SAM_CASE, "behaviour")
    worker = logged_in(running, "jeugdhulp")
    assert your_access(worker.page(f"/cases/{SAM_CASE}").text)["Gedrag"] is False

    mother, father = logged_in(running, "ouder1"), logged_in(running, "ouder2")
    response = give(mother, SAM_CASE, ["behaviour"], [JEUGDHULP])
    assert response.status_code == 200 and "Uw toestemming is vastgelegd" in response.text
    # Sam is 13: both parents with custody must consent ...
    assert not reads(running, "jeugdhulp", SAM_CASE, "behaviour")
    give(father, SAM_CASE, ["behaviour"], [JEUGDHULP])
    # ... and, now that youth care takes part, Sam too (the chair records his form).
    assert not reads(running, "jeugdhulp", SAM_CASE, "behaviour")
    chair = logged_in(running, "ib")
    assert record_signed(chair, SAM_CASE, "child", ["behaviour"], [JEUGDHULP]).status_code \
        == 200
    assert reads(running, "jeugdhulp", SAM_CASE, "behaviour")
    assert not reads(running, "jeugdhulp", SAM_CASE, "health")
    access = your_access(worker.page(f"/cases/{SAM_CASE}").text)
    assert access["Gedrag"] is True and access["Gezondheid"] is False

    with running.portal.sessions() as db:
        given = db.scalars(select(ConsentRecord).where(
            ConsentRecord.case_id == SAM_CASE,
            ConsentRecord.consenter_person_id == person("ouder1"),
            ConsentRecord.method == ConsentMethod.PORTAL)).one()
        assert given.recipients == [JEUGDHULP] and given.categories == ["behaviour"]
        assert given.acr == "urn:mdo:acr:dev" and given.recorded_by == person("ouder1")

    # Withdrawal: a confirmation page, then the very next request is refused.
    listing = mother.page(f"/family/cases/{SAM_CASE}")
    link = re.search(rf'/family/cases/{SAM_CASE}/consents/{given.id}/withdraw', listing.text)
    assert link, "the mother's own consent has a withdraw link"
    confirm = mother.page(link.group(0))
    assert "Ja, trek mijn toestemming in" in confirm.text
    done = mother.submit(link.group(0))
    assert "Uw toestemming is ingetrokken" in done.text
    assert not reads(running, "jeugdhulp", SAM_CASE, "behaviour")
    assert your_access(worker.page(f"/cases/{SAM_CASE}").text)["Gedrag"] is False
    with running.portal.sessions() as db:
        withdrawn = db.get(ConsentRecord, given.id)
        assert withdrawn is not None and withdrawn.withdrawn_by == person("ouder1")
        events = db.scalars(select(AccessRecord.event_type).where(
            AccessRecord.case_id == SAM_CASE, AccessRecord.user_id == person("ouder1"),
            AccessRecord.outcome == "allowed")).all()
    assert {"consent.give", "consent.withdraw"} <= set(events)


def test_a_parent_cannot_withdraw_someone_elses_consent(running_sqlite: Running) -> None:
    mother = logged_in(running_sqlite, "ouder1")
    fathers = stable_id("consent", f"{DEMO_CASE.key}:1")  # the demo consent of ouder2
    assert mother.get(f"/family/cases/{SAM_CASE}/consents/{fathers}/withdraw").status_code \
        == 404
    mother.page(f"/family/cases/{SAM_CASE}")
    assert mother.submit(f"/family/cases/{SAM_CASE}/consents/{fathers}/withdraw"
                         ).status_code == 403
    with running_sqlite.portal.sessions() as db:
        assert db.get(ConsentRecord, fathers).withdrawn_at is None  # type: ignore[union-attr]


def test_giving_consent_needs_the_configured_assurance(sqlite_url: str,
                                                       start_portal: object) -> None:
    running = start_portal(sqlite_url,  # type: ignore[operator]
                           consent_acr="http://eidas.europa.eu/LoA/substantial")
    mother = logged_in(running, "ouder1")
    refused = give(mother, SAM_CASE, ["health"], [f"org:{org('het-baken')}"])
    assert refused.status_code == 403
    with running.portal.sessions() as db:
        assert db.scalars(select(ConsentRecord).where(
            ConsentRecord.consenter_person_id == person("ouder1"),
            ConsentRecord.method == ConsentMethod.PORTAL)).all() == []
        denied = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "consent.give")).one()
    assert denied.outcome == "denied" and denied.reason == "insufficient_assurance"


def test_foster_parent_sees_nothing_and_strangers_get_404(running: Running) -> None:
    foster = logged_in(running, "pleegouder")
    home = foster.page("/family")
    assert "Er wordt geen informatie over dit kind met u gedeeld" in home.text
    assert "verzuim" not in home.text
    for case_id in (NOOR_CASE, SAM_CASE):
        assert foster.get(f"/family/cases/{case_id}").status_code == 404
    assert logged_in(running, "ouder1").get(f"/family/cases/{NOOR_CASE}").status_code == 404


def test_parent_without_custody_gets_general_information(running_sqlite: Running) -> None:
    father = logged_in(running_sqlite, "ouder-zonder-gezag")
    page = father.page(f"/family/cases/{NOOR_CASE}")
    assert page.status_code == 200
    assert "alleen algemene informatie" in page.text and "Jeugdhulp Noord" in page.text
    assert "regelmatig naar school" not in page.text  # the purpose is not general information
    assert "Toestemming geven" not in page.text
    refused = give(father, NOOR_CASE, ["behaviour"], [f"org:{org('het-baken')}"])
    assert refused.status_code == 403


def test_the_pupil_of_16_decides_alone(running_sqlite: Running) -> None:
    running = running_sqlite
    assert reads(running, "smw", NOOR_CASE, "behaviour")
    noor = logged_in(running, "leerling16")
    page = noor.page(f"/family/cases/{NOOR_CASE}")
    assert "regelmatig naar school" in page.text and "Toestemming geven" in page.text
    own = stable_id("consent", "noor-mdo:2")
    noor.submit(f"/family/cases/{NOOR_CASE}/consents/{own}/withdraw")
    assert not reads(running, "smw", NOOR_CASE, "behaviour")
    # She lets her foster parent see school progress: only that, only her.
    give(noor, NOOR_CASE, ["school_progress"], [f"adult:{person('pleegouder')}"])
    foster = logged_in(running, "pleegouder")
    assert foster.get(f"/family/cases/{NOOR_CASE}").status_code == 200
    with running.portal.sessions() as db:
        actor = _load_actor(db, person("pleegouder"))
        facts = case_facts(db, NOOR_CASE, running.portal.vault, running.clock())
        assert actor is not None and facts is not None
        shared = ItemFacts("minutes_section", "x", frozenset({"school_progress"}), True)
        health = ItemFacts("minutes_section", "y", frozenset({"health"}), True)
        assert isinstance(decide(actor, Action.ITEM_READ, facts, shared), Allow)
        assert isinstance(decide(actor, Action.ITEM_READ, facts, health), Deny)


def test_the_chair_records_a_signed_form(running_sqlite: Running) -> None:
    chair = logged_in(running_sqlite, "ib")
    het_baken = [f"org:{org('het-baken')}"]
    missing_form = record_signed(chair, SAM_CASE, person("ouder1"), ["health"], het_baken,
                                 form_seen=False)
    assert missing_form.status_code == 400
    assert "Bevestig dat u het ondertekende formulier hebt gezien" in missing_form.text
    foster = record_signed(chair, SAM_CASE, person("pleegouder"), ["health"], het_baken)
    assert foster.status_code == 400  # not someone who can consent for Sam
    assert record_signed(chair, SAM_CASE, person("ouder1"), ["health"], het_baken
                         ).status_code == 200
    with running_sqlite.portal.sessions() as db:
        row = db.scalars(select(ConsentRecord).where(
            ConsentRecord.case_id == SAM_CASE, ConsentRecord.recorded_by == person("ib"))
            .order_by(ConsentRecord.given_at.desc())).first()
        assert row is not None and row.method is ConsentMethod.SIGNED_FORM
        assert row.categories == ["health"] and row.consenter_person_id == person("ouder1")
    mentor = logged_in(running_sqlite, "mentor")
    assert record_signed(mentor, SAM_CASE, person("ouder1"), ["health"], het_baken
                         ).status_code == 403


def test_the_chair_is_told_ahead_of_a_birthday_that_new_consent_is_needed(
        running_sqlite: Running) -> None:
    running = running_sqlite
    today = running.clock().date()
    # Turns 12 in 20 days: in youth care the child then has to consent too.
    birthdate = today.replace(year=today.year - 12) + timedelta(days=20)
    world = build_world(
        running, birthdate=birthdate,
        adults=[{"id": "A", "relation": "parent", "custody": True}],
        consents=[{"by": "A", "categories": ["behaviour"], "recipients": ["org:X"],
                   "valid_from": (today - timedelta(days=10)).isoformat()}],
        participants=[("ib", CaseRole.CHAIR), ("jeugdhulp", CaseRole.PARTICIPANT)],
        recipient_of={"org:X": JEUGDHULP})
    chair = logged_in(running, "ib")
    assert "Nieuwe toestemming nodig" in chair.page(f"/cases/{world.case_id}").text
    worker = logged_in(running, "jeugdhulp")
    assert "Nieuwe toestemming nodig" not in worker.page(f"/cases/{world.case_id}").text
    assert reads(running, "jeugdhulp", world.case_id, "behaviour")
    running.clock.advance(days=21)
    assert not reads(running, "jeugdhulp", world.case_id, "behaviour")


def test_a_restriction_in_force_stops_every_read_until_lifted(running_sqlite: Running) -> None:
    running = running_sqlite
    assert reads(running, "mentor", SAM_CASE, "behaviour")  # the demo consents cover it
    with running.portal.sessions() as db:
        restriction = Restriction(case_id=SAM_CASE, placed_by=person("fg"),
                                  placed_at=running.clock())
        db.add(restriction)
        db.commit()
        restriction_id = restriction.id
    assert not reads(running, "mentor", SAM_CASE, "behaviour")
    assert not reads(running, "ib", SAM_CASE, "behaviour")
    with running.portal.sessions() as db:
        lifted = db.get_one(Restriction, restriction_id)
        lifted.lifted_at, lifted.lifted_by = running.clock(), person("fg")
        db.commit()
    assert reads(running, "mentor", SAM_CASE, "behaviour")
