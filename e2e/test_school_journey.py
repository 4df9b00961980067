"""A real school's first journey in Chromium, from an empty production database.

Nothing here is demo data or SQL by hand: PostgreSQL starts empty, ``portal
init`` (the real command, in a child process, with the production environment)
creates the key-encryption key on a SoftHSM2 token, the schema, the school and
the administrator; everything after that is done by people in a browser.

Production mode is not relaxed: the portal and both identity providers serve
https on loopback with a certificate of a CA made for this test (the portal's
back channel trusts it through ``REQUESTS_CA_BUNDLE``, Chromium through
``ignore_https_errors``). Two processes of panva's certified ``oidc-provider``
play the staff IdP (professionals, ``org``/``roles`` claims per account) and the
family IdP (citizens, eIDAS substantial); invitation mail goes over SMTP to an
aiosmtpd server.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import BrowserContext, Page, Route, expect

from crypto import Pkcs11Provider
from e2e.conftest import Browse, problems_seen
from e2e.pages import NewCasePage
from portal.app import create_app
from portal.mail.catcher import CaughtMessage, MailCatcher, free_port
from portal.settings_env import load_settings
from tests.documents.helpers import document_ids
from tests.harness import FakeClock, PostgresServer, Running, bind_socket, serve
from tests.interop.op import start_op, stop_op
from tests.ops.conftest import CLI_TOKEN, PIN, portal_command, production_env
from tests.ops.conftest import softhsm as softhsm  # a fixture, for this module
from tests.register.helpers import csv_bytes, pupil

pytestmark = pytest.mark.interop

LOW = "http://eidas.europa.eu/LoA/low"
SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
STAFF_LABEL = "Inloggen als medewerker"
FAMILY_LABEL = "Inloggen met DigiD"
CLIENT_ID = "mdo-portal"
SCHOOL, YOUTH_CARE, OPERATOR = "het-baken", "jeugdhulp-noord", "beheer"
# Staff accounts at the school board's IdP: login name -> claims.
STAFF = {
    "beheerder": {"name": "Bea Beheer", "email": "beheer@baken.example",
                  "org": None, "roles": None},
    "ib-ilse": {"name": "Ilse Bakker", "email": "ilse@baken.example",
                "org": SCHOOL, "roles": ["ib"]},
    "jw-joost": {"name": "Joost de Vries", "email": "joost@jeugdhulp.example",
                 "org": YOUTH_CARE, "roles": ["jeugdhulp"]},
}
PARENT_LOGIN = "digid-anna"
PARENT_EMAIL = "anna.jansen@example.nl"
CASE_TITLE = "Zorgen over Eva in groep 5"


# -- TLS on loopback: a CA of our own, a certificate for 127.0.0.1 -------------
def _certificates(tmp: Path) -> tuple[Path, Path, Path]:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "journey test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


def secret_file(tmp: Path, name: str) -> str:
    """The OP's client secret as production keeps it: a 0600 file (``_file`` setting)."""
    path = tmp / f"{name}.txt"
    path.write_text(name)
    path.chmod(0o600)
    return str(path)


