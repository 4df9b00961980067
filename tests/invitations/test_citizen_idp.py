"""A family (``citizen``) identity provider nobody here wrote: panva's oidc-provider.

The portal trusts it as a citizen provider only. A login there that no
person is bound to lands on the redemption page (not on "no role", and no
person is created for it); this OP asserts no assurance level (``acr``), so
it can never bind a family member's account.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from auth.config import IdentityProviderConfig
from conftest import StartPortal
from portal.people.models import Person
from tests.harness import Running, bind_socket
from tests.interop.op import require_node, start_op, stop_op
from tests.interop.test_oidc_provider import _form, _post_form
from tests.invitations._family import records, redeem, register_adult

pytestmark = pytest.mark.interop
CLIENT_ID = "mdo-portal-family"


@pytest.fixture
def family_idp(sqlite_url: str, start_portal: StartPortal,
               tmp_path: Path) -> Iterator[Running]:
    require_node()
    sock = bind_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    secret = secrets.token_urlsafe(32)
    try:
        process, issuer = start_op({"client_id": CLIENT_ID, "client_secret": secret,
                                     "redirect_uri": f"{base}/auth/callback",
                                     "post_logout_redirect_uri": f"{base}/logged-out"},
                                    tmp_path / "op.log")
    except BaseException:
        sock.close()
        raise
    try:
        provider = IdentityProviderConfig(
            id="digid-broker", issuer=issuer, client_id=CLIENT_ID, client_secret=secret,
            label="Inloggen met DigiD", kind="citizen", organisations=(),
            min_acr=None, scopes=("openid", "profile", "email"))
        # The dev IdP stays on: the school's care coordinator logs in through it.
        yield start_portal(sqlite_url, sock=sock, identity_providers=(provider,))
    finally:
        stop_op(process)


def test_an_unbound_family_login_is_sent_to_redeem_and_needs_an_assurance_level(
        family_idp: Running) -> None:
    member = register_adult(family_idp)
    client = family_idp.client()
    sign_in = client.get("/login/digid-broker?next=/invitation/somecode")
    consent = _post_form(client, sign_in, _form(sign_in, "login"),
                         login="burger-1", password="any password")
    landed = _post_form(client, consent, _form(consent, "prompt"))
    client.refresh_csrf(landed.text)
    assert landed.status_code == 200 and landed.url.path == "/invitation/somecode"
    assert "Uitnodiging accepteren" in landed.text
    with family_idp.portal.sessions() as db:
        assert db.scalar(select(Person.id).where(Person.idp == "digid-broker")) is None
    # The OP asserts no acr: below the portal's required level, whatever the code.
    refused = redeem(client, "somecode")
    assert refused.status_code == 400 and "niet sterk genoeg" in refused.text
    assert [r.reason for r in records(family_idp, "invitation.redeem")] == [
        "assurance_too_low"]
    assert client.get("/child-access").url.path == "/login"
    with family_idp.portal.sessions() as db:
        stored = db.get(Person, member.person_id)
        assert stored is not None and stored.idp is None
