"""What the inspection copy leaves out, item by item, with the reason: for the FG's review.

The copy holds what the portal's rules let the requester see. The FG must know
what stays out and why before releasing it, because the right of inspection
may reach further than the family pages (a document, an internal note): each
withheld kind of item is listed per case with a count and the reason, and the
FG decides whether to provide more outside the portal. Counting needs no
decryption: it reads ids, flags and dates only. The released exports (JSON,
PDF) never carry this list; they say in general what was left out.

Also here: the meetings of a case the requester fully sees (date and status;
place and agenda stay out, they may name others).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.documents.models import CaseDocument
from portal.meetings.models import Meeting
from portal.minutes.models import Minutes, MinutesSection, MinutesStatus, MinutesVersion

MEETING_STATUS_NL = {"scheduled": "gepland", "cancelled": "afgelast"}
REVIEW_KEY = "review"  # the FG's part of the sealed copy; never in an export

REASONS = {
    "general_only": "De verzoeker krijgt alleen algemene informatie over deze casus (geen "
                    "gezag of toestemming voor de inhoud): titel, doel, verslagen en "
                    "afspraken blijven buiten de kopie.",
    "not_shared": "Niet met ouders gedeelde onderdelen van goedgekeurde verslagen: "
                  "werkaantekeningen of gegevens over anderen dan het kind. Beoordeel of "
                  "ze toch onder het inzagerecht vallen.",
    "outside_consent": "Met ouders gedeelde onderdelen die buiten de toestemming of de "
                       "positie van deze verzoeker vallen.",
    "documents": "Documenten staan niet in de kopie: ze kunnen gegevens van derden "
                 "bevatten. Beoordeel ze apart en verstrek wat onder het inzagerecht valt "
                 "buiten het portaal.",
    "unapproved": "Verslagen die nog niet zijn goedgekeurd (concepten).",
    "names": "In het toegangslog staan organisatie en rol, niet de namen van medewerkers "
             "(gegevens van derden).",
}


@dataclass(frozen=True)
class Withheld:
    case_id: str | None  # None: the copy as a whole (the access log)
    kind: str
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "kind": self.kind, "count": self.count,
                "reason": REASONS[self.kind]}


def meetings(db: Session, case_id: str) -> list[dict[str, str]]:
    """The meetings of a case the requester fully sees: when, and whether it took place."""
    return [{"starts_at": starts_at.isoformat(), "status": status.value}
            for starts_at, status in db.execute(
                select(Meeting.starts_at, Meeting.status).where(Meeting.case_id == case_id)
                .order_by(Meeting.starts_at))]


def _section_counts(db: Session, case_id: str) -> tuple[int, int, int]:
    """Sections of the newest approved versions: (all, shared with parents), and how many
    minutes have no approved version yet."""
    latest: dict[str, MinutesVersion] = {}
    unapproved = 0
    for minutes_id in db.scalars(select(Minutes.id).where(Minutes.case_id == case_id)):
        approved = db.scalars(select(MinutesVersion).where(
            MinutesVersion.minutes_id == minutes_id,
            MinutesVersion.status == MinutesStatus.APPROVED)
            .order_by(MinutesVersion.version.desc()).limit(1)).first()
        if approved is None:
            unapproved += 1
        else:
            latest[minutes_id] = approved
    flags = Counter(db.scalars(select(MinutesSection.shared_with_parents).where(
        MinutesSection.version_id.in_([v.id for v in latest.values()]))))
    return flags[True] + flags[False], flags[True], unapproved


def for_case(db: Session, case_id: str, *, full: bool, sections_shown: int) -> list[Withheld]:
    """What stays out of one case's part of the copy."""
    found: list[Withheld] = []
    total, shared, unapproved = _section_counts(db, case_id)
    documents = db.scalar(select(func.count()).select_from(CaseDocument)
                          .where(CaseDocument.case_id == case_id)) or 0
    if not full:
        found.append(Withheld(case_id, "general_only", total + documents))
    else:
        found.append(Withheld(case_id, "not_shared", total - shared))
        found.append(Withheld(case_id, "outside_consent", max(shared - sections_shown, 0)))
    found.append(Withheld(case_id, "unapproved", unapproved))
    found.append(Withheld(case_id, "documents", documents))
    return [w for w in found if w.count]


def review(withheld: list[Withheld], log_rows: int) -> dict[str, Any]:
    """The FG's list for the sealed copy."""
    items = [w.as_dict() for w in withheld]
    if log_rows:
        items.append(Withheld(None, "names", log_rows).as_dict())
    return {"withheld": items}


def for_export(content: dict[str, Any]) -> dict[str, Any]:
    """The copy as the requester receives it: without the FG's review list."""
    return {k: v for k, v in content.items() if k != REVIEW_KEY}