@dataclass
class School:
    """The deployment under test, and what the browser needs to reach it."""

    running: Running
    env: dict[str, str]
    staff_issuer: str
    family_issuer: str
    mail: MailCatcher

    postgres: PostgresServer
    database: str

    @property
    def base(self) -> str:
        return self.running.base_url

    def dump(self) -> bytes:
        """Everything PostgreSQL holds for the portal, as ``pg_dump`` writes it."""
        return self.postgres.dump(self.database)


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer,
           softhsm: str) -> Iterator[School]:
    tmp = tmp_path_factory.mktemp("journey")
    ca, cert, key = _certificates(tmp)
    database = "journey"
    postgres.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    postgres.execute(f"CREATE DATABASE {database}")
    sock = bind_socket()
    base = f"https://127.0.0.1:{sock.getsockname()[1]}"
    mail = MailCatcher(free_port())
    mail.start()
    processes: list[subprocess.Popen[bytes]] = []
    running: Running | None = None
    monkey = pytest.MonkeyPatch()
    try:
        common = {"redirect_uri": f"{base}/auth/callback",
                  "post_logout_redirect_uri": f"{base}/logged-out",
                  "tls_key": str(key), "tls_cert": str(cert),
                  # A login is "low" unless the portal asks for more, as DigiD
                  # does for a bare username and password.
                  "acr_values": [LOW, SUBSTANTIAL], "acr": LOW}
        staff_op, staff_issuer = start_op(
            {**common, "client_id": CLIENT_ID, "client_secret": "staff-secret",
             "accounts": STAFF}, tmp / "staff-op.log")
        processes.append(staff_op)
        family_op, family_issuer = start_op(
            {**common, "client_id": CLIENT_ID, "client_secret": "family-secret",
             # As from a DigiD broker: a subject and a level, no name, no e-mail.
             "account_claims": {"org": None, "roles": None, "name": None, "email": None}},
            tmp / "family-op.log")
        processes.append(family_op)
        idps = [
            {"id": "staff", "kind": "professional", "issuer": staff_issuer,
             "client_id": CLIENT_ID, "client_secret_file": secret_file(tmp, "staff-secret"),
             "label": STAFF_LABEL,
             "organisations": [SCHOOL, YOUTH_CARE],
             "scopes": ["openid", "profile", "email", "mdo"],
             "role_map": {"ib": "care_coordinator", "jeugdhulp": "youth_care_worker"},
             "min_acr": SUBSTANTIAL},
            {"id": "digid", "kind": "citizen", "issuer": family_issuer,
             "client_id": CLIENT_ID, "client_secret_file": secret_file(tmp, "family-secret"),
             "label": FAMILY_LABEL, "scopes": ["openid", "profile", "email"],
             "min_acr": SUBSTANTIAL},
        ]
        (tmp / "journey-idps.json").write_text(json.dumps(idps))
        pin = tmp / "pin"
        pin.write_text(PIN)
        pin.chmod(0o600)
        env = production_env(
            tmp, postgres.url(database), mail.port, PORTAL_PUBLIC_URL=base,
            PORTAL_IDPS_FILE=str(tmp / "journey-idps.json"), PORTAL_KEY_PROVIDER="pkcs11",
            PORTAL_PKCS11_LIBRARY=softhsm, PORTAL_PKCS11_TOKEN=CLI_TOKEN,
            PORTAL_PKCS11_PIN_FILE=str(pin), PORTAL_AUDIT_ORIGIN="127.0.0.1/access-log",
            REQUESTS_CA_BUNDLE=str(ca))
        init = portal_command(
            "init", "--organisation", f"{SCHOOL},school,Scholengemeenschap Het Baken",
            "--organisation", f"{OPERATOR},portal,MDO-portaal beheer",
            "--admin-idp", "staff", "--admin-subject", "beheerder",
            "--admin-organisation", OPERATOR, env=env)
        assert init.returncode == 0, init.stderr
        assert f"key-encryption key: version 1 created in key provider pkcs11 (token " \
            f"'{CLI_TOKEN}')" in init.stdout, init.stdout
        monkey.setenv("REQUESTS_CA_BUNDLE", str(ca))
        clock = FakeClock()
        running = serve(create_app(load_settings(env), clock=clock), sock, clock,
                        tls=(cert, key))
        yield School(running=running, env=env, staff_issuer=staff_issuer,
                     family_issuer=family_issuer, mail=mail, postgres=postgres,
                     database=database)
    finally:
        monkey.undo()
        if running is not None:
            running.stop()
            # Its token session is shared per process: closed before the
            # softhsm fixture re-initialises the library for another module.
            Pkcs11Provider(softhsm, CLI_TOKEN, PIN).close()
        else:
            sock.close()
        for process in processes:
            stop_op(process)
        mail.stop()
        postgres.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@pytest.fixture
def guarded(new_context: Callable[..., BrowserContext],
            school: School) -> Iterator[Callable[[], Page]]:
    """Guarded pages (e2e/conftest.py) on the https portal; fails on any problem."""
    browse = Browse(lambda **kw: new_context(ignore_https_errors=True, **kw), school.base)

    def open_page() -> Page:
        page = browse()
        # The OP's own pages import a web font: answered locally, empty.
        page.context.route("https://fonts.googleapis.com/**", _empty_stylesheet)
        return page

    yield open_page
    problems = problems_seen(browse)
    if problems:
        pytest.fail("browser problems seen during the test:\n" + "\n".join(problems),
                    pytrace=False)


def _empty_stylesheet(route: Route) -> None:
    route.fulfill(status=200, content_type="text/css", body="")


