"""Carrying out a request from its page: a restriction placed and lifted through the
request, an objection that restricts the case until the FG decides, and an erasure
decided with its legal check (kept under a duty, refused under a hold, or shredded)."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.cases.models import Case
from portal.consent.models import Restriction
from portal.retention.models import LegalHold
from portal.rights.models import RestrictionGround, RestrictionNote
from tests.consent.test_portal import logged_in, reads
from tests.harness import PortalClient, Running
from tests.requests.test_desk import SAM, SAM_CASE, file, records, request_id_of

WHY = "De ouders betwisten dat het gedragsverslag gedeeld mag worden met de jeugdhulp."
LIFT = "Het geschil over het verslag is met de ouders opgelost; verwerking mag weer."
KEPT = "De jeugdhulpaanbieder moet het dossier twintig jaar bewaren volgens de Jeugdwet."
ERASE = "Geen bewaarplicht: de school heeft de gegevens niet meer nodig voor de begeleiding."


def _filed(running: Running, kind: str) -> str:
    mother = logged_in(running, "ouder1")
    return request_id_of(file(mother, SAM, kind, case=SAM_CASE,
                              description="Graag dit verzoek behandelen."))


def _notes(running: Running, request_id: str) -> list[RestrictionNote]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(RestrictionNote).where(
            RestrictionNote.source_id == request_id)))


def _in_force(running: Running) -> list[Restriction]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(Restriction).where(Restriction.case_id == SAM_CASE,
                                                         Restriction.lifted_at.is_(None))))


def test_a_restriction_is_placed_and_lifted_through_the_request(running: Running) -> None:
    request_id = _filed(running, "restriction")
    assert reads(running, "mentor", SAM_CASE, "behaviour")
    fg = logged_in(running, "fg")
    page = fg.page(f"/dpo/requests/{request_id}")
    assert "Het verzoek uitvoeren" in page.text and f"/dpo/requests/{request_id}/restrict" \
        in page.text
    short = fg.submit(f"/dpo/requests/{request_id}/restrict", {"case": SAM_CASE, "reason": "x"})
    assert short.status_code == 400 and 'aria-invalid="true"' in short.text
    placed = fg.submit(f"/dpo/requests/{request_id}/restrict",
                       {"case": SAM_CASE, "reason": WHY})
    assert placed.status_code == 200, placed.text
    assert "De verwerking van de casus is beperkt" in placed.text
    assert "Beperking ingesteld op de casus van" in placed.text  # the request's history
    assert [n.ground for n in _notes(running, request_id)] == [RestrictionGround.FG]
    # Reads stop, and everyone who would otherwise read sees why.
    assert not reads(running, "mentor", SAM_CASE, "behaviour")
    assert WHY in logged_in(running, "ib").page(f"/cases/{SAM_CASE}").text

    lifted = fg.submit(f"/dpo/requests/{request_id}/unrestrict",
                       {"case": SAM_CASE, "lift_reason": LIFT})
    assert lifted.status_code == 200 and "De beperking is opgeheven." in lifted.text
    assert reads(running, "mentor", SAM_CASE, "behaviour")
    assert not _in_force(running)
    for event in ("request.restrict", "request.unrestrict", "rights.restriction.place",
                  "rights.restriction.lift"):
        assert any(r.outcome == "allowed" and r.case_id == SAM_CASE
                   for r in records(running, event)), event


def test_only_a_restriction_or_objection_request_restricts(running_sqlite: Running) -> None:
    running = running_sqlite
    request_id = _filed(running, "inspection")
    fg = logged_in(running, "fg")
    assert "/restrict" not in fg.page(f"/dpo/requests/{request_id}").text
    refused = fg.submit(f"/dpo/requests/{request_id}/restrict", {"case": SAM_CASE, "reason": WHY})
    assert refused.status_code == 400 and not _in_force(running)
    # Nor can a professional act for the FG.
    mentor = logged_in(running, "mentor")
    assert mentor.submit(f"/dpo/requests/{request_id}/restrict",
                         {"case": SAM_CASE, "reason": WHY}).status_code in (403, 404)


def _decide(fg: PortalClient, request_id: str, outcome: str) -> None:
    fg.page(f"/dpo/requests/{request_id}")
    decided = fg.submit(f"/dpo/requests/{request_id}/decision",
                        {"outcome": outcome, "reasons": "Na overleg met de school besloten."})
    assert decided.status_code == 200, decided.text


def test_an_objection_restricts_the_case_until_the_fg_decides(running_sqlite: Running) -> None:
    running = running_sqlite
    refused_id = _filed(running, "objection")
    assert [n.ground for n in _notes(running, refused_id)] == [RestrictionGround.OBJECTION]
    assert not reads(running, "mentor", SAM_CASE, "behaviour")
    fg = logged_in(running, "fg")
    # It ends with the decision, not by lifting it by hand.
    notice = fg.submit(f"/dpo/requests/{refused_id}/unrestrict",
                       {"case": SAM_CASE, "lift_reason": LIFT})
    assert notice.status_code == 400 and "bezwaar" in notice.text
    _decide(fg, refused_id, "refused")
    assert not _in_force(running) and reads(running, "mentor", SAM_CASE, "behaviour")

    upheld_id = _filed(running, "objection")
    _decide(fg, upheld_id, "granted")
    assert [n.ground for n in _notes(running, upheld_id)] == \
        [RestrictionGround.UPHELD_OBJECTION]
    assert len(_in_force(running)) == 1
    assert not reads(running, "mentor", SAM_CASE, "behaviour")


def _erased(running: Running) -> bool:
    with running.portal.sessions() as db:
        return db.get_one(Case, SAM_CASE).erased_at is not None


def test_erasure_is_decided_with_its_legal_check(running: Running) -> None:
    request_id = _filed(running, "erasure")
    fg = logged_in(running, "fg")
    page = fg.page(f"/dpo/requests/{request_id}")
    assert "Geldt er een wettelijke bewaarplicht?" in page.text
    missing = fg.submit(f"/dpo/requests/{request_id}/erase", {"case": SAM_CASE})
    assert missing.status_code == 400 and missing.text.count('aria-invalid="true"') == 2

    kept = fg.submit(f"/dpo/requests/{request_id}/erase",
                     {"case": SAM_CASE, "duty": "jeugdwet", "explanation": KEPT})
    assert kept.status_code == 200 and "bewaard blijft" in kept.text
    assert "niet gewist, wettelijke bewaarplicht (jeugdwet)" in kept.text
    assert not _erased(running)

    unconfirmed = fg.submit(f"/dpo/requests/{request_id}/erase",
                            {"case": SAM_CASE, "duty": "none", "explanation": ERASE})
    assert unconfirmed.status_code == 400 and not _erased(running)
    held = fg.submit("/dpo/retention/holds", {"case_id": SAM_CASE, "reason": "litigation"})
    assert held.status_code == 200
    blocked = fg.submit(f"/dpo/requests/{request_id}/erase", {
        "case": SAM_CASE, "duty": "none", "explanation": ERASE, "confirm": "yes"})
    assert blocked.status_code == 400 and "juridische blokkade" in blocked.text
    assert not _erased(running)
    with running.portal.sessions() as db:
        hold_id = db.scalars(select(LegalHold.id)).one()
    fg.page("/dpo/retention")
    assert fg.submit(f"/dpo/retention/holds/{hold_id}/lift",
                     {"lift_reason": "ended"}).status_code == 200

    erased = fg.submit(f"/dpo/requests/{request_id}/erase", {
        "case": SAM_CASE, "duty": "none", "explanation": ERASE, "confirm": "yes"})
    assert erased.status_code == 200, erased.text
    assert "De casus is gewist" in erased.text and "Deze casus is gewist." in erased.text
    assert _erased(running)
    # The access log keeps the fact, tied to the request, before the shredding.
    erasures = [r for r in records(running, "case.erase") if r.case_id == SAM_CASE]
    assert [(r.outcome, r.object_id) for r in erasures] == [("allowed", request_id)]
    with running.portal.sessions() as db:
        case = db.get_one(Case, SAM_CASE)
        assert case.title_ct == b"" and case.erased_by is not None
        # Nothing in the log holds the explanation in plaintext.
        assert not db.scalar(select(AccessRecord.id).where(
            AccessRecord.reason.contains("bewaarplicht")))
