"""``/search``: find a case by words of its title or its child's name, or by the day
of one of its meetings (portal.search.dates).

The query never touches the database in the clear: its words become blind
tokens (portal.search.index), and the query itself is sealed under its own
data key, which the searcher's access record names. Matching cases are those
the searcher takes part in; each is then decided by the policy and recorded
on its own, and only an allowed case's title and child name are decrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto import Binding
from portal.audit.service import Requester, record
from portal.cases.gate import authorize
from portal.cases.models import Case, CaseParticipant, CaseStatus
from portal.errors import AccessDenied
from portal.people.blind_index import blind_index
from portal.people.models import Child
from portal.policy import Action, Actor, Deny, decide
from portal.search.dates import NotADate, cases_meeting_on, typed_day
from portal.search.index import token, words
from portal.search.models import SearchQuery, SearchToken
from portal.vault.service import Vault, case_field, child_field

MAX_WORDS = 8
MAX_QUERY = 200
MAX_HITS = 50


@dataclass(frozen=True)
class Hit:
    case_id: str
    title: str
    child_name: str | None
    status: CaseStatus


@dataclass(frozen=True)
class Results:
    query: str
    hits: list[Hit]
    searched: bool  # False: nothing to search for (empty or too short)
    day: date | None = None  # searched by meeting date
    error: str | None = None  # a message id: the text was meant as a date but names no day


def query_binding(query_id: str) -> Binding:
    return Binding(purpose="search-query", case_id="", object_type="search_query",
                   object_id=query_id, version=1, field="query")


def seal_query(db: Session, vault: Vault, now: datetime, person_id: str, text: str) -> str:
    row = SearchQuery(person_id=person_id, query_ct=b"", created_at=now)
    db.add(row)
    db.flush()
    key = vault.new_key(db, "search_query", row.id, now)
    row.query_ct = vault.seal(key, text, query_binding(row.id))
    db.flush()
    return row.id


def cases_matching(db: Session, vault: Vault, now: datetime, text: str, limit: int, *,
                   participant: str | None = None) -> list[str] | None:
    """The (not erased) cases whose index holds every word of ``text``, through the
    blind index only; those of ``participant`` when given. None: no word to look for.

    No policy here: the caller decides what a match may show (the case search each
    case, the FG's log its own scope)."""
    asked = list(dict.fromkeys(words(text)))[:MAX_WORDS]
    if not asked:
        return None
    index = blind_index(db, vault, now)
    tokens = {token(index, word) for word in asked}
    query = (select(SearchToken.case_id).join(Case, Case.id == SearchToken.case_id)
             .where(SearchToken.token.in_(tokens), Case.erased_at.is_(None)))
    if participant is not None:
        query = query.join(CaseParticipant, CaseParticipant.case_id == SearchToken.case_id) \
            .where(CaseParticipant.person_id == participant)
    return list(db.scalars(
        query.group_by(SearchToken.case_id)
        .having(func.count(func.distinct(SearchToken.token)) == len(tokens))
        .order_by(SearchToken.case_id).limit(limit)))


def search_cases(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 text: str) -> Results | None:
    """The cases matching every word of ``text``; None when nothing was asked (the form).

    Every search is an access record naming the sealed query; a refusal too."""
    text = text.strip()[:MAX_QUERY]
    decision = decide(actor, Action.CASE_LIST)
    if isinstance(decision, Deny) or text:
        query_id = seal_query(db, vault, now, actor.person_id, text) if text else None
        record(db, who, now, event_type="case.search", action="read", decision=decision,
               object_type="search_query", object_id=query_id,
               query=f"sealed:{query_id}" if query_id else None)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    if not text:
        return None
    try:
        day = typed_day(text)
    except NotADate as wrong:
        return Results(query=text, hits=[], searched=False, error=wrong.message)
    if day is not None:
        case_ids: list[str] | None = cases_meeting_on(db, day, actor.person_id, MAX_HITS)
    else:
        case_ids = cases_matching(db, vault, now, text, MAX_HITS, participant=actor.person_id)
    if case_ids is None:
        return Results(query=text, hits=[], searched=False)
    hits = []
    for case_id in case_ids:
        try:
            facts = authorize(db, who, actor, now, Action.CASE_VIEW, case_id,
                              event_type="case.search.hit", action_code="read", vault=vault)
        except AccessDenied:
            continue  # recorded as refused; not shown
        case = db.get_one(Case, facts.case_id)
        child_name = None
        if case.child_id:
            child = db.get_one(Child, case.child_id)
            child_name = vault.open(db, child.name_ct, child_field(child.id, "name"))
        hits.append(Hit(case_id=case.id, status=case.status, child_name=child_name,
                        title=vault.open(db, case.title_ct, case_field(case.id, "title"))))
    hits.sort(key=lambda hit: (hit.status is not CaseStatus.OPEN, hit.title.casefold()))
    return Results(query=text, hits=hits, searched=True, day=day)
