"""Codes, their hashes, the derived status and the expiry setting."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.invitations.codes import clean_code, code_hash, new_code
from portal.invitations.models import FamilyInvitation
from portal.invitations.service import Status, status_of
from portal.settings import SettingsError
from portal.settings_env import load_settings

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def test_codes_carry_at_least_128_bits_and_never_repeat() -> None:
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    # url-safe base64: 6 bits per character.
    assert min(len(c) for c in codes) * 6 >= 128
    assert all(clean_code(c) == c for c in codes)


def test_the_hash_is_keyed() -> None:
    code = new_code()
    assert code_hash("secret-a", code) != code_hash("secret-b", code)
    assert code_hash("secret-a", code) == code_hash("secret-a", code)
    assert code not in code_hash("secret-a", code)


@pytest.mark.parametrize("raw", ["", "   ", "a" * 65, "abc/def", "é" * 10, "<script>"])
def test_what_cannot_be_a_code_is_refused_before_any_lookup(raw: str) -> None:
    assert clean_code(raw) is None


def test_a_pasted_code_loses_its_whitespace() -> None:
    assert clean_code("  abc-DEF_123 \n") == "abc-DEF_123"


def _invitation(**changes: datetime | None) -> FamilyInvitation:
    return FamilyInvitation(sent_at=NOW, created_at=NOW, expires_at=NOW + timedelta(days=14),
                            **changes)


def test_the_status_follows_the_timestamps() -> None:
    assert status_of(_invitation(), NOW) is Status.SENT
    assert status_of(_invitation(opened_at=NOW), NOW) is Status.OPENED
    assert status_of(_invitation(), NOW + timedelta(days=14)) is Status.EXPIRED
    assert status_of(_invitation(revoked_at=NOW), NOW) is Status.REVOKED
    # Bound wins: a used invitation stays "bound" after its expiry.
    assert status_of(_invitation(bound_at=NOW), NOW + timedelta(days=30)) is Status.BOUND


def test_invitation_days_default_and_bounds() -> None:
    assert load_settings({}).invitation_days == 14
    assert load_settings({"PORTAL_INVITATION_DAYS": "7"}).invitation_days == 7
    for bad in ("0", "91", "twee"):
        with pytest.raises(SettingsError, match="PORTAL_INVITATION_DAYS"):
            load_settings({"PORTAL_INVITATION_DAYS": bad})


@given(st.text(max_size=200))
def test_anything_typed_is_either_refused_or_a_plain_code(raw: str) -> None:
    code = clean_code(raw)
    if code is not None:
        assert 0 < len(code) <= 64
        assert set(code) <= set(string.ascii_letters + string.digits + "-_")
        assert clean_code(code) == code
