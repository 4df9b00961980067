"""Sign-in, sign-out and step-up in Chromium against a certified OpenID Provider.

panva's ``oidc-provider`` (tests/interop/op_server.mjs) plays three providers,
each configured the way a real one might be, one OP process and one portal per
configuration for the whole module:

- ``id_token_op``: ES256 ID tokens carrying every claim (no userinfo endpoint
  at all), ``client_secret_post`` with a secret holding ``+`` and ``/``, and
  Keycloak-style roles nested in ``realm_access.roles``;
- ``keyed_op``: RS256 ID tokens with the claims only in userinfo, pairwise
  subjects, and ``private_key_jwt`` with a key read from a ``_FILE`` secret;
- ``eherkenning_op``: eHerkenning assurance classes, ``loa3`` as the
  provider's minimum and ``loa4`` for the DPO's step-up.

Every page is guarded as in the other browser tests (no CSP violation, no
request outside loopback, no 5xx); the OP's pages import a web font, which is
answered locally with an empty style sheet.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey
from playwright.sync_api import BrowserContext, Page, Route, expect
from sqlalchemy import select

from auth.config import IdentityProviderConfig
from auth.sessions import SessionData, open_id_token
from e2e.conftest import Browse, _violations_in_page
from portal.app import create_app
from portal.audit.models import AccessRecord
from portal.login.models import OidcAccount
from portal.people.models import Membership, Person
from portal.settings import Settings
from portal.web.session_store import WebSession
from tests.harness import FakeClock, Running, bind_socket, serve
from tests.interop.op import require_node, start_op, stop_op

pytestmark = pytest.mark.interop

CLIENT_ID = "mdo-portal-interop"
PROVIDER_ID = "op"
LABEL = "Inloggen bij de test-OP"
EHERKENNING = "urn:etoegang:core:assurance-class:"


@dataclass
class Deployment:
    """One OP configuration and the portal that trusts it."""

    issuer: str
    running: Running
    provider: IdentityProviderConfig

    @property
    def base(self) -> str:
        return self.running.base_url


def _deploy(tmp: Path, keys_dir: Path, sqlite_template: Path, op_options: dict[str, Any],
            provider: dict[str, Any], **settings: Any) -> Iterator[Deployment]:
    require_node()
    database = tmp / "portal.db"
    shutil.copyfile(sqlite_template, database)
    sock = bind_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    process: subprocess.Popen[bytes] | None = None
    running: Running | None = None
    try:
        process, issuer = start_op({
            "client_id": CLIENT_ID, "redirect_uri": f"{base}/auth/callback",
            "post_logout_redirect_uri": f"{base}/logged-out", **op_options}, tmp / "op.log")
        # Through the configuration parser, as PORTAL_IDPS_FILE would be read.
        config = IdentityProviderConfig.from_mapping({
            "id": PROVIDER_ID, "issuer": issuer, "client_id": CLIENT_ID, "label": LABEL,
            "organisations": ["het-baken"], "scopes": ["openid", "profile", "email", "mdo"],
            "role_map": {"ib": "care_coordinator", "fg": "dpo"}, **provider})
        app = create_app(Settings(mode="dev", public_url=base,
                                  database_url=f"sqlite:///{database}", data_dir=keys_dir,
                                  dev_idp=False, identity_providers=(config,), **settings),
                         clock=(clock := FakeClock()))
        running = serve(app, sock, clock)
        yield Deployment(issuer=issuer, running=running, provider=config)
    finally:
        if running is not None:
            running.stop()
        else:
            sock.close()
        if process is not None:
            stop_op(process)


def _secret_file(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return str(path)


@pytest.fixture(scope="module")
def id_token_op(tmp_path_factory: pytest.TempPathFactory, keys_dir: Path,
                sqlite_template: Path) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("id-token-op")
    secret = "dGhpcyBpcyBh+c2VjcmV0/w+/=="
    yield from _deploy(
        tmp, keys_dir, sqlite_template,
        {"client_secret": secret, "token_endpoint_auth_method": "client_secret_post",
         "id_token_alg": "ES256", "claims_in_id_token": True,
         "account_claims": {"roles": None, "realm_access": {"roles": ["offline", "ib"]}}},
        {"client_secret_file": _secret_file(tmp, "client-secret", secret),
         "token_endpoint_auth_method": "client_secret_post",
         "role_claim": "realm_access.roles"})


@pytest.fixture(scope="module")
def keyed_op(tmp_path_factory: pytest.TempPathFactory, keys_dir: Path,
             sqlite_template: Path) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("keyed-op")
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    public = {**ECKey.import_key(pem).as_dict(private=False), "kid": "portal-1",
              "use": "sig", "alg": "ES256"}
    yield from _deploy(
        tmp, keys_dir, sqlite_template,
        {"token_endpoint_auth_method": "private_key_jwt", "client_jwks": {"keys": [public]},
         "subject_type": "pairwise"},
        {"token_endpoint_auth_method": "private_key_jwt",
         "client_private_key_file": _secret_file(tmp, "client-key.pem", pem)})


@pytest.fixture(scope="module")
def eherkenning_op(tmp_path_factory: pytest.TempPathFactory, keys_dir: Path,
                   sqlite_template: Path) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("eherkenning-op")
    secret = "eherkenning-interop-secret"
    levels = [f"{EHERKENNING}{level}" for level in ("loa2", "loa2plus", "loa3", "loa4")]
    yield from _deploy(
        tmp, keys_dir, sqlite_template,
        {"client_secret": secret, "acr_values": levels, "acr": f"{EHERKENNING}loa3",
         "account_claims": {"roles": ["fg"]}},
        {"client_secret": secret, "acr_preset": "eherkenning",
         "min_acr": f"{EHERKENNING}loa3"},
        audit_dpo_acr=f"{EHERKENNING}loa4")


@pytest.fixture
def guarded(new_context: Callable[..., BrowserContext]) -> Iterator[Callable[[str], Page]]:
    """Guarded pages as in ``e2e/conftest.py``, for a module-scoped portal."""
    browsers: list[Browse] = []

    def open_page(base_url: str) -> Page:
        browse = Browse(new_context, base_url)
        browsers.append(browse)
        page = browse()
        # Registered after the guard's route, so it wins for the OP's web font.
        page.context.route("https://fonts.googleapis.com/**", _empty_stylesheet)
        return page

    yield open_page
    problems: list[str] = []
    for browse in browsers:
        for guard in browse.guards:
            for violation in _violations_in_page(guard.page, browse.base_url):
                if violation not in guard.csp_events:
                    guard.csp_events.append(violation)
            problems += [f"{p}\n    pages visited: {guard.visited}" for p in guard.problems()]
    if problems:
        pytest.fail("browser problems seen during the test:\n" + "\n".join(problems),
                    pytrace=False)


def _empty_stylesheet(route: Route) -> None:
    route.fulfill(status=200, content_type="text/css", body="")


# -- the OP's own screens (devInteractions: any login name and password) ------
def op_sign_in(page: Page, login: str) -> None:
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any password")
    page.get_by_role("button", name="Sign-in").click()


def finish_at_op(page: Page, deployment: Deployment, login: str) -> None:
    """Answer the OP's login and consent screens until the portal has the browser."""
    for _ in range(3):
        page.wait_for_load_state()
        if page.url.startswith(deployment.base):
            return
        screen = page.url
        if page.locator('input[name="login"]').count():
            op_sign_in(page, login)
        else:
            page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url, left=screen: url != left)
    page.wait_for_url(f"{deployment.base}/**")


