"""Demo organisations, personas and children for ``make run`` and the tests.

Loading is idempotent: every row has a stable id derived from its name, so a
second run changes nothing. Personas log in through the development IdP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from auth.devidp import Persona
from portal.cases.creation import NewCase, create_case_rows
from portal.cases.models import Case, CaseRole, LegalBasis
from portal.consent.models import ConsenterKind, ConsentMethod, ConsentRecord
from portal.meetings.binding import seal_item, seal_meeting
from portal.meetings.models import ActionItem, ActionItemStatus, Meeting, MeetingStatus
from portal.people.blind_index import BlindIndex, blind_index
from portal.people.models import (
    Child,
    ChildRelation,
    Enrolment,
    Membership,
    Organisation,
    OrganisationKind,
    Person,
    PersonKind,
    Relation,
    Role,
)
from portal.people.names import set_name
from portal.register.store import enrolment_field
from portal.vault.service import Vault, child_field

DEV_IDP_ID = "dev"
_NAMESPACE = uuid.UUID("6f1d3c1e-7a52-4f0e-9a43-5d0c7e2b8a11")


def stable_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


ORGANISATIONS: tuple[tuple[str, str, OrganisationKind], ...] = (
    ("het-baken", "Scholengemeenschap Het Baken", OrganisationKind.SCHOOL),
    ("het-lichtpunt", "Basisschool Het Lichtpunt", OrganisationKind.SCHOOL),
    ("jeugdhulp-noord", "Jeugdhulp Noord", OrganisationKind.YOUTH_CARE),
    ("jeugdbescherming-regio", "Jeugdbescherming Regio", OrganisationKind.YOUTH_CARE),
    ("swv-passend-onderwijs", "Samenwerkingsverband Passend Onderwijs",
     OrganisationKind.SAMENWERKINGSVERBAND),
    ("wijkteam-centrum", "Wijkteam Centrum", OrganisationKind.MUNICIPALITY),
    ("portaalbeheer", "Beheer MDO-portaal", OrganisationKind.PORTAL),
)


@dataclass(frozen=True)
class DemoPerson:
    subject: str
    name: str
    description: str
    organisation: str | None = None
    role: Role | None = None

    @property
    def is_professional(self) -> bool:
        return self.organisation is not None


PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("mentor", "Mirjam de Vries", "Mentor, Het Baken", "het-baken", Role.MENTOR),
    DemoPerson("ib", "Ilse Bakker", "Intern begeleider / zorgcoördinator, Het Baken",
               "het-baken", Role.CARE_COORDINATOR),
    DemoPerson("schoolleider", "Lars Jansen", "Schoolleider, Het Baken", "het-baken",
               Role.SCHOOL_LEADER),
    DemoPerson("jeugdhulp", "Youssef El Amrani", "Jeugdhulpverlener, Jeugdhulp Noord",
               "jeugdhulp-noord", Role.YOUTH_CARE_WORKER),
    DemoPerson("smw", "Sanne Visser", "Schoolmaatschappelijk werker, Jeugdhulp Noord",
               "jeugdhulp-noord", Role.SCHOOL_SOCIAL_WORKER),
    DemoPerson("notulist", "Mila Smit", "Notulist, Het Baken", "het-baken",
               Role.MINUTE_TAKER),
    DemoPerson("jeugdbeschermer", "Jeroen Bos", "Jeugdbeschermer (OTS), Jeugdbescherming Regio",
               "jeugdbescherming-regio", Role.YOUTH_PROTECTOR),
    DemoPerson("fg", "Fenna Gerritsen", "Functionaris gegevensbescherming (FG)",
               "portaalbeheer", Role.DPO),
    DemoPerson("beheerder", "Anton Kramer", "Beheerder van het portaal", "portaalbeheer",
               Role.ADMIN),
    DemoPerson("buitenstaander", "Olga Peters", "Mentor, Basisschool Het Lichtpunt "
               "(geen relatie met de demo-kinderen)", "het-lichtpunt", Role.MENTOR),
    DemoPerson("ib-lichtpunt", "Lotte de Boer", "Intern begeleider, Basisschool Het Lichtpunt "
               "(een tweede school: ziet de leerlingen van Het Baken niet)", "het-lichtpunt",
               Role.CARE_COORDINATOR),
    DemoPerson("ouder1", "Petra Mulder", "Moeder met gezag van Sam"),
    DemoPerson("ouder2", "Peter Mulder", "Vader met gezag van Sam"),
    DemoPerson("ouder-zonder-gezag", "Karim Haddad", "Vader zonder gezag van Noor"),
    DemoPerson("pleegouder", "Gerda Kok", "Pleegouder van Noor"),
    DemoPerson("leerling16", "Noor Haddad", "Leerling van 16+, Het Baken"),
)


@dataclass(frozen=True)
class DemoChild:
    key: str
    name: str
    birthdate: date
    school: str
    pupil_subject: str | None
    relations: tuple[tuple[str, Relation], ...]
    group: str = ""


CHILDREN: tuple[DemoChild, ...] = (
    DemoChild("sam", "Sam Mulder", date(2013, 4, 2), "het-baken", None, (
        ("ouder1", Relation.PARENT_WITH_CUSTODY),
        ("ouder2", Relation.PARENT_WITH_CUSTODY),
    ), group="1 vwo"),
    DemoChild("noor", "Noor Haddad", date(2010, 3, 15), "het-baken", "leerling16", (
        ("ouder-zonder-gezag", Relation.PARENT_WITHOUT_CUSTODY),
        ("pleegouder", Relation.FOSTER_PARENT),
        ("jeugdbeschermer", Relation.YOUTH_PROTECTOR_OTS),
    ), group="4 havo"),
)

@dataclass(frozen=True)
class DemoCase:
    key: str
    child: str
    organisation: str
    title: str
    purpose: str
    participants: tuple[tuple[str, CaseRole], ...]  # the first is the chair


# One case to look at right after `make run`; tests create their own.
DEMO_CASE = DemoCase(
    key="sam-mdo",
    child="sam",
    organisation="het-baken",
    title="MDO Sam — zorgen over gedrag en werkhouding",
    purpose="Afstemmen welke ondersteuning Sam op school en thuis nodig heeft "
            "(gedrag in de klas, concentratie) en wie wat doet.",
    participants=(("ib", CaseRole.CHAIR), ("mentor", CaseRole.PARTICIPANT),
                  ("notulist", CaseRole.MINUTE_TAKER)),
)


def personas() -> list[Persona]:
    """The development IdP's persona picker, in the order shown."""
    return [
        Persona(
            subject=p.subject,
            name=p.name,
            email=f"{p.subject}@demo.mdo-portaal.test",
            description=p.description,
            organisation=p.organisation,
            roles=(p.role.value,) if p.role else (),
        )
        for p in PEOPLE
    ]


