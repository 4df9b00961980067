"""Corrections: proposed by a participant on an approved version, facts only; the chair
accepts (a new approved version) or rejects with a reason. All texts encrypted."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.minutes.models import CorrectionStatus, MinutesCorrection, MinutesStatus
from tests.harness import Running
from tests.minutes.helpers import (
    MINUTES,
    keys_by_heading,
    logged_in,
    save,
    section,
    sections_of,
    submit_and_approve,
    versions,
)


def corrections(running: Running) -> list[MinutesCorrection]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(MinutesCorrection)
                               .order_by(MinutesCorrection.proposed_at)))


def test_facts_are_corrected_opinions_are_not(running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Aanwezigheid", "Sam was drie keer te laat."),
         section("Inschatting", "Sam lijkt zich te vervelen.", nature="opinion"))
    keys = keys_by_heading(running, 1, ["fact", "opinion"])
    mentor = logged_in(running, "mentor")
    mentor.page(MINUTES)
    # Nothing to correct before approval.
    early = mentor.submit(f"{MINUTES}/corrections", {
        "section": keys["fact"], "text": "Twee keer.", "reason": "Telfout"})
    assert early.status_code == 400
    submit_and_approve(running, writer, 1)

    refused = mentor.submit(f"{MINUTES}/corrections", {
        "section": keys["opinion"], "text": "Sam verveelt zich niet.", "reason": "Oneens"})
    assert refused.status_code == 400
    assert "Een professionele mening kan niet worden gerectificeerd" in refused.text
    assert corrections(running) == []

    proposed = mentor.submit(f"{MINUTES}/corrections", {
        "section": keys["fact"], "text": "Sam was twee keer te laat.",
        "reason": "Telfout in de presentielijst"})
    assert proposed.status_code == 200 and "Telfout in de presentielijst" in proposed.text
    (first,) = corrections(running)
    assert first.status is CorrectionStatus.PROPOSED
    assert b"Telfout" not in first.reason_ct and b"twee keer" not in first.text_ct

    # Only the chair decides.
    assert mentor.submit(f"{MINUTES}/corrections/{first.id}/accept").status_code == 403
    chair = logged_in(running, "ib")
    page = chair.page(MINUTES)
    assert re.search(rf"/corrections/{first.id}/accept", page.text)
    accepted = chair.submit(f"{MINUTES}/corrections/{first.id}/accept")
    assert accepted.status_code == 200
    assert "Sam was twee keer te laat." in accepted.text
    v1, v2 = versions(running)
    assert v1.status is v2.status is MinutesStatus.APPROVED
    assert v2.correction_id == first.id and v2.approved_by is not None
    old, new = sections_of(running, v1.id), sections_of(running, v2.id)
    assert new[0].body_ct != old[0].body_ct and new[0].sealed_version == 2
    assert new[1].body_ct == old[1].body_ct  # the opinion is carried over untouched
    assert "Sam was drie keer te laat." in chair.page(f"{MINUTES}?version=1").text
    again = chair.submit(f"{MINUTES}/corrections/{first.id}/accept")
    assert again.status_code == 400

    mentor.page(MINUTES)
    mentor.submit(f"{MINUTES}/corrections", {
        "section": keys["fact"], "text": "Sam was nooit te laat.", "reason": "Volgens mij"})
    second = corrections(running)[1]
    chair.page(MINUTES)
    assert chair.submit(f"{MINUTES}/corrections/{second.id}/reject",
                        {"decision": ""}).status_code == 400
    rejected = chair.submit(f"{MINUTES}/corrections/{second.id}/reject",
                            {"decision": "De presentielijst zegt twee keer"})
    assert rejected.status_code == 200
    assert "De presentielijst zegt twee keer" in rejected.text
    second = corrections(running)[1]
    assert second.status is CorrectionStatus.REJECTED and second.decision_ct
    assert b"presentielijst" not in second.decision_ct
    assert len(versions(running)) == 2
