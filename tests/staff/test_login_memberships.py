"""What a login does to memberships: the school-A-to-school-B move, and unvouched organisations.

``provision`` is fed a verified login, as ``auth.oidc`` hands it over after
checking the ID token; the database is real (both engines).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.config import IdentityProviderConfig
from auth.login_values import LoginRejected, VerifiedLogin
from portal.audit.models import AccessRecord
from portal.cases.models import Case, CaseParticipant, CaseRole, CaseStatus
from portal.db import make_engine, session_factory
from portal.demo import stable_id
from portal.login.service import provision
from portal.people.models import Membership, Role
from portal.staff.models import ChairVacancy
from portal.web.session_store import WebSession

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
A, B, CARE = "het-baken", "het-lichtpunt", "jeugdhulp-noord"
PROVIDER = IdentityProviderConfig(
    id="schoolbestuur", issuer="https://idp.bestuur.test", client_id="portal",
    client_secret="x", label="Schoolbestuur", kind="professional",
    organisations=(A, B), role_map={"docent": "mentor", "ib": "care_coordinator"})


def login(org: str | list[str], roles: list[str], subject: str = "t.jansen") -> VerifiedLogin:
    return VerifiedLogin(provider_id=PROVIDER.id, issuer=PROVIDER.issuer, subject=subject,
                         claims={"sub": subject, "name": "T. Jansen", "org": org,
                                 "roles": roles, "email": "t.jansen@bestuur.test"},
                         acr=None, auth_time=None)


@pytest.fixture
def db(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def org(slug: str) -> str:
    return stable_id("org", slug)


def memberships(db: Session, person_id: str) -> set[tuple[str, Role]]:
    return {(m.organisation_id, m.role) for m in db.scalars(
        select(Membership).where(Membership.person_id == person_id))}


def chair_of_a_case_at(db: Session, person_id: str, organisation_id: str) -> str:
    case = db.scalars(select(Case)).first()
    assert case is not None
    db.add(CaseParticipant(case_id=case.id, person_id=person_id, organisation_id=organisation_id,
                           capacity_role=Role.MENTOR.value, case_role=CaseRole.PARTICIPANT,
                           added_at=NOW, added_by=person_id))
    db.flush()
    return case.id


def test_moving_from_school_a_to_school_b_ends_the_school_a_membership(db: Session) -> None:
    person = provision(db, PROVIDER, login(A, ["docent"]), NOW)
    assert memberships(db, person.id) == {(org(A), Role.MENTOR)}
    case_id = chair_of_a_case_at(db, person.id, org(A))
    db.add(WebSession(key="k" * 64, user_id=person.id, created_at=NOW, last_seen_at=NOW,
                      csrf_secret="s", pending_logins="{}"))
    db.flush()

    again = provision(db, PROVIDER, login(B, ["docent"]), NOW)

    assert again.id == person.id
    assert memberships(db, person.id) == {(org(B), Role.MENTOR)}
    assert not db.scalars(select(CaseParticipant).where(
        CaseParticipant.person_id == person.id, CaseParticipant.case_id == case_id)).all()
    assert db.get(WebSession, "k" * 64) is None, "the person's other sessions ended"
    ended = db.scalars(select(AccessRecord.query).where(
        AccessRecord.event_type == "staff.membership.end",
        AccessRecord.object_id == person.id)).all()
    assert ended == [f"organisation={org(A)};role=mentor"]


def test_a_login_naming_both_schools_keeps_both(db: Session) -> None:
    person = provision(db, PROVIDER, login([A, B], ["docent"]), NOW)
    assert memberships(db, person.id) == {(org(A), Role.MENTOR), (org(B), Role.MENTOR)}
    provision(db, PROVIDER, login([A, B], ["ib"]), NOW)
    assert memberships(db, person.id) == {(org(A), Role.CARE_COORDINATOR),
                                          (org(B), Role.CARE_COORDINATOR)}


def test_a_membership_the_provider_no_longer_vouches_for_ends(db: Session) -> None:
    person = provision(db, PROVIDER, login([A, B], ["docent"]), NOW)
    narrowed = IdentityProviderConfig(**{**PROVIDER.__dict__, "organisations": (B,)})
    provision(db, narrowed, login([A, B], ["docent"]), NOW)
    assert memberships(db, person.id) == {(org(B), Role.MENTOR)}


def test_an_organisation_of_another_provider_is_left_alone(db: Session) -> None:
    person = provision(db, PROVIDER, login(A, ["docent"]), NOW)
    # A membership this provider never vouched for (granted elsewhere, e.g. by a directory).
    db.add(Membership(person_id=person.id, organisation_id=org(CARE),
                      role=Role.YOUTH_CARE_WORKER))
    db.flush()
    provision(db, PROVIDER, login(B, ["docent"]), NOW)
    assert memberships(db, person.id) == {(org(B), Role.MENTOR),
                                          (org(CARE), Role.YOUTH_CARE_WORKER)}


def test_a_chair_who_moves_leaves_the_case_asking_for_a_new_chair(db: Session) -> None:
    person = provision(db, PROVIDER, login(A, ["ib"]), NOW)
    case = db.scalars(select(Case).where(Case.organisation_id == org(A))).first()
    assert case is not None
    chair = db.scalars(select(CaseParticipant).where(CaseParticipant.case_id == case.id,
                                                     CaseParticipant.case_role == CaseRole.CHAIR)
                       ).one()
    chair.person_id, chair.organisation_id = person.id, org(A)
    db.flush()
    provision(db, PROVIDER, login(B, ["ib"]), NOW)
    vacancy = db.get_one(ChairVacancy, case.id)
    assert (vacancy.left_person_id, vacancy.notified_at) == (person.id, None)


def test_a_login_with_no_vouched_organisation_is_still_refused(db: Session) -> None:
    with pytest.raises(LoginRejected):
        provision(db, PROVIDER, login(CARE, ["docent"]), NOW)


def test_a_refused_login_still_ends_what_it_no_longer_supports(db: Session) -> None:
    person = provision(db, PROVIDER, login([A, B], ["docent"]), NOW)
    # The login names no organisation the provider vouches for: refused, and the
    # memberships it used to grant end all the same (the request commits).
    with pytest.raises(LoginRejected):
        provision(db, PROVIDER, login(CARE, ["docent"]), NOW)
    assert memberships(db, person.id) == set()


def test_a_login_without_a_mapped_role_ends_the_memberships(db: Session) -> None:
    person = provision(db, PROVIDER, login(A, ["docent"]), NOW)
    with pytest.raises(LoginRejected):
        provision(db, PROVIDER, login(A, ["stagiair"]), NOW)
    assert memberships(db, person.id) == set()


def test_a_closed_case_asks_for_no_new_chair(db: Session) -> None:
    person = provision(db, PROVIDER, login(A, ["ib"]), NOW)
    case = db.scalars(select(Case).where(Case.organisation_id == org(A))).first()
    assert case is not None
    case.status = CaseStatus.CLOSED
    chair = db.scalars(select(CaseParticipant).where(CaseParticipant.case_id == case.id,
                                                     CaseParticipant.case_role == CaseRole.CHAIR)
                       ).one()
    chair.person_id = person.id
    db.flush()
    provision(db, PROVIDER, login(B, ["ib"]), NOW)
    assert db.get(ChairVacancy, case.id) is None
    assert not db.scalars(select(CaseParticipant).where(
        CaseParticipant.case_id == case.id, CaseParticipant.person_id == person.id)).all()
