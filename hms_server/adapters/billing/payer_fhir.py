"""The insurer over FHIR R4: eligibility (``CoverageEligibilityRequest`` →
``CoverageEligibilityResponse``) and claims and pre-authorisations (``Claim`` with ``use``
``claim``/``preauthorization`` → ``ClaimResponse``), several claims at once as a ``batch``
``Bundle``.

Every resource sent or received goes through the pinned ``fhir.resources`` R4B models, so
what leaves is valid FHIR by construction and what arrives is checked before it is believed.
Decimals travel as JSON numbers (FHIR's rule) and are read back as ``Decimal``, never float.

Reliability: a timeout, a refused connection, 429 or 5xx is retried with back-off
(``retries`` times); then ``PayerUnavailableError`` (503 with ``Retry-After``) — nothing is
recorded as submitted. Claims carry our stable identifier, so a resubmission after a lost
answer is recognised by the payer.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claim import Claim
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.coverageeligibilityrequest import CoverageEligibilityRequest
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse
from pydantic import ValidationError

from hms_server.domain.billing import PayerUnavailableError
from hms_server.domain.billing_gateways import (
    ClaimAdjudication,
    ClaimSubmission,
    EligibilityAnswer,
    EligibilityQuery,
)

FHIR_JSON = "application/fhir+json"
PAYER_SYSTEM = "urn:hms:payer"
CLAIM_SYSTEM = "urn:hms:claim"
PRICE_SYSTEM = "urn:hms:price-item"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"


def _member_system(payer_code: str) -> str:
    return f"{PAYER_SYSTEM}:{payer_code}:member"


def _money(value: Decimal, currency: str) -> dict[str, Any]:
    return {"value": value, "currency": currency}


def eligibility_request(query: EligibilityQuery) -> CoverageEligibilityRequest:
    return CoverageEligibilityRequest.model_validate(
        {
            "resourceType": "CoverageEligibilityRequest",
            "identifier": [
                {
                    "system": "urn:hms:eligibility",
                    "value": f"policy-{query.policy_id}-{query.on.isoformat()}",
                }
            ],
            "status": "active",
            "purpose": ["validation", "benefits"],
            "patient": {"reference": f"Patient/{query.patient_id}"},
            "servicedDate": query.on.isoformat(),
            "created": query.on.isoformat(),
            "insurer": {"identifier": {"system": PAYER_SYSTEM, "value": query.payer_code}},
            "insurance": [
                {
                    "focal": True,
                    "coverage": {
                        "identifier": {
                            "system": _member_system(query.payer_code),
                            "value": query.member_number,
                        },
                        "display": query.plan_code,
                    },
                }
            ],
        }
    )


def claim_resource(claim: ClaimSubmission, provider: str) -> Claim:
    return Claim.model_validate(
        {
            "resourceType": "Claim",
            "identifier": [{"system": CLAIM_SYSTEM, "value": claim.identifier}],
            "status": "active",
            "type": {"coding": [{"system": CLAIM_TYPE, "code": "institutional"}]},
            "use": claim.use,
            "patient": {"reference": f"Patient/{claim.patient_id}"},
            "created": claim.created.isoformat(),
            "insurer": {"identifier": {"system": PAYER_SYSTEM, "value": claim.payer_code}},
            "provider": {"display": provider},
            "priority": {"coding": [{"system": PRIORITY, "code": "normal"}]},
            "insurance": [
                {
                    "sequence": 1,
                    "focal": True,
                    "coverage": {
                        "identifier": {
                            "system": _member_system(claim.payer_code),
                            "value": claim.member_number,
                        }
                    },
                }
            ],
            "item": [
                {
                    "sequence": item.sequence,
                    "category": {
                        "coding": [{"system": "urn:hms:price-category", "code": item.category}]
                    },
                    "productOrService": {
                        "coding": [
                            {"system": PRICE_SYSTEM, "code": item.code, "display": item.description}
                        ]
                    },
                    "servicedDate": item.service_date.isoformat(),
                    "quantity": {"value": item.quantity},
                    "unitPrice": _money(item.unit_price, claim.currency),
                    "net": _money(item.net, claim.currency),
                }
                for item in claim.items
            ],
            "total": _money(claim.total, claim.currency),
        }
    )


def claims_bundle(claims: list[ClaimSubmission], provider: str) -> Bundle:
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [
                {
                    "resource": claim_resource(c, provider).model_dump(mode="json"),
                    "request": {"method": "POST", "url": "Claim"},
                }
                for c in claims
            ],
        }
    )


def _codes(concept: Any) -> list[str]:
    if concept is None:
        return []
    texts = [c.display or c.code for c in (concept.coding or []) if (c.display or c.code)]
    return texts or ([concept.text] if concept.text else [])


def read_eligibility(resource: CoverageEligibilityResponse) -> EligibilityAnswer:
    in_force = any(bool(i.inforce) for i in (resource.insurance or []))
    errors = [text for e in (resource.error or []) for text in _codes(e.code)]
    benefits: list[dict[str, Any]] = []
    for insurance in resource.insurance or []:
        for item in insurance.item or []:
            for benefit in item.benefit or []:
                allowed = benefit.allowedMoney
                used = benefit.usedMoney
                benefits.append(
                    {
                        "category": (_codes(item.category) or [""])[0],
                        "type": (_codes(benefit.type) or [""])[0],
                        "allowed": str(allowed.value)
                        if allowed and allowed.value is not None
                        else None,
                        "used": str(used.value) if used and used.value is not None else None,
                    }
                )
    note = "; ".join(errors) or resource.disposition
    reference = resource.identifier[0].value if resource.identifier else resource.id
    return EligibilityAnswer(
        in_force=in_force and resource.outcome != "error",
        payer_reference=reference,
        note=note,
        benefits=benefits,
    )


def read_adjudication(resource: ClaimResponse) -> ClaimAdjudication:
    approved = Decimal(0)
    for total in resource.total or []:
        if any(c.code == "benefit" for c in (total.category.coding or [])):
            approved += Decimal(str(total.amount.value))
    reasons = [note.text for note in (resource.processNote or []) if note.text]
    for item in resource.item or []:
        for adjudication in item.adjudication or []:
            reasons += [f"line {item.itemSequence}: {text}" for text in _codes(adjudication.reason)]
    reasons += [text for e in (resource.error or []) for text in _codes(e.code)]
    request_id = (
        resource.request.identifier.value
        if resource.request and resource.request.identifier
        else ""
    )
    reference = resource.preAuthRef or (
        resource.identifier[0].value if resource.identifier else resource.id
    )
    return ClaimAdjudication(
        identifier=request_id or "",
        outcome=str(resource.outcome),
        approved=approved,
        payer_reference=reference,
        reasons=reasons,
        disposition=resource.disposition,
    )


@dataclass(frozen=True)
class FhirPayerGateway:
    """Stateless and thread-safe (a short-lived HTTP client per call)."""

    base_url: str
    provider_name: str
    timeout: float = 10.0
    retries: int = 2
    backoff: float = 0.3
    transport: httpx.BaseTransport | None = None

    def _exchange(self, path: str, resource: Any) -> Any:
        body = resource.model_dump_json(exclude_none=True)
        url = self.base_url.rstrip("/") + path
        last = "no answer"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                    response = client.post(
                        url, content=body, headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
                    )
            except httpx.HTTPError as exc:
                last = (
                    "timed out" if isinstance(exc, httpx.TimeoutException) else (type(exc).__name__)
                )
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                raise PayerUnavailableError(
                    f"The insurer refused the request (HTTP {response.status_code})."
                )
            try:
                return json.loads(response.content, parse_float=Decimal)
            except ValueError:
                last = "an answer that is not JSON"
                continue
        raise PayerUnavailableError(
            f"The insurer cannot be reached ({last}); nothing was recorded. Try again later.",
            headers={"Retry-After": "30"},
        )

    def check_eligibility(self, query: EligibilityQuery) -> EligibilityAnswer:
        data = self._exchange("/CoverageEligibilityRequest", eligibility_request(query))
        try:
            return read_eligibility(CoverageEligibilityResponse.model_validate(data))
        except ValidationError:
            raise PayerUnavailableError(
                "The insurer answered with an invalid FHIR CoverageEligibilityResponse."
            ) from None

    def submit_claims(self, claims: list[ClaimSubmission]) -> list[ClaimAdjudication]:
        if not claims:
            return []
        data = self._exchange("/", claims_bundle(claims, self.provider_name))
        try:
            bundle = Bundle.model_validate(data)
            answers = [
                read_adjudication(entry.resource)
                for entry in (bundle.entry or [])
                if isinstance(entry.resource, ClaimResponse)
            ]
        except ValidationError:
            raise PayerUnavailableError(
                "The insurer answered with an invalid FHIR batch-response Bundle."
            ) from None
        by_id = {answer.identifier: answer for answer in answers}
        missing = [c.identifier for c in claims if c.identifier not in by_id]
        if missing:
            raise PayerUnavailableError(
                "The insurer's answer misses some claims; nothing was recorded. Try again."
            )
        return [by_id[c.identifier] for c in claims]
