"""CSRF tokens and the sealed ID token, in ``auth.sessions``, and at the portal's door."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from auth.sessions import csrf_token, csrf_valid, logged_in, new_session, open_id_token
from tests.harness import Running

SECRET = "s" * 48
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("presented", [
    None, "", "x", "é" * 64, "\u0000", "\ud800", "🙂" * 16, "0" * 64, "A" * 10_000])
def test_a_malformed_csrf_token_is_invalid_not_an_error(presented: str | None) -> None:
    _, session = new_session(SECRET, NOW)
    assert csrf_valid(session, presented) is False


def test_the_right_csrf_token_is_valid() -> None:
    _, session = new_session(SECRET, NOW)
    assert csrf_valid(session, csrf_token(session))


@pytest.mark.parametrize("token", ["ééé", "ü" * 64, "\u00ff"])
def test_non_ascii_csrf_tokens_are_a_403_not_a_500(running_sqlite: Running, token: str) -> None:
    client = running_sqlite.client()
    client.login("ib")
    form = client.post("/language", data={"language": "en", "csrf_token": token, "next": "/"},
                       follow_redirects=False)
    assert form.status_code == 403
    # Headers travel as latin-1: the same bytes through the htmx header.
    header = client.post("/language", data={"language": "en"}, follow_redirects=False,
                         headers={"X-CSRF-Token": token.encode()})
    assert header.status_code == 403


def test_the_id_token_is_sealed_to_its_session() -> None:
    _, anonymous = new_session(SECRET, NOW)
    _, session = logged_in(SECRET, anonymous, NOW, user_id="p", provider_id="op", acr=None,
                           auth_time=None, id_token="header.claims.signature")
    assert session.id_token_sealed and "claims" not in session.id_token_sealed
    assert open_id_token(SECRET, session) == "header.claims.signature"
    _, other = new_session(SECRET, NOW)
    moved = replace(other, id_token_sealed=session.id_token_sealed)
    assert open_id_token(SECRET, moved) is None, "a sealed token moved to another session"
    assert open_id_token("t" * 48, session) is None, "another secret"
    assert open_id_token(SECRET, replace(session, id_token_sealed="!!not base64!!")) is None
