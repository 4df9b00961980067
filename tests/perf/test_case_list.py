"""The case list comes in pages of 50: one access record per listed case, written in
one go and chained correctly, and as many statements for 50 cases as for one."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from portal.audit import keys
from portal.audit.models import AccessRecord
from portal.audit.replay import database_checkpoints, verify_database
from portal.cases.creation import NewCase, create_case_rows
from portal.cases.models import CaseRole, LegalBasis
from portal.cases.service import CASES_PER_PAGE
from portal.demo import DEMO_CASE, stable_id
from tests.harness import PortalClient, Running
from tests.perf.statements import counted

LISTED = re.compile(r'<td><a href="/cases/([0-9a-f-]{36})">')
IB = stable_id("person", "ib")


def _add_cases(running: Running, count: int) -> None:
    """``count`` more cases chaired by the IB'er, one second apart (newest last)."""
    with running.portal.sessions() as db:
        for n in range(count):
            case_id = str(uuid.uuid4())
            create_case_rows(
                db, running.portal.vault, running.clock.now + timedelta(seconds=n + 1),
                case_id=case_id, created_by=IB,
                organisation_id=stable_id("org", DEMO_CASE.organisation),
                new=NewCase(child_id=None, anonymous=True, title=f"Casus {n:03d}",
                            purpose="Overleg", legal_basis=LegalBasis.CONSENT),
                participants=[(IB, CaseRole.CHAIR)])
        db.commit()


def _list_records(running: Running) -> int:
    with running.portal.sessions() as db:
        return db.scalar(select(func.count()).select_from(AccessRecord).where(
            AccessRecord.event_type == "case.list", AccessRecord.user_id == IB)) or 0


def _listed(client: PortalClient, query: str = "") -> tuple[list[str], str]:
    page = client.get(f"/cases{query}")
    assert page.status_code == 200
    return LISTED.findall(page.text), page.text


def test_the_list_is_paged_recorded_per_case_and_chained(running: Running) -> None:
    client = running.client()
    client.login("ib")
    with counted(running.portal.engine) as before:
        few, _ = _listed(client)
    assert 0 < len(few) < CASES_PER_PAGE
    total = 2 * CASES_PER_PAGE + 10
    added = total - len(few)
    _add_cases(running, added)

    recorded = _list_records(running)
    with counted(running.portal.engine) as statements:
        first, text = _listed(client)
    assert len(first) == CASES_PER_PAGE
    assert _list_records(running) - recorded == CASES_PER_PAGE, "one record per listed case"
    newest, older = f"Casus {added - 1:03d}", f"Casus {added - 1 - CASES_PER_PAGE:03d}"
    assert newest in text and older not in text, "newest first"
    assert f"Pagina 1 van 3 ({total} casussen)." in text
    assert 'href="/cases?page=2" rel="next"' in text
    assert 'aria-current="page">1<' in text
    # Fifty cases cost the statements one did: one look-up, one insert, one key look-up.
    assert len(statements.of_requests()) == len(before.of_requests())

    second, _ = _listed(client, "?page=2")
    third, text = _listed(client, "?page=3")
    assert len(second) == CASES_PER_PAGE and len(third) == 10
    assert 'rel="prev"' in text and 'rel="next"' not in text
    assert len(set(first) | set(second) | set(third)) == total, "each case on one page"

    # A page past the end is the last one; nonsense is the first.
    assert _listed(client, "?page=99")[0] == third
    for nonsense in ("?page=abc", "?page=-1", "?page=0", "?page=1e3", "?page=" + "9" * 40):
        assert _listed(client, nonsense)[0] == first, nonsense

    settings = running.portal.settings
    trusted = keys.trusted_keys(settings.effective_audit_origin,
                                keys.load_signing_key(settings.audit_signing_key), ())
    report = verify_database(running.portal.engine, trusted,
                             database_checkpoints(running.portal.engine))
    assert report.ok, report.problem


def test_a_refused_listed_case_is_recorded_and_not_shown(running: Running) -> None:
    """The outsider lists no case of the demo's, and none is decrypted for them."""
    client = running.client()
    client.login("buitenstaander")
    listed, text = _listed(client)
    assert listed == [] and "pagination" not in text
