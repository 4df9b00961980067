"""The access log's settings: production needs a real signing key and a named log."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.app import prepare_settings
from portal.settings import SettingsError
from portal.settings_env import load_settings
from tests.test_settings import production


@pytest.mark.parametrize(("change", "problem"), [
    ({"PORTAL_AUDIT_SIGNING_KEY_FILE": ""}, "PORTAL_AUDIT_SIGNING_KEY_FILE"),
    ({"PORTAL_AUDIT_ORIGIN": ""}, "PORTAL_AUDIT_ORIGIN"),
    ({"PORTAL_AUDIT_DPO_ACR": "urn:mdo:acr:dev"}, "PORTAL_AUDIT_DPO_ACR"),
    ({"PORTAL_AUDIT_DPO_ACR": "urn:mdo:acr:dev:second-factor"}, "PORTAL_AUDIT_DPO_ACR"),
    ({"PORTAL_AUDIT_CHECKPOINT_URL": "http://witness.example/add"},
     "PORTAL_AUDIT_CHECKPOINT_URL"),
])
def test_production_refuses_without_a_proper_access_log(tmp_path: Path, change: dict[str, str],
                                                        problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        prepare_settings(load_settings(production(tmp_path, **change)))


def test_a_signing_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n")
    with pytest.raises(SettingsError, match="PORTAL_AUDIT_SIGNING_KEY"):
        prepare_settings(load_settings(production(tmp_path,
                                                  PORTAL_AUDIT_SIGNING_KEY_FILE=str(bad))))


def test_production_defaults(tmp_path: Path) -> None:
    settings = prepare_settings(load_settings(production(tmp_path)))
    assert settings.effective_audit_dpo_acr == "http://eidas.europa.eu/LoA/high"
    assert settings.effective_audit_origin == "mdo.example/access-log"
    assert not settings.audit_signing_key_generated


def test_dev_mode_generates_a_private_signing_key(tmp_path: Path) -> None:
    settings = prepare_settings(load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")}))
    key_file = tmp_path / "data" / "audit-signing-key.pem"
    assert settings.audit_signing_key.strip() == key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert settings.audit_signing_key_generated
    assert settings.effective_audit_dpo_acr == "urn:mdo:acr:dev"


def test_checkpoint_settings(tmp_path: Path) -> None:
    settings = load_settings({"PORTAL_AUDIT_CHECKPOINT_EVERY": "50",
                              "PORTAL_AUDIT_CHECKPOINT_SECONDS": "30",
                              "PORTAL_AUDIT_CHECKPOINT_DIR": str(tmp_path),
                              "PORTAL_AUDIT_NAMES_FOR_FAMILY": "het-baken, jeugdhulp-noord"})
    assert (settings.audit_checkpoint_every, settings.audit_checkpoint_seconds) == (50, 30)
    assert settings.audit_checkpoint_dir == tmp_path
    assert settings.audit_names_for_family == ("het-baken", "jeugdhulp-noord")
    with pytest.raises(SettingsError, match="PORTAL_AUDIT_CHECKPOINT_EVERY"):
        load_settings({"PORTAL_AUDIT_CHECKPOINT_EVERY": "0"})
