"""Two redemptions of one code at the same moment bind one login (PostgreSQL, real locks).

The second request reads the invitation while the first has claimed it but
not yet committed; it must then lose, not overwrite the first binding.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import text

from auth.devidp import DEV_ACR
from conftest import StartPortal
from portal.audit.service import Requester
from portal.demo import stable_id
from portal.invitations.codes import code_hash, new_code
from portal.invitations.models import FamilyInvitation
from portal.invitations.redeem import Redeemer, RedemptionRefused, Refusal, UnboundLogin, redeem
from tests.invitations._family import SAM, register_adult
from tests.invitations._family import person_row as row_of


def _requester(session: str, address: str) -> Requester:
    return Requester(user_id=None, user_name=None, user_role=None, organisation_id=None,
                     session_ref=session, client_address=address)


def test_two_redemptions_at_once_bind_one_login(postgres_url: str,
                                                start_portal: StartPortal) -> None:
    running = start_portal(postgres_url)
    portal = running.portal
    member = register_adult(running)
    code, now = new_code(), running.clock()
    secret = portal.settings.session_secret
    with portal.sessions() as db:
        db.add(FamilyInvitation(person_id=member.person_id, child_id=SAM,
                                code_hash=code_hash(secret, code),
                                created_by=stable_id("person", "ib"), created_at=now,
                                sent_at=now, expires_at=now + timedelta(days=14)))
        db.commit()

    def attempt(subject: str) -> Redeemer:
        return Redeemer(login=UnboundLogin("dev", subject, DEV_ACR, None), person_id=None,
                        acr=DEV_ACR)

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
    # Wait until the second request is blocked on the first one's row lock.
    deadline = time.monotonic() + 20
    with portal.engine.connect() as watcher:
        while not watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()")).scalar():
            assert thread.is_alive() and time.monotonic() < deadline, outcome
            time.sleep(0.01)
    first.commit()
    first.close()
    thread.join(timeout=20)
    assert outcome == {"second": Refusal.ALREADY_USED}
    assert row_of(running, member.person_id).subject == "subject-a"
