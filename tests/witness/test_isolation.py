"""The witness runs on another host with nothing of the portal's database: its package
imports no database code (SQLAlchemy, portal.db, models, the ledger)."""

from __future__ import annotations

import subprocess
import sys

from tests.test_architecture import imported_modules

ALLOWED_FROM_PORTAL = {"portal.audit.checkpoint", "portal.audit.cosignature",
                       "portal.audit.proof", "portal.witness"}


def test_the_witness_imports_only_the_log_formats() -> None:
    outside = [f"{path.name} imports {name}"
               for path, names in imported_modules("portal/witness").items()
               for name in names
               if name.startswith("sqlalchemy") or (
                   name.startswith("portal") and not any(
                       name == allowed or name.startswith(allowed + ".")
                       for allowed in ALLOWED_FROM_PORTAL))]
    assert outside == []


def test_running_the_witness_loads_no_database_code() -> None:
    probe = ("import sys, portal.witness.app, portal.witness.cli, portal.witness.__main__; "
             "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'portal.db', "
             "'portal.audit.models', 'portal.audit.ledger', 'portal.settings'))))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