def log_in(page: Page, deployment: Deployment, login: str) -> None:
    page.goto(f"{deployment.base}/login")
    page.get_by_role("link", name=LABEL).click()
    page.wait_for_url(f"{deployment.issuer}/interaction/**")
    expect(page.locator('input[name="login"]')).to_be_visible()  # credentials asked
    finish_at_op(page, deployment, login)


def log_out(page: Page, deployment: Deployment) -> None:
    page.get_by_role("navigation").get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(f"{deployment.issuer}/session/end**")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{deployment.base}/logged-out")
    expect(page.get_by_role("heading", level=1)).to_have_text("U bent uitgelogd")


def person_of(deployment: Deployment, subject: str) -> Person:
    with deployment.running.portal.sessions() as db:
        return db.scalars(select(Person).join(OidcAccount, OidcAccount.person_id == Person.id)
                          .where(OidcAccount.issuer == deployment.issuer,
                                 OidcAccount.subject == subject)).one()


def roles_of(deployment: Deployment, person_id: str) -> set[str]:
    with deployment.running.portal.sessions() as db:
        return {r.value for r in db.scalars(select(Membership.role).where(
            Membership.person_id == person_id))}


def id_token_of_session(deployment: Deployment, person_id: str) -> dict[str, Any]:
    """The ID token kept (sealed) with the person's session: header and claims."""
    with deployment.running.portal.sessions() as db:
        row = db.scalars(select(WebSession).where(WebSession.user_id == person_id)).one()
        session = SessionData(key=row.key, created_at=row.created_at,
                              last_seen_at=row.last_seen_at, csrf_secret=row.csrf_secret,
                              id_token_sealed=row.id_token_sealed)
    assert row.id_token_sealed and "." not in row.id_token_sealed, "stored sealed, not plain"
    token = open_id_token(deployment.running.portal.settings.session_secret, session)
    assert token is not None
    header, claims, _ = token.split(".")

    def decode(segment: str) -> dict[str, Any]:
        return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))
    return {"header": decode(header), "claims": decode(claims)}


