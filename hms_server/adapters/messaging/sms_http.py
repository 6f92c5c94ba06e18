"""SMS through an HTTP gateway: ``POST`` JSON ``{to, from, text, reference}`` with an
``X-API-Key`` header. 200/202 with ``{"id": ...}`` is accepted; 408, 429 and 5xx are transient
(honouring ``Retry-After``); other 4xx are permanent. ``reference`` and ``Idempotency-Key``
carry the outbox id, so a gateway that saw a send we timed out on can drop the repeat."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from hms_server.adapters.messaging.base import (
    OutgoingMessage,
    PermanentSendError,
    ProviderResult,
    TransientSendError,
)
from hms_server.adapters.messaging.config import MessagingSettings

_E164ISH = re.compile(r"^\+?[0-9]{6,16}$")


def normalize_phone(value: str) -> str | None:
    """Strip spaces, dots, dashes and brackets; ``None`` if what is left is not a number."""
    cleaned = re.sub(r"[\s().\-]", "", value or "")
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    return cleaned if _E164ISH.match(cleaned) else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class HttpSmsAdapter:
    """Stateless: each send uses a short-lived client, so the adapter is thread-safe."""

    url: str
    api_key: str = ""
    sender: str = "HMS"
    timeout: float = 10.0
    channel: str = "sms"
    transport: httpx.BaseTransport | None = None  # tests inject httpx.MockTransport

    @classmethod
    def from_settings(cls, settings: MessagingSettings) -> HttpSmsAdapter:
        return cls(
            url=settings.sms_gateway_url,
            api_key=settings.sms_api_key,
            sender=settings.sms_sender,
            timeout=settings.sms_timeout_seconds,
        )

    def send(self, message: OutgoingMessage) -> ProviderResult:
        to = normalize_phone(message.recipient)
        if to is None:
            raise PermanentSendError("recipient is not a valid phone number")
        headers = {
            "X-API-Key": self.api_key,
            "Idempotency-Key": f"hms-message-{message.id}",
            "Accept": "application/json",
        }
        payload = {
            "to": to,
            "from": self.sender,
            "text": message.body,
            "reference": f"hms-{message.id}",
        }
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(self.url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise TransientSendError(f"SMS gateway unreachable: {type(exc).__name__}") from None
        status = response.status_code
        if status in (200, 201, 202):
            try:
                data = response.json()
            except ValueError:
                data = {}
            provider_id = data.get("id") if isinstance(data, dict) else None
            return ProviderResult(provider_message_id=str(provider_id) if provider_id else None)
        if status in (408, 425, 429) or status >= 500:
            raise TransientSendError(
                f"SMS gateway HTTP {status}", retry_after=_retry_after(response)
            )
        raise PermanentSendError(f"SMS gateway HTTP {status}")
