"""Portability: the consents of the copy as FHIR R4 ``Consent`` resources, and the
export's own documentation.

Each resource is built and then validated against the ``fhir.resources``
models (the R4B package: R4B's Consent is R4's), so a malformed resource
fails the export instead of reaching another system. The access log stays in
the family's own view (organisation and role, what, when, on which basis):
the portal's FHIR ``AuditEvent`` export carries professionals' names, session
references and network addresses, which are other people's data.
"""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.consent import Consent

# The engine's states, as FHIR R4 consent-state-codes.
STATUS = {"active": "active", "not_yet_valid": "proposed", "expired": "inactive",
          "withdrawn": "inactive"}
DOCUMENTATION = {
    "format": "The version of this export's layout.",
    "child": "The child the data are about.",
    "cases": "Each MDO case the requester may see: status, organisations taking part, title "
             "and purpose where the requester's standing opens them, the consents, and the "
             "approved minutes sections shared with parents (facts and professional opinions).",
    "access_log": "Who looked at the child's data in the past year: when, organisation and "
                  "role, what kind of access, the basis, the outcome, and whether the safety "
                  "exception (break-glass) was used.",
    "meetings": "Per case the requester fully sees: when each meeting was planned and its "
                "status (place and agenda are left out: they may name others).",
    "consents_fhir": "The consents as FHIR R4 Consent resources (HL7 FHIR, validated).",
    "withheld": "What the copy leaves out, and why.",
}


def consent_resource(child_id: str, child_name: str, consent: dict[str, Any]) -> dict[str, Any]:
    """One consent of the copy as a validated FHIR R4 Consent (JSON-ready)."""
    period = {"start": consent["valid_from"]}
    if consent["valid_until"]:
        period["end"] = consent["valid_until"]
    resource = Consent.model_validate({
        "resourceType": "Consent",
        "id": consent["id"],
        "status": STATUS.get(consent["state"], "inactive"),
        "scope": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/consentscope",
            "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0",
                                  "display": "Patient Consent"}]}],
        "patient": {"identifier": {"system": "urn:mdo:child", "value": child_id},
                    "display": child_name},
        "dateTime": consent["given_at"],
        "performer": [{"display": consent["consenter"]}],
        "policyRule": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": {
            "type": "permit", "period": period,
            "actor": [{"role": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "code": "IRCP"}]},
                "reference": {"identifier": {"system": "urn:mdo:recipient", "value": r}}}
                for r in consent["recipients"]],
            "code": [{"coding": [{"system": "urn:mdo:data-category", "code": c}]}
                     for c in consent["categories"]],
        },
    })
    loaded: dict[str, Any] = json.loads(resource.model_dump_json())
    return loaded


def with_fhir(content: dict[str, Any], child_id: str) -> dict[str, Any]:
    """The copy with its documentation and its consents as FHIR resources."""
    return {**content, "documentation": DOCUMENTATION, "consents_fhir": [
        consent_resource(child_id, content["child"], consent)
        for case in content["cases"] for consent in case["consents"]]}
