"""The log's pages: the DPO (search, exports, step-up), own history, parents and pupils."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.audit.service import Requester, record
from portal.demo import DEMO_CASE, stable_id
from portal.policy import Allow
from tests.harness import Running

CASE_ID = stable_id("case", DEMO_CASE.key)
SAM = stable_id("child", "sam")
NOOR = stable_id("child", "noor")
HET_BAKEN = stable_id("org", "het-baken")


def records(running: Running, **where: object) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        query = select(AccessRecord).order_by(AccessRecord.seq)
        for name, value in where.items():
            query = query.where(getattr(AccessRecord, name) == value)
        return list(db.scalars(query))


def read_case(running: Running, persona: str = "ib") -> None:
    client = running.client()
    client.login(persona)
    assert client.page(f"/cases/{CASE_ID}").status_code == 200


def break_glass_read(running: Running, when: datetime) -> None:
    """A read under the safety exception, as the policy's basis names it."""
    who = Requester(user_id=stable_id("person", "jeugdhulp"), user_name="Youssef El Amrani",
                    user_role="youth_care_worker",
                    organisation_id=stable_id("org", "jeugdhulp-noord"), session_ref="x",
                    client_address="127.0.0.1")
    with running.portal.sessions.begin() as db:
        record(db, who, when, event_type="item.read", action="read",
               decision=Allow(basis="break_glass:77777777-7777-4777-8777-777777777777"),
               case_id=CASE_ID, child_id=SAM, data_categories=["health"])


def test_the_dpo_searches_and_the_search_is_recorded(running: Running) -> None:
    read_case(running)
    dpo = running.client()
    dpo.login("fg")
    page = dpo.page(f"/audit?case={CASE_ID}&outcome=allowed")
    assert page.status_code == 200
    assert "Inzagelog" in page.text and "Ilse Bakker" in page.text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page.text and "<script" not in \
        page.text.split("</head>")[1]
    search = records(running, event_type="audit.search")[-1]
    assert search.user_id == stable_id("person", "fg") and search.outcome == "allowed"
    assert search.query == f"case={CASE_ID}&outcome=allowed"
    assert search.purpose_of_use == "audit"


def test_only_the_dpo_reads_the_log(running: Running) -> None:
    mentor = running.client()
    mentor.login("mentor")
    assert mentor.get("/audit").status_code == 403
    assert mentor.get("/audit/export.csv").status_code == 403
    refused = records(running, user_id=stable_id("person", "mentor"), outcome="denied")
    assert [r.event_type for r in refused] == ["audit.search", "audit.export.csv"]


def test_a_weak_login_must_step_up(start_portal: object, sqlite_url: str) -> None:
    strict = start_portal(sqlite_url,  # type: ignore[operator]
                          audit_dpo_acr="http://eidas.europa.eu/LoA/high")
    dpo = strict.client()
    dpo.login("fg")
    page = dpo.get("/audit")
    assert page.status_code == 403
    assert "Een sterkere inlog is nodig" in page.text
    assert "http://eidas.europa.eu/LoA/high" in page.text
    assert "Ilse Bakker" not in page.text
    refused = records(strict, event_type="audit.search")[-1]
    assert (refused.outcome, refused.reason) == ("denied", "step_up_required")


def test_invalid_search_input_is_refused_after_it_was_recorded(running_sqlite: Running) -> None:
    dpo = running_sqlite.client()
    dpo.login("fg")
    page = dpo.get("/audit?date_from=gisteren&organisation=abc&before=x")
    assert page.status_code == 400
    assert "Gebruik een datum zoals 2026-03-01." in page.text
    assert "Dit is geen geldige id." in page.text
    assert records(running_sqlite, event_type="audit.search")[-1].query == \
        "before=x&date_from=gisteren&organisation=abc"
    # Neither a name nor an id: refused, and what was typed is sealed like a name.
    page = dpo.get("/audit?child=%25%25")
    assert page.status_code == 400
    assert "Geef een naam (twee letters of meer) of een id." in page.text
    assert records(running_sqlite, event_type="audit.search")[-1].query.startswith(
        "child=sealed%3A")
    page = dpo.get("/audit?before=12x")
    assert page.status_code == 400 and "Dit is geen geldige pagina." in page.text