# -- ES256, claims in the ID token, client_secret_post, nested roles ----------
def test_login_logout_and_the_next_login_asks_again(
        id_token_op: Deployment, guarded: Callable[[str], Page]) -> None:
    page = guarded(id_token_op.base)
    log_in(page, id_token_op, "ilse")
    page.wait_for_url(f"{id_token_op.base}/")  # the start page
    expect(page.get_by_role("navigation")).to_contain_text("Interop ilse")

    person = person_of(id_token_op, "ilse")
    token = id_token_of_session(id_token_op, person.id)
    assert token["header"]["alg"] == "ES256"
    # Only the ID token can have brought the name and roles: no userinfo here.
    assert "userinfo_endpoint" not in json.loads(page.context.request.get(
        f"{id_token_op.issuer}/.well-known/openid-configuration").text())
    assert token["claims"]["realm_access"] == {"roles": ["offline", "ib"]}
    assert person.display_name == "Interop ilse"
    assert roles_of(id_token_op, person.id) == {"care_coordinator"}

    log_out(page, id_token_op)
    with id_token_op.running.portal.sessions() as db:
        assert db.scalars(select(WebSession).where(WebSession.user_id == person.id)).all() == []
        assert db.scalars(select(AccessRecord.outcome).where(
            AccessRecord.event_type == "auth.logout")).all() == ["allowed"]
    # The provider's session is gone too: the next login asks for credentials.
    page.get_by_role("link", name="Opnieuw inloggen").click()
    page.get_by_role("link", name=LABEL).click()
    page.wait_for_url(f"{id_token_op.issuer}/interaction/**")
    expect(page.locator('input[name="login"]')).to_be_visible()


# -- RS256, claims only in userinfo, pairwise subjects, private_key_jwt --------
def test_pairwise_subjects_through_private_key_jwt_keep_one_account(
        keyed_op: Deployment, guarded: Callable[[str], Page]) -> None:
    first = guarded(keyed_op.base)
    log_in(first, keyed_op, "ilse")
    first.wait_for_url(f"{keyed_op.base}/")  # the start page
    expect(first.get_by_role("navigation")).to_contain_text("Interop ilse")

    with keyed_op.running.portal.sessions() as db:
        accounts = db.scalars(select(OidcAccount)).all()
    assert len(accounts) == 1 and accounts[0].issuer == keyed_op.issuer
    subject = accounts[0].subject
    assert subject != "ilse" and len(subject) == 64, "a pairwise subject, not the login name"
    token = id_token_of_session(keyed_op, accounts[0].person_id)
    assert token["header"]["alg"] == "RS256"
    # The name and roles came from userinfo: the ID token holds none of them.
    assert not {"name", "email", "org", "roles"} & set(token["claims"])
    assert roles_of(keyed_op, accounts[0].person_id) == {"care_coordinator"}

    # Another browser, the same person at the OP: the same pairwise subject,
    # so the same portal account rather than a second one.
    second = guarded(keyed_op.base)
    log_in(second, keyed_op, "ilse")
    second.wait_for_url(f"{keyed_op.base}/")  # the start page
    with keyed_op.running.portal.sessions() as db:
        assert db.scalars(select(OidcAccount.subject)).all() == [subject]
        assert len(db.scalars(select(Person).where(Person.idp == PROVIDER_ID)).all()) == 1


