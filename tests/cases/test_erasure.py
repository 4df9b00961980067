"""Erasing a whole case: every key it owns destroyed, nothing decrypts, no page breaks."""

from __future__ import annotations

from sqlalchemy import select

from crypto import DecryptionError
from portal.audit.models import AccessRecord
from portal.cases.models import Case
from portal.consent.models import BreakGlassGrant
from portal.demo import stable_id
from portal.documents.models import CaseDocument, DocumentErasure, DocumentVersion
from portal.meetings.models import ActionItem, Meeting
from portal.minutes.models import Minutes, MinutesDraft, MinutesSection, MinutesVersion
from portal.retention.models import HoldReason, LegalHold
from portal.vault.models import DataKey
from portal.vault.service import KeyDestroyed
from tests.documents.helpers import CASE_ID, CASE_PATH, legacy_minutes, logged_in, upload_new
from tests.harness import Running
from tests.minutes import helpers as minutes

CANARY = "KANARIE-7f3a-wisdraad"


def _ciphertexts(running: Running) -> list[bytes]:
    """Every encrypted blob the case still has a row for."""
    with running.portal.sessions() as db:
        case = db.get_one(Case, CASE_ID)
        blobs = [case.title_ct, case.purpose_ct]
        for meeting in db.scalars(select(Meeting).where(Meeting.case_id == CASE_ID)):
            blobs += [meeting.place_ct, meeting.agenda_ct]
        blobs += list(db.scalars(select(ActionItem.text_ct)
                                 .where(ActionItem.case_id == CASE_ID)))
        versions = select(MinutesVersion.id).join(
            Minutes, Minutes.id == MinutesVersion.minutes_id).where(Minutes.case_id == CASE_ID)
        for row in db.scalars(select(MinutesSection)
                              .where(MinutesSection.version_id.in_(versions))):
            blobs += [row.heading_ct, row.body_ct]
        blobs += list(db.scalars(select(MinutesDraft.content_ct).join(
            Minutes, Minutes.id == MinutesDraft.minutes_id).where(Minutes.case_id == CASE_ID)))
        blobs += list(db.scalars(select(BreakGlassGrant.reason_ct)
                                 .where(BreakGlassGrant.case_id == CASE_ID)))
        documents = select(CaseDocument.id).where(CaseDocument.case_id == CASE_ID)
        for version in db.scalars(select(DocumentVersion)
                                  .where(DocumentVersion.document_id.in_(documents))):
            blobs += [b for b in (version.title_ct, version.text_ct, version.filename_ct) if b]
    return blobs


def _readable(running: Running, blob: bytes) -> bool:
    vault = running.portal.vault
    with running.portal.sessions() as db:
        try:
            vault.key_for(db, blob)
        except (KeyDestroyed, DecryptionError, ValueError):
            return False
    return True


