"""Words, not codes: one label table per enum, and the access log's basis in words.

Templates call ``label(kind, value)`` and ``basis_text(basis)``; the tables hold
message ids (English), translated at render time into the reader's language.
An unknown value is shown as it is, so a new enum value is visible, not hidden.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal.errors import N_
from portal.web.i18n import gettext

ROLE = {
    "mentor": N_("Mentor"), "care_coordinator": N_("Care coordinator"),
    "school_leader": N_("School leader"), "youth_care_worker": N_("Youth-care worker"),
    "school_social_worker": N_("School social worker"),
    "youth_protector": N_("Youth protector"), "minute_taker": N_("Minute-taker"),
    "dpo": N_("Data protection officer"), "admin": N_("Administrator"),
}
CASE_ROLE = {
    "chair": N_("chair"), "participant": N_("participant"),
    "minute_taker": N_("minute-taker"), "observer": N_("observer"),
}
LEGAL_BASIS = {
    "consent": N_("Consent"),
    "meldrecht_veilig_thuis": N_("Reporting right: Veilig Thuis"),
    "verwijsindex": N_("Reporting right: Verwijsindex"),
    "raad_kinderbescherming": N_("Reporting right: Raad voor de Kinderbescherming"),
    "tlv_or_extra_support": N_("Request for extra support or a TLV"),
    "ots": N_("Youth protector executing a supervision order (OTS)"),
    "legal_obligation": N_("Legal obligation"),
    "vital_interest": N_("Vital interest: serious concerns about safety"),
    "safety_exception": N_("Safety exception"),
}
CATEGORY = {
    "school_progress": N_("School progress"), "behaviour": N_("Behaviour"),
    "social_emotional": N_("Social-emotional"), "health": N_("Health"),
    "family_situation": N_("Family situation"), "other": N_("Other"),
}
ORGANISATION_KIND = {
    "school": N_("School"), "youth_care": N_("Youth care"),
    "samenwerkingsverband": N_("Samenwerkingsverband (regional support partnership)"),
    "municipality": N_("Municipality"), "portal": N_("Portal operator"),
}
STANDING = {
    "pupil": N_("the pupil (16 or over)"), "custodian": N_("parent with custody"),
    "informed": N_("informed by consent"), "general": N_("general information only"),
    "no_right": N_("related, without access"), "unrelated": N_("unrelated"),
}
DUTY = {
    "try_to_obtain_consent": N_("try to obtain consent"), "inform": N_("inform the family"),
    "document_and_notify_dpo": N_("document it and notify the data protection officer"),
}
# Why the policy refused (Deny.reason); ``family_<standing>`` is read from STANDING.
REASON = {
    "insufficient_role": N_("the role does not allow this"),
    "insufficient_case_role": N_("the role in the case does not allow this"),
    "not_a_participant": N_("not a participant in the case"),
    "not_related": N_("not related to the case"),
    "not_family": N_("not family of the child"),
    "restricted": N_("the case is under restriction"),
    "case_closed": N_("the case is closed"),
    "case_erased": N_("the case was erased"),
    "erased": N_("erased"),
    "not_anonymous": N_("the case is not anonymous"),
    "anonymous_case": N_("an anonymous case"),
    "consent_scope_category": N_("outside the consent (kind of information)"),
    "consent_scope_recipient": N_("outside the consent (recipient)"),
    "consent_scope_mismatch": N_("outside the consent"),
    "consent_facts_missing": N_("consent could not be checked"),
    "step_up_required": N_("a stronger login is needed"),
    "insufficient_assurance": N_("a stronger login is needed"),
    "not_shared_with_parents": N_("not shared with the parents"),
    "not_your_consent": N_("not your consent"),
    "no_such_case": N_("no such case"), "no_such_child": N_("no such child"),
    "no_such_document": N_("no such document"), "no_such_meeting": N_("no such meeting"),
    "no_such_item": N_("no such item"), "no_such_consent": N_("no such consent"),
    "no_such_grant": N_("no such grant"), "no_such_invitation": N_("no such invitation"),
    "no_such_organisation": N_("no such organisation"),
    "invalid_input": N_("invalid input"), "invalid_form": N_("invalid input"),
    "invalid_token": N_("invalid token"), "decryption_failed": N_("could not be decrypted"),
    "break_glass_not_needed": N_("the safety exception was not needed"),
    "store_unavailable": N_("file storage unreachable"),
}
TABLES: Mapping[str, Mapping[str, str]] = {
    "role": ROLE, "case_role": CASE_ROLE, "legal_basis": LEGAL_BASIS,
    "category": CATEGORY, "organisation_kind": ORGANISATION_KIND, "standing": STANDING,
    "duty": DUTY, "reason": REASON,
}


def label(kind: str, value: object) -> str:
    """The reader's word for an enum value (a StrEnum member or its value)."""
    text = str(value)
    message = TABLES[kind].get(text)
    return gettext(message) if message else text


def _roles(value: str) -> str:
    return ", ".join(label("role", role) for role in value.split("+") if role)


def _part(kind: str, value: str) -> str:
    if kind == "participant":
        return gettext("participant in the case as %(role)s") % {
            "role": label("case_role", value)}
    if kind in ("basis", "ground"):
        return gettext("basis: %(basis)s") % {"basis": label("legal_basis", value)}
    if kind == "consent":
        return gettext("consent on record")
    if kind == "break_glass":
        return gettext("safety exception (break-glass)")
    if kind == "role":
        return gettext("by role: %(roles)s") % {"roles": _roles(value)}
    if kind == "family":
        return gettext("family: %(standing)s") % {"standing": label("standing", value)}
    if kind == "kind":
        return gettext("own account")
    if kind == "school":
        return gettext("within the own school")
    if kind == "organisation":
        return gettext("within the own organisation")
    if kind == "anonymous_case":
        return gettext("anonymous case")
    if kind == "duty":
        return gettext("duty: %(duty)s") % {"duty": label("duty", value)}
    return f"{kind}:{value}" if value else kind


def basis_text(basis: str | None) -> str:
    """The policy's basis string (``participant:chair;basis:consent``) in words."""
    if not basis:
        return ""
    parts = []
    for part in basis.split(";"):
        kind, _, value = part.partition(":")
        if kind:
            parts.append(_part(kind, value))
    return "; ".join(dict.fromkeys(parts))


def reason_text(reason: str | None) -> str:
    """Why the policy refused, in words; an unknown reason says only that it refused."""
    if not reason:
        return ""
    kind, _, standing = reason.partition("_")
    if kind == "family" and standing in STANDING:
        return gettext("family: %(standing)s") % {"standing": label("standing", standing)}
    message = REASON.get(reason)
    return gettext(message) if message else gettext("refused by the access rules")
