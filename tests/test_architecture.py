"""The shape of the code: dependency direction and thin routes, checked by walking the AST."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(package: str) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[path] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{path.relative_to(ROOT)} imports {name}"
            for path, names in imported_modules(package).items() for name in sorted(names)
            if name.split(".")[0] in forbidden]


def test_crypto_imports_nothing_from_auth_or_portal() -> None:
    assert offenders("crypto", ("auth", "portal")) == []


def test_crypto_uses_only_the_standard_library_and_cryptography() -> None:
    import sys

    allowed = set(sys.stdlib_module_names) | {"cryptography", "crypto", "pkcs11"}
    outside = [f"{path.name}: {name}" for path, names in imported_modules("crypto").items()
               for name in names if name.split(".")[0] not in allowed]
    assert outside == []


def test_auth_imports_nothing_from_portal() -> None:
    assert offenders("auth", ("portal",)) == []


def test_routes_hold_no_sql_and_check_no_roles() -> None:
    """Routes identify, call one service and render; SQL and role checks live elsewhere."""
    problems = []
    for path in ROOT.glob("portal/*/routes.py"):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and (
                    node.module.startswith("sqlalchemy")
                    or node.module in ("portal.policy", "portal.permissions")):
                problems.append(f"{path.name} imports {node.module}")
            if isinstance(node, ast.Attribute) and node.attr in ("roles", "memberships",
                                                                  "case_role"):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno} reads .{node.attr}")
    assert problems == []


def test_templates_check_no_roles() -> None:
    problems = []
    for path in (ROOT / "templates").rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        for needle in ("actor.roles", "actor.memberships", ".role ==", "Role."):
            if needle in source:
                problems.append(f"{path.relative_to(ROOT)}: {needle}")
    assert problems == []
