"""The plain-language privacy page for families: ``/privacy``, public, Dutch and English.

The prose is one template per language (a page of explanation reads better
written than assembled from sentences); the facts it names come from the
portal's configuration: how long the access log is kept, and whom to ask —
the FG of each organisation that works with the portal.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from portal.dpo.scope import fg_emails
from portal.people.models import Organisation, OrganisationKind
from portal.web.endpoint import Page, endpoint
from portal.web.i18n import current_language


@dataclass(frozen=True)
class Contact:
    organisation: str
    emails: list[str]


@endpoint(login=False)
def privacy(page: Page) -> Response:
    contacts = [Contact(name, fg_emails(page.db, {org_id})) for org_id, name in page.db.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.kind != OrganisationKind.PORTAL).order_by(Organisation.name))]
    language = "en" if current_language() == "en" else "nl"
    return page.render(f"privacy/privacy_{language}.html", contacts=contacts,
                       log_years=page.portal.settings.audit_retention_years)


routes = [Route("/privacy", privacy)]
