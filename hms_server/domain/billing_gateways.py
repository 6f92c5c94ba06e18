"""What billing asks of the outside world: an insurer (eligibility, pre-authorisation,
claims) and a card payment gateway. Services depend on these Protocols; the adapters in
``hms_server.adapters.billing`` implement them over FHIR R4 and the gateway's HTTP API, and
``hms_server.bootstrap`` plugs them in. Plain values only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class EligibilityQuery:
    policy_id: int
    patient_id: int
    payer_code: str
    plan_code: str
    member_number: str
    on: date


@dataclass(frozen=True)
class EligibilityAnswer:
    in_force: bool
    payer_reference: str | None
    note: str | None
    benefits: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ClaimItem:
    sequence: int
    code: str
    description: str
    category: str
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    service_date: date


@dataclass(frozen=True)
class ClaimSubmission:
    """One claim (``use='claim'``) or pre-authorisation request (``use='preauthorization'``)
    as the payer will see it. ``identifier`` is ours and stable: a resubmission of the same
    claim is recognised by the payer, never paid twice."""

    identifier: str
    use: str
    patient_id: int
    payer_code: str
    member_number: str
    currency: str
    created: date
    items: list[ClaimItem]
    total: Decimal


@dataclass(frozen=True)
class ClaimAdjudication:
    """The payer's answer to one claim: what it approves (``benefit``) and why it refuses
    the rest. ``outcome`` is FHIR's: ``complete``, ``partial``, ``error``, ``queued``."""

    identifier: str
    outcome: str
    approved: Decimal
    payer_reference: str | None
    reasons: list[str] = field(default_factory=list)
    disposition: str | None = None


class PayerGateway(Protocol):
    """Raises ``domain.billing.PayerUnavailableError`` when the payer cannot be reached (after
    the adapter's own retries)."""

    def check_eligibility(self, query: EligibilityQuery) -> EligibilityAnswer: ...

    def submit_claims(self, claims: list[ClaimSubmission]) -> list[ClaimAdjudication]: ...


@dataclass(frozen=True)
class GatewayIntent:
    intent_id: str
    status: str


@dataclass(frozen=True)
class GatewayEvent:
    """A verified webhook event."""

    event_id: str
    type: str
    intent_id: str | None
    status: str | None
    amount_minor: int | None
    currency: str | None
    failure_reason: str | None
    signed_at: int


class CardGateway(Protocol):
    """Raises ``domain.billing.GatewayUnavailableError`` when unreachable and
    ``domain.billing.InvalidWebhookError`` for a callback that does not verify."""

    def create_intent(
        self, *, amount_minor: int, currency: str, reference: str, idempotency_key: str
    ) -> GatewayIntent: ...

    def refund(self, *, intent_id: str, amount_minor: int, idempotency_key: str) -> str: ...

    def verify_webhook(self, headers: dict[str, str], body: bytes, now: float) -> GatewayEvent: ...


@dataclass
class BillingGateways:
    """The gateways of a running application; ``None`` = not configured in this install."""

    payer: PayerGateway | None = None
    card: CardGateway | None = None
