"""Step-up: the DPO asks the IdP for a stronger login and gets back to the log.

The whole flow runs through the dev IdP over real HTTP: the portal sends
``acr_values`` (and an essential ``acr`` claim), the IdP offers its second
factor step, and the portal checks the ID token's ``acr`` against the level it
asked for itself.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from auth.devidp import DEV_SECOND_FACTOR_ACR
from portal.audit.models import AccessRecord
from portal.demo import stable_id
from portal.web.session_store import WebSession
from tests.auth.leaving import follow_refresh, refresh_target
from tests.harness import PortalClient, Running, parse_forms

FG = stable_id("person", "fg")


@pytest.fixture
def strict(start_portal: Any, sqlite_url: str) -> Running:
    running: Running = start_portal(sqlite_url, audit_dpo_acr=DEV_SECOND_FACTOR_ACR)
    return running


def step_up(client: PortalClient, persona: str, *, confirm: bool,
            next_path: str = "/audit", extra: dict[str, str] | None = None) -> httpx.Response:
    """Press "confirm it is you" and answer the dev IdP's picker."""
    leaving = client.submit("/auth/step-up", {"next": next_path, **(extra or {})})
    picker = follow_refresh(client, leaving)
    assert picker.status_code == 200, picker.text
    form = next(f for f in parse_forms(picker.text) if f["buttons"])
    fields = dict(form["fields"])
    assert fields.pop("second_factor", None) == "confirmed", "no second-factor step offered"
    if confirm:
        fields["second_factor"] = "confirmed"
    response = client.post(str(picker.url.join(form["action"])),
                           data={**fields, "persona": persona})
    client.refresh_csrf(response.text)
    return response


def records(running: Running, event_type: str) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(AccessRecord.event_type == event_type)
                               .order_by(AccessRecord.seq)))


def session_acrs(running: Running) -> list[str | None]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(WebSession.acr).where(WebSession.user_id == FG)))


def test_the_dpo_steps_up_and_lands_back_on_the_log(strict: Running) -> None:
    dpo = strict.client()
    dpo.login("fg")
    refused = dpo.page("/audit")
    assert refused.status_code == 403 and 'action="/auth/step-up"' in refused.text
    old_cookie = dict(dpo.cookies)

    leaving = dpo.submit("/auth/step-up", {"next": "/audit"})
    query = parse_qs(urlsplit(refresh_target(leaving)).query)
    assert query["acr_values"] == [DEV_SECOND_FACTOR_ACR]
    assert DEV_SECOND_FACTOR_ACR in query["claims"][0] and '"essential":true' in query["claims"][0]
    # The provider must ask again, not answer from its open session.
    assert (query["prompt"], query["max_age"]) == (["login"], ["0"])

    landed = step_up(dpo, "fg", confirm=True)
    assert landed.status_code == 200 and str(landed.url).endswith("/audit")
    assert "Inzagelog" in landed.text
    assert dict(dpo.cookies) != old_cookie  # a new session id: no fixation
    assert session_acrs(strict) == [DEV_SECOND_FACTOR_ACR]  # the weak session is gone
    event = records(strict, "auth.step_up")[-1]
    assert (event.outcome, event.user_id, event.object_id) == ("allowed", FG, FG)
    assert records(strict, "audit.search")[-1].outcome == "allowed"


def test_an_unconfirmed_step_up_is_refused_and_recorded(strict: Running) -> None:
    dpo = strict.client()
    dpo.login("fg")
    dpo.page("/audit")
    refused = step_up(dpo, "fg", confirm=False)
    assert refused.status_code == 400 and "step_up_failed" in refused.text
    assert dpo.get("/audit").status_code == 403  # still the weak session
    event = records(strict, "auth.step_up")[-1]
    assert (event.outcome, event.reason) == ("failed", "step_up_failed")


def test_the_browser_cannot_lower_the_level(strict: Running) -> None:
    dpo = strict.client()
    dpo.login("fg")
    dpo.page("/audit")
    # An acr sent with the form is ignored: the IdP is still asked for the DPO's level.
    leaving = dpo.submit("/auth/step-up", {"next": "/audit", "acr": "urn:mdo:acr:dev"})
    query = parse_qs(urlsplit(refresh_target(leaving)).query)
    assert query["acr_values"] == [DEV_SECOND_FACTOR_ACR]


def test_a_step_up_as_somebody_else_is_refused(strict: Running) -> None:
    dpo = strict.client()
    dpo.login("fg")
    dpo.page("/audit")
    refused = step_up(dpo, "beheerder", confirm=True)
    assert refused.status_code == 400 and "step_up_other_person" in refused.text
    assert dpo.get("/audit").status_code == 403
    assert records(strict, "auth.step_up")[-1].reason == "step_up_other_person"


def test_step_up_needs_a_login_and_a_post(strict: Running) -> None:
    anonymous = strict.client()
    anonymous.page("/login")
    response = anonymous.submit("/auth/step-up", {"next": "/audit"})
    assert str(response.url).split("?")[0].endswith("/login")
    assert not records(strict, "auth.step_up")
