"""The custody form: a school's care coordinator records the custody facts of a child's parents.

The form records facts (relationship, mother or not, a custody application, a
court's decision or the register), never "has custody": the engine derives
custody from them (``custody_from_facts``), and :mod:`portal.consent.facts`
hands the latest record per parent to the engine on every decision. Where a
parent claims sole custody, the form requires which evidence was seen
(Gezagsregister extract, BRP extract, the parent's statement: DOMAIN.md) and
keeps it with who recorded it and when. Older records stay as history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.gate import is_uuid
from portal.consent.facts import adults_of, child_adults
from portal.consent.model import CustodyFacts, custody_from_facts, resolve_custody
from portal.consent.models import CustodyRecord
from portal.consent.rules import CustodyEvidence, Relationship
from portal.errors import N_, AccessDenied, InvalidInput
from portal.people.models import Child, ChildRelation, Relation
from portal.people.names import names_of
from portal.policy import Action, Actor, ChildFacts, Deny, decide
from portal.vault.service import Vault, child_field

PARENT_RELATIONS = frozenset({Relation.PARENT_WITH_CUSTODY, Relation.PARENT_WITHOUT_CUSTODY})
YES_NO = {"yes": True, "no": False, "": None}


@dataclass(frozen=True)
class CustodyLine:
    """One adult around the child, with custody as the engine derives it."""

    relation_id: str
    person_id: str
    name: str
    relation: Relation
    custody: bool | None  # None: the engine could not decide (not expected)
    facts: CustodyFacts | None  # the latest recorded facts (parents only)
    sole_custody_claimed: bool = False
    evidence: CustodyEvidence | None = None
    recorded_by: str | None = None
    recorded_at: datetime | None = None

    @property
    def is_parent(self) -> bool:
        return self.relation in PARENT_RELATIONS


@dataclass(frozen=True)
class CustodyPage:
    child_id: str
    child_name: str
    adults: tuple[CustodyLine, ...]


def custody_lines(db: Session, vault: Vault, child_id: str) -> tuple[CustodyLine, ...]:
    """The child's adults: relation, derived custody and the latest custody record."""
    loaded = child_adults(db, child_id)
    relations, latest = loaded.relations, loaded.latest
    engine_adults = {a.id: a for a in loaded.adults}
    # The recorders (professionals) were read with the custody records.
    names = {**loaded.recorders,
             **names_of(db, vault, (r.person_id for r in relations), loaded.people)}
    lines = []
    for relation in relations:
        row = latest.get(relation.id)
        lines.append(CustodyLine(
            relation_id=relation.id, person_id=relation.person_id,
            name=names.get(relation.person_id, ""), relation=relation.relation,
            custody=resolve_custody(engine_adults[relation.person_id]),
            facts=CustodyFacts(row.relationship, row.is_mother, row.custody_applied,
                               row.court_custody) if row else None,
            sole_custody_claimed=row.sole_custody_claimed if row else False,
            evidence=row.evidence if row else None,
            recorded_by=names.get(row.recorded_by) if row else None,
            recorded_at=row.recorded_at if row else None))
    return tuple(lines)


def _child(db: Session, who: Requester, actor: Actor, now: datetime, child_id: str, *,
           event_type: str, action_code: str, validate: Callable[[Child], None] | None = None
           ) -> Child:
    """Decide and record; an unknown child is refused without naming any child.

    ``validate`` runs after an allowed decision and before it is recorded, so a
    write refused as bad input leaves no "allowed create" record of a write
    that never happened (a denied actor is refused before learning anything).
    """
    child = db.get(Child, child_id) if is_uuid(child_id) else None
    if child is None:
        denied = Deny(reason="no_such_child", hide=True)
        record(db, who, now, event_type=event_type, action=action_code, decision=denied,
               object_type="child")
        raise AccessDenied(denied)
    decision = decide(actor, Action.CUSTODY_RECORD,
                      child=ChildFacts(child_id=child.id, school_id=child.school_id))
    if validate is not None and not isinstance(decision, Deny):
        validate(child)
    record(db, who, now, event_type=event_type, action=action_code, decision=decision,
           child_id=child.id, object_type="child", object_id=child.id)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    return child


def custody_page(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 child_id: str) -> CustodyPage:
    child = _child(db, who, actor, now, child_id, event_type="custody.view", action_code="read")
    return CustodyPage(child_id=child.id,
                       child_name=vault.open(db, child.name_ct, child_field(child.id, "name")),
                       adults=custody_lines(db, vault, child.id))


