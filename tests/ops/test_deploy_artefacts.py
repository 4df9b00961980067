"""The deployment artefacts refer to things that exist (Docker is not available here).

Not a substitute for building the image: a check that the Dockerfile, the
compose file, the systemd unit, the nginx example and docs/operations.md name
files that are in the repository and ``portal`` command lines that parse.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from portal.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def parses(argv: list[str]) -> bool:
    try:
        build_parser().parse_args(argv)
    except SystemExit:
        return False
    return True


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1])
            for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_the_dockerfile_copies_what_exists_and_runs_portal_as_non_root() -> None:
    instructions = dockerfile_instructions()
    bases = [args for op, args in instructions if op == "FROM"]
    assert bases and all("slim" in base for base in bases), bases
    for op, args in instructions:
        if op == "COPY" and "--from=" not in args:
            *sources, _ = shlex.split(args)
            for source in sources:
                assert (ROOT / source).exists(), source
    user = [args for op, args in instructions if op == "USER"][-1]
    assert user.split(":")[0] not in ("root", "0")
    entrypoint = [args for op, args in instructions if op == "ENTRYPOINT"][-1]
    assert eval(entrypoint) == ["portal"]  # noqa: S307  (a JSON list from our own file)
    command = [args for op, args in instructions if op == "CMD"][-1]
    assert parses(eval(command))  # noqa: S307
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'portal = "portal.cli:main"' in pyproject


def test_the_image_builds_htmx_and_the_catalog_in_where_the_portal_looks() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "node_modules/htmx.org/dist/htmx.min.js" in makefile
    assert "node_modules/htmx.org/dist/htmx.min.js ./static/vendor/htmx.min.js" in text
    assert "pybabel -q compile -d portal/translations -D messages" in text
    assert (ROOT / "portal/translations/nl/LC_MESSAGES/messages.po").exists()
    assert (ROOT / "templates/base.html").read_text(encoding="utf-8").count(
        "vendor/htmx.min.js") == 1


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_two_read_only_workers_behind_the_only_published_port(
        compose: dict[str, Any]) -> None:
    services = compose["services"]
    workers = [name for name, service in services.items()
               if service.get("command", [""])[0] == "run"]
    assert len(workers) >= 2
    for name in workers:
        service = services[name]
        assert service["read_only"] is True and "ports" not in service, name
        assert parses(service["command"]), name
        assert service["environment"]["PORTAL_MODE"] == "production"
        assert service["depends_on"]["migrate"]["condition"] == \
            "service_completed_successfully"
    assert parses(services["migrate"]["command"])
    assert services["migrate"]["environment"]["PORTAL_DB_APP_ROLE"]
    published = {name for name, service in services.items() if "ports" in service}
    assert published == {"proxy"}
    assert {"postgres", "smtp", "proxy"} <= set(services)


def test_compose_mounts_and_secrets_exist_or_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose["secrets"])
    for name, service in compose["services"].items():
        assert set(service.get("secrets", [])) <= declared, name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and not source.startswith("./tls"):
                assert (ROOT / source).exists(), (name, source)
        for key, value in service.get("environment", {}).items():
            if key.endswith("_FILE") and str(value).startswith("/run/secrets/"):
                assert str(value).removeprefix("/run/secrets/") in service["secrets"], \
                    (name, key)
    assert all(str(s["file"]).startswith("./secrets/") for s in compose["secrets"].values())


def systemd_settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    text = (ROOT / "deploy/systemd/mdo-portal.service").read_text(encoding="utf-8")
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_the_systemd_unit_runs_the_portal_command_unprivileged() -> None:
    unit = systemd_settings()
    command = shlex.split(unit["ExecStart"][0])
    assert command[0].endswith("/bin/portal") and parses(command[1:])
    assert unit["User"] != ["root"] and unit["NoNewPrivileges"] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"]
    environment = dict(value.split("=", 1) for value in unit["Environment"])
    credentials = {value.split(":", 1)[0] for value in unit["LoadCredential"]}
    for key, value in environment.items():
        if key.endswith("_FILE"):
            assert value.removeprefix("%d/") in credentials, key


def test_nginx_logs_no_query_strings_and_keeps_metrics_private() -> None:
    text = (ROOT / "deploy/nginx/mdo-portal.conf").read_text(encoding="utf-8")
    config = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    log_format = config[config.index("log_format"):config.index(";", config.index("log_format"))]
    for variable in ("$request ", "$request\"", "$request_uri", "$args", "$query_string",
                     "$http_referer", "$is_args"):
        assert variable not in log_format and variable not in config.replace(
            "$request_id", "").replace("$request_method", ""), variable
    assert re.search(r"location = /metrics \{\s*return 404;", config)
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "Host"):
        assert f"proxy_set_header {header} " in config
    assert "ssl_certificate " in config and "listen 443 ssl" in config
    assert "proxy_max_temp_file_size 0;" in config
    include = re.search(r"include /etc/nginx/(\S+);", config)
    assert include and (ROOT / "deploy/nginx" / include.group(1)).exists()


def test_every_portal_command_in_the_operations_guide_parses() -> None:
    text = (ROOT / "docs/operations.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    commands = []
    for block in blocks:
        for line in block.splitlines():
            words = shlex.split(line.split("#", 1)[0])
            while words and "=" in words[0]:
                words.pop(0)  # VAR=value prefixes
            if words and words[0] == "portal":
                commands.append(words[1:])
    assert len(commands) >= 6
    for command in commands:
        assert parses(command), command
