"""Loading the consent facts of a case for the policy (the database side of access.py).

The child's birthdate is encrypted; it is decrypted here because the decision
depends on the child's age on the day of the request. It is a fact for the
policy, never shown by this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session, aliased

from portal.cases.loaded import load_case, load_cases, remember, remembered
from portal.cases.models import Case
from portal.consent.access import ConsentFacts, Standing, family_standing, local_date
from portal.consent.engine import (
    CHILD,
    Adult,
    Consent,
    ConsentInputError,
    CustodyFacts,
    OrganisationRule,
    Relation,
    Setting,
)
from portal.consent.models import (
    BreakGlassGrant,
    ConsenterKind,
    ConsentRecord,
    CustodyRecord,
    OrganisationConsentRule,
)
from portal.consent.scopes import preload_scoped_grounds, scoped_grounds
from portal.people.models import (
    Child,
    ChildRelation,
    Organisation,
    OrganisationKind,
    Person,
    Role,
)
from portal.people.models import Relation as ChildRelationKind
from portal.rights.models import RestrictionGround
from portal.vault.models import DataKey
from portal.vault.service import Vault, child_field, hold_keys

DEFAULT_WARNING_DAYS = 60

# How the portal's child relations read in the engine's terms (custody given
# explicitly unless custody facts were recorded for the relation).
ENGINE_RELATION: dict[ChildRelationKind, tuple[Relation, bool | None]] = {
    ChildRelationKind.PARENT_WITH_CUSTODY: (Relation.PARENT, True),
    ChildRelationKind.PARENT_WITHOUT_CUSTODY: (Relation.PARENT, False),
    ChildRelationKind.GUARDIAN: (Relation.GUARDIAN, None),
    ChildRelationKind.FOSTER_PARENT: (Relation.FOSTER_PARENT, None),
    ChildRelationKind.YOUTH_PROTECTOR_OTS: (Relation.YOUTH_PROTECTOR_OTS, None),
}


@dataclass(frozen=True)
class OrganisationOptions:
    rule: OrganisationRule
    warning_days: int


def organisation_options(db: Session, organisation_id: str) -> OrganisationOptions:
    """The organisation's consent rule, looked up once per transaction (portal.cases.loaded)."""
    return remembered(db, ("organisation options", organisation_id),
                      lambda: _options(db.get(OrganisationConsentRule, organisation_id)))


def case_options(db: Session, case: Case) -> OrganisationOptions:
    """The consent rule of the case's organisation, as read with the case."""
    loaded = load_case(db, case.id)
    if loaded is None or loaded.case.organisation_id != case.organisation_id:
        return organisation_options(db, case.organisation_id)
    return _options(loaded.consent_rule)


def _options(row: OrganisationConsentRule | None) -> OrganisationOptions:
    if row is None:
        return OrganisationOptions(OrganisationRule.EVERY_CUSTODIAN, DEFAULT_WARNING_DAYS)
    return OrganisationOptions(row.rule, row.warning_days)


def child_birthdate(db: Session, vault: Vault, child: Child) -> date:
    return date.fromisoformat(vault.open(db, child.birthdate_ct,
                                         child_field(child.id, "birthdate")))


@dataclass(frozen=True)
class ChildAdults:
    """The adults around a child as one query read them: relations, the latest custody
    record of each, and the people (for their names, sealed for citizens)."""

    relations: tuple[ChildRelation, ...]
    latest: dict[str, CustodyRecord]  # relation id -> its latest custody record
    people: dict[str, Person]
    recorders: dict[str, str]  # who recorded custody facts (professionals) -> name

    @property
    def adults(self) -> tuple[Adult, ...]:
        return tuple(_adult(relation, self.latest.get(relation.id))
                     for relation in self.relations)


