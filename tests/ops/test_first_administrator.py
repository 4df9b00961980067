"""Until an administrator exists the portal says so; the one ``portal init`` named is bound
at their first login, through a real OIDC flow (the dev IdP)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from auth.login_values import VerifiedLogin
from portal.audit.models import AccessRecord
from portal.db import make_engine
from portal.demo import DEV_IDP_ID
from portal.migrate import upgrade
from portal.ops import bootstrap
from portal.ops.administrator import _matches
from portal.ops.models import AdministratorBinding
from portal.people.models import Membership, OrganisationKind, Person, Role
from tests.harness import Running

NO_ADMIN_NL = "Er is nog geen beheerder: voer `portal init` uit."
PENDING_NL = "De beheerder van het portaal heeft nog niet ingelogd."


@pytest.fixture
def empty_portal(empty_url: str, start_portal: object) -> Running:
    """A migrated portal with no organisation and no account at all."""
    engine = make_engine(empty_url)
    upgrade(engine)
    engine.dispose()
    return start_portal(empty_url)  # type: ignore[operator]


def name_administrator(running: Running, **who: str) -> bootstrap.InitReport:
    portal = running.portal
    plan = bootstrap.InitPlan(
        organisations=(bootstrap.OrganisationSpec("beheer", OrganisationKind.PORTAL,
                                                  "MDO-portaal beheer"),),
        administrator=bootstrap.AdministratorSpec(idp=DEV_IDP_ID, **who))
    return bootstrap.run(portal.settings, plan, portal.engine, portal.sessions,
                         lambda: portal.vault.provider, running.clock())


def test_no_administrator_yet_then_the_named_one_is_bound_at_first_login(
        empty_portal: Running, caplog: pytest.LogCaptureFixture) -> None:
    visitor = empty_portal.client()
    assert NO_ADMIN_NL in visitor.page("/login").text

    with caplog.at_level(logging.WARNING, logger="portal"):
        refused = visitor.login("mentor")
    assert refused.status_code == 400
    assert NO_ADMIN_NL in refused.text and "no_administrator" in refused.text
    assert "Your account has no role" not in refused.text
    assert any(r.getMessage() == "no administrator yet: run `portal init`"
               for r in caplog.records)

    name_administrator(empty_portal, email="IB@demo.mdo-portaal.test")
    page = empty_portal.client().page("/login").text
    assert PENDING_NL in page and NO_ADMIN_NL not in page
    other = empty_portal.client().login("mentor")
    assert other.status_code == 400 and PENDING_NL in other.text

    admin = empty_portal.client()
    landed = admin.login("ib")
    # Logged in: the start page, which offers an administrator the administration.
    assert landed.status_code == 200 and landed.url.path == "/"
    assert 'href="/admin"' in landed.text
    assert admin.page("/admin").status_code == 200
    with empty_portal.portal.sessions() as db:
        person = db.scalars(select(Person).where(Person.subject == "ib")).one()
        roles = list(db.scalars(select(Membership.role)
                                .where(Membership.person_id == person.id)))
        binding = db.scalars(select(AdministratorBinding)).one()
        bound = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "admin.init.administrator_bound")).one()
    assert roles == [Role.ADMIN]
    assert binding.person_id == person.id and binding.bound_at is not None
    assert bound.user_id == person.id and bound.object_id == person.id
    page = empty_portal.client().page("/login").text
    assert NO_ADMIN_NL not in page and PENDING_NL not in page

    # Later logins keep the role that portal init gave, whatever the IdP's claims say.
    again = empty_portal.client()
    assert again.login("ib").url.path == "/"
    assert again.page("/admin").status_code == 200


def test_a_deactivated_bound_administrator_is_refused(empty_portal: Running) -> None:
    name_administrator(empty_portal, subject="ib")
    assert empty_portal.client().login("ib").url.path == "/"
    with empty_portal.portal.sessions() as db, db.begin():
        db.scalars(select(Person).where(Person.subject == "ib")).one().active = False
    refused = empty_portal.client().login("ib")
    assert refused.status_code == 400 and "account_disabled" in refused.text


def login(subject: str, **claims: object) -> VerifiedLogin:
    return VerifiedLogin(provider_id="school-idp", issuer="https://login.school.example",
                         subject=subject, claims={"sub": subject, **claims}, acr=None,
                         auth_time=None)


def binding(**who: str | None) -> AdministratorBinding:
    return AdministratorBinding(idp="school-idp", organisation_id="o",
                                created_at=datetime.now(UTC), **who)


def test_matching_by_subject_or_by_a_vouched_for_email() -> None:
    by_subject = binding(subject="a1", email=None)
    assert _matches(by_subject, login("a1"))
    assert not _matches(by_subject, login("a2", email="a1"))
    by_email = binding(subject=None, email="beheer@baken.example")
    assert _matches(by_email, login("x", email="Beheer@Baken.example", email_verified=True))
    assert _matches(by_email, login("x", email="beheer@baken.example"))
    assert not _matches(by_email, login("x", email="beheer@baken.example",
                                        email_verified=False))
    assert not _matches(by_email, login("x", email="other@baken.example"))
    assert not _matches(by_email, login("beheer@baken.example"))
