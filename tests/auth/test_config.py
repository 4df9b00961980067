"""Identity provider configuration: methods, keys, assurance orderings, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from auth.config import (
    DIGID_ORDER,
    EHERKENNING_ORDER,
    IdentityProviderConfig,
    acr_at_least,
)
from portal.settings import SettingsError
from portal.settings_env import load_settings

EH = "urn:etoegang:core:assurance-class:"
EIDAS = "http://eidas.europa.eu/LoA/"
BASE = {"id": "op", "issuer": "https://op.example", "client_id": "portal"}


def parse(**raw: Any) -> IdentityProviderConfig:
    return IdentityProviderConfig.from_mapping({**BASE, **raw})


def test_the_presets_order_their_own_levels() -> None:
    assert acr_at_least(f"{EH}loa4", f"{EH}loa3")
    assert acr_at_least(f"{EH}loa3", f"{EH}loa2plus")
    assert not acr_at_least(f"{EH}loa2plus", f"{EH}loa3")
    assert acr_at_least(DIGID_ORDER[2], DIGID_ORDER[1])  # substantieel meets midden
    assert not acr_at_least(DIGID_ORDER[1], DIGID_ORDER[2])
    assert acr_at_least(f"{EIDAS}high", f"{EIDAS}substantial")


def test_levels_of_different_schemes_never_meet_each_other() -> None:
    assert not acr_at_least(f"{EH}loa4", f"{EIDAS}low")
    assert not acr_at_least(f"{EIDAS}high", f"{EH}loa2")
    assert not acr_at_least("urn:unknown", f"{EH}loa2")
    assert acr_at_least("urn:unknown", "urn:unknown")


def test_a_provider_has_its_own_ordering() -> None:
    eh = parse(client_secret="s", acr_preset="eherkenning", min_acr=f"{EH}loa3")
    assert eh.acr_values == EHERKENNING_ORDER
    assert eh.acr_at_least(f"{EH}loa4", eh.min_acr)
    custom = parse(client_secret="s", acr_values=["bronze", "silver", "gold"], min_acr="silver")
    assert custom.acr_at_least("gold", "silver") and not custom.acr_at_least("bronze", "silver")


@pytest.mark.parametrize(("raw", "message"), [
    ({"client_secret": "s", "acr_preset": "eherkenning", "min_acr": f"{EIDAS}high"},
     "min_acr"),
    ({"client_secret": "s", "acr_preset": "digid2"}, "acr_preset"),
    ({"client_secret": "s", "acr_values": ["a", "a"]}, "distinct"),
    ({"client_secret": "s", "acr_values": ["a"], "acr_preset": "eidas"}, "not both"),
    ({"client_secret": "s", "token_endpoint_auth_method": "client_secret_jwt"},
     "token_endpoint_auth_method"),
    ({"token_endpoint_auth_method": "client_secret_post"}, "needs client_secret"),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "client_private_key_file"),
    ({"client_secret": "s", "client_private_key": "inline"}, "unknown"),
])
def test_a_wrong_provider_entry_is_refused_by_name(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse(**raw)


def test_private_key_jwt_reads_its_key_from_a_file(tmp_path: Path) -> None:
    key = tmp_path / "client.pem"
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    key.write_text(pem)
    config = parse(token_endpoint_auth_method="private_key_jwt",
                   client_private_key_file=str(key))
    assert config.client_private_key == pem.strip()
    assert pem.splitlines()[1] not in repr(config), "the key stays out of reprs (and logs)"


@pytest.mark.parametrize("content", [
    "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n",
    "not a key at all",
    "PUBLIC",
])
def test_a_file_without_a_private_key_is_refused_at_start(tmp_path: Path, content: str) -> None:
    key = tmp_path / "client.pem"
    if content == "PUBLIC":
        content = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    key.write_text(content)
    with pytest.raises(ValueError, match="holds no PEM RSA, EC or Ed25519 private key"):
        parse(token_endpoint_auth_method="private_key_jwt", client_private_key_file=str(key))


def test_the_settings_name_the_file_and_the_problem(tmp_path: Path) -> None:
    idps = tmp_path / "idps.json"
    idps.write_text('[{"id": "op", "issuer": "https://op.example", "client_id": "portal", '
                    '"token_endpoint_auth_method": "private_key_jwt"}]')
    with pytest.raises(SettingsError, match=r"PORTAL_IDPS_FILE.*client_private_key_file"):
        load_settings({"PORTAL_IDPS_FILE": str(idps)})


def test_a_missing_secret_file_is_one_line_naming_it(tmp_path: Path) -> None:
    idps = tmp_path / "idps.json"
    missing = tmp_path / "no-such-secret"
    idps.write_text(json.dumps([{**BASE, "client_secret_file": str(missing)}]))
    with pytest.raises(SettingsError, match=f"PORTAL_IDPS_FILE: cannot read {missing}: "):
        load_settings({"PORTAL_IDPS_FILE": str(idps)})