def log_in(page: Page, school: School, label: str, login: str, start: str = "/login") -> None:
    """Through the portal's login page and the OP's own login and consent screens."""
    page.goto(f"{school.base}{start}")
    page.get_by_role("link", name=label).click()
    for _ in range(4):
        page.wait_for_load_state()
        if page.url.startswith(school.base):
            return
        screen = page.url
        if page.locator('input[name="login"]').count():
            page.locator('input[name="login"]').fill(login)
            page.locator('input[name="password"]').fill("any password")
            page.get_by_role("button", name="Sign-in").click()
        else:
            page.get_by_role("button", name="Continue").click()
        page.wait_for_url(_away_from(screen))
    page.wait_for_url(f"{school.base}/**")


def _away_from(screen: str) -> Callable[[str], bool]:
    return lambda url: url != screen


def wait_for_mail(school: School, recipient: str) -> CaughtMessage:
    deadline = time.monotonic() + 20
    while True:
        school.running.portal.mail.poke()
        found = [m for m in school.mail.snapshot() if recipient in m.recipients]
        if found:
            return found[-1]
        if time.monotonic() > deadline:
            pytest.fail(f"no mail to {recipient} arrived")
        time.sleep(0.05)


# -- the class list: 30 pupils, three of them wrong in the first export --------
def class_list(*, with_mistakes: bool) -> bytes:
    rows = []
    for n in range(1, 31):
        parent = (f"Ouder {n}", f"ouder{n}@example.nl", "ouder", "ja")
        rows.append(pupil(str(1000 + n), f"Leerling {n}", f"{(n % 28) + 1:02d}-03-2015",
                          "5a", parent))
    rows[0] = pupil("1001", "Eva Jansen", "03-05-2015", "5a",
                    ("Anna Jansen", PARENT_EMAIL, "ouder", "ja"))
    if with_mistakes:
        rows[4]["geboortedatum"] = "31-02-2015"            # line 6: no such date
        rows[9]["verzorger1_email"] = "ouder10@"           # line 11: malformed e-mail
        rows[19]["verzorger1_relatie"] = "buurvrouw"       # line 21: unknown relation
    return csv_bytes(rows, bom=True)


