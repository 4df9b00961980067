"""A parent redeems an invitation in Chromium: the school invites, the mail arrives over
SMTP, the parent opens the link, logs in at the family IdP and accepts.

The parent is registered by the school (a person with a child relation and no
login bound) and has their own account at the family IdP (a persona of the
in-process development IdP, which signs real ID tokens).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from auth.devidp import Persona
from e2e.pages import log_in
from portal.people.models import Relation
from tests.harness import Running
from tests.invitations._family import LINK, SAM, register_adult, wait_for_mail

if TYPE_CHECKING:
    from e2e.conftest import Browse


def test_a_parent_redeems_an_invitation(browse: Browse, portal: Running) -> None:
    member = register_adult(portal, SAM, Relation.PARENT_WITH_CUSTODY)
    portal.portal.dev_idp.personas[member.subject] = Persona(
        subject=member.subject, name="Nieuwe Ouder", email=member.email,
        description="Ouder, uitgenodigd door de school")

    school = browse()
    log_in(school, "Ilse Bakker")
    school.get_by_role("navigation", name="Hoofdmenu") \
        .get_by_role("link", name="Uitnodigingen gezin").click()
    expect(school.get_by_role("heading", level=1, name="Uitnodigingen gezin")).to_be_visible()
    school.get_by_role("link", name="Sam Mulder").click()
    expect(school.get_by_role("heading", level=1, name="Uitnodigingen: Sam Mulder")) \
        .to_be_visible()
    school.get_by_label("Wie nodigt u uit").select_option(member.person_id)
    school.get_by_label("E-mailadres").fill(member.email)
    school.get_by_role("button", name="Uitnodiging versturen").click()
    expect(school.get_by_role("status")).to_have_text("De uitnodiging is verstuurd.")

    mail = wait_for_mail(portal, member.email)[0]
    found = LINK.search(mail.body)
    assert found is not None
    link = found.group(0)

    parent = browse()
    parent.goto(link)
    expect(parent.get_by_role("heading", level=1, name="Uw uitnodiging accepteren")) \
        .to_be_visible()
    parent.get_by_role("link", name="Demo-inlog (ontwikkeling)").click()
    parent.get_by_role("button", name="Nieuwe Ouder", exact=True).click()
    # Back from the IdP on the invitation, not on "no role".
    expect(parent).to_have_url(re.compile(r"/invitation/[A-Za-z0-9_-]+$"))
    accept = parent.get_by_role("button", name="Uitnodiging accepteren")
    accept.focus()
    parent.keyboard.press("Enter")
    expect(parent.get_by_role("heading", level=1, name="Uw inlog is gekoppeld")).to_be_visible()
    parent.get_by_role("link", name="Naar het portaal").click()
    expect(parent).to_have_url(re.compile(r"/family$"))

    school.reload()
    row = school.get_by_role("row").filter(has_text=member.email)
    expect(row).to_contain_text("inlog gekoppeld")
    expect(row.get_by_role("button", name=re.compile("^Inlog ontkoppelen"))).to_be_visible()

    # After a custody change the school unlinks the login: the parent is out at once.
    row.get_by_role("button", name=re.compile("^Inlog ontkoppelen")).click()
    expect(school.get_by_role("status")).to_have_text(
        "De inlog is ontkoppeld en de sessies zijn beëindigd.")
    parent.goto("/family")
    expect(parent.get_by_role("heading", level=1, name="Inloggen op het MDO-portaal")) \
        .to_be_visible()
