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

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.people.blind_index import BlindIndex, blind_index, normalise_name
from portal.people.models import Child
from portal.search.models import SearchToken
from portal.vault.service import Vault, child_field

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
    wanted = {token(index, term) for text in texts for term in terms(text)}
    have = set(db.scalars(select(SearchToken.token).where(SearchToken.case_id == case_id)))
    db.add_all(SearchToken(case_id=case_id, token=t) for t in sorted(wanted - have))
    db.flush()


def drop_case(db: Session, case_id: str) -> None:
    """An erased case is found by nothing."""
    db.execute(delete(SearchToken).where(SearchToken.case_id == case_id)
               .execution_options(synchronize_session=False))
