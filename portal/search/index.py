"""Keep a case's search tokens: written where its title or child is set, gone on erasure.

Words are normalised (NFKC, case-folded) and split on anything that is not a
letter or digit; every word of two or more characters is indexed whole, and
every prefix from three characters on, so "Mul" finds "Mulder". A query word
matches when its token is among the case's tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.models import Case
from portal.people.blind_index import BlindIndex, blind_index, normalise_name
from portal.people.models import Child
from portal.search.models import SearchToken
from portal.vault.service import Vault, case_field, child_field

MIN_WORD = 2
MIN_PREFIX = 3
MAX_WORD = 40  # longer "words" are not names or titles; their prefixes still count
WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return [w for w in WORD.findall(normalise_name(text).replace("_", " "))
            if len(w) >= MIN_WORD]


def token(index: BlindIndex, word: str) -> str:
    message = f"search\0{word}".encode()
    return hmac.new(index.key, message, hashlib.sha256).hexdigest()


def terms(text: str) -> set[str]:
    """Every indexed form of ``text``: whole words and their prefixes."""
    found: set[str] = set()
    for word in words(text):
        found.add(word[:MAX_WORD])
        found.update(word[:n] for n in range(MIN_PREFIX, min(len(word), MAX_WORD) + 1))
    return found


def index_case(db: Session, vault: Vault, now: datetime, case_id: str, *,
               title: str | None = None, child_id: str | None = None) -> None:
    """Add the tokens of the case's title (plaintext the caller just sealed) and of its
    child's name (opened here, in the transaction that links child and case)."""
    texts = [title] if title else []
    if child_id is not None:
        child = db.get_one(Child, child_id)
        texts.append(vault.open(db, child.name_ct, child_field(child.id, "name")))
    index = blind_index(db, vault, now)
    # The empty word (never asked) marks the case as indexed, even without a word.
    wanted = {token(index, term) for text in texts for term in terms(text) | {""}}
    have = set(db.scalars(select(SearchToken.token).where(SearchToken.case_id == case_id)))
    db.add_all(SearchToken(case_id=case_id, token=t) for t in sorted(wanted - have))
    db.flush()


def drop_case(db: Session, case_id: str) -> None:
    """An erased case is found by nothing."""
    db.execute(delete(SearchToken).where(SearchToken.case_id == case_id)
               .execution_options(synchronize_session=False))


BACKFILL_BATCH = 200
SYSTEM = Requester(user_id=None, user_name="search index", user_role="system",
                   organisation_id=None, session_ref=None, client_address=None)


def index_unindexed(db: Session, vault: Vault, now: datetime) -> int:
    """Index cases that have no tokens yet (cases from before search existed).

    Reading a title to index it is recorded, once per case, as the system's read."""
    case_ids = list(db.scalars(
        select(Case.id).where(Case.erased_at.is_(None),
                              ~exists().where(SearchToken.case_id == Case.id))
        .order_by(Case.id).limit(BACKFILL_BATCH)))
    for case_id in case_ids:
        case = db.get_one(Case, case_id)
        record(db, SYSTEM, now, event_type="search.index", action="read", outcome="allowed",
               case_id=case.id, child_id=case.child_id, object_type="case", object_id=case.id)
        title = vault.open(db, case.title_ct, case_field(case.id, "title"))
        index_case(db, vault, now, case.id, title=title, child_id=case.child_id)
    return len(case_ids)
