"""Card payments through an HTTP payment gateway (the flow of Stripe-like gateways).

1. ``create_intent``: ``POST {url}/v1/payment_intents`` ``{amount, currency, reference}``
   (amount in the currency's minor unit, an ``Idempotency-Key`` so a retried call never
   creates a second intent) → ``{id, status: "requires_confirmation"}``.
2. The customer confirms at the terminal; the gateway then calls the server back:
   ``POST /api/v1/payments/gateway-webhook`` with the event as JSON and the header
   ``Gateway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``.
3. ``verify_webhook`` checks the signature (constant-time) and that ``t`` is within the
   tolerance of now, so a captured request cannot be replayed later. Duplicate deliveries of
   a verified event are recognised by its ``id`` in the service.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from hms_server.domain.billing import GatewayUnavailableError, InvalidWebhookError
from hms_server.domain.billing_gateways import GatewayEvent, GatewayIntent

SIGNATURE_HEADER = "Gateway-Signature"


def sign_payload(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _parse_signature(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidWebhookError(
            "The webhook signature header is malformed.", extra={"reason": "malformed_signature"}
        )
    return timestamp, signatures


def verify_signature(
    secret: str, headers: dict[str, str], body: bytes, now: float, tolerance_seconds: int
) -> int:
    """The signed timestamp, if ``body`` carries a valid, fresh signature by ``secret``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    header = lowered.get(SIGNATURE_HEADER.lower())
    if not header:
        raise InvalidWebhookError(
            "The webhook is not signed.", extra={"reason": "missing_signature"}
        )
    timestamp, signatures = _parse_signature(header)
    expected = sign_payload(secret, timestamp, body).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidWebhookError(
            "The webhook signature does not match.", extra={"reason": "bad_signature"}
        )
    if abs(now - timestamp) > tolerance_seconds:
        raise InvalidWebhookError(
            "The webhook is too old (or from the future); it may be a replay.",
            extra={"reason": "stale_timestamp"},
        )
    return timestamp


def parse_event(body: bytes, signed_at: int) -> GatewayEvent:
    try:
        data = json.loads(body)
        obj: dict[str, Any] = data["data"]["object"]
        event_id, event_type = str(data["id"]), str(data["type"])
    except (ValueError, KeyError, TypeError):
        raise InvalidWebhookError(
            "The webhook body is not a gateway event.", extra={"reason": "malformed_event"}
        ) from None
    amount = obj.get("amount")
    return GatewayEvent(
        event_id=event_id[:100],
        type=event_type[:64],
        intent_id=str(obj["id"])[:64] if obj.get("id") else None,
        status=str(obj.get("status")) if obj.get("status") else None,
        amount_minor=amount if isinstance(amount, int) else None,
        currency=str(obj.get("currency")).upper() if obj.get("currency") else None,
        failure_reason=str(obj.get("failure_reason"))[:200] if obj.get("failure_reason") else None,
        signed_at=signed_at,
    )


@dataclass(frozen=True)
class HttpCardGateway:
    """Stateless and thread-safe (a short-lived HTTP client per call)."""

    url: str
    api_key: str
    webhook_secret: str
    timeout: float = 10.0
    tolerance_seconds: int = 300
    transport: httpx.BaseTransport | None = None

    def _post(self, path: str, payload: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Idempotency-Key": idempotency_key,
            "Accept": "application/json",
        }
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(self.url.rstrip("/") + path, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise GatewayUnavailableError(
                f"The card gateway cannot be reached ({type(exc).__name__}); try again.",
                headers={"Retry-After": "5"},
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise GatewayUnavailableError(
                f"The card gateway answered {response.status_code}; try again.",
                headers={"Retry-After": "5"},
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict):
            message = body.get("error") if isinstance(body, dict) else None
            raise GatewayUnavailableError(
                f"The card gateway refused the request ({response.status_code}"
                f"{': ' + str(message)[:100] if message else ''})."
            )
        return body

    def create_intent(
        self, *, amount_minor: int, currency: str, reference: str, idempotency_key: str
    ) -> GatewayIntent:
        body = self._post(
            "/v1/payment_intents",
            {"amount": amount_minor, "currency": currency.lower(), "reference": reference},
            idempotency_key,
        )
        return GatewayIntent(intent_id=str(body["id"]), status=str(body.get("status", "")))

    def refund(self, *, intent_id: str, amount_minor: int, idempotency_key: str) -> str:
        body = self._post(
            "/v1/refunds", {"payment_intent": intent_id, "amount": amount_minor}, idempotency_key
        )
        return str(body["id"])

    def verify_webhook(
        self, headers: dict[str, str], body: bytes, now: float | None = None
    ) -> GatewayEvent:
        signed_at = verify_signature(
            self.webhook_secret,
            headers,
            body,
            time.time() if now is None else now,
            self.tolerance_seconds,
        )
        return parse_event(body, signed_at)
