"""Writing access records: in the request's transaction, before any plaintext.

``record`` takes the record into the request's transaction before the caller
decrypts anything; it is chained and inserted when the transaction commits
(``portal.audit.ledger``), and a record that cannot be written fails that
commit, so nothing the request rendered is sent: no record, no data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from portal.audit.encoding import join_categories
from portal.audit.ledger import append, append_all
from portal.audit.models import AccessRecord
from portal.ops.logs import request_id as current_request_id
from portal.policy import Decision


@dataclass(frozen=True)
class Requester:
    """Who is asking and from where, as the access record names them."""

    user_id: str | None
    user_name: str | None
    user_role: str | None
    organisation_id: str | None
    session_ref: str | None
    client_address: str | None
    on_behalf_of_id: str | None = None


@dataclass(frozen=True)
class Checks:
    """The four checks of the Dutch extension of NEN 7513, each true or false."""

    authorised: bool
    relation_to_case: bool
    consent_present: bool
    emergency_procedure: bool


ACTION_CODES = {"create": "C", "read": "R", "update": "U", "delete": "D", "execute": "E"}
SOURCE = "mdo-portal"
# Purposes of use (mapped to HL7 v3 PurposeOfUse in the FHIR export).
PURPOSES = frozenset({"care_coordination", "emergency", "audit", "own_data",
                      "administration", "authentication"})
# Deny reasons that mean "this person has nothing to do with the case".
_NO_RELATION = frozenset({"not_a_participant", "no_such_case"})


def _cut(text: str | None, limit: int) -> str | None:
    # Free text is cut to its column rather than refused: a long search term
    # must not make the record (and so the page) fail.
    return text[:limit] if text is not None else None


def _purpose(event_type: str, break_glass: bool) -> str:
    if break_glass:
        return "emergency"
    family = event_type.split(".", 1)[0]
    return {"auth": "authentication", "admin": "administration",
            "audit": "audit"}.get(family, "care_coordination")


@dataclass(frozen=True)
class BasisFacts:
    """What a decision's basis string says about the legal basis it used."""

    legal_ground: str | None = None
    consent_id: str | None = None
    break_glass_id: str | None = None
    consent: bool = False
    related: bool = False


def read_basis(basis: str | None) -> BasisFacts:
    """Parse the policy's basis (``participant:chair;basis:consent``, ``consent:<ids>``,
    ``ground:<ground>;duty:…``, ``break_glass:<grant id>``, ``family:<standing>``)."""
    ground = consent_id = grant = None
    consent = related = False
    for part in (basis or "").split(";"):
        kind, _, value = part.partition(":")
        if kind in ("participant", "family"):
            related = True
        elif kind == "basis":
            consent = consent or value == "consent"
            ground = ground or (value if value != "consent" else None)
        elif kind == "ground":
            ground = value
        elif kind == "consent":
            consent = True
            ids = [i for i in value.split(",") if i and not i.startswith("+")]
            consent_id = ids[0] if ids else None
        elif kind == "break_glass":
            grant = value or None
    return BasisFacts(legal_ground=ground, consent_id=consent_id, break_glass_id=grant,
                      consent=consent, related=related)


def derive_checks(outcome: str, facts: BasisFacts, reason: str | None, case_id: str | None,
                  emergency: bool) -> Checks:
    """The four checks as far as the decision shows them; callers that know more pass them.

    A denial for anything but "no relation" still concerns someone related to the case.
    """
    related = facts.related or (case_id is not None and outcome == "denied"
                                and reason not in _NO_RELATION)
    return Checks(
        authorised=outcome == "allowed",
        relation_to_case=related or emergency,
        consent_present=facts.consent,
        emergency_procedure=emergency,
    )