def test_erasing_a_case_shreds_everything_it_holds(running: Running) -> None:
    ib = logged_in(running, "ib")
    legacy_minutes(running, "ib", f"Notulen {CANARY}", CANARY)
    upload_new(running, ib, f"bijlage {CANARY}\n".encode(), "bijlage.txt")
    writer = minutes.logged_in(running, "notulist")
    saved = minutes.save(writer, minutes.section("Voortgang", f"verslag {CANARY}"))
    assert saved.status_code == 200, saved.text
    writer.submit(f"{minutes.MINUTES}/draft", minutes.form(
        minutes.section("Concept", f"concept {CANARY}")), htmx=True)
    mentor = logged_in(running, "mentor")
    grant = mentor.submit(f"{CASE_PATH}/break-glass",
                          {"reason": f"Ernstige zorgen over de veiligheid {CANARY}"})
    assert grant.status_code == 200, grant.text
    before = _ciphertexts(running)
    assert len(before) >= 10 and all(_readable(running, b) for b in before)
    with running.portal.sessions() as db:
        meeting_ids = list(db.scalars(select(Meeting.id).where(Meeting.case_id == CASE_ID)))

    assert mentor.submit(f"{CASE_PATH}/erase", {"confirm": "on"}).status_code == 403
    unconfirmed = ib.submit(f"{CASE_PATH}/erase", {})
    # Not confirmed: the case page again, the reason linked to the checkbox.
    assert unconfirmed.status_code == 400
    assert "Bevestig dat het wissen niet ongedaan kan worden gemaakt." in unconfirmed.text
    assert 'href="#erase-case-confirm"' in unconfirmed.text
    assert "<title>Fout:" in unconfirmed.text
    erased = ib.submit(f"{CASE_PATH}/erase", {"confirm": "on"})
    assert erased.status_code == 200
    assert "Deze casus is gewist" in erased.text and CANARY not in erased.text

    # Nothing decrypts any more, with the database and the keyring both at hand.
    after = _ciphertexts(running)
    assert after and not any(_readable(running, b) for b in after)
    # Nor do copies of what was there before (a backup, say): their keys are gone.
    assert not any(_readable(running, b) for b in before)
    with running.portal.sessions() as db:
        owners = set(db.scalars(select(DataKey.owner_id)))
        assert CASE_ID not in owners and not owners & set(meeting_ids)
        assert db.scalars(select(CaseDocument).where(CaseDocument.case_id == CASE_ID)).all() \
            == []
        assert len(db.scalars(select(DocumentErasure)
                              .where(DocumentErasure.case_id == CASE_ID)).all()) == 2
        case = db.get_one(Case, CASE_ID)
        assert case.erased_at is not None and case.erased_summary == \
            f"documents=2;minutes=1;meetings={len(meeting_ids)};action_items=" \
            f"{case.erased_summary.rsplit('=', 1)[1]}"
        records = db.execute(select(AccessRecord.action_code, AccessRecord.outcome)
                             .where(AccessRecord.event_type == "case.erase",
                                    AccessRecord.case_id == CASE_ID)
                             .order_by(AccessRecord.seq)).all()
        # mentor refused, ib unconfirmed, ib erasing: each on record as an E.
        assert [tuple(r) for r in records] == [("E", "denied"), ("E", "allowed"),
                                               ("E", "allowed")]

    # Every page still answers, without a decrypt attempt, and shows the erased state.
    assert ib.submit(f"{CASE_PATH}/erase", {"confirm": "on"}).status_code == 403
    for client in (ib, mentor):
        listing = client.get("/cases")
        assert listing.status_code == 200 and "Gewiste casus" in listing.text
        page = client.get(CASE_PATH)
        assert page.status_code == 200, page.text
        assert "Deze casus is gewist" in page.text and CANARY not in page.text
        for meeting_id in meeting_ids:
            for path in (f"/meetings/{meeting_id}", f"/meetings/{meeting_id}/minutes"):
                gone = client.get(path)
                assert gone.status_code == 403 and "Deze casus is gewist" in gone.text
        timeline = client.get(f"{CASE_PATH}/timeline")
        assert timeline.status_code == 200 and CANARY not in timeline.text
    # The DPO still sees that the safety exception was used, not why.
    review = logged_in(running, "fg").get("/dpo/break-glass")
    assert review.status_code == 200 and "Gewist met de casus" in review.text
    assert CANARY not in review.text
    parent = running.client()
    parent.login("ouder1")
    home = parent.get("/family")
    assert home.status_code == 200 and "Een gewiste MDO-casus" in home.text
    family = parent.get(f"/family/cases/{CASE_ID}")
    assert family.status_code == 200, family.text
    assert "Deze casus is gewist op" in family.text
    assert CANARY not in family.text


def test_a_legal_hold_stops_the_chairs_erasure_and_says_so(running: Running) -> None:
    ib = logged_in(running, "ib")
    with running.portal.sessions.begin() as db:
        db.add(LegalHold(case_id=CASE_ID, reason=HoldReason.COMPLAINT,
                         placed_at=running.clock.now, placed_by=stable_id("person", "fg")))
    refused = ib.submit(f"{CASE_PATH}/erase", {"confirm": "on"})
    assert refused.status_code == 400
    assert "Een bewaarplicht houdt deze casus vast" in refused.text
    assert "Deze casus wissen" in refused.text  # the case page, still whole
    with running.portal.sessions() as db:
        assert db.get_one(Case, CASE_ID).erased_at is None
