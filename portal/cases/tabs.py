"""The case page's tabs: each loads the case once (``view_case``, the page's read on
record) and then only what its own part shows, reusing the case's facts.

Overzicht (participants and what needs attention), Overleggen (meetings and the
state of their minutes), Verslagen en documenten, Actiepunten. Consent and
timeline are pages of their own packages that show the same header.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.cases import participants, service
from portal.cases.service import CaseView
from portal.documents.case_documents import CaseDocuments, case_documents
from portal.meetings.case_agenda import CaseAgenda, case_agenda
from portal.meetings.models import MeetingStatus
from portal.meetings.service import MeetingView
from portal.minutes.states import MinutesState, minutes_states
from portal.policy import Actor
from portal.rights.restriction import RestrictionNotice, restriction_notices
from portal.vault.service import Vault

_NO_AGENDA = CaseAgenda((), (), False, False, ())

# Minutes somebody still has to act on, as the overview counts them.
_WAITING = frozenset({MinutesState.TO_WRITE, MinutesState.DRAFT, MinutesState.WAITING})


@dataclass(frozen=True)
class Attention:
    """"Wat aandacht vraagt": what the overview points to, each a link to its tab."""

    next_meeting: MeetingView | None
    minutes_to_finish: int  # meetings whose minutes are to write, a draft, or to approve
    minutes_to_approve: int
    open_items: int
    overdue_items: int
    consent_missing: int  # people who still have to consent

    @property
    def anything(self) -> bool:
        return bool(self.next_meeting or self.minutes_to_finish or self.open_items
                    or self.consent_missing)


@dataclass(frozen=True)
class CaseTab:
    """One tab of the case page: the case (header) and what that tab shows."""

    case: CaseView
    agenda: CaseAgenda = _NO_AGENDA
    minutes: dict[str, MinutesState] = field(default_factory=dict)
    documents: CaseDocuments | None = None
    attention: Attention | None = None
    candidates: Sequence[tuple[str, str, str | None]] = ()
    restrictions: Sequence[RestrictionNotice] = ()


def header(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
           case_id: str, sections: Collection[str] = ()) -> CaseView:
    """The case as the header shows it (the read is decided and recorded), with the
    tab's ``sections`` decided and recorded in the same insert."""
    return service.view_case(db, vault, who, actor, now, case_id, sections=sections)


def _restrictions(db: Session, vault: Vault, who: Requester, now: datetime,
                  case: CaseView) -> list[RestrictionNotice]:
    facts = case.facts
    if facts is None or not (facts.restricted or facts.restricted_items):
        return []
    return restriction_notices(db, vault, who, now, facts)


def _agenda(db: Session, vault: Vault, who: Requester | None, actor: Actor, now: datetime,
            case: CaseView) -> CaseAgenda:
    if case.erasure is not None:
        return _NO_AGENDA
    return case_agenda(db, vault, actor, now, case.id, who, fragment=False, facts=case.facts)


def _states(db: Session, agenda: CaseAgenda, now: datetime) -> dict[str, MinutesState]:
    return minutes_states(db, [(m.id, m.starts_at) for m in agenda.meetings
                               if m.status is not MeetingStatus.CANCELLED], now)


def overview(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
             case_id: str) -> CaseTab:
    case = header(db, vault, who, actor, now, case_id, sections=("agenda",))
    agenda = _agenda(db, vault, who, actor, now, case)
    states = _states(db, agenda, now)
    upcoming = [m for m in agenda.meetings
                if m.status is not MeetingStatus.CANCELLED and m.starts_at >= now]
    open_items = [i for i in agenda.action_items if i.status.value == "open"]
    attention = Attention(
        next_meeting=upcoming[0] if upcoming else None,
        minutes_to_finish=sum(1 for s in states.values() if s in _WAITING),
        minutes_to_approve=sum(1 for s in states.values() if s is MinutesState.WAITING),
        open_items=len(open_items),
        overdue_items=sum(1 for i in open_items if i.overdue),
        consent_missing=len(case.consent.outstanding) if case.consent else 0)
    candidates = participants.selectable_people(db, (p.person_id for p in case.participants)) \
        if case.can_manage else []
    return CaseTab(case=case, agenda=agenda, minutes=states, attention=attention,
                   candidates=candidates,
                   restrictions=_restrictions(db, vault, who, now, case))


def meetings_tab(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 case_id: str) -> CaseTab:
    case = header(db, vault, who, actor, now, case_id)
    # The meetings tab shows no action items: none is decrypted for it.
    agenda = _agenda(db, vault, None, actor, now, case)
    return CaseTab(case=case, agenda=agenda, minutes=_states(db, agenda, now))


def actions_tab(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                case_id: str) -> CaseTab:
    case = header(db, vault, who, actor, now, case_id, sections=("agenda",))
    return CaseTab(case=case, agenda=_agenda(db, vault, who, actor, now, case))


def documents_tab(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  case_id: str) -> CaseTab:
    case = header(db, vault, who, actor, now, case_id, sections=("documents",))
    if case.erasure is not None:
        return CaseTab(case=case)
    return CaseTab(case=case, documents=case_documents(
        db, vault, who, actor, now, case.id, facts=case.facts))
