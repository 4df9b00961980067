"""Reading the access log: the DPO's search and exports, and a professional's own history.

Reading the log is itself an access and is recorded like any other, allowed
or denied, before anything of the log is returned. The DPO's login must meet
the configured assurance level (``PORTAL_AUDIT_DPO_ACR``); a weaker login is
refused with ``StepUpRequired`` and the refusal is on record.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from auth.config import acr_at_least
from portal.audit import health, ledger
from portal.audit.charts import DailyChart, DayCount, daily_chart
from portal.audit.export import visible
from portal.audit.models import AccessRecord
from portal.audit.service import Requester, record
from portal.audit.witness import WitnessStatus
from portal.audit.witness import status as witness_status
from portal.cases.models import Case
from portal.dpo.scope import fg_record_scope, supervised
from portal.errors import N_, AccessDenied, InvalidInput
from portal.localtime import LOCAL_TIME
from portal.people.models import Organisation, Person, PersonKind
from portal.policy import Action, Actor, Deny, decide
from portal.search.index import words
from portal.search.service import cases_matching, seal_query
from portal.vault.service import Vault

PAGE_LIMIT = 200
COUNT_CAP = 10_000  # the FG's log counts "more than 10,000" beyond this
SEARCH_PAGE = 50  # the FG's log, paged by sequence number (a stable order)
NAME_MATCHES = 1000  # cases a name may match in the FG's log filters
EXPORT_LIMIT = 100_000
CHART_DAYS = 30
CHART_MAX_DAYS = 92
OUTCOMES = ("allowed", "denied", "failed")
TEXT_MAX = 200


class StepUpRequired(AccessDenied):
    """Allowed by role, but the login's assurance level is too low for this page."""

    def __init__(self, decision: Deny, required: str) -> None:
        super().__init__(decision)
        self.required = required


@dataclass(frozen=True)
class Filters:
    person: str = ""  # a person id, or part of a name
    child: str = ""  # a child id, or words of their name (through the search index)
    case: str = ""  # a case id, or words of its title or child's name
    # What the words of ``child`` and ``case`` matched (``by_name``); None: given as ids.
    child_ids: tuple[str, ...] | None = None
    case_ids: tuple[str, ...] | None = None
    # The professionals whose name contains ``person`` (``by_name``); None: not looked up.
    person_ids: tuple[str, ...] | None = None
    organisation: str = ""
    date_from: date | None = None
    date_to: date | None = None
    outcome: str = ""
    basis: str = ""  # part of the basis or legal ground
    break_glass: bool = False

    def only_dates(self) -> bool:
        """Nothing narrows the search but its dates."""
        return replace(self, date_from=None, date_to=None) == Filters()


def query_text(params: Mapping[str, str]) -> str:
    """A search's parameters as they are kept on the searcher's own access record
    (exactly as typed: the record's encoding escapes whatever they contain)."""
    return urlencode(sorted((k, v) for k, v in params.items() if v))


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _date(params: Mapping[str, str], name: str, errors: dict[str, str]) -> date | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = N_("Use a date like 2026-03-01.")
        return None


def parse_filters(params: Mapping[str, str]) -> Filters:
    """Validate a search's query parameters; raises ``InvalidInput``."""
    errors: dict[str, str] = {}
    text = {name: params.get(name, "").strip() for name in
            ("person", "child", "case", "organisation", "outcome", "basis")}
    for name in ("person", "basis", "child", "case"):
        if len(text[name]) > TEXT_MAX:
            errors[name] = N_("Search for at most 200 characters.")
    for name in ("child", "case"):
        if text[name] and not is_uuid(text[name]) and not words(text[name]):
            errors[name] = N_("Give a name (two letters or more) or an id.")
    if text["organisation"] and not is_uuid(text["organisation"]):
        errors["organisation"] = N_("This is not a valid id.")
    if text["outcome"] not in ("", *OUTCOMES):
        errors["outcome"] = N_("Choose an outcome.")
    date_from, date_to = _date(params, "date_from", errors), _date(params, "date_to", errors)
    if date_from and date_to and date_from > date_to:
        errors["date_to"] = N_("The end date lies before the start date.")
    if errors:
        raise InvalidInput(errors)
    return Filters(person=text["person"], child=text["child"], case=text["case"],
                   organisation=text["organisation"], date_from=date_from, date_to=date_to,
                   outcome=text["outcome"], basis=text["basis"],
                   break_glass=params.get("break_glass") in ("1", "on"))