def load(db: Session, vault: Vault, now: datetime) -> bool:
    """Create what is missing; returns True when anything was added."""
    added = False
    for slug, name, kind in ORGANISATIONS:
        if db.get(Organisation, stable_id("org", slug)) is None:
            db.add(Organisation(id=stable_id("org", slug), slug=slug, name=name, kind=kind,
                                created_at=now))
            added = True
    db.flush()
    index = blind_index(db, vault, now)
    for person in PEOPLE:
        person_id = stable_id("person", person.subject)
        if db.get(Person, person_id) is not None:
            continue
        added = True
        email = f"{person.subject}@demo.mdo-portaal.test"
        row = Person(
            id=person_id,
            kind=PersonKind.PROFESSIONAL if person.is_professional else PersonKind.CITIZEN,
            display_name="", email=email, idp=DEV_IDP_ID, subject=person.subject, active=True,
            created_at=now)
        db.add(row)
        set_name(db, vault, row, person.name, now)  # a citizen's name is sealed
        if not person.is_professional:
            row.email_bidx = index.email(email)
        db.flush()
        if person.organisation and person.role:
            db.add(Membership(person_id=person_id,
                              organisation_id=stable_id("org", person.organisation),
                              role=person.role))
    db.flush()
    for number, child in enumerate(CHILDREN, start=1001):
        added |= _load_child(db, vault, index, child, str(number), now)
    added |= _load_case(db, vault, now)
    added |= _load_agenda(db, vault, now)
    added |= _load_consent_demo(db, vault, now)
    added |= _load_supervision(db, now)
    db.flush()
    return added


