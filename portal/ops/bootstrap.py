"""``portal init``: from an empty production database to a portal someone can administer.

Idempotent: each step first looks whether its work is already done, and a
run that finds everything in place changes nothing (not even the access log)
and says so. Every step that did change something is an access record with
the ``portal init`` system actor, written in the same transaction as the
organisations and the administrator binding.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from crypto import KeyProvider, KeyUnavailable
from crypto.envelope import KEK_SIZE
from portal.admin.service import SLUG
from portal.audit.service import Requester, record
from portal.db import new_id, unit_of_work
from portal.migrate import upgrade
from portal.ops.models import AdministratorBinding
from portal.people.models import Membership, Organisation, OrganisationKind, Role
from portal.settings import Settings
from portal.vault.keyring import KEYRING_NAME, keys_dir

SYSTEM = Requester(user_id=None, user_name="portal init", user_role="system",
                   organisation_id=None, session_ref=None, client_address=None)
DEFAULT_OPERATOR = ("portal-beheer", "MDO-portaal (beheer)")


class InitRefused(Exception):
    """``portal init`` cannot go on; the message names the setting or field and the fix."""


@dataclass(frozen=True)
class OrganisationSpec:
    slug: str
    kind: OrganisationKind
    name: str


@dataclass(frozen=True)
class AdministratorSpec:
    idp: str
    subject: str | None = None
    email: str | None = None
    organisation: str | None = None  # slug; the operator organisation when omitted


@dataclass(frozen=True)
class InitPlan:
    organisations: tuple[OrganisationSpec, ...] = ()
    administrator: AdministratorSpec | None = None


@dataclass
class InitReport:
    """One line per step: what was done, or that it was already done."""

    lines: list[str] = field(default_factory=list)
    changed: bool = False

    def did(self, line: str) -> None:
        self.lines.append(line)
        self.changed = True

    def found(self, line: str) -> None:
        self.lines.append(f"{line} (already done, unchanged)")


# -- reading the plan -----------------------------------------------------

def organisation_spec(slug: str, kind: str, name: str, where: str) -> OrganisationSpec:
    slug, name = slug.strip(), name.strip()
    if not SLUG.match(slug):
        raise InitRefused(f"{where}: slug {slug!r} must be 3-64 lower-case letters, digits "
                          "and hyphens, starting and ending with a letter or digit")
    if kind not in OrganisationKind._value2member_map_:
        kinds = ", ".join(k.value for k in OrganisationKind)
        raise InitRefused(f"{where}: kind {kind!r} must be one of {kinds}")
    if not name or len(name) > 200:
        raise InitRefused(f"{where}: name must be 1-200 characters")
    return OrganisationSpec(slug=slug, kind=OrganisationKind(kind), name=name)


def parse_organisation_argument(text: str) -> OrganisationSpec:
    """``SLUG,KIND,NAME`` (the name may itself contain commas)."""
    parts = text.split(",", 2)
    if len(parts) != 3:
        raise InitRefused(f"--organisation {text!r}: write SLUG,KIND,NAME")
    return organisation_spec(parts[0], parts[1], parts[2], where="--organisation")


def administrator_spec(idp: str | None, subject: str | None, email: str | None,
                       organisation: str | None, where: str) -> AdministratorSpec:
    if not idp:
        raise InitRefused(f"{where}: the administrator's identity provider (idp) is missing")
    if bool(subject) == bool(email):
        raise InitRefused(f"{where}: give the administrator's subject or e-mail, not both")
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email.strip()):
        raise InitRefused(f"{where}: e-mail {email!r} is not an e-mail address")
    return AdministratorSpec(idp=idp.strip(), subject=subject.strip() if subject else None,
                             email=email.strip().lower() if email else None,
                             organisation=organisation)


def read_plan_file(path: Path) -> InitPlan:
    """A JSON or TOML file: ``organisations`` (slug, kind, name) and ``administrator``
    (idp, subject or email, optional organisation)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InitRefused(f"--file: cannot read {path}: {exc.strerror}") from None
    try:
        raw: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InitRefused(f"--file {path}: {exc}") from None
    if not isinstance(raw, Mapping):
        raise InitRefused(f"--file {path}: expected an object with organisations and "
                          "administrator")
    organisations = []
    for index, item in enumerate(raw.get("organisations") or []):
        where = f"--file {path}: organisations[{index}]"
        if not isinstance(item, Mapping):
            raise InitRefused(f"{where} must be an object with slug, kind and name")
        organisations.append(organisation_spec(str(item.get("slug", "")),
                                               str(item.get("kind", "")),
                                               str(item.get("name", "")), where))
    admin = raw.get("administrator")
    administrator = None
    if admin is not None:
        if not isinstance(admin, Mapping):
            raise InitRefused(f"--file {path}: administrator must be an object")
        administrator = administrator_spec(
            _text(admin.get("idp")), _text(admin.get("subject")), _text(admin.get("email")),
            _text(admin.get("organisation")), f"--file {path}: administrator")
    return InitPlan(organisations=tuple(organisations), administrator=administrator)


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