# -- eHerkenning levels: loa3 minimum, loa4 for the DPO's step-up -------------
def test_step_up_while_the_provider_session_is_alive_asks_again(
        eherkenning_op: Deployment, guarded: Callable[[str], Page]) -> None:
    page = guarded(eherkenning_op.base)
    log_in(page, eherkenning_op, "femke")
    page.wait_for_url(f"{eherkenning_op.base}/")  # the start page
    person = person_of(eherkenning_op, "femke")
    with eherkenning_op.running.portal.sessions() as db:
        assert db.scalars(select(WebSession.acr).where(
            WebSession.user_id == person.id)).one() == f"{EHERKENNING}loa3"

    page.goto(f"{eherkenning_op.base}/audit")
    # The portal's clock runs frozen in tests: line it up with the OP's, so
    # "the answer is newer than the request" compares like with like.
    eherkenning_op.running.clock.now = datetime.now(UTC).replace(microsecond=0)
    with page.expect_request(f"{eherkenning_op.issuer}/auth?*") as authorize:
        page.get_by_role("button",
                         name="Bevestig met een sterkere inlog dat u het bent").click()
    page.wait_for_url(f"{eherkenning_op.issuer}/interaction/**")
    query = parse_qs(urlsplit(authorize.value.url).query)
    assert query["acr_values"] == [f"{EHERKENNING}loa4"]
    assert (query["prompt"], query["max_age"]) == (["login"], ["0"])
    # The OP still has femke's session, yet it asks for credentials again.
    expect(page.locator('input[name="login"]')).to_be_visible()
    finish_at_op(page, eherkenning_op, "femke")
    page.wait_for_url(f"{eherkenning_op.base}/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inzagelog")
    with eherkenning_op.running.portal.sessions() as db:
        assert db.scalars(select(WebSession.acr).where(
            WebSession.user_id == person.id)).one() == f"{EHERKENNING}loa4"
        assert db.scalars(select(AccessRecord.outcome).where(
            AccessRecord.event_type == "auth.step_up")).all() == ["allowed"]



def test_logout_from_a_page_left_open_past_expiry_still_reaches_the_provider(
        id_token_op: Deployment, guarded: Callable[[str], Page]) -> None:
    page = guarded(id_token_op.base)
    log_in(page, id_token_op, "kees")
    page.wait_for_url(f"{id_token_op.base}/")  # the start page
    clock = id_token_op.running.clock
    started = clock.now
    clock.advance(minutes=16)  # idle past the portal's 15 minutes; the OP's session lives
    try:
        page.get_by_role("navigation").get_by_role("button", name="Uitloggen").click()
        page.wait_for_url(f"{id_token_op.base}/logged-out?provider_session=unknown")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Uw sessie in het portaal was al beëindigd")
        alert.get_by_role("link", name=f"Uitloggen bij {LABEL}").click()
        page.wait_for_url(f"{id_token_op.issuer}/session/end**")
        page.get_by_role("button", name="Yes, sign me out").click()
        page.wait_for_url(f"{id_token_op.base}/logged-out")
    finally:
        clock.now = started
    page.goto(f"{id_token_op.base}/login")
    page.get_by_role("link", name=LABEL).click()
    page.wait_for_url(f"{id_token_op.issuer}/interaction/**")
    expect(page.locator('input[name="login"]')).to_be_visible()  # asked again
