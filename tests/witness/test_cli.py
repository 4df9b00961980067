"""``portal witness keygen`` / ``vkey``: a key made once, never replaced, and its vkey."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

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