def _adult_select() -> Select[ChildRelation, CustodyRecord, Person, DataKey, str]:
    """The relations, custody records, people, their name keys and who recorded the
    custody, per relation in the order the custody was recorded."""
    name_key, recorder = aliased(DataKey), aliased(Person)
    return (select(ChildRelation, CustodyRecord, Person, name_key, recorder.display_name)
            .join(Person, Person.id == ChildRelation.person_id)
            .outerjoin(CustodyRecord, CustodyRecord.child_relation_id == ChildRelation.id)
            .outerjoin(recorder, recorder.id == CustodyRecord.recorded_by)
            .outerjoin(name_key, (name_key.owner_type == "person")
                       & (name_key.owner_id == Person.id))
            .order_by(ChildRelation.person_id, CustodyRecord.recorded_at))


# Built once each: the statements cost more to build than to run.
@cache
def _adult_rows() -> Select[ChildRelation, CustodyRecord, Person, DataKey, str]:
    return _adult_select().where(ChildRelation.child_id == bindparam("child_id"))


@cache
def _many_adult_rows() -> Select[ChildRelation, CustodyRecord, Person, DataKey, str]:
    return _adult_select().where(
        ChildRelation.child_id.in_(bindparam("child_ids", expanding=True)))


_AdultRow = Row[ChildRelation, CustodyRecord, Person, DataKey, str]


def child_adults(db: Session, child_id: str) -> ChildAdults:
    """The child's relations with their custody records and people, and the people's
    wrapped name keys (held for this transaction, portal.vault.service.hold_keys), in
    one query, once per transaction until a write."""
    return remembered(db, ("adults", child_id), lambda: _child_adults(
        db, db.execute(_adult_rows(), {"child_id": child_id}).all()))


def _child_adults(db: Session, rows: Iterable[_AdultRow]) -> ChildAdults:
    relations: dict[str, ChildRelation] = {}
    latest: dict[str, CustodyRecord] = {}
    people: dict[str, Person] = {}
    recorders: dict[str, str] = {}
    for relation, record, person, key, recorded_by in rows:
        relations.setdefault(relation.id, relation)
        people[person.id] = person
        if record is not None:
            latest[relation.id] = record
            recorders[record.recorded_by] = recorded_by or ""
        hold_keys(db, (key,))
    return ChildAdults(tuple(relations.values()), latest, people, recorders)


def adults_of(db: Session, child_id: str) -> tuple[Adult, ...]:
    """The adults around a child, with custody from the latest custody record if any."""
    return child_adults(db, child_id).adults


def _adult(relation: ChildRelation, record: CustodyRecord | None) -> Adult:
    engine_relation, custody = ENGINE_RELATION[relation.relation]
    if record is not None and engine_relation is Relation.PARENT:
        facts = CustodyFacts(relationship=record.relationship, is_mother=record.is_mother,
                             custody_applied=record.custody_applied,
                             court_custody=record.court_custody)
        try:
            return Adult(relation.person_id, engine_relation, custody_facts=facts,
                         custody_evidence=record.evidence)
        except ConsentInputError:
            pass  # facts that do not decide custody: the relation's own flag stands
    return Adult(relation.person_id, engine_relation, custody=custody)


def engine_consents(records: Iterable[ConsentRecord], adult_ids: set[str]
                    ) -> tuple[Consent, ...]:
    """The consent rows as the engine reads them.

    A consent by someone who is no longer related to the child counts for
    nothing; recipients naming such a person are dropped.
    """
    result = []
    for r in records:
        if r.consenter_kind is ConsenterKind.CHILD:
            by = CHILD
        elif r.consenter_person_id in adult_ids:
            by = str(r.consenter_person_id)
        else:
            continue
        recipients = frozenset(x for x in r.recipients
                               if not x.startswith("adult:") or x[6:] in adult_ids)
        if not recipients or not r.categories:
            continue
        result.append(Consent(
            by=by, categories=frozenset(r.categories), recipients=recipients,
            valid_from=r.valid_from, valid_until=r.valid_until,
            withdrawn_on=local_date(r.withdrawn_at) if r.withdrawn_at else None, id=r.id))
    return tuple(result)


