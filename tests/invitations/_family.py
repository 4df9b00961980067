"""Family members the school registered (no login bound yet), and their logins at the IdP.

A family member is a ``Person`` row (citizen, no idp/subject) with a
``ChildRelation``, as the register creates them; their own login is a persona
added to the in-process development IdP, which signs real ID tokens for it.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from auth.devidp import Persona
from portal.audit.models import AccessRecord
from portal.demo import stable_id
from portal.mail.catcher import CaughtMessage
from portal.people.models import Child, ChildRelation, Person, PersonKind, Relation
from portal.vault.service import child_field
from tests.harness import PortalClient, Running

SAM = stable_id("child", "sam")
HET_BAKEN = stable_id("org", "het-baken")
LINK = re.compile(r"http://[^\s/]+/invitation/([A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class Member:
    person_id: str
    email: str
    subject: str  # their login's subject at the family IdP (not yet bound)


def register_adult(running: Running, child_id: str = SAM,
                   relation: Relation = Relation.PARENT_WITH_CUSTODY) -> Member:
    tag = uuid.uuid4().hex[:8]
    member = Member(person_id=str(uuid.uuid4()), email=f"ouder-{tag}@example.org",
                    subject=f"digid-{tag}")
    with running.portal.sessions() as db:
        db.add(Person(id=member.person_id, kind=PersonKind.CITIZEN, display_name="-",
                      email=member.email, idp=None, subject=None, active=True,
                      created_at=running.clock()))
        db.flush()
        db.add(ChildRelation(child_id=child_id, person_id=member.person_id, relation=relation))
        db.commit()
    add_login(running, member.subject)
    return member


def add_login(running: Running, subject: str) -> None:
    """The person's own account at the family IdP (no organisation: a citizen)."""
    running.portal.dev_idp.personas[subject] = Persona(
        subject=subject, name="Burger", email=f"{subject}@example.org",
        description="family login")


def register_child(running: Running, birthdate: date) -> str:
    child_id = str(uuid.uuid4())
    vault = running.portal.vault
    with running.portal.sessions() as db:
        key = vault.new_key(db, "child", child_id, running.clock())
        db.add(Child(id=child_id, school_id=HET_BAKEN,
                     name_ct=vault.seal(key, f"Leerling {child_id[:6]}",
                                        child_field(child_id, "name")),
                     birthdate_ct=vault.seal(key, birthdate.isoformat(),
                                             child_field(child_id, "birthdate")),
                     created_at=running.clock()))
        db.commit()
    return child_id


def wait_for_mail(running: Running, recipient: str, count: int = 1) -> list[CaughtMessage]:
    """The messages to ``recipient`` once ``count`` have arrived over SMTP."""
    deadline = time.monotonic() + 20
    while True:
        running.portal.mail.poke()
        found = [m for m in running.portal.mail_catcher.snapshot() if recipient in m.recipients]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"no invitation mail to {recipient}"
        time.sleep(0.05)


def code_in(message: CaughtMessage) -> str:
    codes = set(LINK.findall(message.body))
    assert len(codes) == 1, message.body
    return codes.pop()


def invite(school: PortalClient, member: Member, child_id: str = SAM) -> None:
    school.page(f"/invitations/children/{child_id}")
    sent = school.submit(f"/invitations/children/{child_id}",
                         {"person": member.person_id, "email": member.email})
    assert sent.status_code == 200 and "De uitnodiging is verstuurd" in sent.text, sent.text


def login_as(running: Running, subject: str, next_path: str = "/invitation") -> PortalClient:
    """Log in at the family IdP; an unbound login lands on the redemption page."""
    client = running.client()
    landed = client.login(subject, provider=f"dev?next={next_path}")
    assert landed.status_code == 200, landed.text
    return client


def redeem(client: PortalClient, code: str):  # type: ignore[no-untyped-def]
    return client.submit("/invitation", {"code": code})


def person_row(running: Running, person_id: str) -> Person:
    with running.portal.sessions() as db:
        found = db.get(Person, person_id)
        assert found is not None
        return found


def records(running: Running, event_type: str) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(AccessRecord.event_type == event_type)
                               .order_by(AccessRecord.seq)))