def local_day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL_TIME).astimezone(UTC)


def _professionals_named(fragment: str) -> Select[Any]:
    return select(Person.id).where(
        Person.kind == PersonKind.PROFESSIONAL,
        func.lower(Person.display_name).contains(fragment, autoescape=True))


def _named(fragment: str, ids: tuple[str, ...] | None) -> ColumnElement[bool]:
    """Records of the professionals whose name contains ``fragment``, found through
    their ids (indexed) rather than by scanning every record's stored name; records
    without a person (the system, SCIM, operators) by the name they carry.

    ``ids`` are those professionals, looked up beforehand (``by_name``): a list of
    ids lets PostgreSQL combine the user-id index for both branches (a subquery in
    an OR made it read the whole log). Without it the subquery does the same.

    A citizen's record carries no name (it is sealed at rest), so none is found by
    name, as before; a professional is found by their current name."""
    people = _professionals_named(fragment) if ids is None else ids
    return or_(AccessRecord.user_id.in_(people),
               and_(AccessRecord.user_id.is_(None),
                    func.lower(AccessRecord.user_name).contains(fragment, autoescape=True)))


def conditions(filters: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.person:
        if is_uuid(filters.person):
            where.append(AccessRecord.user_id == filters.person)
        else:
            where.append(_named(filters.person.lower(), filters.person_ids))
    if filters.child_ids is not None:
        where.append(AccessRecord.child_id.in_(filters.child_ids))
    elif filters.child:
        where.append(AccessRecord.child_id == filters.child)
    if filters.case_ids is not None:
        where.append(AccessRecord.case_id.in_(filters.case_ids))
    elif filters.case:
        where.append(AccessRecord.case_id == filters.case)
    if filters.organisation:
        where.append(AccessRecord.user_organisation_id == filters.organisation)
    if filters.date_from:
        where.append(AccessRecord.occurred_at >= local_day_start(filters.date_from))
    if filters.date_to:
        where.append(AccessRecord.occurred_at
                     < local_day_start(filters.date_to + timedelta(days=1)))
    if filters.outcome:
        where.append(AccessRecord.outcome == filters.outcome)
    if filters.basis:
        where.append(or_(AccessRecord.basis.contains(filters.basis, autoescape=True),
                         AccessRecord.legal_ground.contains(filters.basis, autoescape=True)))
    if filters.break_glass:
        where.append(AccessRecord.emergency_procedure.is_(True))
    return where


@dataclass(frozen=True)
class LogRow:
    """One access record as the log pages show it (free text made visible)."""

    seq: int
    when: datetime
    user_name: str
    user_role: str
    organisation: str
    event_type: str
    action_code: str
    outcome: str
    reason: str
    basis: str
    break_glass: bool
    break_glass_reason: str
    case_id: str | None
    child_id: str | None
    client_address: str
    query: str


def log_row(entry: AccessRecord, organisations: Mapping[str, str]) -> LogRow:
    return LogRow(
        seq=entry.seq, when=entry.occurred_at, user_name=visible(entry.user_name),
        user_role=visible(entry.user_role),
        organisation=organisations.get(entry.user_organisation_id or "", ""),
        event_type=visible(entry.event_type), action_code=entry.action_code,
        outcome=entry.outcome, reason=visible(entry.reason), basis=visible(entry.basis),
        break_glass=entry.emergency_procedure,
        break_glass_reason=visible(entry.break_glass_reason), case_id=entry.case_id,
        child_id=entry.child_id, client_address=visible(entry.client_address),
        query=visible(entry.query))


def organisation_names(db: Session) -> dict[str, str]:
    return dict(db.execute(select(Organisation.id, Organisation.name)
                           .order_by(Organisation.name)).all())


# -- the DPO ----------------------------------------------------------------------------------

def _authorize_dpo(db: Session, who: Requester, actor: Actor, now: datetime, acr: str | None,
                   required_acr: str, event_type: str, params: Mapping[str, str]) -> None:
    decision = supervised(db, actor, decide(actor, Action.AUDIT_SEARCH))
    if decision.allowed and not acr_at_least(acr, required_acr):
        decision = Deny(reason="step_up_required")
    record(db, who, now, event_type=event_type, action="read", decision=decision,
           query=query_text(params), purpose_of_use="audit")
    if isinstance(decision, Deny):
        if decision.reason == "step_up_required":
            raise StepUpRequired(decision, required_acr)
        raise AccessDenied(decision)


@dataclass(frozen=True)
class SearchPage:
    rows: Sequence[LogRow]
    total: int  # counted up to COUNT_CAP + 1
    limit: int
    chart: DailyChart
    chart_from: date
    chart_to: date
    organisations: Sequence[tuple[str, str]]
    witness: WitnessStatus | None = None
    integrity: Sequence[str] = ()  # alarms about the log itself (portal.audit.health)
    older: str | None = None  # the query of the next (older) page
    newest: str | None = None  # the query of the first page, when this is a later one
    filters: tuple[tuple[str, str], ...] = ()  # this search's own filters (no page)

    def only(self, name: str, value: str) -> str:
        """The query of this search narrowed to one case or child (a row's "Alleen deze
        casus" / "Alleen dit kind"): the id is on the record, nothing is decrypted."""
        return urlencode(sorted({**dict(self.filters), name: value}.items()))

    @property
    def beyond_cap(self) -> bool:
        """More than COUNT_CAP records match (the page says "more than 10,000")."""
        return self.total > COUNT_CAP


def by_name(db: Session, vault: Vault, now: datetime, filters: Filters) -> Filters:
    """Words in the child or case filter, looked up in the cases' blind index (names
    and titles are sealed): the children of the matching cases, or those cases; and
    the professionals a part of a name in the person filter matches."""

    def matching(text: str) -> tuple[str, ...] | None:
        if not text or is_uuid(text):
            return None
        return tuple(cases_matching(db, vault, now, text, NAME_MATCHES) or ())

    child_cases, case_ids = matching(filters.child), matching(filters.case)
    person_ids = None
    if filters.person and not is_uuid(filters.person):
        found = tuple(db.scalars(_professionals_named(filters.person.lower())
                                 .limit(NAME_MATCHES + 1)))
        # More than NAME_MATCHES people: the subquery, exact if slower.
        person_ids = found if len(found) <= NAME_MATCHES else None
    child_ids = None if child_cases is None else tuple(
        child for child in db.scalars(select(Case.child_id).where(Case.id.in_(child_cases))
                                      .distinct()) if child is not None)
    return replace(filters, child_ids=child_ids, case_ids=case_ids, person_ids=person_ids)


def recorded_params(db: Session, vault: Vault, now: datetime, actor: Actor,
                    params: Mapping[str, str]) -> dict[str, str]:
    """The parameters as the searcher's access record keeps them: a name typed into
    the child or case filter is sealed (like a case search), never kept in clear."""
    kept = dict(params)
    for name in ("child", "case"):
        value = kept.get(name, "").strip()
        if value and not is_uuid(value):
            kept[name] = f"sealed:{seal_query(db, vault, now, actor.person_id, value)}"
    return kept


def scoped(db: Session, actor: Actor, filters: Filters) -> tuple[list[ColumnElement[bool]], bool]:
    """A search's conditions within the FG's own scope (``portal.dpo.scope``), and
    whether that scope is the whole log (the supervisor)."""
    where = conditions(filters)
    scope = fg_record_scope(db, actor)
    if scope is not None:
        where.append(scope)
    return where, scope is None


def _before(params: Mapping[str, str]) -> int | None:
    raw = params.get("before", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise InvalidInput({"before": N_("This is not a valid page.")})
    return int(raw)


def search(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
           acr: str | None, required_acr: str, params: Mapping[str, str],
           witness_url: str = "", witness_vkey: str = "") -> SearchPage:
    """The FG's search across their organisation's part of the log (the supervisor's:
    the whole log), newest first and 50 a page (``before`` a sequence number), with a
    per-day chart and, when a witness is configured, how many checkpoints have not
    reached it."""
    _authorize_dpo(db, who, actor, now, acr, required_acr, "audit.search",
                   recorded_params(db, vault, now, actor, params))
    filters = by_name(db, vault, now, parse_filters(params))
    before = _before(params)
    where, whole_log = scoped(db, actor, filters)
    names = organisation_names(db)
    shown = [*where, AccessRecord.seq < before] if before is not None else where
    entries = db.scalars(select(AccessRecord).where(*shown)
                         .order_by(AccessRecord.seq.desc()).limit(SEARCH_PAGE + 1)).all()
    more = len(entries) > SEARCH_PAGE
    entries = entries[:SEARCH_PAGE]
    # Counted up to a cap: an exact count of a broad filter reads the whole log.
    capped = select(AccessRecord.seq).where(*where).limit(COUNT_CAP + 1).subquery()
    total = db.scalar(select(func.count()).select_from(capped)) or 0
    base = {k: v for k, v in params.items() if v and k != "before"}
    older = urlencode([*sorted(base.items()), ("before", str(entries[-1].seq))]) \
        if more and entries else None
    chart_to = filters.date_to or now.astimezone(LOCAL_TIME).date()
    chart_from = filters.date_from or chart_to - timedelta(days=CHART_DAYS - 1)
    chart_from = max(chart_from, chart_to - timedelta(days=CHART_MAX_DAYS - 1))
    return SearchPage(rows=[log_row(e, names) for e in entries], total=total,
                      limit=SEARCH_PAGE, older=older, filters=tuple(sorted(base.items())),
                      newest=urlencode(sorted(base.items())) if before is not None else None,
                      chart=daily_chart(
                          kept_day_counts(db, chart_from, chart_to)
                          if whole_log and filters.only_dates()
                          else day_counts(db, where, chart_from, chart_to)),
                      chart_from=chart_from, chart_to=chart_to,
                      organisations=list(names.items()),
                      witness=witness_status(db, witness_url, witness_vkey),
                      integrity=health.active())


def day_counts(db: Session, where: Sequence[ColumnElement[bool]], first: date,
               last: date) -> list[DayCount]:
    """Accesses per local day, counted by the database: the Dutch day boundaries
    (daylight saving included) are computed here and handed to it as UTC instants."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    bounds = [local_day_start(day + timedelta(days=1)) for day in days]
    day = case(*((AccessRecord.occurred_at < bound, index)
                 for index, bound in enumerate(bounds)))
    kind = case((and_(AccessRecord.outcome == "allowed",
                      AccessRecord.emergency_procedure.is_(True)), 1),
                (AccessRecord.outcome == "allowed", 0), else_=2)
    counts = [[0, 0, 0] for _ in days]
    # Grouped through a subquery: PostgreSQL would not see the bound CASE in the
    # SELECT and the GROUP BY as one expression.
    each = select(day.label("day"), kind.label("kind")).where(
        *where, AccessRecord.occurred_at >= local_day_start(first),
        AccessRecord.occurred_at < bounds[-1]).subquery()
    rows = db.execute(select(each.c.day, each.c.kind, func.count())
                      .group_by(each.c.day, each.c.kind))
    for index, bucket, count in rows:
        counts[index][bucket] += count
    return [DayCount(d, *values) for d, values in zip(days, counts, strict=True)]


def kept_day_counts(db: Session, first: date, last: date) -> list[DayCount]:
    """The whole log's day chart from the counts kept with the chain (``ledger.day_counts``:
    a row per day however long the log), the same numbers ``day_counts`` counts."""
    kept = ledger.day_counts(db, first, last)
    return [DayCount(first + timedelta(days=i),
                     *kept.get(first + timedelta(days=i), (0, 0, 0)))
            for i in range((last - first).days + 1)]


def export(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
           acr: str | None, required_acr: str, params: Mapping[str, str],
           kind: str) -> list[AccessRecord]:
    """The records a search finds, oldest first (at most ``EXPORT_LIMIT``), for CSV or FHIR."""
    _authorize_dpo(db, who, actor, now, acr, required_acr, f"audit.export.{kind}",
                   recorded_params(db, vault, now, actor, params))
    filters = by_name(db, vault, now, parse_filters(params))
    return list(db.scalars(select(AccessRecord).where(*scoped(db, actor, filters)[0])
                           .order_by(AccessRecord.seq).limit(EXPORT_LIMIT)))


# -- a professional's own history --------------------------------------------------------------

def own_history(db: Session, who: Requester, actor: Actor, now: datetime,
                params: Mapping[str, str]) -> list[LogRow]:
    """What this person accessed (and was refused), newest first."""
    decision = decide(actor, Action.AUDIT_OWN)
    record(db, who, now, event_type="audit.own", action="read", decision=decision,
           query=query_text(params), purpose_of_use="own_data")
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    filters = parse_filters(params)
    own = Filters(date_from=filters.date_from, date_to=filters.date_to,
                  outcome=filters.outcome)
    names = organisation_names(db)
    entries = db.scalars(select(AccessRecord)
                         .where(AccessRecord.user_id == actor.person_id, *conditions(own))
                         .order_by(AccessRecord.seq.desc()).limit(PAGE_LIMIT)).all()
    return [log_row(e, names) for e in entries]
