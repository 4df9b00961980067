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
    # Not a role but the actor of an erasure after the retention period.
    "retention": N_("retention period ended (confirmed by the board)"),
}
PERSON_KIND = {"citizen": N_("Parent, guardian or pupil"), "professional": N_("Professional")}
CASE_STATUS = {"open": N_("open"), "closed": N_("closed")}
OUTCOME = {"allowed": N_("allowed"), "denied": N_("refused"), "failed": N_("failed")}
# The access record's action code (NEN 7513): create, read, update, delete, execute.
ACTION_CODE = {"C": N_("created"), "R": N_("read"), "U": N_("changed"), "D": N_("deleted"),
               "E": N_("carried out")}
# Structured minutes (portal.minutes): a section's kind and nature, a version's status.
MINUTES_KIND = {"discussion": N_("Discussion"), "agreements": N_("Agreements"),
                "outcome": N_("Outcome (who records what, where)")}
NATURE = {"fact": N_("Fact"), "opinion": N_("Professional opinion")}
MINUTES_STATUS = {"draft": N_("draft"), "submitted": N_("submitted for approval"),
                  "approved": N_("approved")}
# A consent's state on the family's and the FG's pages (portal.consent.service).
CONSENT_STATE = {"active": N_("in force"), "expired": N_("expired"),
                 "withdrawn": N_("withdrawn"), "not_yet_valid": N_("not yet valid")}
# The "Who looked" page's basis column (portal.audit.family).
BASIS_KIND = {"break_glass": N_("Safety exception"), "consent": N_("Consent"),
              "ground": N_("Legal ground without consent"),
              "role": N_("Participant in the case"), "family": N_("Family")}
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
    # The consent side's reasons (portal.consent.access).
    "consent_missing": N_("no consent"), "consent_withdrawn": N_("the consent was withdrawn"),
    "consent_expired": N_("the consent has expired"),
    "consent_not_yet_valid": N_("the consent is not yet valid"),
    "consent_purpose_mismatch": N_("outside the consent (purpose)"),
    "consent_facts_invalid": N_("consent could not be checked"),
    "no_custodian": N_("nobody with custody is on record"),
    "unknown_category": N_("an unknown kind of information"),
    "item_without_category": N_("the item has no kind of information"),
    "draft_facts_missing": N_("the draft could not be checked"),
    "ground_role_not_allowed": N_("the role may not invoke a legal ground"),
    "not_fg_of_case": N_("not the data protection officer of this case"),
    "no_such_request": N_("no such request"), "no_such_hold": N_("no such legal hold"),
    "no_such_breach": N_("no such breach"), "no_such_task": N_("no such task"),
    "no_such_ground": N_("no such legal ground"), "no_copy": N_("no copy"),
    # Why an account or a membership ended, and other recorded outcomes.
    "administrator": N_("disabled by the administrator"),
    "scim_delete": N_("removed by the identity provider"),
    "scim_inactive": N_("made inactive by the identity provider"),
    "scim_groups": N_("groups changed by the identity provider"),
    "not_in_login_claims": N_("no longer in the login's groups"),
    "pending_first_login": N_("waiting for the first login"),
    "not_linked_to_person": N_("not linked to a person"),
    "failed": N_("failed"),
}
# The access log's event types: exact words first, else the word for the family
# (the part before the first dot).
EVENT = {
    "case.view": N_("Case page"), "case.list": N_("List of cases"),
    "case.create": N_("New case"), "case.close": N_("Case closed"),
    "case.erase": N_("Case erased"), "case.search": N_("Search"),
    "case.search.hit": N_("Search"), "case.timeline": N_("Case timeline"),
    "child.list": N_("List of pupils"),
    "child.name_check": N_("Name check for an anonymous case"),
    "auth.login": N_("Login"), "auth.logout": N_("Logout"),
    "auth.step_up": N_("Stronger login (step-up)"),
    "auth.account_rebound": N_("Login moved to a new account key"),
    "break_glass.open": N_("Safety exception used"),
}
EVENT_FAMILY = {
    "case": N_("Case"), "meeting": N_("Meetings and agreements"),
    "action_item": N_("Meetings and agreements"), "item": N_("Minutes or document"),
    "document": N_("Minutes or document"), "minutes": N_("Minutes or document"),
    "attachment": N_("Minutes or document"), "timeline": N_("Case timeline"),
    "consent": N_("Consent"), "custody": N_("Custody"), "ground": N_("Legal ground"),
    "break_glass": N_("Safety exception"), "family": N_("Family page"),
    "auth": N_("Login"), "admin": N_("Administration"), "audit": N_("Access log"),
    "register": N_("Pupil register"), "child": N_("Pupil register"),
    "invitation": N_("Family invitations"), "breach": N_("Data breaches"),
    "dpo": N_("Supervision by the data protection officer"),
    "keys": N_("Erased keys"), "notification": N_("Notifications"),
    "processing_register": N_("Register of processing"),
    "request": N_("Requests about rights"), "rights": N_("Requests about rights"),
    "retention": N_("Retention"), "scim": N_("Accounts from the identity provider"),
    "search": N_("Search"), "staff": N_("Staff accounts"),
}
TABLES: Mapping[str, Mapping[str, str]] = {
    "role": ROLE, "case_role": CASE_ROLE, "legal_basis": LEGAL_BASIS,
    "category": CATEGORY, "organisation_kind": ORGANISATION_KIND, "standing": STANDING,
    "duty": DUTY, "reason": REASON, "person_kind": PERSON_KIND, "case_status": CASE_STATUS,
    "outcome": OUTCOME, "action_code": ACTION_CODE, "basis_kind": BASIS_KIND,
    "minutes_kind": MINUTES_KIND, "nature": NATURE, "minutes_status": MINUTES_STATUS,
    "consent_state": CONSENT_STATE,
}


def label(kind: str, value: object) -> str:
    """The reader's word for an enum value (a StrEnum member or its value)."""
    text = str(value)
    message = TABLES[kind].get(text)
    return gettext(message) if message else text


def event_text(event_type: str) -> str:
    """The access log's word for an event type; an unknown family reads "Other"."""
    message = EVENT.get(event_type) or EVENT_FAMILY.get(event_type.split(".")[0])
    return gettext(message) if message else gettext("Other")


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
    if kind == "scoped":
        return gettext("within the scope set for the legal ground")
    if kind == "supervision":
        return gettext("supervision by the data protection officer")
    if kind == "author":
        return gettext("own writing")
    # A part this table does not know yet: say so in words, never show the code.
    return gettext("other basis")


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