def record(db: Session, who: Requester, now: datetime, *, event_type: str, action: str,
           decision: Decision | None = None, outcome: str | None = None,
           case_id: str | None = None, child_id: str | None = None,
           object_type: str | None = None, object_id: str | None = None,
           reason: str | None = None, purpose_of_use: str | None = None,
           legal_ground: str | None = None, consent_id: str | None = None,
           break_glass_id: str | None = None, break_glass_reason: str | None = None,
           checks: Checks | None = None, data_categories: Iterable[str] = (),
           document_id: str | None = None, document_version: int | None = None,
           sensitivity: str | None = None, query: str | None = None) -> AccessRecord:
    """Take one access record into the transaction, chained and inserted at its commit
    (``ledger.append``); if it cannot be written, the commit raises."""
    return append(db, entry(
        who, now, event_type=event_type, action=action, decision=decision, outcome=outcome,
        case_id=case_id, child_id=child_id, object_type=object_type, object_id=object_id,
        reason=reason, purpose_of_use=purpose_of_use, legal_ground=legal_ground,
        consent_id=consent_id, break_glass_id=break_glass_id,
        break_glass_reason=break_glass_reason, checks=checks, data_categories=data_categories,
        document_id=document_id, document_version=document_version, sensitivity=sensitivity,
        query=query))


def record_all(db: Session, entries: Sequence[AccessRecord]) -> Sequence[AccessRecord]:
    """Take the records a page writes (made by ``entry``) into the transaction in one
    go, chained in order and inserted with one statement at its commit."""
    return append_all(db, entries)


def entry(who: Requester, now: datetime, *, event_type: str, action: str,
          decision: Decision | None = None, outcome: str | None = None,
          case_id: str | None = None, child_id: str | None = None,
          object_type: str | None = None, object_id: str | None = None,
          reason: str | None = None, purpose_of_use: str | None = None,
          legal_ground: str | None = None, consent_id: str | None = None,
          break_glass_id: str | None = None, break_glass_reason: str | None = None,
          checks: Checks | None = None, data_categories: Iterable[str] = (),
          document_id: str | None = None, document_version: int | None = None,
          sensitivity: str | None = None, query: str | None = None) -> AccessRecord:
    """One access record, not yet written (``record`` or ``record_all`` writes it).

    It carries the current request's id (``portal.ops.logs``) when there is one,
    so a record can be found from a log line and the other way round.
    """
    if decision is not None:
        outcome = "allowed" if decision.allowed else "denied"
        reason = getattr(decision, "reason", None)
        basis = getattr(decision, "basis", None)
    else:
        basis = None
    outcome = outcome or "allowed"
    if purpose_of_use is not None and purpose_of_use not in PURPOSES:
        raise ValueError(f"unknown purpose of use {purpose_of_use!r}")
    facts = read_basis(basis)
    legal_ground = legal_ground or facts.legal_ground
    consent_id = consent_id or facts.consent_id
    # The emergency procedure was used when the policy allowed this access under
    # a break-glass grant, or when this is the act of opening one; a grant that
    # is only the object (the DPO reviewing it) is named but not "used".
    emergency = facts.break_glass_id is not None or (
        break_glass_id is not None and action in ("create", "execute"))
    break_glass_id = break_glass_id or facts.break_glass_id
    if checks is None:
        checks = derive_checks(outcome, facts, reason, case_id, emergency)
        if consent_id is not None:
            checks = replace(checks, consent_present=True)
    return AccessRecord(
        occurred_at=now.replace(microsecond=now.microsecond // 1000 * 1000),
        action_code=ACTION_CODES[action],
        event_type=event_type,
        outcome=outcome,
        reason=_cut(reason, 64),
        purpose_of_use=purpose_of_use or _purpose(event_type, checks.emergency_procedure),
        basis=_cut(basis, 200),
        legal_ground=_cut(legal_ground, 64),
        consent_id=_cut(consent_id, 36),
        break_glass_id=_cut(break_glass_id, 36),
        break_glass_reason=_cut(break_glass_reason, 1000),
        authorised=checks.authorised,
        relation_to_case=checks.relation_to_case,
        consent_present=checks.consent_present,
        emergency_procedure=checks.emergency_procedure,
        user_id=who.user_id,
        user_name=_cut(who.user_name, 200),
        user_role=_cut(who.user_role, 200),
        user_organisation_id=who.organisation_id,
        on_behalf_of_id=who.on_behalf_of_id,
        session_ref=who.session_ref,
        client_address=_cut(who.client_address, 64),
        request_id=_cut(current_request_id.get(), 64),
        case_id=case_id,
        child_id=child_id,
        object_type=object_type,
        object_id=object_id,
        document_id=document_id,
        document_version=document_version,
        data_categories=join_categories(data_categories),
        sensitivity=sensitivity or ("R" if case_id or child_id else None),
        query=_cut(query, 500),
        source=SOURCE,
    )
