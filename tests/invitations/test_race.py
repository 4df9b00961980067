"""Two redemptions of one code at the same moment bind one login (PostgreSQL, real locks).

The second request reads the invitation while the first has claimed it but
not yet committed; it must then lose, not overwrite the first binding.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from auth.devidp import DEV_ACR
from conftest import StartPortal
from portal.audit.service import Requester
from portal.demo import stable_id
from portal.invitations.codes import code_hash, new_code
from portal.invitations.models import FamilyInvitation, InvitationFailure
from portal.invitations.redeem import (
    FAILURE_LIMIT,
    Redeemer,
    RedemptionRefused,
    Refusal,
    UnboundLogin,
    redeem,
)
from tests.harness import Running
from tests.invitations._family import SAM, register_adult
from tests.invitations._family import person_row as row_of


def _requester(session: str, address: str) -> Requester:
    return Requester(user_id=None, user_name=None, user_role=None, organisation_id=None,
                     session_ref=session, client_address=address)


def attempt(subject: str) -> Redeemer:
    return Redeemer(login=UnboundLogin("dev", subject, DEV_ACR, None), person_id=None,
                    acr=DEV_ACR)


def invitation_for(running: Running, person_id: str) -> str:
    code, now = new_code(), running.clock()
    with running.portal.sessions() as db:
        db.add(FamilyInvitation(person_id=person_id, child_id=SAM,
                                code_hash=code_hash(running.portal.settings.session_secret,
                                                    code),
                                created_by=stable_id("person", "ib"), created_at=now,
                                sent_at=now, expires_at=now + timedelta(days=14)))
        db.commit()
    return code


def wait_until_blocked(running: Running, thread: threading.Thread) -> None:
    """Until another connection waits for a lock (a row or an advisory lock)."""
    deadline = time.monotonic() + 20
    # Autocommit: inside one transaction PostgreSQL answers pg_stat_activity from the
    # snapshot taken at its first read, so a wait that began after the first poll was
    # never seen (the test then failed at random, whenever the poll came first).
    with running.portal.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT") as watcher:
        while not watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()")).scalar():
            assert thread.is_alive() and time.monotonic() < deadline, "nothing waited"
            time.sleep(0.01)


def test_two_redemptions_at_once_bind_one_login(postgres_url: str,
                                                start_portal: StartPortal) -> None:
    running = start_portal(postgres_url)
    portal = running.portal
    member = register_adult(running)
    code = invitation_for(running, member.person_id)
    now, secret = running.clock(), portal.settings.session_secret

    first = portal.sessions()
    redeem(first, _requester("first", "10.0.0.1"), now, secret, DEV_ACR,
           attempt("subject-a"), code)  # claimed, not yet committed
    outcome: dict[str, object] = {}

    def second() -> None:
        with portal.sessions() as db:
            try:
                redeem(db, _requester("second", "10.0.0.2"), now, secret, DEV_ACR,
                       attempt("subject-b"), code)
                outcome["second"] = "bound"
            except RedemptionRefused as refused:
                outcome["second"] = refused.reason
            db.commit()

    thread = threading.Thread(target=second)
    thread.start()
    wait_until_blocked(running, thread)  # on the first one's claim
    first.commit()
    first.close()
    thread.join(timeout=20)
    assert outcome == {"second": Refusal.ALREADY_USED}
    assert row_of(running, member.person_id).subject == "subject-a"


def test_parallel_guesses_from_one_address_are_counted_one_at_a_time(
        postgres_url: str, start_portal: StartPortal) -> None:
    """The 20th failure, not yet committed, still stops a parallel 21st attempt."""
    running = start_portal(postgres_url)
    portal = running.portal
    member = register_adult(running)
    code = invitation_for(running, member.person_id)
    now, secret = running.clock(), portal.settings.session_secret
    with portal.sessions() as db:
        for n in range(FAILURE_LIMIT - 1):
            db.add(InvitationFailure(session_ref=f"worker-{n}", client_address="10.0.0.9",
                                     failed_at=now))
        db.commit()
    first = portal.sessions()
    with pytest.raises(RedemptionRefused) as twentieth:  # the 20th failure, uncommitted
        redeem(first, _requester("one", "10.0.0.9"), now, secret, DEV_ACR,
               attempt("subject-a"), "wrong-code")
    assert twentieth.value.reason is Refusal.UNKNOWN_CODE
    outcome: dict[str, object] = {}

    def parallel() -> None:
        with portal.sessions() as db:
            try:
                redeem(db, _requester("two", "10.0.0.9"), now, secret, DEV_ACR,
                       attempt("subject-b"), code)
                outcome["parallel"] = "bound"
            except RedemptionRefused as refused:
                outcome["parallel"] = refused.reason
            db.commit()

    thread = threading.Thread(target=parallel)
    thread.start()
    wait_until_blocked(running, thread)
    first.commit()
    first.close()
    thread.join(timeout=20)
    assert outcome == {"parallel": Refusal.RATE_LIMITED}
    assert row_of(running, member.person_id).idp is None