def _load_supervision(db: Session, now: datetime) -> bool:
    """The demo FG of the operator's organisation supervises the whole portal.

    Demo data is laid down like the rest of the demo, without access records:
    the access log starts empty, so the first record a user causes is number 1."""
    from sqlalchemy import select

    from portal.dpo.models import SupervisionGrant

    fg = stable_id("person", "fg")
    if db.scalar(select(SupervisionGrant.id).where(SupervisionGrant.person_id == fg)):
        return False
    db.add(SupervisionGrant(person_id=fg, granted_at=now, granted_by="demo data"))
    return True


def _load_child(db: Session, vault: Vault, index: BlindIndex, child: DemoChild,
                pupil_number: str, now: datetime) -> bool:
    child_id = stable_id("child", child.key)
    if db.get(Child, child_id) is not None:
        # A database from before the register: give the child its enrolment.
        return _load_enrolment(db, vault, index, child, pupil_number, now)
    key = vault.new_key(db, "child", child_id, now)
    db.add(Child(
        id=child_id, school_id=stable_id("org", child.school),
        person_id=stable_id("person", child.pupil_subject) if child.pupil_subject else None,
        name_ct=vault.seal(key, child.name, child_field(child_id, "name")),
        birthdate_ct=vault.seal(key, child.birthdate.isoformat(),
                                child_field(child_id, "birthdate")),
        identity_bidx=index.child(child.name, child.birthdate),
        created_at=now,
    ))
    db.flush()
    _load_enrolment(db, vault, index, child, pupil_number, now)
    for subject, relation in child.relations:
        db.add(ChildRelation(child_id=child_id, person_id=stable_id("person", subject),
                             relation=relation))
    return True


def _load_enrolment(db: Session, vault: Vault, index: BlindIndex, child: DemoChild,
                    pupil_number: str, now: datetime) -> bool:
    enrolment_id = stable_id("enrolment", child.key)
    if db.get(Enrolment, enrolment_id) is not None:
        return False
    row = db.get_one(Child, stable_id("child", child.key))
    key = vault.key_for(db, row.name_ct)
    school_id = stable_id("org", child.school)
    db.add(Enrolment(
        id=enrolment_id, child_id=row.id, organisation_id=school_id,
        pupil_number_ct=vault.seal(key, pupil_number,
                                   enrolment_field(enrolment_id, "pupil_number")),
        pupil_number_bidx=index.pupil_number(school_id, pupil_number),
        group_ct=vault.seal(key, child.group, enrolment_field(enrolment_id, "group")),
        active=True, created_at=now, updated_at=now))
    row.identity_bidx = index.child(child.name, child.birthdate)
    db.flush()
    return True


def _load_case(db: Session, vault: Vault, now: datetime) -> bool:
    case_id = stable_id("case", DEMO_CASE.key)
    if db.get(Case, case_id) is not None:
        return False
    create_case_rows(
        db, vault, now, case_id=case_id,
        created_by=stable_id("person", DEMO_CASE.participants[0][0]),
        organisation_id=stable_id("org", DEMO_CASE.organisation),
        new=NewCase(child_id=stable_id("child", DEMO_CASE.child), anonymous=False,
                    title=DEMO_CASE.title, purpose=DEMO_CASE.purpose,
                    legal_basis=LegalBasis.CONSENT),
        participants=[(stable_id("person", s), role) for s, role in DEMO_CASE.participants],
    )
    return True


