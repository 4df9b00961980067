"""What the portal's SCIM service announces: the attributes it keeps, and no more.

The RFC 7643 User schema is served cut down to what a portal account needs
(data minimisation): a directory cannot store phone numbers, addresses or
photos here (they are dropped on arrival), and a compliance checker reading
the Schemas endpoint fills in only these. Groups are the standard Group schema.
"""

from __future__ import annotations

from functools import cache

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ETag,
    External,
    Filter,
    Patch,
    Reference,
    Schema,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
)
from scim2_server.utils import load_default_resource_types, load_default_schemas

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
# Attribute -> the sub-attributes kept (None: a simple attribute).
USER_ATTRIBUTES: dict[str, frozenset[str] | None] = {
    "userName": None,
    "name": frozenset({"formatted", "familyName", "givenName"}),
    "displayName": None,
    "active": None,
    "emails": frozenset({"value", "type", "primary"}),
    "groups": frozenset({"value", "$ref", "display", "type"}),
}
MAX_RESULTS = 200


def _user_schema(full: Schema) -> Schema:
    kept = []
    for attribute in full.attributes or []:
        if attribute.name not in USER_ATTRIBUTES:
            continue
        subs = USER_ATTRIBUTES[attribute.name]
        if subs is not None and attribute.sub_attributes:
            attribute = attribute.model_copy(update={"sub_attributes": [
                sub for sub in attribute.sub_attributes if sub.name in subs]})
        kept.append(attribute)
    return full.model_copy(update={"attributes": kept})


def config() -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken, name="OAuth Bearer Token",
            description="One token per organisation, issued by the portal's operator.",
            spec_uri=Reference[External]("https://www.rfc-editor.org/rfc/rfc6750"),
            primary=True)],
    )


@cache
def provider() -> ScimProvider:
    schemas = load_default_schemas()
    types = load_default_resource_types()
    return ScimProvider.from_discovery(
        [_user_schema(schemas[USER_SCHEMA]), schemas[GROUP_SCHEMA]],
        [types["User"].model_copy(update={"schema_extensions": None}), types["Group"]],
        config=config(),
        # A directory sends what it has (phone numbers, addresses, the enterprise
        # extension); what the portal does not keep is dropped, never stored, rather
        # than failing the directory's whole provisioning run.
        policy=ScimPolicy(unknown=ScimPolicy.Unknown.ignore))