def test_a_school_from_an_empty_database_to_consent_read_by_youth_care(
        guarded: Callable[[], Page], school: School, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # The administrator, named by `portal init`, logs in and adds youth care.
    admin = guarded()
    log_in(admin, school, STAFF_LABEL, "beheerder")
    admin.goto(f"{school.base}/admin")
    admin.get_by_label("Naam", exact=True).fill("Jeugdhulp Noord")
    slug = admin.get_by_label(re.compile("^Korte naam"))
    slug.fill("Jeugdhulp Noord")  # a display name where the IdP's short name belongs
    admin.get_by_label("Soort").select_option("youth_care")
    admin.get_by_role("button", name="Organisatie toevoegen").click()
    expect(slug).to_have_attribute("aria-invalid", "true")
    expect(admin.locator("#slug-error")).to_contain_text("Gebruik 3 tot 64 kleine letters")
    expect(admin.get_by_label("Naam", exact=True)).to_have_value("Jeugdhulp Noord")
    expect(admin.get_by_label("Soort")).to_have_value("youth_care")
    slug.fill(YOUTH_CARE)
    admin.get_by_role("button", name="Organisatie toevoegen").click()
    expect(admin.get_by_role("status")).to_have_text("De organisatie is toegevoegd.")
    organisations = admin.get_by_role("heading", level=2, name="Organisaties") \
        .locator("xpath=following-sibling::ul[1]")
    expect(organisations.get_by_role("listitem").filter(has_text="Jeugdhulp Noord")) \
        .to_have_text("Jeugdhulp Noord Jeugdhulp")
    expect(admin.get_by_role("row", name=re.compile("^Bea Beheer"))).to_contain_text(
        "Beheerder (MDO-portaal beheer)")

    # Youth care's worker signs in once, so the school can add him to a case.
    worker = guarded()
    log_in(worker, school, STAFF_LABEL, "jw-joost")
    expect(worker.get_by_role("navigation", name="Hoofdmenu")).to_contain_text("Joost de Vries")

    # The care coordinator imports the class: three rows refused, fixed, imported.
    ilse = guarded()
    log_in(ilse, school, STAFF_LABEL, "ib-ilse")
    ilse.get_by_role("navigation", name="Hoofdmenu") \
        .get_by_role("link", name="Leerlingregister").click()
    expect(ilse.get_by_role("heading", level=1)).to_have_text(
        "Leerlingregister van Scholengemeenschap Het Baken")
    export = tmp_path / "parnassys-export.csv"
    export.write_bytes(class_list(with_mistakes=True))
    ilse.get_by_label("CSV-bestand").set_input_files(export)
    ilse.get_by_role("button", name="Bestand controleren (proefimport)").click()
    refused = ilse.get_by_role("table", name="Geweigerde rijen").get_by_role("row")
    expect(refused).to_have_count(4)  # the header and three refused rows
    expect(refused.nth(1)).to_have_text(
        "6geboortedatumOnmogelijke datum: schrijf dd-mm-jjjj of jjjj-mm-dd.")
    expect(refused.nth(2)).to_have_text("11verzorger1_emailOngeldig e-mailadres.")
    expect(refused.nth(3)).to_have_text(
        "21verzorger1_relatieOnbekende relatie: gebruik ouder, voogd, pleegouder of "
        "jeugdbeschermer.")
    expect(ilse.get_by_role("button", name="Nu importeren")).to_have_count(0)
    ilse.go_back()
    export.write_bytes(class_list(with_mistakes=False))
    ilse.get_by_label("CSV-bestand").set_input_files(export)
    ilse.get_by_role("button", name="Bestand controleren (proefimport)").click()
    expect(ilse.get_by_role("status")).to_contain_text("30 toe te voegen")
    ilse.get_by_role("button", name="Nu importeren").click()
    expect(ilse.get_by_role("status")).to_have_text(
        "Import klaar: 30 toegevoegd, 0 bijgewerkt, 0 ongewijzigd.")
    # Next week's export is the same file: nothing changes, nobody is duplicated.
    ilse.get_by_role("navigation", name="Hoofdmenu") \
        .get_by_role("link", name="Leerlingregister").click()
    ilse.get_by_label("CSV-bestand").set_input_files(export)
    ilse.get_by_role("button", name="Bestand controleren (proefimport)").click()
    ilse.get_by_role("button", name="Nu importeren").click()
    expect(ilse.get_by_role("status")).to_have_text(
        "Import klaar: 0 toegevoegd, 0 bijgewerkt, 30 ongewijzigd.")

    # She invites Eva's mother; the content-free mail carries the link.
    ilse.get_by_role("navigation", name="Hoofdmenu") \
        .get_by_role("link", name="Uitnodigingen gezin").click()
    ilse.get_by_role("link", name="Eva Jansen").click()
    expect(ilse.get_by_role("heading", level=1, name="Uitnodigingen: Eva Jansen")) \
        .to_be_visible()
    who = ilse.get_by_label("Wie nodigt u uit")
    who.select_option(who.locator("option", has_text=PARENT_EMAIL).get_attribute("value"))
    ilse.get_by_label("E-mailadres").fill(PARENT_EMAIL)
    ilse.get_by_role("button", name="Uitnodiging versturen").click()
    expect(ilse.get_by_role("status")).to_have_text("De uitnodiging is verstuurd.")
    mail = wait_for_mail(school, PARENT_EMAIL)
    for internal in ("Eva", "Jansen", "Baken", "5a"):
        assert internal not in mail.body, f"the invitation mail names {internal!r}"
    link = re.search(re.escape(school.base) + r"/invitation/[A-Za-z0-9_-]+", mail.body)
    assert link is not None, mail.body

    # The mother logs in at the family IdP (eIDAS substantial) and redeems the code.
    anna = guarded()
    anna.goto(link.group(0))
    expect(anna.get_by_role("heading", level=1, name="Uw uitnodiging accepteren")) \
        .to_be_visible()
    log_in(anna, school, FAMILY_LABEL, PARENT_LOGIN, start=link.group(0)[len(school.base):])
    expect(anna).to_have_url(re.compile(r"/invitation/[A-Za-z0-9_-]+$"))
    anna.get_by_role("button", name="Uitnodiging accepteren").focus()
    anna.keyboard.press("Enter")  # by keyboard, as anyone without a mouse would
    expect(anna.get_by_role("heading", level=1, name="Uw inlog is gekoppeld")).to_be_visible()

    # The care coordinator opens a named case for Eva and adds youth care.
    ilse.goto(f"{school.base}/cases/new")
    case = NewCasePage(ilse).wait().create(
        child="Eva Jansen", title=CASE_TITLE, purpose="Passende ondersteuning in de klas")
    case_url = ilse.url
    case.add_participant("Joost de Vries")
    expect(case.participant("Joost de Vries")).to_be_visible()

    # The mother sees the case and consents to sharing behaviour (not health).
    anna.get_by_role("link", name="Naar het portaal").click()
    # Greeted by the name the school registered (the IdP sent none).
    expect(anna.get_by_role("heading", level=1)).to_have_text("Welkom, Anna Jansen")
    anna.get_by_role("region", name="Eva Jansen").get_by_role("link", name=CASE_TITLE).click()
    give = anna.get_by_role("region", name="Toestemming geven")
    for label in ("Gedrag", "Scholengemeenschap Het Baken", "Jeugdhulp Noord"):
        give.get_by_role("checkbox", name=label, exact=True).check()
    give.get_by_role("button", name="Toestemming geven").click()
    expect(anna.get_by_role("status")).to_have_text("Uw toestemming is vastgelegd.")

    # The school attaches two reports written elsewhere; only behaviour is covered.
    # (Minutes of a meeting are written with the meeting; a file is uploaded here.)
    # Health is outside the consent, even for the school: the new document is found
    # in the database, since the list does not show it to Ilse either.
    written = {}
    for title, category in (("Gedrag in groep 5a", "Gedrag"),
                            ("Medische achtergrond", "Gezondheid")):
        before = document_ids(school.running)
        ilse.goto(f"{case_url}/documents")
        upload = ilse.locator("#upload-form")
        upload.get_by_text("Een bestand uploaden").click()
        upload.get_by_label("Wat is het?").select_option(label="Verslagen die elders zijn gemaakt")
        upload.get_by_role("checkbox", name=category, exact=True).check()
        upload.get_by_label("Bestand", exact=True).set_input_files(files=[{
            "name": f"{title}.txt", "mimeType": "text/plain",
            "buffer": f"Besproken: {title}.\n".encode()}])
        upload.get_by_role("button", name="Uploaden").click()
        expect(ilse).to_have_url(f"{case_url}/documents")
        (document_id,) = document_ids(school.running) - before
        written[category] = f"{case_url}/documents/{document_id}"

    # Youth care reads what the consent covers, and nothing else.
    worker.goto(case_url)
    worker.get_by_role("navigation", name="Onderdelen van deze casus") \
        .get_by_role("link", name="Verslagen en documenten").click()
    documents = worker.get_by_role("region", name="Verslagen en bijlagen")
    expect(documents.get_by_role("link", name="Gedrag in groep 5a.txt", exact=True)) \
        .to_be_visible()
    expect(documents.get_by_text("Medische achtergrond")).to_have_count(0)
    documents.get_by_role("link", name="Gedrag in groep 5a.txt", exact=True).click()
    expect(worker.get_by_role("heading", level=1)).to_have_text("Gedrag in groep 5a.txt")
    with worker.expect_download() as download:
        worker.get_by_role("link", name="Downloaden").click()
    assert download.value.path().read_bytes() == b"Besproken: Gedrag in groep 5a.\n"
    worker.goto(written["Gezondheid"])
    expect(worker.get_by_role("heading", level=1, name="Niet toegestaan")).to_be_visible()
    expect(worker.get_by_text("Medische achtergrond")).to_have_count(0)

    # The mother sees in the access log that youth care read it, and was refused the rest.
    anna.goto(f"{school.base}/child-access")
    anna.get_by_role("link", name="Eva Jansen").click()
    log = anna.get_by_role("table", name="Inzagen in de gegevens van uw kind")
    youth_care = log.get_by_role("row").filter(has_text="Jeugdhulp Noord") \
        .filter(has_text="Jeugdhulpverlener").filter(has_text="Verslag of document")
    expect(youth_care.filter(has_text="toegestaan").first).to_be_visible()
    expect(youth_care.filter(has_text="geweigerd").first).to_be_visible()

    # At rest, the names and birth dates that came in through the import and
    # the browser are nowhere in clear: not in a dump of the whole database.
    dump = school.dump()
    assert b"Jeugdhulp Noord" in dump  # organisation names are not secret: the dump is real
    for clear in ("Eva Jansen", "Anna Jansen", "Leerling 17", "Ouder 17", "03-05-2015",
                  "2015-05-03", CASE_TITLE, "Besproken"):
        assert clear.encode() not in dump, f"{clear!r} is stored in clear"
    # ... nor in anything the portal logged on the way.
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records, "nothing was logged at all: the check below would prove nothing"
    for clear in ("Eva Jansen", "Anna Jansen", "Leerling 17", "03-05-2015", CASE_TITLE,
                  "Besproken"):
        assert clear not in logged, f"{clear!r} was logged"