# Professional capacities bound by the Jeugdwet whoever employs them (DOMAIN.md):
# a participant acting in one of these makes the case youth care.
YOUTH_CARE_ROLES = frozenset({Role.YOUTH_CARE_WORKER, Role.SCHOOL_SOCIAL_WORKER,
                              Role.YOUTH_PROTECTOR})


@dataclass(frozen=True)
class SettingCause:
    """The participant whose part in the case makes it youth care, and since when."""

    person_id: str
    name: str
    capacity_role: str | None
    organisation_kind: OrganisationKind
    since: datetime


def makes_youth_care(capacity_role: str | None, organisation_kind: OrganisationKind) -> bool:
    return capacity_role in YOUTH_CARE_ROLES or organisation_kind is OrganisationKind.YOUTH_CARE


def setting_of(capacities: Iterable[tuple[str | None, OrganisationKind]]) -> Setting:
    """The setting for participants acting in these (capacity role, organisation kind)."""
    return Setting.YOUTH_CARE if any(makes_youth_care(role, kind) for role, kind in capacities) \
        else Setting.SCHOOL


def setting_causes(db: Session, case_id: str) -> list[SettingCause]:
    """The participants that make the case youth care, longest-standing first (from
    the participants this transaction loaded, portal.cases.loaded)."""
    loaded = load_case(db, case_id)
    if loaded is None:
        return []
    return [SettingCause(p.person_id, p.name, p.capacity_role, p.organisation_kind, p.added_at)
            for p in sorted(loaded.participants, key=lambda p: (p.added_at, p.person_id))
            if p.organisation_kind is not None
            and makes_youth_care(p.capacity_role, p.organisation_kind)]


def case_setting(db: Session, case: Case) -> Setting:
    """Youth care when a participant acts in a youth-care capacity (whoever employs them)
    or for a youth-care organisation, or the case belongs to one."""
    loaded = load_case(db, case.id)
    own = loaded.organisation_kind if loaded is not None \
        and loaded.case.organisation_id == case.organisation_id else \
        db.scalar(select(Organisation.kind).where(Organisation.id == case.organisation_id))
    if own is OrganisationKind.YOUTH_CARE or setting_causes(db, case.id):
        return Setting.YOUTH_CARE
    return Setting.SCHOOL


def _consent_select() -> Select[ConsentRecord]:
    return select(ConsentRecord).order_by(ConsentRecord.given_at, ConsentRecord.id)


@cache
def _consent_rows() -> Select[ConsentRecord]:
    return _consent_select().where(ConsentRecord.case_id == bindparam("case_id"))


@cache
def _many_consent_rows() -> Select[ConsentRecord]:
    return _consent_select().where(ConsentRecord.case_id.in_(bindparam("case_ids",
                                                                       expanding=True)))


def consent_records(db: Session, case_id: str) -> list[ConsentRecord]:
    """The case's consent records in the order given, once per transaction until a write."""
    return list(remembered(db, ("consent records", case_id), lambda: list(db.scalars(
        _consent_rows(), {"case_id": case_id}))))


def preload_consent_facts(db: Session, case_ids: Iterable[str]) -> None:
    """Read what ``load_consent_facts`` reads for many cases at once (the cases, their
    children's adults, consents and grounds: five queries whatever their number) and
    keep it for the rest of the transaction, as each reader would have kept its own.
    A page about many cases (the start page) calls this before deciding on each.
    Ids must look like ids."""
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        return
    load_cases(db, ids)
    loaded = [c for c in (load_case(db, i) for i in ids) if c is not None]
    children = list(dict.fromkeys(c.case.child_id for c in loaded if c.case.child_id))
    if children:
        adults: dict[str, list[_AdultRow]] = {child_id: [] for child_id in children}
        for row in db.execute(_many_adult_rows(), {"child_ids": children}):
            adults[row[0].child_id].append(row)
        for child_id, rows in adults.items():
            remember(db, ("adults", child_id), _child_adults(db, rows))
    named = [c.case.id for c in loaded if c.case.child_id]
    if named:
        records: dict[str, list[ConsentRecord]] = {case_id: [] for case_id in named}
        for record in db.scalars(_many_consent_rows(), {"case_ids": named}):
            records[record.case_id].append(record)
        for case_id, found in records.items():
            remember(db, ("consent records", case_id), found)
        preload_scoped_grounds(db, named)


