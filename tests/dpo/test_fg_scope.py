"""One FG per organisation: a generated matrix of who sees which records.

Two schools, one youth-care provider; a case the school and the youth-care
provider share, and an internal case of each organisation (the youth-care
provider's is about a pupil of the school: it stays out of the school's view).
Every case gets an access record, a break-glass grant and a ground waiting for
review. Each FG sees exactly their organisation's part on /audit, its exports,
the break-glass page and the ground queue; the supervisor sees everything and
every use of the supervision is named on the access record.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select

from portal.audit.models import AccessRecord
from portal.audit.service import Requester, record
from portal.cases.creation import NewCase, create_case_rows
from portal.cases.models import CaseRole, LegalBasis
from portal.consent.breakglass import reason_binding
from portal.consent.models import BreakGlassGrant, CaseGround
from portal.consent.rules import Basis
from portal.demo import stable_id
from portal.dpo.models import SupervisionGrant
from portal.dpo.supervision import grant, revoke
from portal.mail.models import OutboxMessage
from portal.people.models import Membership, Role
from portal.policy import Allow
from tests.harness import PortalClient, Running

BAKEN, LICHTPUNT, JEUGD = (stable_id("org", s) for s in
                           ("het-baken", "het-lichtpunt", "jeugdhulp-noord"))
SAM, NOOR = stable_id("child", "sam"), stable_id("child", "noor")


@dataclass(frozen=True)
class MatrixCase:
    key: str
    organisation: str
    child: str | None
    people: tuple[tuple[str, CaseRole], ...]  # (demo subject, role); the first acts


CASES = (
    MatrixCase("shared", BAKEN, SAM, (("ib", CaseRole.CHAIR), ("jeugdhulp", CaseRole.PARTICIPANT))),
    MatrixCase("baken-intern", BAKEN, NOOR, (("ib", CaseRole.CHAIR),)),
    MatrixCase("lichtpunt-intern", LICHTPUNT, None, (("ib-lichtpunt", CaseRole.CHAIR),)),
    MatrixCase("jeugd-intern", JEUGD, SAM, (("jeugdhulp", CaseRole.CHAIR),)),
)
# The demo persona that becomes each organisation's FG, and what that FG must see.
FGS = {
    "schoolleider": (BAKEN, {"shared", "baken-intern"}),
    "buitenstaander": (LICHTPUNT, {"lichtpunt-intern"}),
    "smw": (JEUGD, {"shared", "jeugd-intern"}),
    "fg": (None, {c.key for c in CASES}),  # the supervisor (demo data grants it)
}


def case_id(key: str) -> str:
    return stable_id("case", f"matrix-{key}")


def reason(key: str) -> str:
    return f"Ernstige zorgen over de veiligheid in casus {key}, gesprek met de leerling."


def build(running: Running) -> dict[str, str]:
    """The cases, one access record, break-glass grant and ground each; the grounds' ids."""
    now, vault = running.clock(), running.portal.vault
    grounds = {}
    with running.portal.sessions.begin() as db:
        for case in CASES:
            actor = stable_id("person", case.people[0][0])
            created = create_case_rows(
                db, vault, now, case_id=case_id(case.key), created_by=actor,
                organisation_id=case.organisation,
                new=NewCase(child_id=case.child, anonymous=case.child is None,
                            title=f"Casus {case.key}", purpose="Afstemmen wie wat doet.",
                            legal_basis=LegalBasis.CONSENT),
                participants=[(stable_id("person", s), r) for s, r in case.people])
            who = Requester(user_id=actor, user_name=case.people[0][0], user_role="chair",
                            organisation_id=case.organisation, session_ref="matrix",
                            client_address="127.0.0.1")
            record(db, who, now, event_type="case.read", action="read",
                   decision=Allow(basis="participant:chair"), case_id=created.id,
                   child_id=case.child, object_type="case", object_id=created.id)
            grant_id = stable_id("grant", case.key)
            key = vault.key_for(db, created.title_ct)
            db.add(BreakGlassGrant(
                id=grant_id, case_id=created.id, person_id=actor,
                reason_ct=vault.seal(key, reason(case.key), reason_binding(created.id, grant_id)),
                granted_at=now, expires_at=now + timedelta(hours=24), dpo_notified_at=now))
            ground = CaseGround(case_id=created.id, basis=Basis.VITAL_INTEREST,
                                recipients=[f"person:{actor}"], categories=["health"],
                                valid_from=date.today(), invoked_by=actor, invoked_at=now,
                                needs_review=True)
            db.add(ground)
            db.flush()
            grounds[case.key] = ground.id
    return grounds


def make_fg(running: Running, persona: str) -> None:
    """The persona becomes the FG of their organisation (after logging in: a login
    makes the memberships what the dev IdP's claims say)."""
    organisation = FGS[persona][0]
    if organisation is None:
        return
    person = stable_id("person", persona)
    with running.portal.sessions.begin() as db:
        db.execute(delete(Membership).where(Membership.person_id == person))
        db.add(Membership(person_id=person, organisation_id=organisation, role=Role.DPO))


def fg_client(running: Running, persona: str) -> PortalClient:
    client = running.client()
    client.login(persona)
    if persona in FGS:
        make_fg(running, persona)
    return client


