"""``portal witness keygen`` / ``vkey``: a key made once, never replaced, and its vkey."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.audit.cosignature import parse_cosigner_vkey
from portal.witness.__main__ import main


def test_keygen_makes_a_private_key_once_and_prints_its_vkey(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "witness.pem"
    assert main(["keygen", "--name", "w.example", "--key-file", str(key)]) == 0
    vkey = capsys.readouterr().out.strip()
    assert parse_cosigner_vkey(vkey)[0] == "w.example"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    assert main(["keygen", "--name", "w.example", "--key-file", str(key)]) == 2
    assert "never replaced" in capsys.readouterr().err
    assert key.read_bytes() == before
    assert main(["vkey", "--name", "w.example", "--key-file", str(key)]) == 0
    assert capsys.readouterr().out.strip() == vkey


def test_serve_refuses_without_a_log_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    key = tmp_path / "witness.pem"
    assert main(["keygen", "--name", "w.example", "--key-file", str(key)]) == 0
    assert main(["serve", "--name", "w.example", "--key-file", str(key),
                 "--data-dir", str(tmp_path / "data")]) == 2
    assert "--log-vkey" in capsys.readouterr().err
    assert main(["serve", "--name", "w.example", "--key-file", str(key),
                 "--data-dir", str(tmp_path / "data"), "--log-vkey", "nonsense"]) == 2


def test_serve_starts_afresh_only_when_told(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from portal.audit.checkpoint import verifier_key
    from portal.witness.cli import IDENTITY_FILE, _check_data_dir

    key = tmp_path / "witness.pem"
    assert main(["keygen", "--name", "w.example", "--key-file", str(key)]) == 0
    vkey = capsys.readouterr().out.strip()
    data = tmp_path / "data"
    log_vkey = verifier_key("log.example", Ed25519PrivateKey.generate().public_key())
    # A lost (missing or emptied) directory is not silently started afresh.
    assert main(["serve", "--name", "w.example", "--key-file", str(key),
                 "--data-dir", str(data), "--log-vkey", log_vkey]) == 2
    assert "--init" in capsys.readouterr().err
    assert _check_data_dir(data, vkey, init=True) is None
    assert (data / IDENTITY_FILE).read_text().strip() == vkey
    assert _check_data_dir(data, vkey, init=False) is None
    assert "never reset" in (_check_data_dir(data, vkey, init=True) or "")
    assert "another witness key" in (_check_data_dir(data, "other+00000000+AA==",
                                                     init=False) or "")