def _load_agenda(db: Session, vault: Vault, now: datetime) -> bool:
    """A meeting next week and an action item in the demo case."""
    meeting_id = stable_id("meeting", DEMO_CASE.key)
    if db.get(Meeting, meeting_id) is not None:
        return False
    case_id = stable_id("case", DEMO_CASE.key)
    chair = stable_id("person", DEMO_CASE.participants[0][0])
    starts = (now + timedelta(days=7)).replace(hour=13, minute=0, second=0, microsecond=0)
    meeting = Meeting(
        id=meeting_id, case_id=case_id, starts_at=starts, duration_minutes=60,
        # Home is on the agenda: nobody's consent covers the family situation yet.
        agenda_categories=["behaviour", "family_situation"],
        minute_taker_id=stable_id("person", "notulist"), status=MeetingStatus.SCHEDULED,
        created_by=chair, created_at=now)
    seal_meeting(vault, vault.new_key(db, "meeting", meeting_id, now), meeting,
                 place="Het Baken, kamer 2.14",
                 agenda="1. Observaties in de klas\n2. Wat gaat goed thuis?\n3. Afspraken")
    db.add(meeting)
    item_id = stable_id("action_item", DEMO_CASE.key)
    item = ActionItem(
        id=item_id, case_id=case_id, owner_id=stable_id("person", "mentor"),
        due_on=(now + timedelta(days=14)).date(), status=ActionItemStatus.OPEN,
        categories=["behaviour"], created_by=chair, created_at=now)
    seal_item(vault, vault.new_key(db, "action_item", item_id, now), item,
              "Twee weken observeren in de klas en terugkoppelen")
    db.add(item)
    db.flush()
    return True


# Noor is 16: she alone consents; her foster parent and her father (without
# custody) see what she shares with them (nothing, here) or general information.
NOOR_CASE = DemoCase(
    key="noor-mdo",
    child="noor",
    organisation="het-baken",
    title="MDO Noor — verzuim en steun thuis",
    purpose="Samen met Noor afspreken hoe school en het schoolmaatschappelijk werk haar "
            "helpen weer regelmatig naar school te gaan.",
    participants=(("ib", CaseRole.CHAIR), ("smw", CaseRole.PARTICIPANT)),
)
# (case, consenter subject or None for the child, method, categories, organisations)
DEMO_CONSENTS: tuple[tuple[DemoCase, str | None, ConsentMethod, tuple[str, ...],
                           tuple[str, ...]], ...] = (
    (DEMO_CASE, "ouder1", ConsentMethod.SIGNED_FORM,
     ("school_progress", "behaviour", "social_emotional"), ("het-baken",)),
    (DEMO_CASE, "ouder2", ConsentMethod.SIGNED_FORM,
     ("school_progress", "behaviour", "social_emotional"), ("het-baken",)),
    (NOOR_CASE, None, ConsentMethod.PORTAL,
     ("school_progress", "behaviour", "social_emotional"), ("het-baken", "jeugdhulp-noord")),
)


def _load_consent_demo(db: Session, vault: Vault, now: datetime) -> bool:
    """Noor's case, and consents that make the demo cases' consent status worth a look."""
    added = False
    case_id = stable_id("case", NOOR_CASE.key)
    if db.get(Case, case_id) is None:
        create_case_rows(
            db, vault, now, case_id=case_id,
            created_by=stable_id("person", NOOR_CASE.participants[0][0]),
            organisation_id=stable_id("org", NOOR_CASE.organisation),
            new=NewCase(child_id=stable_id("child", NOOR_CASE.child), anonymous=False,
                        title=NOOR_CASE.title, purpose=NOOR_CASE.purpose,
                        legal_basis=LegalBasis.CONSENT),
            participants=[(stable_id("person", s), role) for s, role in NOOR_CASE.participants])
        added = True
    for index, (case, subject, method, categories, orgs) in enumerate(DEMO_CONSENTS):
        consent_id = stable_id("consent", f"{case.key}:{index}")
        if db.get(ConsentRecord, consent_id) is not None:
            continue
        child = next(c for c in CHILDREN if c.key == case.child)
        person = subject or child.pupil_subject
        chair = stable_id("person", case.participants[0][0])
        db.add(ConsentRecord(
            id=consent_id, case_id=stable_id("case", case.key),
            child_id=stable_id("child", case.child),
            consenter_kind=ConsenterKind.ADULT if subject else ConsenterKind.CHILD,
            consenter_person_id=stable_id("person", person) if person else None,
            method=method, categories=list(categories),
            recipients=[f"org:{stable_id('org', org)}" for org in orgs],
            valid_from=(now - timedelta(days=30)).date(),
            valid_until=(now + timedelta(days=335)).date(), given_at=now - timedelta(days=30),
            recorded_by=chair if method is ConsentMethod.SIGNED_FORM
            else stable_id("person", str(person)),
            acr="urn:mdo:acr:dev" if method is ConsentMethod.PORTAL else None))
        added = True
    db.flush()
    return added
