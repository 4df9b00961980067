"""A throwaway SoftHSM2 token for portal-level tests, and a way to pull the plug on it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crypto import Pkcs11Provider
from portal import demo
from portal.db import make_engine, session_factory, unit_of_work
from portal.migrate import upgrade
from portal.vault.service import Vault

LIB = os.environ.get("SOFTHSM2_LIB", "/usr/lib/softhsm/libsofthsm2.so")
PIN = "1234"

needs_softhsm = [
    pytest.mark.softhsm,
    pytest.mark.skipif(shutil.which("softhsm2-util") is None,
                       reason="softhsm2-util not on PATH (install the Debian package softhsm2)"),
]


@dataclass
class SoftHsm:
    library: str
    token: str
    pin: str
    conf: Path
    empty_conf: Path
    monkeypatch: pytest.MonkeyPatch

    def provider(self) -> Pkcs11Provider:
        return Pkcs11Provider(self.library, self.token, self.pin)

    def settings(self) -> dict[str, str]:
        return {"key_provider": "pkcs11", "pkcs11_library": self.library,
                "pkcs11_token": self.token, "pkcs11_pin": self.pin}

    def env(self) -> dict[str, str]:
        return {"PORTAL_KEY_PROVIDER": "pkcs11", "PORTAL_PKCS11_LIBRARY": self.library,
                "PORTAL_PKCS11_TOKEN": self.token, "PORTAL_PKCS11_PIN": self.pin}

    def down(self) -> None:
        """The HSM is gone: the library restarts and finds no such token."""
        self._restart(self.empty_conf)

    def up(self) -> None:
        self._restart(self.conf)

    def _restart(self, conf: Path) -> None:
        import pkcs11

        self.monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
        pkcs11.lib(self.library).reinitialize()


@contextmanager
def softhsm_token(base: Path, label: str) -> Iterator[SoftHsm]:
    """An initialised token with KEK version 1, in ``base``; the library is reset after."""
    import pkcs11

    for sub in ("tokens", "empty"):
        (base / sub).mkdir()
    conf, empty = base / "softhsm2.conf", base / "empty.conf"
    for path, tokens in ((conf, base / "tokens"), (empty, base / "empty")):
        path.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
                        "log.level = ERROR\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOFTHSM2_CONF", str(conf))
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label,
                        "--pin", PIN, "--so-pin", "5678"], check=True, capture_output=True)
        pkcs11.lib(LIB).reinitialize()
        hsm = SoftHsm(LIB, label, PIN, conf, empty, mp)
        hsm.provider().rotate()
        try:
            yield hsm
        finally:
            hsm.provider().close()
    pkcs11.lib(LIB).reinitialize()


def prepared_database(path: Path, hsm: SoftHsm) -> str:
    """A migrated SQLite database whose demo data is encrypted under the HSM's KEK."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(session_factory(engine)) as db:
        demo.load(db, Vault(hsm.provider()), datetime.now(UTC))
    engine.dispose()
    return url
