"""Payments, deposits and refunds with their receipts; card payments through the gateway.

Taking money needs ``payments.take`` (billing clerk); clinical roles never have it. The
gateway's settlement webhook is public but must carry a valid HMAC signature over its
timestamp and body (a stale, forged or tampered call is 400 ``invalid_webhook``; a
duplicate or replay of a processed event is answered 200 and changes nothing).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hms_contract.common import Page
from hms_contract.payments import (
    CardIntentCreate,
    CardIntentRead,
    PaymentCreate,
    PaymentRead,
    RefundCreate,
    RefundResult,
)
from hms_server.adapters.uow import Actor
from hms_server.api.deps import PUBLIC, RequestContext, get_runtime
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath, Limit, Offset, OptionalId
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.routers._billing import (
    BillingReader,
    Cashier,
    to_model,
    to_models,
)
from hms_server.domain.errors import NotFoundError, ValidationFailedError
from hms_server.services.billing import card_payments as card_svc
from hms_server.services.billing import payments as svc

router = APIRouter(tags=["billing: payments"], responses=PROBLEM_RESPONSES)

MAX_WEBHOOK_BYTES = 64 * 1024


def _intent_read(ctx: RequestContext, intent: object, receipt: str | None) -> CardIntentRead:
    return to_model(ctx, CardIntentRead, intent).model_copy(update={"receipt_number": receipt})


@router.post(
    "/payments",
    operation_id="create_payment",
    status_code=201,
    response_model=PaymentRead,
    responses={
        409: {"description": "invoice_not_payable (draft or void), exceeds_payer_balance"},
        422: {"description": "too_many_decimals, validation_error"},
    },
)
def create_payment(
    body: PaymentCreate, request: Request, ctx: Cashier, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Money received (cash, a card on a stand-alone terminal, bank transfer, insurance).
    What the invoice no longer owes becomes account credit (``to_credit``); ``tendered``
    cash gives ``change_due``. The answer carries the receipt number."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.post_payment(
            uow,
            invoice_id=body.invoice_id,
            patient_id=body.patient_id,
            amount=body.amount,
            method=body.method,
            kind=body.kind,
            reference=body.reference,
            tendered=body.tendered,
        ),
        lambda view: to_model(ctx, PaymentRead, view),
        headers=lambda view: {"Location": f"/api/v1/payments/{view.id}"},
    )


@router.get("/payments", operation_id="list_payments")
def list_payments(
    ctx: BillingReader,
    patient_id: OptionalId = None,
    invoice_id: OptionalId = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PaymentRead]:
    """A patient's payments (newest first) or those applied to one invoice."""
    if (patient_id is None) == (invoice_id is None):
        raise ValidationFailedError("Give exactly one of patient_id and invoice_id.")
    rows, total = svc.list_payments(
        ctx.uow(), patient_id=patient_id, invoice_id=invoice_id, limit=limit, offset=offset
    )
    return Page[PaymentRead](items=to_models(ctx, PaymentRead, rows), total=total)


@router.post(
    "/payments/card-intents",
    operation_id="create_card_intent",
    status_code=201,
    response_model=CardIntentRead,
    responses={503: {"description": "gateway_unavailable, not_configured"}},
)
def create_card_intent(
    body: CardIntentCreate, request: Request, ctx: Cashier, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Ask the gateway to take ``amount`` at the terminal; poll
    ``GET /payments/card-intents/{id}`` (or listen for ``card_intent.changed``) until it
    succeeds or fails."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: card_svc.create_card_intent(
            uow,
            ctx.runtime.billing.card,
            invoice_id=body.invoice_id,
            patient_id=body.patient_id,
            amount=body.amount,
        ),
        lambda intent: _intent_read(ctx, intent, None),
    )


@router.get("/payments/card-intents/{intent_id}", operation_id="get_card_intent")
def get_card_intent(intent_id: IdPath, ctx: Cashier) -> CardIntentRead:
    intent, receipt = card_svc.get_card_intent(ctx.uow(), intent_id)
    return _intent_read(ctx, intent, receipt)


@router.post("/payments/card-intents/{intent_id}/cancel", operation_id="cancel_card_intent")
def cancel_card_intent(intent_id: IdPath, ctx: Cashier) -> CardIntentRead:
    return _intent_read(ctx, card_svc.cancel_card_intent(ctx.uow(), intent_id), None)


@router.post(
    "/payments/gateway-webhook",
    operation_id="card_gateway_webhook",
    dependencies=[Depends(PUBLIC)],
    responses={
        400: {"description": "invalid_webhook (signature, timestamp, body)"},
        404: {"description": "no gateway configured"},
    },
)
async def gateway_webhook(request: Request) -> dict[str, str]:
    """The gateway's settlement callback (``Gateway-Signature: t=...,v1=...``)."""
    runtime = get_runtime(request)
    if runtime.billing.card is None:
        # Nobody should call back an install without a gateway: nothing is here.
        raise NotFoundError("No card gateway is configured on this server.")
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise ValidationFailedError("The webhook body is too large.")
    outcome = await run_in_threadpool(
        card_svc.handle_webhook,
        runtime.uow(Actor.system("card-gateway")),
        runtime.billing.card,
        dict(request.headers),
        body,
    )
    return {"status": outcome}


@router.get("/payments/by-receipt/{number}", operation_id="get_payment_by_receipt")
def get_payment_by_receipt(
    number: Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9-]+$")], ctx: BillingReader
) -> PaymentRead:
    return to_model(ctx, PaymentRead, svc.get_payment(ctx.uow(), receipt=number))


@router.get("/payments/{payment_id}", operation_id="get_payment")
def get_payment(payment_id: IdPath, ctx: BillingReader) -> PaymentRead:
    return to_model(ctx, PaymentRead, svc.get_payment(ctx.uow(), payment_id))


@router.post(
    "/payments/{payment_id}/refunds",
    operation_id="refund_payment",
    status_code=201,
    response_model=RefundResult,
    responses={409: {"description": "insufficient_credit, not_refundable"}},
)
def refund_payment(
    payment_id: IdPath,
    body: RefundCreate,
    request: Request,
    ctx: Cashier,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Refund to the original method from the patient's account credit. Above the
    configured amount the answer is ``pending_approval``; once a manager approves, the same
    request completes it."""

    def work(uow):  # type: ignore[no-untyped-def]
        return svc.refund(
            uow,
            payment_id,
            amount=body.amount,
            reason=body.reason,
            policy=ctx.runtime.billing_policy,
            card=ctx.runtime.billing.card,
        )

    def answer(result):  # type: ignore[no-untyped-def]
        view, approval_id = result
        if view is None:
            return RefundResult(status="pending_approval", approval_id=approval_id)
        return RefundResult(
            status="completed", refund=to_model(ctx, PaymentRead, view), approval_id=approval_id
        )

    return run_idempotent(ctx, request, idempotency_key, body, work, answer)
