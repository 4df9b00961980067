"""The start page reads the facts of the chair's open cases in a few queries for all of
them: as many statements for ten cases as for one, and each case's consent count still
its own."""

from __future__ import annotations

import re
from datetime import date

from portal.cases.gate import case_facts
from portal.cases.models import CaseRole
from portal.consent.summary import missing_consenters
from portal.documents.models import CATEGORIES
from tests.consent._portal import build_world, org
from tests.harness import Running
from tests.perf.statements import counted

MISSING = re.compile(r'<a href="/cases/([0-9a-f-]{36})/consent">[^<]*</a>: '
                     r"toestemming ontbreekt nog van (\d+) perso")


def _named_case(running: Running, *, consent_from_mother: bool) -> str:
    """A case the IB'er chairs about a child of 12 with two parents with custody."""
    consents = [{"by": "moeder", "categories": list(CATEGORIES), "recipients": ["school"],
                 "valid_from": "2020-01-01"}] if consent_from_mother else []
    return build_world(running, birthdate=date(2014, 5, 1),
                       adults=[{"id": "moeder", "relation": "parent", "custody": True},
                               {"id": "vader", "relation": "parent", "custody": True}],
                       consents=consents, participants=[("ib", CaseRole.CHAIR)],
                       recipient_of={"school": f"org:{org('het-baken')}"}).case_id


def _missing(running: Running) -> tuple[dict[str, int], int]:
    client = running.client()
    client.login("ib")
    client.get("/")  # the login's own first page
    with counted(running.portal.engine) as statements:
        page = client.get("/")
    assert page.status_code == 200
    return ({case: int(n) for case, n in MISSING.findall(page.text)},
            len(statements.of_requests()))


def _missing_alone(running: Running, case_id: str) -> int:
    with running.portal.sessions() as db:
        facts = case_facts(db, case_id, running.portal.vault, running.clock())
        assert facts is not None
        return missing_consenters(db, facts)


def test_the_start_page_reads_many_cases_in_the_queries_of_one(running: Running) -> None:
    first = _named_case(running, consent_from_mother=False)
    one, statements_for_one = _missing(running)
    assert one[first] == 2
    more = [_named_case(running, consent_from_mother=n % 2 == 0) for n in range(9)]
    ten, statements_for_ten = _missing(running)
    # Each case its own count, as the case read on its own gives it.
    assert ten[first] == 2
    counts = [ten[case] for case in more]
    assert counts == [_missing_alone(running, case) for case in more]
    assert set(counts) == {1, 2}
    assert statements_for_ten == statements_for_one
