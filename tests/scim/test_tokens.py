"""Tokens come from a secret file, are kept only as hashes, and rotate with the file."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from conftest import StartPortal
from portal.scim.models import ScimToken
from portal.scim.tokens import token_hash
from portal.settings import SettingsError
from portal.settings_env import load_settings, scim_organisation


def test_the_tokens_file_is_read_and_only_hashes_are_kept(tmp_path: Path) -> None:
    token = secrets.token_urlsafe(32)
    source = tmp_path / "scim.json"
    source.write_text(json.dumps({"het-baken": {"token": token, "groups": {"IB": "mentor"}},
                                  "het-lichtpunt": secrets.token_urlsafe(32)}))
    settings = load_settings({"PORTAL_SCIM_TOKENS_FILE": str(source)})
    baken = settings.scim_organisations[0]
    assert (baken.slug, baken.token_hash, dict(baken.group_roles)) == (
        "het-baken", token_hash(token), {"IB": "mentor"})
    assert token not in repr(settings)


@pytest.mark.parametrize("entry", ["too-short", {"groups": {}}, {"token": "x" * 40,
                                                                  "groups": ["mentor"]}, 3])
def test_a_bad_entry_is_refused_with_its_organisation_named(entry: object) -> None:
    with pytest.raises(SettingsError, match="het-baken"):
        scim_organisation("het-baken", entry)


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_SCIM_TOKENS_FILE"):
        load_settings({"PORTAL_SCIM_TOKENS_FILE": str(tmp_path / "missing.json")})


def test_a_new_token_replaces_the_old_one(sqlite_url: str, start_portal: StartPortal) -> None:
    old, new = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    first = start_portal(sqlite_url, scim_organisations=(scim_organisation("het-baken", old),))
    with first.portal.sessions() as db:
        stored = db.scalars(select(ScimToken.token_hash)).all()
    assert stored == [token_hash(old)], "the database holds the hash, never the token"
    second = start_portal(sqlite_url, scim_organisations=(scim_organisation("het-baken", new),))

    def status(token: str) -> int:
        return httpx.get(f"{second.base_url}/scim/v2/Users",
                         headers={"Authorization": f"Bearer {token}"}).status_code

    assert (status(new), status(old)) == (200, 401)
