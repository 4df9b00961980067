"""``portal init``: from an empty database to a portal with a pending first administrator."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from crypto import KeyProvider, Pkcs11Provider
from portal.audit import keys as audit_keys
from portal.audit import ledger as audit_ledger
from portal.audit.models import AccessRecord
from portal.db import make_engine, session_factory
from portal.mail.catcher import MailCatcher
from portal.ops import bootstrap
from portal.ops.checks import head_revision
from portal.ops.models import AdministratorBinding
from portal.people.models import Organisation, OrganisationKind
from portal.settings import Settings
from portal.vault.keyring import make_key_provider
from tests.ops.conftest import (
    CLI_TOKEN,
    PIN,
    TOKEN,
    UNUSED_TOKEN,
    portal_command,
    production_env,
    with_database,
)

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
PLAN = bootstrap.InitPlan(
    organisations=(bootstrap.OrganisationSpec("het-baken", OrganisationKind.SCHOOL,
                                              "Scholengemeenschap Het Baken"),
                   bootstrap.OrganisationSpec("beheer", OrganisationKind.PORTAL,
                                              "MDO-portaal beheer")),
    administrator=bootstrap.AdministratorSpec(idp="school-idp", email="beheer@baken.example"))


def init(settings: Settings, plan: bootstrap.InitPlan = PLAN,
         provider: KeyProvider | None = None) -> bootstrap.InitReport:
    engine = make_engine(settings.effective_database_url)
    sessions = session_factory(engine)
    audit_ledger.configure(sessions, audit_keys.audit_config(settings))
    try:
        return bootstrap.run(settings, plan, engine, sessions,
                             lambda: provider or make_key_provider(settings), NOW)
    finally:
        engine.dispose()


def state(url: str) -> tuple[list[str], int, list[tuple[str, str | None]]]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as db:
            events = list(db.scalars(select(AccessRecord.event_type).order_by(AccessRecord.seq)))
            organisations = db.scalar(select(func.count()).select_from(Organisation)) or 0
            bindings = [(b.idp, b.email) for b in db.scalars(select(AdministratorBinding))]
        return events, organisations, bindings
    finally:
        engine.dispose()


def test_init_builds_a_portal_once_and_records_each_step(
        empty_url: str, production_settings: Settings) -> None:
    settings = with_database(production_settings, empty_url)
    first = init(settings)
    assert first.changed
    keyring = settings.keyring_file
    assert keyring is not None and keyring.read_text().startswith("1:")
    assert keyring.stat().st_mode & 0o777 == 0o600
    events, organisations, bindings = state(empty_url)
    assert events == ["admin.init.key", "admin.init.migrate", "admin.init.organisation",
                      "admin.init.organisation", "admin.init.administrator"]
    assert organisations == 2
    assert bindings == [("school-idp", "beheer@baken.example")]
    engine = make_engine(empty_url)
    assert bootstrap.database_revision(engine) == head_revision()
    with session_factory(engine)() as db:
        actors = set(db.scalars(select(AccessRecord.user_name)))
    engine.dispose()
    assert actors == {"portal init"}

    second = init(settings)
    assert not second.changed
    assert all(line.endswith("(already done, unchanged)") for line in second.lines)
    assert state(empty_url) == (events, organisations, bindings)


def test_init_refuses_an_unreachable_key_provider_and_changes_nothing(
        empty_url: str, production_settings: Settings, tmp_path: Path) -> None:
    keyring = tmp_path / "kek"
    keyring.write_text("not a keyring")
    keyring.chmod(0o600)
    settings = with_database(production_settings, empty_url)
    with pytest.raises(bootstrap.InitRefused,
                       match=r"key provider secret-file \(.*kek\) cannot be reached: .*"
                             r"check PORTAL_KEYRING_FILE"):
        init(settings)
    engine = make_engine(empty_url)
    assert bootstrap.database_revision(engine) is None, "nothing was migrated"
    engine.dispose()


def test_init_creates_the_first_key_in_softhsm(softhsm: str, empty_postgres_url: str,
                                               production_settings: Settings) -> None:
    settings = replace(with_database(production_settings, empty_postgres_url),
                       key_provider="pkcs11", pkcs11_library=softhsm, pkcs11_token=TOKEN,
                       pkcs11_pin=PIN)
    provider = Pkcs11Provider(softhsm, TOKEN, PIN)
    assert provider.versions() == []
    report = init(settings, provider=provider)
    assert "key-encryption key: version 1 created in key provider pkcs11 (token 'mdo-init')" \
        in report.lines
    assert provider.versions() == [1]
    again = init(settings, provider=Pkcs11Provider(softhsm, TOKEN, PIN))
    assert not again.changed and provider.versions() == [1]


def test_init_refuses_a_wrong_pin_and_a_missing_token(softhsm: str, empty_postgres_url: str,
                                                      production_settings: Settings) -> None:
    settings = replace(with_database(production_settings, empty_postgres_url),
                       key_provider="pkcs11", pkcs11_library=softhsm)
    wrong_pin = Pkcs11Provider(softhsm, UNUSED_TOKEN, "0000")
    with pytest.raises(bootstrap.InitRefused, match=r"PinIncorrect.*PORTAL_PKCS11_PIN"):
        init(replace(settings, pkcs11_token=UNUSED_TOKEN), provider=wrong_pin)
    with pytest.raises(bootstrap.InitRefused, match="'no-such-token' not found"):
        init(replace(settings, pkcs11_token="no-such-token"),
             provider=Pkcs11Provider(softhsm, "no-such-token", PIN))
    engine = make_engine(empty_postgres_url)
    assert bootstrap.database_revision(engine) is None
    engine.dispose()


@pytest.mark.parametrize(("argument", "problem"), [
    ("x,school,Name", "slug 'x' must be 3-64"),
    ("het-baken,university,Name", "kind 'university' must be one of"),
    ("het-baken,school,", "name must be 1-200"),
    ("het-baken", "write SLUG,KIND,NAME"),
])
def test_bad_organisation_arguments_are_named(argument: str, problem: str) -> None:
    with pytest.raises(bootstrap.InitRefused, match=f"--organisation.*{problem}"):
        bootstrap.parse_organisation_argument(argument)


def test_an_organisation_name_may_contain_commas() -> None:
    spec = bootstrap.parse_organisation_argument("obs-de-wiek,school,OBS De Wiek, Zwolle")
    assert spec.name == "OBS De Wiek, Zwolle"


@pytest.mark.parametrize(("admin", "problem"), [
    ({"idp": "school-idp"}, "subject or e-mail, not both"),
    ({"idp": "school-idp", "subject": "s", "email": "a@b.nl"}, "subject or e-mail, not both"),
    ({"subject": "s"}, "identity provider \\(idp\\) is missing"),
    ({"idp": "school-idp", "email": "not-an-address"}, "is not an e-mail address"),
])
def test_bad_administrator_fields_are_named(tmp_path: Path, admin: dict[str, str],
                                            problem: str) -> None:
    plan = tmp_path / "init.json"
    plan.write_text(json.dumps({"administrator": admin}))
    with pytest.raises(bootstrap.InitRefused, match=f"administrator: .*{problem}"):
        bootstrap.read_plan_file(plan)


def test_a_toml_plan_is_read(tmp_path: Path) -> None:
    plan = tmp_path / "init.toml"
    plan.write_text('[[organisations]]\nslug = "het-baken"\nkind = "school"\n'
                    'name = "Het Baken"\n\n[administrator]\nidp = "school-idp"\n'
                    'subject = "a1b2"\n')
    read = bootstrap.read_plan_file(plan)
    assert read.organisations[0].slug == "het-baken"
    assert read.administrator == bootstrap.AdministratorSpec(idp="school-idp", subject="a1b2")


def test_a_malformed_plan_file_is_named(tmp_path: Path) -> None:
    plan = tmp_path / "init.json"
    plan.write_text("{not json")
    with pytest.raises(bootstrap.InitRefused, match=r"--file .*init\.json"):
        bootstrap.read_plan_file(plan)


def test_an_unknown_identity_provider_is_refused_before_anything_happens(
        empty_url: str, production_settings: Settings) -> None:
    settings = with_database(production_settings, empty_url)
    plan = replace(PLAN, administrator=bootstrap.AdministratorSpec(idp="nope", subject="s"))
    with pytest.raises(bootstrap.InitRefused, match=r"'nope' is not a configured identity "
                                                    r"provider.*school-idp"):
        init(settings, plan)
    assert settings.keyring_file is not None and not settings.keyring_file.exists()


def test_a_citizen_identity_provider_cannot_name_the_administrator(
        empty_url: str, production_settings: Settings) -> None:
    digid = replace(production_settings.identity_providers[0], id="digid", kind="citizen")
    settings = replace(with_database(production_settings, empty_url),
                       identity_providers=(*production_settings.identity_providers, digid))
    plan = replace(PLAN, administrator=bootstrap.AdministratorSpec(idp="digid", subject="s"))
    with pytest.raises(bootstrap.InitRefused, match="'digid' is a citizen provider"):
        init(settings, plan)


def test_a_second_different_administrator_is_refused(
        empty_url: str, production_settings: Settings) -> None:
    settings = with_database(production_settings, empty_url)
    init(settings)
    other = replace(PLAN, administrator=bootstrap.AdministratorSpec(idp="school-idp",
                                                                    subject="someone-else"))
    with pytest.raises(bootstrap.InitRefused, match="an administrator already exists"):
        init(settings, other)
    assert state(empty_url)[2] == [("school-idp", "beheer@baken.example")]


def test_a_refused_administrator_keeps_the_key_and_migration_records(
        empty_url: str, production_settings: Settings) -> None:
    settings = with_database(production_settings, empty_url)
    plan = replace(PLAN, administrator=replace(PLAN.administrator, organisation="nowhere"))
    with pytest.raises(bootstrap.InitRefused, match="organisation 'nowhere' does not exist"):
        init(settings, plan)
    events, organisations, bindings = state(empty_url)
    assert events == ["admin.init.key", "admin.init.migrate"]
    assert organisations == 0 and bindings == [], "organisations and administrator: all or none"


def test_an_unreachable_database_is_refused_before_a_key_is_made(
        production_settings: Settings, tmp_path: Path) -> None:
    settings = with_database(production_settings,
                             f"postgresql+psycopg://portal@/portal?host={tmp_path}")
    with pytest.raises(OperationalError):
        init(settings)
    assert settings.keyring_file is not None and not settings.keyring_file.exists()


def test_without_an_operator_organisation_one_is_created(
        empty_url: str, production_settings: Settings) -> None:
    settings = with_database(production_settings, empty_url)
    report = init(settings, bootstrap.InitPlan(administrator=PLAN.administrator))
    assert "organisation portal-beheer: created (portal)" in report.lines


def test_the_portal_init_command_in_production(empty_postgres_url: str, tmp_path: Path) -> None:
    catcher = MailCatcher().start()
    try:
        env = production_env(tmp_path, empty_postgres_url, catcher.port)
        args = ("init", "--organisation", "het-baken,school,Scholengemeenschap Het Baken",
                "--organisation", "beheer,portal,MDO-portaal beheer",
                "--admin-idp", "school-idp", "--admin-subject", "a1b2c3")
        first = portal_command(*args, env=env)
        assert first.returncode == 0, first.stderr
        assert "portal init: done" in first.stdout
        assert "administrator school-idp subject a1b2c3: becomes administrator of beheer" \
            in first.stdout
        second = portal_command(*args, env=env)
        assert second.returncode == 0, second.stderr
        assert "portal init: nothing to do, everything was already in place" in second.stdout
        verified = portal_command("audit", "verify", "--quiet", env=env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        catcher.stop()


def test_portal_init_and_check_with_softhsm_as_key_provider(
        softhsm: str, empty_postgres_url: str, tmp_path: Path) -> None:
    catcher = MailCatcher().start()
    try:
        pin = tmp_path / "hsm-pin"
        pin.write_text(PIN)
        pin.chmod(0o600)
        env = production_env(tmp_path, empty_postgres_url, catcher.port,
                             PORTAL_KEY_PROVIDER="pkcs11", PORTAL_PKCS11_LIBRARY=softhsm,
                             PORTAL_PKCS11_TOKEN=CLI_TOKEN, PORTAL_PKCS11_PIN_FILE=str(pin))
        first = portal_command("init", "--admin-idp", "school-idp", "--admin-subject", "a1",
                               env=env)
        assert first.returncode == 0, first.stderr
        assert ("key-encryption key: version 1 created in key provider pkcs11 (token "
                "'mdo-init-cli')") in first.stdout
        check = portal_command("check", env=env)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "ok    key provider" in check.stdout and "FAIL" not in check.stdout

        pin.write_text("0000")
        wrong = portal_command("check", env=env)
        assert wrong.returncode == 1
        assert ("FAIL  key provider: PORTAL_KEY_PROVIDER: key provider pkcs11 (token "
                "'mdo-init-cli') is not usable: login to PKCS#11 token 'mdo-init-cli' failed "
                "(PinIncorrect)") in wrong.stdout
        assert "fix: check PORTAL_PKCS11_LIBRARY, PORTAL_PKCS11_TOKEN and " \
            "PORTAL_PKCS11_PIN(_FILE)" in wrong.stdout
    finally:
        catcher.stop()


def test_the_command_line_plan() -> None:
    from portal.cli import build_parser
    from portal.ops.cli import plan_from

    parse = build_parser().parse_args
    with pytest.raises(bootstrap.InitRefused, match=r"identity provider \(idp\) is missing"):
        plan_from(parse(["init", "--admin-organisation", "beheer"]))
    plan = plan_from(parse(["init", "--organisation", "het-baken,school,Het Baken",
                            "--admin-idp", "school-idp", "--admin-email", "Beheer@Baken.nl"]))
    assert plan.organisations == (bootstrap.OrganisationSpec(
        "het-baken", OrganisationKind.SCHOOL, "Het Baken"),)
    assert plan.administrator == bootstrap.AdministratorSpec(idp="school-idp",
                                                             email="beheer@baken.nl")