# -- the steps ------------------------------------------------------------

def ensure_key(settings: Settings, open_provider: Callable[[], KeyProvider],
               report: InitReport) -> str | None:
    """A current key-encryption key in the configured provider; the version it created.

    ``open_provider`` is called after a missing secret file was written: the
    file-backed providers read their file when they are made.
    """
    name = describe_provider(settings)
    if settings.key_provider == "secret-file" and not keyring_path(settings).exists():
        _write_secret_keyring(keyring_path(settings))
        try:
            open_provider().current_version()
        except KeyUnavailable as exc:
            raise InitRefused(f"{name}: the new key-encryption key is unusable: {exc}") from None
        report.did(f"key-encryption key: version 1 created in {name}")
        return "1"
    try:
        provider = open_provider()
        versions = provider.versions()
    except KeyUnavailable as exc:
        raise InitRefused(f"{name} cannot be reached: {exc}; {provider_fix(settings)}") from None
    if versions:
        report.found(f"key-encryption key: version {max(versions)} is current in {name}")
        return None
    try:
        version = provider.rotate()
    except KeyUnavailable as exc:
        raise InitRefused(f"{name}: cannot create a key-encryption key: {exc}") from None
    report.did(f"key-encryption key: version {version} created in {name}")
    return str(version)


def describe_provider(settings: Settings) -> str:
    if settings.key_provider == "pkcs11":
        return f"key provider pkcs11 (token {settings.pkcs11_token!r})"
    return f"key provider {settings.key_provider} ({keyring_path(settings)})"


def provider_fix(settings: Settings) -> str:
    if settings.key_provider == "pkcs11":
        return ("check PORTAL_PKCS11_LIBRARY, PORTAL_PKCS11_TOKEN and PORTAL_PKCS11_PIN(_FILE) "
                "(the token must be initialised)")
    return "check PORTAL_KEYRING_FILE (a VERSION:BASE64KEY line per key, mode 0600)"


def keyring_path(settings: Settings) -> Path:
    """The keyring file the configured file-backed provider reads (dev: its own directory)."""
    if settings.keyring_file:
        return settings.keyring_file
    if settings.key_provider == "local":
        return keys_dir(settings) / KEYRING_NAME
    return settings.data_dir / KEYRING_NAME


