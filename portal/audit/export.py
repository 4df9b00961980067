"""The access log for other tools: CSV and FHIR R4 AuditEvent JSON; text made visible.

Names, reasons and search terms in the log are whatever someone typed or an
identity provider sent. Every way out of the log encodes them: JSON escapes
everything outside printable ASCII, CSV and the HTML views show control
characters as ``\\u001b``-style escapes (and CSV defuses spreadsheet formulas),
so a newline, an ANSI sequence or a quote can never forge a line or a field.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Iterable, Sequence

from portal.audit.chain import format_timestamp
from portal.audit.encoding import split_categories
from portal.audit.models import AccessRecord

# Control characters, line separators, and the bidirectional and zero-width marks
# that can make a logged search term read differently from what was typed
# ("Trojan Source"): all written out as escapes wherever the log is shown.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                        "\u2066-\u2069\ufeff\\\\]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS: tuple[str, ...] = (
    "seq", "id", "occurred_at", "action_code", "event_type", "outcome", "reason",
    "purpose_of_use", "basis", "legal_ground", "consent_id", "break_glass_id",
    "break_glass_reason", "authorised", "relation_to_case", "consent_present",
    "emergency_procedure", "user_id", "user_name", "user_role", "user_organisation_id",
    "on_behalf_of_id", "session_ref", "client_address", "case_id", "child_id",
    "object_type", "object_id", "document_id", "document_version", "data_categories",
    "sensitivity", "query", "source", "record_hash", "request_id",
)

# HL7 v3 PurposeOfUse for our purposes of use.
PURPOSE_CODES = {"care_coordination": "COC", "emergency": "ETREAT", "audit": "HCOMPL",
                 "own_data": "PATRQT", "administration": "HSYSADMIN",
                 "authentication": "HSYSADMIN"}
# FHIR R4 AuditEvent.outcome: 0 success, 4 minor failure, 8 serious failure.
OUTCOME_CODES = {"allowed": "0", "denied": "4", "failed": "8"}
NEN7513 = "urn:mdo:nen7513"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return "\\\\" if char == "\\" else f"\\u{ord(char):04x}"


def visible(text: str | None) -> str:
    """``text`` with control characters (and backslashes) written out as escapes."""
    return "" if text is None else _INVISIBLE.sub(_escape, text)


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = visible(str(value))
    # A leading = + - @ makes spreadsheets evaluate the cell (CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(records: Iterable[AccessRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in records:
        row: list[str] = []
        for column in CSV_COLUMNS:
            if column == "occurred_at":
                row.append(format_timestamp(entry.occurred_at))
            elif column == "record_hash":
                row.append(entry.record_hash.hex())
            else:
                row.append(_csv_value(getattr(entry, column)))
        writer.writerow(row)
    return out.getvalue()


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def _identifier(system: str, value: str) -> dict[str, object]:
    return {"identifier": {"system": system, "value": value}}


def audit_event(entry: AccessRecord) -> dict[str, object]:
    """One record as a FHIR R4 AuditEvent, with the NEN 7513 checks as extensions."""
    agent: dict[str, object] = {
        "type": {"coding": [_coding(
            "http://terminology.hl7.org/CodeSystem/extra-security-role-type", "humanuser")]},
        "requestor": True,
        "network": {"address": entry.client_address or "", "type": "2"},
    }
    if entry.user_id:
        agent["who"] = {**_identifier("urn:mdo:person", entry.user_id),
                        "display": entry.user_name or ""}
    if entry.user_role:
        agent["role"] = [{"text": role} for role in entry.user_role.split(",")]
    if entry.user_organisation_id:
        agent["location"] = _identifier("urn:mdo:organisation", entry.user_organisation_id)
    policies = [p for p in (entry.basis, entry.legal_ground and f"ground:{entry.legal_ground}",
                            entry.consent_id and f"consent:{entry.consent_id}",
                            entry.break_glass_id and f"break_glass:{entry.break_glass_id}")
                if p]
    if policies:
        agent["policy"] = policies
    if entry.session_ref:
        agent["altId"] = entry.session_ref
    agents = [agent]
    if entry.on_behalf_of_id:
        agents.append({"who": _identifier("urn:mdo:person", entry.on_behalf_of_id),
                       "requestor": False, "type": {"text": "on behalf of"}})
    event: dict[str, object] = {
        "resourceType": "AuditEvent",
        "id": entry.id,
        "type": _coding("urn:mdo:event-type", entry.event_type.split(".", 1)[0]),
        "subtype": [_coding("urn:mdo:event-type", entry.event_type)],
        "action": entry.action_code,
        "recorded": format_timestamp(entry.occurred_at),
        "outcome": OUTCOME_CODES.get(entry.outcome, "8"),
        "agent": agents,
        "source": {"observer": {"display": entry.source},
                   "type": [_coding("http://terminology.hl7.org/CodeSystem/security-source-type",
                                    "4", "Application Server")]},
        "entity": _entities(entry),
        "extension": _extensions(entry),
    }
    if entry.reason:
        event["outcomeDesc"] = entry.reason
    if entry.purpose_of_use:
        event["purposeOfEvent"] = [{"coding": [_coding(
            "http://terminology.hl7.org/CodeSystem/v3-ActReason",
            PURPOSE_CODES.get(entry.purpose_of_use, "HOPERAT"))],
            "text": entry.purpose_of_use}]
    return event


def _entities(entry: AccessRecord) -> list[dict[str, object]]:
    entities: list[dict[str, object]] = []
    label = ([{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
               "code": entry.sensitivity}] if entry.sensitivity else [])
    if entry.child_id:
        entities.append({"what": _identifier("urn:mdo:child", entry.child_id),
                         "type": _coding("http://terminology.hl7.org/CodeSystem/audit-entity-type",
                                         "1", "Person"),
                         "role": _coding("http://terminology.hl7.org/CodeSystem/object-role",
                                         "1", "Patient")})
    if entry.case_id:
        entities.append({"what": _identifier("urn:mdo:case", entry.case_id),
                         "type": _coding("http://terminology.hl7.org/CodeSystem/audit-entity-type",
                                         "2", "System Object"),
                         "securityLabel": label})
    if entry.object_id or entry.document_id:
        details = [{"type": "data_category", "valueString": category}
                   for category in split_categories(entry.data_categories)]
        if entry.document_version is not None:
            details.append({"type": "document_version",
                            "valueString": str(entry.document_version)})
        entity: dict[str, object] = {
            "what": _identifier(f"urn:mdo:{entry.object_type or 'document'}",
                                entry.document_id or entry.object_id or ""),
            "securityLabel": label, "detail": details}
        entities.append(entity)
    if entry.query:
        entities.append({"type": _coding(
            "http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object"),
            "query": _base64(entry.query)})
    return entities


def _base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _extensions(entry: AccessRecord) -> list[dict[str, object]]:
    checks = (("authorised", entry.authorised), ("relation-to-case", entry.relation_to_case),
              ("consent", entry.consent_present),
              ("emergency-procedure", entry.emergency_procedure))
    found: list[dict[str, object]] = [{"url": f"{NEN7513}:{name}", "valueBoolean": bool(value)}
                                      for name, value in checks]
    found.append({"url": "urn:mdo:seq", "valueInteger": entry.seq})
    found.append({"url": "urn:mdo:record-hash", "valueString": entry.record_hash.hex()})
    if entry.break_glass_reason:
        found.append({"url": f"{NEN7513}:emergency-reason",
                      "valueString": entry.break_glass_reason})
    if entry.request_id:
        found.append({"url": "urn:mdo:request-id", "valueString": entry.request_id})
    return found


def to_fhir_bundle(records: Sequence[AccessRecord], bundle_id: str, now_text: str) -> str:
    """A FHIR ``searchset`` Bundle of AuditEvents (the DPO's search), as pure-ASCII JSON."""
    bundle = {"resourceType": "Bundle", "id": bundle_id, "type": "searchset",
              "timestamp": now_text, "total": len(records),
              "entry": [{"resource": audit_event(entry)} for entry in records]}
    return json.dumps(bundle, ensure_ascii=True, indent=1, sort_keys=False)
