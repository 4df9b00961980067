"""Legal grounds in a running portal: scoped, justified, accountable (issue 12, finding 1)."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.cases.models import Case, LegalBasis
from portal.consent.models import CaseGround, GroundEvent, GroundTask, OrganisationGroundRole
from portal.demo import DEMO_CASE, stable_id
from portal.mail.models import OutboxMessage
from portal.people.models import Membership, Person, PersonKind, Role
from tests.consent._portal import person
from tests.consent.test_portal import FORM, add_participant, form_body, logged_in, reads
from tests.harness import PortalClient, Running

SAM_CASE = stable_id("case", DEMO_CASE.key)
WHY = "Sam vertelde over geweld thuis; de zorgcoördinator moet de gezondheid kunnen inzien."


def invoke(client: PortalClient, basis: str, recipients: list[str], categories: list[str],
           justification: str = WHY, case_id: str = SAM_CASE, **extra: str) -> httpx.Response:
    client.page(f"/cases/{case_id}/grounds")
    pairs = [("csrf_token", client.csrf), ("basis", basis),
             *(("recipients", r) for r in recipients), *(("categories", c) for c in categories),
             ("justification", justification), *extra.items()]
    return client.post(f"/cases/{case_id}/grounds", content=form_body(pairs), headers=FORM)


def test_a_ground_opens_its_scope_only_and_reaches_the_dpo(running: Running) -> None:
    ib = person("ib")
    assert not reads(running, "ib", SAM_CASE, "health")
    chair = logged_in(running, "ib")
    response = invoke(chair, "vital_interest", [f"person:{ib}"], ["health"])
    assert response.status_code == 200 and str(response.url).endswith(f"/{SAM_CASE}/grounds")
    assert WHY in response.text and "Wachten op beoordeling door de FG" in response.text
    # Inside the scope: the chair reads health without consent ...
    assert reads(running, "ib", SAM_CASE, "health")
    # ... outside it nobody reads more than consent allows: the mentor's read of issue 12.
    assert not reads(running, "mentor", SAM_CASE, "health")
    assert not reads(running, "notulist", SAM_CASE, "health")
    assert not reads(running, "ib", SAM_CASE, "family_situation")

    with running.portal.sessions() as db:
        ground = db.scalars(select(CaseGround)).one()
        assert ground.justification_ct is not None and WHY.encode() not in ground.justification_ct
        mails = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "ground.dpo")).all()
        events = db.scalars(select(GroundEvent.kind)).all()
        invoked = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "ground.invoke")).one()
    assert ground.needs_review and ground.reviewed_at is None
    # The demo's schools have no FG of their own: the portal's FG is told, content-free.
    assert [m.recipient for m in mails] == ["fg@demo.mdo-portaal.test"]
    assert "Sam" not in mails[0].body + mails[0].subject and "geweld" not in mails[0].body
    assert [e.value for e in events] == ["invoked"]
    assert (invoked.outcome, invoked.user_id, invoked.object_id) == ("allowed", ib, ground.id)

    dpo = logged_in(running, "fg")
    queue = dpo.page("/dpo/grounds")
    assert queue.status_code == 200 and "Vitaal belang" in queue.text
    assert WHY not in queue.text  # the queue is content-free
    dpo.submit(f"/dpo/grounds/{ground.id}/reviewed")
    assert "beoordeeld op" in dpo.page("/dpo/grounds").text

    # Ending it takes a reason and counts from today.
    short = chair.submit(f"/cases/{SAM_CASE}/grounds/{ground.id}/end", {"reason": "klaar"})
    assert short.status_code == 400 and "minstens een zin" in short.text
    assert reads(running, "ib", SAM_CASE, "health")
    ended = chair.submit(f"/cases/{SAM_CASE}/grounds/{ground.id}/end",
                         {"reason": "De melding is gedaan; verder op basis van toestemming."})
    assert ended.status_code == 200
    assert not reads(running, "ib", SAM_CASE, "health")
    with running.portal.sessions() as db:
        kinds = sorted(e.value for e in db.scalars(select(GroundEvent.kind)))
    assert kinds == ["ended", "invoked", "reviewed"]
    # Every invocation, review and end is on the case timeline, without the reasons.
    timeline = logged_in(running, "mentor").page(f"/cases/{SAM_CASE}/timeline").text
    for change in ("ingeroepen", "beoordeeld door de FG", "beëindigd"):
        assert f"Wettelijke grondslag {change}:" in timeline
    assert WHY not in timeline and "De melding is gedaan" not in timeline


def test_only_the_organisations_roles_invoke_and_bad_input_names_the_field(
        running_sqlite: Running) -> None:
    mentor = logged_in(running_sqlite, "mentor")
    refused = invoke(mentor, "meldrecht_veilig_thuis", [f"person:{person('mentor')}"],
                     ["health"])
    assert refused.status_code == 403
    assert not reads(running_sqlite, "mentor", SAM_CASE, "health")
    outsider = logged_in(running_sqlite, "buitenstaander")
    assert invoke(outsider, "ots", ["role:youth_protector"], ["health"]).status_code == 404

    chair = logged_in(running_sqlite, "ib")
    bad = invoke(chair, "consent", [], ["attendance"], justification="kort",
                 valid_until="2020-01-01")
    assert bad.status_code == 400
    for message in ("Kies de wettelijke grondslag", "Kies wie de gegevens",
                    "Kies de soorten gegevens", "Schrijf op waarom"):
        assert message in bad.text
    kept = invoke(chair, "ots", [], ["health"], justification=WHY)
    assert kept.status_code == 400 and WHY in kept.text  # what was typed stays
    with running_sqlite.portal.sessions() as db:
        assert db.scalars(select(CaseGround)).all() == []
        denied = db.scalars(select(AccessRecord.reason).where(
            AccessRecord.event_type == "ground.invoke", AccessRecord.outcome == "denied")).all()
    assert "ground_role_not_allowed" in denied


def test_the_duty_becomes_a_task_the_chair_marks_done(running_sqlite: Running) -> None:
    chair = logged_in(running_sqlite, "ib")
    invoke(chair, "tlv_or_extra_support", [f"person:{person('ib')}"], ["school_progress"])
    with running_sqlite.portal.sessions() as db:
        task = db.scalars(select(GroundTask)).one()
        ground = db.scalars(select(CaseGround)).one()
    assert (task.duty.value, task.owner_id, task.done_at) == ("inform", person("ib"), None)
    assert not ground.needs_review  # a TLV request is not reported to the DPO
    page = chair.page(f"/cases/{SAM_CASE}/grounds")
    assert "Informeer de ouders of jongere" in page.text
    empty = chair.submit(f"/cases/{SAM_CASE}/grounds/tasks/{task.id}/done", {"note": " "})
    assert empty.status_code == 400 and "Vertel hoe" in empty.text
    note = "Ouders op 3 december gebeld en de aanvraag uitgelegd."
    done = chair.submit(f"/cases/{SAM_CASE}/grounds/tasks/{task.id}/done", {"note": note})
    assert done.status_code == 200 and note in done.text
    # The mentor is no chair and may not invoke a ground: the page is not theirs,
    # and their case page does not offer a link to it (the chair's does).
    mentor = logged_in(running_sqlite, "mentor")
    assert mentor.get(f"/cases/{SAM_CASE}/grounds").status_code == 403
    assert f"/cases/{SAM_CASE}/grounds" not in mentor.page(f"/cases/{SAM_CASE}").text
    assert f"/cases/{SAM_CASE}/grounds" in chair.page(f"/cases/{SAM_CASE}").text
    with running_sqlite.portal.sessions() as db:
        stored = db.get_one(GroundTask, task.id)
    assert stored.done_at is not None and note.encode() not in (stored.note_ct or b"")


def test_a_mentor_who_picks_a_ground_gets_a_consent_case_and_no_wider_read(
        running_sqlite: Running) -> None:
    """Issue 12: a mentor picked a ground from the dropdown and read health with no consent."""
    mentor = logged_in(running_sqlite, "mentor")
    form = mentor.page("/cases/new")
    child_id = re.search(r'<option value="([0-9a-f-]{36})"[^>]*>Sam Mulder',
                         form.text).group(1)  # type: ignore[union-attr]
    created = mentor.submit("/cases", {"child_id": child_id, "title": "Zorgen over Sam",
                                       "purpose": "Hulpvraag verduidelijken",
                                       "legal_basis": "meldrecht_veilig_thuis"})
    # The case's own grounds page, where a mentor (by default) may not invoke one.
    assert created.status_code == 200 and "Deze grondslag inroepen" not in created.text
    case_id = re.search(r"/cases/([0-9a-f-]{36})/grounds\?basis=meldrecht_veilig_thuis",
                        str(created.url)).group(1)  # type: ignore[union-attr]
    with running_sqlite.portal.sessions() as db:
        assert db.get_one(Case, case_id).legal_basis is LegalBasis.CONSENT
    for category in ("health", "family_situation"):
        assert not reads(running_sqlite, "mentor", case_id, category)
    refused = invoke(mentor, "meldrecht_veilig_thuis", [f"person:{person('mentor')}"],
                     ["health"], case_id=case_id)
    assert refused.status_code == 403
    chair = logged_in(running_sqlite, "ib")
    preselected = chair.page(f"/cases/{SAM_CASE}/grounds?basis=ots")
    assert '<option value="ots" selected>' in preselected.text


def test_a_ground_is_changed_with_a_reason_and_a_record(running_sqlite: Running) -> None:
    chair = logged_in(running_sqlite, "ib")
    me = f"person:{person('ib')}"
    invoke(chair, "meldrecht_veilig_thuis", [me], ["health"])
    assert not reads(running_sqlite, "ib", SAM_CASE, "family_situation")
    with running_sqlite.portal.sessions() as db:
        ground = db.scalars(select(CaseGround)).one()
    url = f"/cases/{SAM_CASE}/grounds/{ground.id}/change"
    page = chair.page(f"/cases/{SAM_CASE}/grounds")
    assert "De reikwijdte wijzigen" in page.text

    def change(reason: str, basis: str = "meldrecht_veilig_thuis") -> httpx.Response:
        pairs = [("csrf_token", chair.csrf), ("basis", basis), ("recipients", me),
                 ("categories", "health"), ("categories", "family_situation"),
                 ("justification", reason)]
        return chair.post(url, content=form_body(pairs), headers=FORM)

    assert change("meer").status_code == 400
    other = change("Voor de melding is ook de gezinssituatie nodig.", basis="vital_interest")
    assert other.status_code == 400 and "Beëindig deze grondslag" in other.text
    assert not reads(running_sqlite, "ib", SAM_CASE, "family_situation")
    assert change("Voor de melding is ook de gezinssituatie nodig.").status_code == 200
    assert reads(running_sqlite, "ib", SAM_CASE, "family_situation")
    assert not reads(running_sqlite, "mentor", SAM_CASE, "family_situation")
    with running_sqlite.portal.sessions() as db:
        kinds = sorted(k.value for k in db.scalars(select(GroundEvent.kind)))
        reason_ct = db.scalars(select(GroundEvent.reason_ct).where(
            GroundEvent.kind == "changed")).one()
    assert kinds == ["changed", "invoked"]
    assert reason_ct is not None and b"gezinssituatie" not in reason_ct
    assert "Wettelijke grondslag gewijzigd:" in chair.page(f"/cases/{SAM_CASE}/timeline").text


def test_the_organisation_decides_which_roles_invoke(running_sqlite: Running) -> None:
    with running_sqlite.portal.sessions() as db:
        db.add(OrganisationGroundRole(organisation_id=stable_id("org", "het-baken"),
                                      role="mentor"))
        db.commit()
    chair = logged_in(running_sqlite, "ib")
    assert invoke(chair, "ots", ["role:youth_protector"], ["health"]).status_code == 403
    mentor = logged_in(running_sqlite, "mentor")
    # Allowed by the organisation: the mentor's case page now offers the grounds page.
    assert f"/cases/{SAM_CASE}/grounds" in mentor.page(f"/cases/{SAM_CASE}").text
    allowed = invoke(mentor, "meldrecht_veilig_thuis", [f"person:{person('mentor')}"],
                     ["health"])
    # The mentor sees the ground they invoked, and their own duty, not the chair's view.
    assert allowed.status_code == 200 and WHY in allowed.text
    assert "Informeer de ouders of jongere" in allowed.text
    assert reads(running_sqlite, "mentor", SAM_CASE, "health")
    with running_sqlite.portal.sessions() as db:
        task = db.scalars(select(GroundTask)).one()
    done = mentor.submit(f"/cases/{SAM_CASE}/grounds/tasks/{task.id}/done",
                         {"note": "Moeder gebeld."})
    assert done.status_code == 200 and "Moeder gebeld." in done.text


def test_after_closing_the_duties_stay_visible_but_no_ground_is_invoked(
        running_sqlite: Running) -> None:
    chair = logged_in(running_sqlite, "ib")
    invoke(chair, "tlv_or_extra_support", [f"person:{person('ib')}"], ["school_progress"])
    chair.page(f"/cases/{SAM_CASE}")
    assert chair.submit(f"/cases/{SAM_CASE}/close", {"confirm": "1"}).status_code == 200
    page = chair.page(f"/cases/{SAM_CASE}/grounds")
    assert page.status_code == 200 and "Informeer de ouders of jongere" in page.text
    assert "Deze grondslag inroepen" not in page.text
    assert invoke(chair, "ots", ["role:youth_protector"], ["health"]).status_code == 403
    with running_sqlite.portal.sessions() as db:
        task = db.scalars(select(GroundTask)).one()
    done = chair.submit(f"/cases/{SAM_CASE}/grounds/tasks/{task.id}/done",
                        {"note": "Ouders na de sluiting nog gebeld."})
    assert done.status_code == 200


def test_the_fg_of_every_organisation_in_the_case_is_told(running_sqlite: Running) -> None:
    """Where the case's organisations have an FG of their own, each is told, and only they."""
    now = running_sqlite.clock()
    fgs = {"het-baken": "fg-baken@school.test", "jeugdhulp-noord": "fg-jeugd@zorg.test",
           "het-lichtpunt": "fg-lichtpunt@school.test"}
    with running_sqlite.portal.sessions() as db:
        for slug, email in fgs.items():
            fg = Person(kind=PersonKind.PROFESSIONAL, display_name=f"FG {slug}", email=email,
                        active=True, created_at=now)
            db.add(fg)
            db.flush()
            db.add(Membership(person_id=fg.id, organisation_id=stable_id("org", slug),
                              role=Role.DPO))
        db.commit()
    add_participant(running_sqlite, SAM_CASE, "Youssef El Amrani")
    chair = logged_in(running_sqlite, "ib")
    invoke(chair, "safety_exception", [f"person:{person('ib')}"], ["health"])
    with running_sqlite.portal.sessions() as db:
        told = sorted(db.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.kind == "ground.dpo")))
    assert told == ["fg-baken@school.test", "fg-jeugd@zorg.test"]
