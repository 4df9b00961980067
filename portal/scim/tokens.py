"""Which organisation a SCIM request speaks for, from its bearer token.

The tokens arrive as a secret file (``PORTAL_SCIM_TOKENS_FILE``); the settings
keep only their SHA-256, and so does the database (``scim_token``), where
every worker finds them. A token is a long random string, so an unsalted
hash is enough: there is nothing to guess from it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from portal.db import unit_of_work
from portal.people.models import Organisation
from portal.scim.models import ScimToken
from portal.settings import ScimOrganisation

log = logging.getLogger("portal.scim")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sync_tokens(db: Session, organisations: Iterable[ScimOrganisation], now: datetime) -> None:
    """Make the stored hashes those of the configuration: new, rotated and withdrawn tokens."""
    wanted: dict[str, str] = {}
    for entry in organisations:
        org_id = db.scalar(select(Organisation.id).where(Organisation.slug == entry.slug))
        if org_id is None:
            log.warning("SCIM token for unknown organisation %s ignored", entry.slug)
            continue
        wanted[org_id] = entry.token_hash
    db.execute(delete(ScimToken).where(ScimToken.organisation_id.not_in(wanted)))
    for org_id, digest in wanted.items():
        row = db.get(ScimToken, org_id)
        if row is None:
            db.add(ScimToken(organisation_id=org_id, token_hash=digest, updated_at=now))
        elif row.token_hash != digest:
            row.token_hash, row.updated_at = digest, now
    db.flush()


def sync_tokens_at_start(sessions: sessionmaker[Session],
                         organisations: Sequence[ScimOrganisation], now: datetime) -> None:
    """``sync_tokens`` in its own transaction; several workers starting at once may race
    to write the same hashes, and the loser simply finds them written."""
    for attempt in range(2):
        try:
            with unit_of_work(sessions) as db:
                sync_tokens(db, organisations, now)
            return
        except IntegrityError:
            if attempt:
                raise


def organisation_for(db: Session, authorization: str | None) -> Organisation | None:
    """The organisation whose token the ``Authorization: Bearer`` header carries, if any."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    # Looked up by hash: comparing digests of a secret leaks nothing useful by timing.
    row = db.scalars(select(ScimToken).where(ScimToken.token_hash == token_hash(token))).first()
    return db.get(Organisation, row.organisation_id) if row is not None else None
