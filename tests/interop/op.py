"""Start and stop ``op_server.mjs`` (panva's oidc-provider) for interop tests."""

from __future__ import annotations

import json
import select
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
OP_SERVER = Path(__file__).with_name("op_server.mjs")
NODE = shutil.which("node")
OP_PACKAGE = ROOT / "node_modules" / "oidc-provider" / "package.json"
START_TIMEOUT = 15


def require_node() -> str:
    """Skipped (not failed) only without node or the package; ``make test`` installs both.

    Skipping here, while the test runs, rather than at import lets the root
    conftest turn the skip into a failure under ``PORTAL_TEST_REQUIRE_ALL=1``."""
    if NODE is None:
        pytest.skip("node is not installed (the interop tests run oidc-provider on Node.js)")
    if not OP_PACKAGE.exists():
        pytest.skip("node_modules/oidc-provider is missing (run `npm ci` in the repository root)")
    return NODE


def start_op(config: dict[str, Any], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A running OP (see op_server.mjs for ``config``) and its issuer."""
    node = require_node()
    with log.open("wb") as stderr:
        process = subprocess.Popen([node, str(OP_SERVER), json.dumps(config)], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=stderr)
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline() if ready else b""
    if not line:
        process.kill()
        process.wait()
        process.stdout.close()
        pytest.fail(f"oidc-provider did not start within {START_TIMEOUT}s:\n"
                    f"{log.read_text(errors='replace')}")
    return process, str(json.loads(line)["issuer"])


def stop_op(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()