def parse_custody(form: Mapping[str, str]) -> tuple[CustodyFacts, bool, CustodyEvidence | None]:
    """The facts, the sole-custody claim and the evidence; InvalidInput names the field."""
    errors: dict[str, str] = {}
    relationship = form.get("relationship", "")
    if relationship not in {r.value for r in Relationship}:
        errors["relationship"] = N_("Choose the parents' relationship.")
    is_mother = YES_NO.get(form.get("is_mother", ""))
    court = YES_NO.get(form.get("court_custody", ""))
    evidence_value = form.get("evidence", "")
    if evidence_value and evidence_value not in {e.value for e in CustodyEvidence}:
        errors["evidence"] = N_("Choose which evidence you have seen.")
    sole = form.get("sole_custody") == "on"
    if errors:
        raise InvalidInput(errors)
    facts = CustodyFacts(relationship=Relationship(relationship), is_mother=is_mother,
                         custody_applied=form.get("custody_applied") == "on",
                         court_custody=court)
    custody = custody_from_facts(facts)
    if custody is None:
        # Unmarried without saying who is the mother, or single without the register.
        raise InvalidInput({"relationship": N_(
            "These facts do not settle custody: say whether this parent is the mother "
            "(unmarried parents) or what the register or a court says (single parent).")})
    evidence = CustodyEvidence(evidence_value) if evidence_value else None
    if sole and not custody:
        raise InvalidInput({"sole_custody": N_(
            "By these facts this parent has no custody, so not sole custody either.")})
    if sole and evidence is None:
        raise InvalidInput({"evidence": N_(
            "A parent claims sole custody: say which evidence you have seen.")})
    return facts, sole, evidence


# Evidence that shows custody itself, as opposed to what a parent says about it.
REGISTER_EVIDENCE = frozenset({CustodyEvidence.GEZAGSREGISTER, CustodyEvidence.BRP})


def _parent_relation(db: Session, child: Child, form: Mapping[str, str]) -> ChildRelation:
    relation_id = form.get("relation_id", "")
    relation = db.get(ChildRelation, relation_id) if is_uuid(relation_id) else None
    if relation is None or relation.child_id != child.id \
            or relation.relation not in PARENT_RELATIONS:
        raise InvalidInput({"relation_id": N_("Choose one of the child's parents.")})
    return relation


def _other_parents(db: Session, child: Child, relation: ChildRelation
                   ) -> list[ChildRelation]:
    return [r for r in db.scalars(select(ChildRelation).where(
                ChildRelation.child_id == child.id, ChildRelation.id != relation.id))
            if r.relation in PARENT_RELATIONS]


def _check_sole_claim(db: Session, child: Child, relation: ChildRelation,
                      evidence: CustodyEvidence | None) -> None:
    """A parent's own word may not take another parent's custody away.

    DOMAIN.md: the school may rely on what parents say, but in doubt asks an
    extract of the Gezagsregister (or the BRP). A sole-custody claim that
    contradicts another parent's custody on record is exactly that doubt, and
    acting on the statement would let one parent silently strip the other of
    the right to consent. So a statement is accepted only while no other parent
    has custody on record; otherwise the register's extract is required.
    """
    if evidence in REGISTER_EVIDENCE:
        return
    others = {r.person_id for r in _other_parents(db, child, relation)}
    if any(resolve_custody(a) for a in adults_of(db, child.id) if a.id in others):
        raise InvalidInput({"evidence": N_(
            "Another parent of this child has custody on record. A parent's own "
            "statement does not take it away: ask an extract of the Centraal "
            "Gezagsregister or the BRP and record which one you have seen.")})


def record_custody(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                   child_id: str, form: Mapping[str, str]) -> None:
    """Record one parent's custody facts; the engine derives custody from them.

    A sole-custody claim backed by an extract (Gezagsregister or BRP) also
    records, in the same transaction, that each of the child's other parents
    has no custody: the same evidence, the same recorder, the same moment.
    """
    parsed: list[tuple[ChildRelation, CustodyFacts, bool, CustodyEvidence | None]] = []

    def validate(child: Child) -> None:
        relation = _parent_relation(db, child, form)
        facts, sole, evidence = parse_custody(form)
        if sole:
            _check_sole_claim(db, child, relation, evidence)
        parsed.append((relation, facts, sole, evidence))

    child = _child(db, who, actor, now, child_id, event_type="custody.record",
                   action_code="create", validate=validate)
    relation, facts, sole, evidence = parsed[0]
    _write(db, actor, now, relation, facts, sole, evidence)
    if sole and evidence in REGISTER_EVIDENCE:
        # The extract shows this parent alone has custody: so no other parent has.
        for other in _other_parents(db, child, relation):
            _write(db, actor, now, other,
                   CustodyFacts(relationship=facts.relationship, is_mother=None,
                                custody_applied=False, court_custody=False),
                   False, evidence)
    db.flush()


def _write(db: Session, actor: Actor, now: datetime, relation: ChildRelation,
           facts: CustodyFacts, sole: bool, evidence: CustodyEvidence | None) -> None:
    db.add(CustodyRecord(child_relation_id=relation.id, relationship=facts.relationship,
                         is_mother=facts.is_mother, custody_applied=facts.custody_applied,
                         court_custody=facts.court_custody, evidence=evidence,
                         sole_custody_claimed=sole, recorded_by=actor.person_id,
                         recorded_at=now))
    # The relation follows what the engine derives, so that whoever reads the
    # relation alone (invitations, the family's start page) agrees with it.
    relation.relation = Relation.PARENT_WITH_CUSTODY if custody_from_facts(facts) \
        else Relation.PARENT_WITHOUT_CUSTODY
    relation.custody_evidence = evidence.value if evidence else None
