"""A local insurer speaking FHIR R4 (R4B models), for tests and the demo.

Run: ``python -m hms_server.adapters.billing.payer_simulator [--port P]``; it prints one
``READY {"port": P, "url": "http://127.0.0.1:P/fhir"}`` line once serving.

FHIR API (``/fhir``):
- ``POST /fhir/CoverageEligibilityRequest`` → ``CoverageEligibilityResponse``: coverage is in
  force unless the member number is listed inactive or ends in ``-X`` (a lapsed policy).
- ``POST /fhir`` with a ``batch`` Bundle of ``Claim`` → ``batch-response`` Bundle of
  ``ClaimResponse``. A claim (``use=claim``) is adjudicated line by line: a code in the
  rejected list is refused ("not covered"), a line above the item limit is paid up to it, a
  lapsed member's claim is refused whole. A pre-authorisation (``use=preauthorization``) up
  to the limit is approved with a ``preAuthRef``; above it, pended (``queued``). The same
  claim identifier sent again gets the same answer (never adjudicated twice).
Invalid FHIR gets 400 with an ``OperationOutcome``.

Control API (``/_sim``), so a test in another process can steer it:
- ``GET /_sim/requests`` what arrived; ``POST /_sim/reset``;
- ``POST /_sim/behaviour`` ``{"down": bool, "delay_seconds": s}`` (down = 503 to everything);
- ``POST /_sim/rules`` ``{"rejected_codes": [...], "item_limit": "100.00",
  "inactive_members": [...], "preauth_limit": "5000"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claim import Claim
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.coverageeligibilityrequest import CoverageEligibilityRequest
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse
from pydantic import ValidationError

FHIR_JSON = "application/fhir+json"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
REASONS = "http://terminology.hl7.org/CodeSystem/adjudication-reason"
ADJUDICATION_ERROR = "http://terminology.hl7.org/CodeSystem/adjudication-error"
BENEFIT_CATEGORY = "http://terminology.hl7.org/CodeSystem/ex-benefitcategory"


def _decimal_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral() else int(value)
    raise TypeError(type(value).__name__)


@dataclass
class PayerState:
    """Rules, misbehaviour and the record of requests. Thread-safe."""

    rejected_codes: set[str] = field(default_factory=set)
    inactive_members: set[str] = field(default_factory=set)
    item_limit: Decimal | None = None
    preauth_limit: Decimal = Decimal(5000)
    down: bool = False
    delay_seconds: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.rejected_codes.clear()
            self.inactive_members.clear()
            self.item_limit, self.preauth_limit = None, Decimal(5000)
            self.down, self.delay_seconds = False, 0.0
            self.requests.clear()
            self.answered.clear()

    def member_in_force(self, member: str) -> bool:
        return member not in self.inactive_members and not member.upper().endswith("-X")


def _money(value: Decimal, currency: str) -> dict[str, Any]:
    return {"value": value, "currency": currency}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def eligibility_response(
    state: PayerState, request: CoverageEligibilityRequest
) -> CoverageEligibilityResponse:
    insurance = (request.insurance or [None])[0]
    coverage = insurance.coverage if insurance else None
    member = (coverage.identifier.value if coverage and coverage.identifier else "") or ""
    in_force = bool(member) and state.member_in_force(member)
    body: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "identifier": [
            {"system": "urn:sim:payer:eligibility", "value": f"ELG-{uuid.uuid4().hex[:10]}"}
        ],
        "status": "active",
        "purpose": request.purpose,
        "patient": request.patient.model_dump(mode="json", exclude_none=True),
        "created": _now(),
        "request": {"identifier": request.identifier[0].model_dump(mode="json", exclude_none=True)}
        if request.identifier
        else {"display": "eligibility request"},
        "outcome": "complete" if in_force else "error",
        "insurer": request.insurer.model_dump(mode="json", exclude_none=True),
        "disposition": "Coverage in force" if in_force else "Coverage not in force",
        "insurance": [
            {
                "coverage": coverage.model_dump(mode="json", exclude_none=True)
                if coverage
                else {"display": "unknown"},
                "inforce": in_force,
                "item": [
                    {
                        "category": {
                            "coding": [
                                {"system": BENEFIT_CATEGORY, "code": "1", "display": "Medical Care"}
                            ]
                        },
                        "benefit": [
                            {
                                "type": {"coding": [{"code": "benefit"}]},
                                "allowedMoney": _money(Decimal(50000), "EUR"),
                            }
                        ],
                    }
                ]
                if in_force
                else [],
            }
        ],
    }
    if not in_force:
        body["error"] = [
            {
                "code": {
                    "coding": [
                        {
                            "system": ADJUDICATION_ERROR,
                            "code": "a002",
                            "display": "Coverage not in force",
                        }
                    ]
                }
            }
        ]
    return CoverageEligibilityResponse.model_validate(body)


def adjudicate(state: PayerState, claim: Claim) -> ClaimResponse:
    """Decide one claim (see the module docstring for the rules)."""
    identifier = claim.identifier[0].value if claim.identifier else ""
    member = ""
    if claim.insurance and claim.insurance[0].coverage.identifier:
        member = claim.insurance[0].coverage.identifier.value or ""
    currency = claim.total.currency if claim.total else "EUR"
    in_force = bool(member) and state.member_in_force(member)
    notes: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    approved_total = Decimal(0)
    submitted_total = Decimal(0)
    for item in claim.item or []:
        net = Decimal(str(item.net.value)) if item.net else Decimal(0)
        submitted_total += net
        code = (item.productOrService.coding or [None])[0]
        code_value = code.code if code else ""
        benefit, reason = net, None
        if not in_force:
            benefit, reason = Decimal(0), "Coverage not in force"
        elif code_value in state.rejected_codes:
            benefit, reason = Decimal(0), "Not covered by the plan"
        elif state.item_limit is not None and net > state.item_limit:
            benefit, reason = state.item_limit, "Above the plan's maximum per item"
        approved_total += benefit
        adjudication: list[dict[str, Any]] = [
            {
                "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
                "amount": _money(net, currency),
            },
            {
                "category": {"coding": [{"system": ADJUDICATION, "code": "benefit"}]},
                "amount": _money(benefit, currency),
            },
        ]
        if reason:
            adjudication[1]["reason"] = {
                "coding": [{"system": REASONS, "code": "ar002", "display": reason}]
            }
        items.append({"itemSequence": item.sequence, "adjudication": adjudication})
    use = claim.use
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "identifier": [
            {"system": "urn:sim:payer:claim-response", "value": f"CR-{uuid.uuid4().hex[:10]}"}
        ],
        "status": "active",
        "type": claim.type.model_dump(mode="json", exclude_none=True),
        "use": use,
        "patient": claim.patient.model_dump(mode="json", exclude_none=True),
        "created": _now(),
        "insurer": claim.insurer.model_dump(mode="json", exclude_none=True)
        if claim.insurer
        else {"display": "Simulated payer"},
        "request": {"identifier": {"system": "urn:hms:claim", "value": identifier}},
        "item": items,
        "total": [
            {
                "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
                "amount": _money(submitted_total, currency),
            },
            {
                "category": {"coding": [{"system": ADJUDICATION, "code": "benefit"}]},
                "amount": _money(approved_total, currency),
            },
        ],
    }
    if use == "preauthorization":
        if not in_force:
            response.update(outcome="error", disposition="Coverage not in force")
        elif submitted_total <= state.preauth_limit:
            response.update(
                outcome="complete",
                disposition="Pre-authorised",
                preAuthRef=f"PA-{uuid.uuid4().hex[:8].upper()}",
            )
        else:
            response.update(outcome="queued", disposition="Pended for medical review")
    else:
        if not in_force:
            outcome, disposition = "error", "Coverage not in force"
            notes.append({"number": 1, "text": "Coverage not in force on the service date"})
        elif approved_total == submitted_total:
            outcome, disposition = "complete", "Claim approved"
        else:
            outcome, disposition = "partial", "Claim partly approved"
        response.update(outcome=outcome, disposition=disposition)
    if notes:
        response["processNote"] = notes
    return ClaimResponse.model_validate(response)


def _operation_outcome(message: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": message[:500]}],
    }


class _Handler(BaseHTTPRequestHandler):
    server: PayerSimulatorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Any, content_type: str = FHIR_JSON) -> None:
        data = json.dumps(body, default=_decimal_default).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if status == 503:
            self.send_header("Retry-After", "5")
        self.end_headers()
        self.wfile.write(data)

    def _read(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}", parse_float=Decimal)
        except ValueError:
            return None

    def do_GET(self) -> None:
        state = self.server.state
        if self.path == "/_sim/requests":
            with state.lock:
                self._send(200, {"requests": list(state.requests)}, "application/json")
        elif self.path == "/fhir/metadata":
            self._send(
                200,
                {
                    "resourceType": "CapabilityStatement",
                    "status": "active",
                    "kind": "instance",
                    "fhirVersion": "4.3.0",
                    "format": ["json"],
                    "date": _now(),
                },
            )
        else:
            self._send(404, _operation_outcome("not found"))

    def do_POST(self) -> None:
        state = self.server.state
        body = self._read()
        if self.path.startswith("/_sim/"):
            self._control(body)
            return
        if state.delay_seconds:
            time.sleep(state.delay_seconds)
        if state.down:
            self._send(503, _operation_outcome("payer temporarily unavailable"))
            return
        if not isinstance(body, dict):
            self._send(400, _operation_outcome("a JSON FHIR resource is expected"))
            return
        try:
            if self.path == "/fhir/CoverageEligibilityRequest":
                request = CoverageEligibilityRequest.model_validate(body)
                self._record(
                    "CoverageEligibilityRequest",
                    request.identifier[0].value if request.identifier else None,
                )
                self._send(
                    200,
                    eligibility_response(state, request).model_dump(mode="json", exclude_none=True),
                )
            elif self.path in ("/fhir", "/fhir/"):
                self._send(200, self._batch(Bundle.model_validate(body)))
            else:
                self._send(404, _operation_outcome("unknown endpoint"))
        except ValidationError as exc:
            self._send(400, _operation_outcome(f"invalid FHIR: {exc.errors()[0]['msg']}"))

    def _record(self, kind: str, identifier: str | None, **extra: Any) -> None:
        with self.server.state.lock:
            self.server.state.requests.append({"type": kind, "identifier": identifier, **extra})

    def _batch(self, bundle: Bundle) -> dict[str, Any]:
        state = self.server.state
        entries = []
        for entry in bundle.entry or []:
            if not isinstance(entry.resource, Claim):
                entries.append({"response": {"status": "400"}})
                continue
            claim = entry.resource
            identifier = claim.identifier[0].value if claim.identifier else ""
            with state.lock:
                known = state.answered.get(identifier or "")
            if known is None:
                known = adjudicate(state, claim).model_dump(mode="json", exclude_none=True)
                if identifier:
                    with state.lock:
                        state.answered[identifier] = known
                repeat = False
            else:
                repeat = True
            self._record(
                "Claim",
                identifier,
                use=claim.use,
                repeat=repeat,
                total=str(claim.total.value) if claim.total else None,
            )
            entries.append({"resource": known, "response": {"status": "201"}})
        return {"resourceType": "Bundle", "type": "batch-response", "entry": entries}

    def _control(self, body: Any) -> None:
        state = self.server.state
        if not isinstance(body, dict):
            self._send(400, {"error": "json object expected"}, "application/json")
            return
        try:
            if self.path == "/_sim/reset":
                state.reset()
            elif self.path == "/_sim/behaviour":
                with state.lock:
                    state.down = bool(body.get("down", state.down))
                    state.delay_seconds = float(body.get("delay_seconds", state.delay_seconds))
            elif self.path == "/_sim/rules":
                with state.lock:
                    if "rejected_codes" in body:
                        state.rejected_codes = {str(c).upper() for c in body["rejected_codes"]}
                    if "inactive_members" in body:
                        state.inactive_members = {str(m) for m in body["inactive_members"]}
                    if "item_limit" in body:
                        limit = body["item_limit"]
                        state.item_limit = None if limit is None else Decimal(str(limit))
                    if "preauth_limit" in body:
                        state.preauth_limit = Decimal(str(body["preauth_limit"]))
            else:
                self._send(404, {"error": "not found"}, "application/json")
                return
        except (ValueError, TypeError, InvalidOperation):
            self._send(400, {"error": "bad control request"}, "application/json")
            return
        self._send(200, {"ok": True}, "application/json")


class PayerSimulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: PayerState | None = None) -> None:
        super().__init__(address, _Handler)
        self.state = state or PayerState()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="HMS insurer simulator (FHIR R4)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    args = parser.parse_args(argv)
    server = PayerSimulatorServer((args.host, args.port))
    port = server.server_address[1]
    print(
        "READY " + json.dumps({"port": port, "url": f"http://{args.host}:{port}/fhir"}), flush=True
    )
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
