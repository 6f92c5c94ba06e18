"""Card payments at the integrated terminal, settled by the gateway's signed webhook.

1. ``create_card_intent``: the gateway opens an intent for the amount (before anything is
   recorded here, so an unreachable gateway leaves nothing behind); the desktop waits.
2. The customer confirms at the terminal; the gateway calls ``handle_webhook``.
3. ``handle_webhook`` verifies the HMAC signature and the timestamp (a stale or forged call
   is refused), records the event id (a duplicate or replayed delivery changes nothing),
   and books the payment with its receipt for the cashier who started it. A failed payment
   marks the intent failed. Amount and currency must match what was asked for.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.billing import CardIntent, Payment
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import (
    BillingNotConfiguredError,
    InvoiceNotPayableError,
    field_error,
)
from hms_server.domain.billing_gateways import CardGateway
from hms_server.domain.errors import NotFoundError, ValidationFailedError
from hms_server.services.billing.common import (
    actor_id,
    audit,
    minor_units,
    money,
    repo,
    require_invoice,
    require_patient,
)
from hms_server.services.billing.payments import receive


def _gateway(card: CardGateway | None) -> CardGateway:
    if card is None:
        raise BillingNotConfiguredError("No card gateway is configured (HMS_CARD_GATEWAY_URL).")
    return card


def create_card_intent(
    uow: UnitOfWork,
    card: CardGateway | None,
    *,
    invoice_id: int | None,
    patient_id: int | None,
    amount: Decimal,
) -> CardIntent:
    with uow:
        amount = money(uow, amount, "amount")
        if invoice_id is not None:
            invoice = require_invoice(uow, invoice_id)
            if invoice.status not in ("finalised", "partly_paid", "paid"):
                raise InvoiceNotPayableError(
                    f"Invoice {invoice.number or invoice.id} is {invoice.status}.",
                    extra={"current_status": invoice.status},
                )
            if patient_id is not None and patient_id != invoice.patient_id:
                raise ValidationFailedError(
                    "The invoice is another patient's.",
                    extra={"errors": [field_error("patient_id", "not the invoice's patient")]},
                )
            patient_id = invoice.patient_id
        else:
            assert patient_id is not None
            require_patient(uow, patient_id)
        reference = f"HMS-P{patient_id}-{'I' + str(invoice_id) if invoice_id else 'DEPOSIT'}"
        gateway = _gateway(card)
        currency = uow.hospital.currency
    # The gateway first, outside the transaction: if it is down nothing is recorded.
    opened = gateway.create_intent(
        amount_minor=minor_units(uow, amount),
        currency=currency,
        reference=reference,
        idempotency_key=str(uuid.uuid4()),
    )
    with uow:
        intent = CardIntent(
            gateway_intent_id=opened.intent_id,
            patient_id=patient_id,
            invoice_id=invoice_id,
            amount=amount,
            currency=currency,
            status="pending",
            created_by=actor_id(uow),
            created_at=utcnow(),
        )
        uow.session.add(intent)
        uow.session.flush()
        audit(
            uow,
            "card.intent",
            patient_id=patient_id,
            card_intent_id=intent.id,
            invoice_id=invoice_id,
            amount=amount,
        )
        uow.publish(
            "card_intent.changed",
            {"card_intent_id": intent.id, "patient_id": patient_id, "status": "pending"},
        )
        uow.commit()
        return intent


def get_card_intent(uow: UnitOfWork, intent_id: int) -> tuple[CardIntent, str | None]:
    with uow:
        r = repo(uow)
        intent = r.card_intent(intent_id)
        if intent is None:
            raise NotFoundError(f"No card payment with id {intent_id}.")
        payment = r.payment(intent.payment_id) if intent.payment_id else None
        return intent, payment.receipt_number if payment else None


def cancel_card_intent(uow: UnitOfWork, intent_id: int) -> CardIntent:
    """The customer walked away: stop waiting (a late success still books, as credit)."""
    with uow:
        intent = repo(uow).card_intent(intent_id, lock=True)
        if intent is None:
            raise NotFoundError(f"No card payment with id {intent_id}.")
        if intent.status == "pending":
            intent.status, intent.settled_at = "cancelled", utcnow()
            uow.session.flush()
            audit(uow, "card.cancel", patient_id=intent.patient_id, card_intent_id=intent.id)
            uow.publish(
                "card_intent.changed",
                {
                    "card_intent_id": intent.id,
                    "patient_id": intent.patient_id,
                    "status": "cancelled",
                },
            )
        uow.commit()
        return intent


def handle_webhook(
    uow: UnitOfWork, card: CardGateway | None, headers: dict[str, str], body: bytes
) -> str:
    """Process one gateway callback; the outcome (``processed``, ``duplicate``, ...)."""
    gateway = _gateway(card)
    event = gateway.verify_webhook(headers, body, time.time())
    with uow:
        r = repo(uow)
        fresh = r.record_gateway_event(
            {
                "event_id": event.event_id,
                "type": event.type,
                "gateway_intent_id": event.intent_id,
                "signed_at": datetime.fromtimestamp(event.signed_at, UTC),
                "received_at": utcnow(),
                "outcome": "received",
            }
        )
        if not fresh:
            return "duplicate"
        outcome = _apply(uow, event)
        r.set_gateway_event_outcome(event.event_id, outcome)
        uow.commit()
        return outcome


def _apply(uow: UnitOfWork, event: Any) -> str:
    r = repo(uow)
    intent = r.card_intent_by_gateway_id(event.intent_id or "", lock=True)
    if intent is None:
        return "unknown_intent"
    if intent.status in ("succeeded", "failed"):
        return "already_settled"
    if event.type == "payment_intent.payment_failed":
        intent.status, intent.settled_at = "failed", utcnow()
        intent.failure_reason = event.failure_reason or "declined"
        uow.session.flush()
        audit(uow, "card.failed", patient_id=intent.patient_id, card_intent_id=intent.id)
        uow.publish(
            "card_intent.changed",
            {"card_intent_id": intent.id, "patient_id": intent.patient_id, "status": "failed"},
        )
        return "failed"
    if event.type != "payment_intent.succeeded":
        return "ignored"
    if (
        event.amount_minor != minor_units(uow, intent.amount)
        or (event.currency or "").upper() != intent.currency
    ):
        intent.status, intent.settled_at = "failed", utcnow()
        intent.failure_reason = "amount or currency does not match the request"
        audit(uow, "card.mismatch", patient_id=intent.patient_id, card_intent_id=intent.id)
        return "amount_mismatch"
    invoice = (
        require_invoice(uow, intent.invoice_id, lock=True)
        if intent.invoice_id is not None
        else None
    )
    # The payment is the cashier's who started it (it joins their drawer's session).
    payment = receive(
        uow,
        patient_id=intent.patient_id,
        invoice=invoice,
        amount=intent.amount,
        method="card",
        kind="payment" if invoice is not None else "deposit",
        reference=intent.gateway_intent_id,
        received_by=intent.created_by,
        strict=False,
    )
    intent.status, intent.payment_id, intent.settled_at = "succeeded", payment.id, utcnow()
    uow.session.flush()
    audit(
        uow,
        "card.settled",
        patient_id=intent.patient_id,
        card_intent_id=intent.id,
        payment_id=payment.id,
    )
    uow.publish(
        "card_intent.changed",
        {
            "card_intent_id": intent.id,
            "patient_id": intent.patient_id,
            "status": "succeeded",
            "payment_id": payment.id,
        },
    )
    return "processed"


def refund_through_gateway(
    uow: UnitOfWork, card: object | None, payment: Payment, amount: Decimal
) -> str:
    """Send a card refund back through the gateway (before anything is recorded)."""
    intent = repo(uow).card_intent_of_payment(payment.id)
    if intent is None:
        return "terminal slip"  # a stand-alone terminal payment: refunded at the terminal
    gateway = _gateway(card)  # type: ignore[arg-type]
    return gateway.refund(
        intent_id=intent.gateway_intent_id,
        amount_minor=minor_units(uow, amount),
        idempotency_key=f"refund-{payment.id}-{payment.refunded + amount}",
    )