def _write_secret_keyring(path: Path) -> None:
    # O_EXCL: never overwrite a keyring another process wrote in between.
    key = base64.b64encode(secrets.token_bytes(KEK_SIZE)).decode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise InitRefused(f"PORTAL_KEYRING_FILE: cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(f"1:{key}\n")
        handle.flush()
        os.fsync(handle.fileno())


def migrate(engine: Engine, report: InitReport) -> str | None:
    """Apply the migrations; the new head revision when any were applied."""
    before = database_revision(engine)
    upgrade(engine)
    after = database_revision(engine)
    if before == after:
        report.found(f"database: migrated to {after}")
        return None
    report.did(f"database: migrated from {before or 'empty'} to {after}")
    return after


def database_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_organisations(db: Session, specs: Sequence[OrganisationSpec], now: datetime,
                         report: InitReport) -> None:
    for spec in specs:
        existing = db.scalar(select(Organisation).where(Organisation.slug == spec.slug))
        if existing is not None:
            report.found(f"organisation {spec.slug}: exists")
            continue
        organisation = Organisation(id=new_id(), slug=spec.slug, name=spec.name,
                                    kind=spec.kind, created_at=now)
        db.add(organisation)
        db.flush()
        record(db, SYSTEM, now, event_type="admin.init.organisation", action="create",
               outcome="allowed", object_type="organisation", object_id=organisation.id)
        report.did(f"organisation {spec.slug}: created ({spec.kind.value})")


def _operator(db: Session, spec: AdministratorSpec, now: datetime,
              report: InitReport) -> Organisation:
    if spec.organisation:
        found = db.scalar(select(Organisation).where(Organisation.slug == spec.organisation))
        if found is None:
            raise InitRefused(f"administrator organisation {spec.organisation!r} does not "
                              "exist: list it under organisations")
        return found
    operators = db.scalars(select(Organisation)
                           .where(Organisation.kind == OrganisationKind.PORTAL)).all()
    if len(operators) > 1:
        raise InitRefused("there are several operator organisations (kind portal): name the "
                          "administrator's organisation")
    if operators:
        return operators[0]
    slug, name = DEFAULT_OPERATOR
    ensure_organisations(db, [OrganisationSpec(slug, OrganisationKind.PORTAL, name)], now,
                         report)
    return db.scalars(select(Organisation).where(Organisation.slug == slug)).one()


def ensure_administrator(db: Session, spec: AdministratorSpec, now: datetime,
                         report: InitReport) -> None:
    """A pending binding for the first administrator, unless one exists already."""
    spec = replace(spec, email=spec.email.strip().lower() if spec.email else None)
    bindings = db.scalars(select(AdministratorBinding)).all()
    same = [b for b in bindings if b.idp == spec.idp and b.subject == spec.subject
            and b.email == spec.email]
    who = f"{spec.idp} {'subject ' + spec.subject if spec.subject else spec.email}"
    if same:
        state = "bound" if same[0].person_id else "waiting for the first login"
        report.found(f"administrator {who}: {state}")
        return
    admins = db.scalar(select(func.count()).select_from(Membership)
                       .where(Membership.role == Role.ADMIN))
    if bindings or admins:
        raise InitRefused("an administrator already exists; add further administrators in "
                          "the portal, not with portal init")
    organisation = _operator(db, spec, now, report)
    binding = AdministratorBinding(id=new_id(), organisation_id=organisation.id, idp=spec.idp,
                                   subject=spec.subject, email=spec.email, created_at=now)
    db.add(binding)
    db.flush()
    record(db, SYSTEM, now, event_type="admin.init.administrator", action="create",
           outcome="allowed", object_type="administrator_binding", object_id=binding.id,
           reason="pending_first_login")
    report.did(f"administrator {who}: becomes administrator of {organisation.slug} at "
               "the first login")


def _check_administrator_idp(settings: Settings, idp: str) -> None:
    kinds = {p.id: p.kind for p in settings.identity_providers}
    if settings.dev_idp:
        from portal.demo import DEV_IDP_ID

        kinds[DEV_IDP_ID] = "mixed"
    if idp not in kinds:
        raise InitRefused(f"administrator idp {idp!r} is not a configured identity provider "
                          f"(PORTAL_IDPS_FILE ids: {', '.join(sorted(kinds)) or 'none'})")
    if kinds[idp] == "citizen":
        # Parents' and pupils' logins (DigiD) never administer the portal.
        raise InitRefused(f"administrator idp {idp!r} is a citizen provider; name a "
                          "professional one")


def run(settings: Settings, plan: InitPlan, engine: Engine, sessions: sessionmaker[Session],
        open_provider: Callable[[], KeyProvider], now: datetime) -> InitReport:
    """Every step in order.

    The database is reached before a key is made (a key made for a portal that
    then cannot record it would go unlogged). The key and migration records
    commit on their own, so a refused organisation or administrator step
    does not take them back; organisations and administrator are one
    transaction.
    """
    report = InitReport()
    if plan.administrator is not None:
        _check_administrator_idp(settings, plan.administrator.idp)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    key_created = ensure_key(settings, open_provider, report)
    migrated_to = migrate(engine, report)
    if key_created or migrated_to:
        with unit_of_work(sessions) as db:
            if key_created:
                record(db, SYSTEM, now, event_type="admin.init.key", action="create",
                       outcome="allowed", object_type="key_encryption_key",
                       object_id=key_created, reason=settings.key_provider)
            if migrated_to:
                record(db, SYSTEM, now, event_type="admin.init.migrate", action="execute",
                       outcome="allowed", object_type="database", object_id=migrated_to)
    with unit_of_work(sessions) as db:
        ensure_organisations(db, plan.organisations, now, report)
        if plan.administrator is not None:
            ensure_administrator(db, plan.administrator, now, report)
    return report