def test_csv_and_fhir_exports(running: Running) -> None:
    read_case(running)
    break_glass_read(running, running.clock.now)
    dpo = running.client()
    dpo.login("fg")
    exported = dpo.get(f"/audit/export.csv?case={CASE_ID}")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    wanted = records(running, case_id=CASE_ID)
    assert [int(r["seq"]) for r in rows] == [r.seq for r in wanted]
    glass = rows[-1]
    assert glass["emergency_procedure"] == "true" and glass["purpose_of_use"] == "emergency"
    assert glass["break_glass_id"] == "77777777-7777-4777-8777-777777777777"
    assert glass["record_hash"] == wanted[-1].record_hash.hex()

    bundle = json.loads(dpo.get(f"/audit/export.json?case={CASE_ID}").text)
    assert bundle["resourceType"] == "Bundle" and bundle["total"] == len(wanted)
    event = bundle["entry"][-1]["resource"]
    assert event["resourceType"] == "AuditEvent" and event["action"] == "R"
    assert event["outcome"] == "0" and event["recorded"].endswith("Z")
    assert event["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT"
    checks = {e["url"]: e.get("valueBoolean") for e in event["extension"]}
    assert checks["urn:mdo:nen7513:emergency-procedure"] is True
    assert checks["urn:mdo:nen7513:authorised"] is True
    entities = [e["what"]["identifier"] for e in event["entity"] if "what" in e]
    assert {"system": "urn:mdo:case", "value": CASE_ID} in entities
    exports = records(running, user_id=stable_id("person", "fg"))
    assert [r.event_type for r in exports][-2:] == ["audit.export.csv", "audit.export.fhir"]


def test_professionals_see_their_own_history_only(running: Running) -> None:
    read_case(running, "ib")
    read_case(running, "mentor")
    mentor = running.client()
    mentor.login("mentor")
    page = mentor.page("/my-access")
    assert page.status_code == 200 and "Mijn inzagegeschiedenis" in page.text
    assert page.text.count("Casuspagina") == len(
        records(running, user_id=stable_id("person", "mentor"), event_type="case.view"))
    assert records(running, event_type="audit.own")[-1].user_id == stable_id("person", "mentor")


def test_parents_see_organisation_and_role_but_no_names_by_default(running: Running) -> None:
    read_case(running, "ib")
    break_glass_read(running, running.clock.now)
    parent = running.client()
    parent.login("ouder1")
    listing = parent.page("/child-access")
    assert f'href="/child-access/{SAM}"' in listing.text and "Noor" not in listing.text
    page = parent.page(f"/child-access/{SAM}")
    assert page.status_code == 200
    assert "Wie keek in de gegevens van Sam Mulder" in page.text
    assert "Scholengemeenschap Het Baken" in page.text and "Jeugdhulp Noord" in page.text
    assert "Intern begeleider / zorgcoördinator" in page.text
    assert "Ilse Bakker" not in page.text and "Youssef" not in page.text
    assert "Veiligheidsuitzondering gebruikt" in page.text
    assert page.text.count("<svg") >= 1 and "<polygon" in page.text  # the break-glass mark
    seen = records(running, event_type="audit.child")[-1]
    assert (seen.child_id, seen.outcome, seen.purpose_of_use) == (SAM, "allowed", "own_data")


def test_an_organisation_may_show_its_professionals_names(
        sqlite_url: str, start_portal: object) -> None:
    portal = start_portal(sqlite_url, audit_names_for_family=("het-baken",))  # type: ignore[operator]
    read_case(portal, "ib")
    parent = portal.client()
    parent.login("ouder2")
    page = parent.page(f"/child-access/{SAM}")
    assert "Ilse Bakker" in page.text


def test_the_filters_narrow_the_parents_view(running_sqlite: Running) -> None:
    read_case(running_sqlite, "ib")
    break_glass_read(running_sqlite, running_sqlite.clock.now)
    parent = running_sqlite.client()
    parent.login("ouder1")
    youth_care = stable_id("org", "jeugdhulp-noord")
    page = parent.page(f"/child-access/{SAM}?organisation={youth_care}")
    table = page.text.split("<tbody")[1]
    assert "Jeugdhulp Noord" in table and "Scholengemeenschap Het Baken" not in table
    later = running_sqlite.clock.now.date().replace(year=running_sqlite.clock.now.year + 1)
    empty = parent.page(f"/child-access/{SAM}?date_from={later.isoformat()}")
    assert "Niemand heeft in deze periode gegevens van uw kind geopend." in empty.text


def test_who_may_see_a_childs_access_log(running: Running) -> None:
    cases = {("ouder1", SAM): 200, ("ouder-zonder-gezag", SAM): 404,
             ("ouder-zonder-gezag", NOOR): 403, ("pleegouder", NOOR): 404,
             ("leerling16", NOOR): 200, ("leerling16", SAM): 404, ("mentor", SAM): 404}
    for (persona, child), status in cases.items():
        client = running.client()
        client.login(persona)
        assert client.get(f"/child-access/{child}").status_code == status, (persona, child)
        last = records(running, user_id=stable_id("person", persona))[-1]
        assert last.event_type == "audit.child"
        assert last.outcome == ("allowed" if status == 200 else "denied")
    pupil = running.client()
    pupil.login("leerling16")
    assert re.search(rf'href="/child-access/{NOOR}">Noor Haddad<', pupil.page(
        "/child-access").text)


def test_break_glass_reasons_need_the_same_strong_login(start_portal: object,
                                                        sqlite_url: str) -> None:
    strict = start_portal(sqlite_url,  # type: ignore[operator]
                          audit_dpo_acr="http://eidas.europa.eu/LoA/high")
    dpo = strict.client()
    dpo.login("fg")
    page = dpo.get("/dpo/break-glass")
    assert page.status_code == 403
    assert "Een sterkere inlog is nodig" in page.text
    refused = records(strict, event_type="break_glass.review")[-1]
    assert (refused.outcome, refused.reason) == ("denied", "step_up_required")
