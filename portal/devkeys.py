"""Development secrets, generated on first run into the data directory (mode 0600).

Only dev mode uses these; production refuses generated secrets.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from joserfc.jwk import RSAKey


def ensure_data_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def ensure_secret_file(path: Path, generate: Callable[[], str]) -> str:
    """Read the secret at ``path``, creating it (0600) on first use.

    The file appears complete or not at all: it is written under a temporary
    name and published with link(2), which fails if another process got there
    first; that process's secret is then the one everybody uses."""
    if not path.exists():
        value = generate()
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp makes it 0600
                handle.write(value)
            os.link(temporary, path)
            return value
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    if path.stat().st_mode & 0o077:
        raise PermissionError(f"{path} is readable by others; chmod 600 it")
    return path.read_text(encoding="utf-8").strip()


def session_secret(data_dir: Path) -> str:
    return ensure_secret_file(data_dir / "session-secret", lambda: secrets.token_urlsafe(48))


def dev_idp_client_secret(data_dir: Path) -> str:
    return ensure_secret_file(data_dir / "dev-idp-client-secret",
                              lambda: secrets.token_urlsafe(32))


def dev_idp_signing_key(data_dir: Path) -> RSAKey:
    def generate() -> str:
        key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"},
                                  auto_kid=True)
        return json.dumps(key.as_dict(private=True))

    raw = json.loads(ensure_secret_file(data_dir / "dev-idp-signing-key.json", generate))
    return RSAKey.import_key(raw)