def load_consent_facts(db: Session, vault: Vault, case: Case, now: datetime,
                       *, extra: Iterable[Consent] = (), child_id: str | None = None
                       ) -> ConsentFacts | None:
    """The engine's facts for ``case`` on the date of ``now``; None without a child.

    ``child_id`` and ``extra`` describe a case as it would be (converting an
    anonymous case with the consents about to be recorded).
    """
    child_id = child_id or case.child_id
    if child_id is None:
        return None
    child = db.get_one(Child, child_id)
    adults = adults_of(db, child.id)
    records = consent_records(db, case.id)
    options = case_options(db, case)
    return ConsentFacts(
        on=local_date(now), birthdate=child_birthdate(db, vault, child),
        setting=case_setting(db, case), adults=adults,
        consents=engine_consents(records, {a.id for a in adults}) + tuple(extra),
        pupil_person_id=child.person_id, organisation_rule=options.rule,
        grounds=scoped_grounds(db, case.id))


def child_standing(db: Session, vault: Vault, child: Child, person_id: str,
                   now: datetime) -> Standing:
    """Where ``person_id`` stands towards ``child`` outside any case, on the date of ``now``.

    The same facts the engine reads for a case (the child's age, the adults and
    their custody records), without a case's consents: custody and age do not
    depend on the case; being let in by a consent does.
    """
    adults = adults_of(db, child.id)
    facts = ConsentFacts(on=local_date(now), birthdate=child_birthdate(db, vault, child),
                         setting=Setting.SCHOOL, adults=adults, consents=(),
                         pupil_person_id=child.person_id)
    return family_standing(facts, person_id)


@dataclass(frozen=True)
class Safeguards:
    restricted: bool
    restricted_items: frozenset[str]
    grants: tuple[tuple[str, str, datetime], ...]  # (grant id, person id, expires at)
    verifying_items: frozenset[str] = frozenset()  # disputed by the family (portal.rights)


def load_safeguards(db: Session, case_id: str, now: datetime) -> Safeguards:
    """Restrictions in force (read with the case) and break-glass grants not yet expired."""
    loaded = load_case(db, case_id)
    rows = loaded.restrictions if loaded is not None else ()
    restrictions = [item for item, _ in rows]
    return Safeguards(
        # No case row read: nothing is known to be allowed, so it counts as restricted.
        restricted=loaded is None or any(item is None for item in restrictions),
        restricted_items=frozenset(item for item in restrictions if item is not None),
        grants=tuple((g.id, g.person_id, g.expires_at) for g, _ in case_grants(db, case_id)
                     if g.expires_at > now),
        verifying_items=frozenset(item for item, ground in rows
                                  if item is not None
                                  and ground is RestrictionGround.RECTIFICATION))


def case_grants(db: Session, case_id: str) -> list[tuple[BreakGlassGrant, str]]:
    """Every break-glass grant of the case with its holder's name, newest first, as
    read with the case (portal.cases.loaded): the decision takes the unexpired, the
    case page shows them all."""
    loaded = load_case(db, case_id)
    if loaded is not None:
        return list(loaded.grants)
    return list(remembered(db, ("grants", case_id), lambda: [
        (grant, name) for grant, name in db.execute(
            select(BreakGlassGrant, Person.display_name)
            .join(Person, Person.id == BreakGlassGrant.person_id)
            .where(BreakGlassGrant.case_id == case_id)
            .order_by(BreakGlassGrant.granted_at.desc()))]))