def csv_cases(client: PortalClient) -> set[str]:
    response = client.get("/audit/export.csv")
    assert response.status_code == 200
    return {row["case_id"] for row in csv.DictReader(io.StringIO(response.text))}


def fhir_cases(client: PortalClient) -> set[str]:
    response = client.get("/audit/export.json")
    assert response.status_code == 200
    return _references(json.loads(response.text))


def _references(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for value in node.values():
            found |= _references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value)
    elif isinstance(node, str):
        found |= {c.key for c in CASES if case_id(c.key) in node}
    return found


@pytest.mark.parametrize("persona", sorted(FGS), ids=sorted(FGS))
def test_each_fg_sees_exactly_their_organisations_part(running: Running,
                                                       persona: str) -> None:
    grounds = build(running)
    expected = FGS[persona][1]
    fg = fg_client(running, persona)
    every = {c.key for c in CASES}

    page = fg.page("/audit")
    assert page.status_code == 200
    assert {k for k in every if case_id(k) in page.text} == expected
    for key in every:  # a search for a case out of scope finds nothing
        found = fg.page(f"/audit?case={case_id(key)}")
        assert (f"/audit?case={case_id(key)}\">" in found.text) == (key in expected), key
    assert {k for k in every if case_id(k) in csv_cases(fg)} == expected
    assert fhir_cases(fg) & every == expected

    glass = fg.page("/dpo/break-glass")
    assert glass.status_code == 200
    assert {k for k in every if reason(k) in glass.text} == expected
    queue = fg.page("/dpo/grounds")
    assert {k for k in every if grounds[k] in queue.text} == expected

    for key in sorted(every - expected):  # out of scope: as if it did not exist
        assert fg.submit(f"/dpo/break-glass/{stable_id('grant', key)}/reviewed"
                         ).status_code == 404
        assert fg.submit(f"/dpo/grounds/{grounds[key]}/reviewed").status_code == 404
    for key in sorted(expected):
        assert fg.submit(f"/dpo/break-glass/{stable_id('grant', key)}/reviewed"
                         ).status_code == 200
        assert fg.submit(f"/dpo/grounds/{grounds[key]}/reviewed").status_code == 200
    with running.portal.sessions() as db:
        reviewed = set(db.scalars(select(BreakGlassGrant.case_id)
                                  .where(BreakGlassGrant.reviewed_at.is_not(None))))
        searches = db.scalars(select(AccessRecord).where(
            AccessRecord.user_id == stable_id("person", persona),
            AccessRecord.event_type.in_(["audit.search", "audit.export.csv",
                                         "audit.export.fhir", "break_glass.review",
                                         "ground.queue"]),
            AccessRecord.outcome == "allowed")).all()
    assert reviewed == {case_id(k) for k in expected}
    assert searches
    # Only the supervisor's reads are made under the supervision grant, and each says so.
    supervising = {"supervision:" in (r.basis or "") for r in searches}
    assert supervising == {persona == "fg"}


def test_supervision_is_an_explicit_recorded_grant(running_sqlite: Running) -> None:
    build(running_sqlite)
    now = running_sqlite.clock()
    email = "fg@demo.mdo-portaal.test"
    with running_sqlite.portal.sessions.begin() as db:
        assert revoke(db, email, now, "test") == 1
    fg = fg_client(running_sqlite, "fg")
    # Without the grant the operator's FG oversees only the operator's organisation.
    page = fg.page("/audit")
    assert page.status_code == 200 and not any(case_id(c.key) in page.text for c in CASES)
    assert not any(reason(c.key) in fg.page("/dpo/break-glass").text for c in CASES)
    with running_sqlite.portal.sessions.begin() as db:
        grant(db, email, now, "test")
    assert all(case_id(c.key) in fg.page("/audit").text for c in CASES)
    with running_sqlite.portal.sessions() as db:
        grants = db.scalars(select(SupervisionGrant).order_by(SupervisionGrant.granted_at,
                                                              SupervisionGrant.revoked_at)).all()
        trail = db.scalars(select(AccessRecord.event_type).where(
            AccessRecord.event_type.like("dpo.supervision.%")).order_by(AccessRecord.seq)).all()
    assert [g.revoked_at is None for g in grants] == [False, True]  # the lifted one stays
    # The demo's grant is demo data (no record); lifting and granting again are recorded.
    assert trail == ["dpo.supervision.revoke", "dpo.supervision.grant"]


def test_only_the_operators_fg_can_supervise(running_sqlite: Running) -> None:
    from portal.dpo.supervision import SupervisionRefused

    with running_sqlite.portal.sessions.begin() as db, pytest.raises(SupervisionRefused):
        grant(db, "ib@demo.mdo-portaal.test", running_sqlite.clock(), "test")


def test_break_glass_reaches_the_fgs_of_the_case_only(running_sqlite: Running) -> None:
    build(running_sqlite)
    make_fg(running_sqlite, "smw")
    jeugdhulp = fg_client(running_sqlite, "jeugdhulp")
    jeugdhulp.page(f"/cases/{case_id('jeugd-intern')}")
    opened = jeugdhulp.submit(f"/cases/{case_id('jeugd-intern')}/break-glass",
                              {"reason": reason("jeugd-intern")})
    assert opened.status_code == 200
    with running_sqlite.portal.sessions() as db:
        told = sorted(db.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.kind == "break_glass.dpo")))
    assert told == ["smw@demo.mdo-portaal.test"]
