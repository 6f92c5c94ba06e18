"""The patient account and statement, receivables ageing, approvals, and what the desktop
needs to format money and print (billing settings, the letterhead logo)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from hms_contract.billing import (
    AgeingRead,
    ApprovalDecision,
    ApprovalKind,
    ApprovalRead,
    BillingPrintRecord,
    BillingSettingsRead,
)
from hms_contract.common import Page
from hms_contract.payments import AccountRead, StatementRead
from hms_server.adapters.hospital_logo import read_logo
from hms_server.api.params import IdPath, Limit, Offset
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.routers._billing import (
    Approver,
    BillingReader,
    SignedIn,
    to_model,
    to_models,
)
from hms_server.domain.errors import NotFoundError
from hms_server.services.billing import accounts as svc
from hms_server.services.billing import approvals as approval_svc

router = APIRouter(tags=["billing: accounts"], responses=PROBLEM_RESPONSES)


@router.get("/patients/{patient_id}/account", operation_id="get_patient_account")
def get_account(patient_id: IdPath, ctx: BillingReader) -> AccountRead:
    """Unbilled charges, what the patient and payers still owe, account credit, balance,
    and the recent invoices and payments."""
    return to_model(ctx, AccountRead, svc.account(ctx.uow(), patient_id))


@router.get("/patients/{patient_id}/statement", operation_id="get_patient_statement")
def get_statement(
    patient_id: IdPath,
    ctx: BillingReader,
    period_from: Annotated[date | None, Query(alias="from")] = None,
    period_to: Annotated[date | None, Query(alias="to")] = None,
) -> StatementRead:
    """Opening balance, movements with a running balance, closing balance (default: this
    month so far)."""
    return to_model(
        ctx,
        StatementRead,
        svc.statement(ctx.uow(), patient_id, period_from=period_from, period_to=period_to),
    )


@router.get("/billing/ar-ageing", operation_id="get_ar_ageing")
def get_ageing(ctx: BillingReader, as_of: date | None = None) -> AgeingRead:
    """Open receivables by age since the invoice date: 0–30, 31–60, 61–90, 90+ days."""
    return to_model(ctx, AgeingRead, svc.ageing(ctx.uow(), as_of=as_of))


@router.get("/billing/settings", operation_id="get_billing_settings")
def get_settings(ctx: BillingReader) -> BillingSettingsRead:
    policy = ctx.runtime.billing_policy
    return BillingSettingsRead(
        currency=ctx.hospital.currency,
        currency_minor_unit=ctx.hospital.currency_minor_unit,
        discount_approval_percent=policy.discount_approval_percent,
        discount_approval_amount=policy.discount_approval_amount,
        refund_approval_amount=policy.refund_approval_amount,
        invoice_due_days=policy.invoice_due_days,
        has_logo=read_logo(ctx.hospital.logo_file) is not None,
        gateway_configured=ctx.runtime.billing.card is not None,
        payer_configured=ctx.runtime.billing.payer is not None,
    )


@router.get(
    "/billing/logo",
    operation_id="get_billing_logo",
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}},
)
def get_logo(ctx: SignedIn) -> Response:
    """The hospital's logo for printed letterheads (PNG or JPEG; 404 when none is set): the
    same file as ``GET /hospital/logo``, read by the same rules."""
    logo = read_logo(ctx.hospital.logo_file)
    if logo is None:
        raise NotFoundError("No hospital logo is configured.")
    return Response(
        logo.content, media_type=logo.media_type, headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get("/billing/approvals", operation_id="list_billing_approvals")
def list_approvals(
    ctx: BillingReader,
    status: Literal["pending", "approved", "rejected", "withdrawn"] | None = "pending",
    kind: ApprovalKind | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ApprovalRead]:
    rows, total = approval_svc.list_approvals(
        ctx.uow(), status=status, kind=kind, limit=limit, offset=offset
    )
    return Page[ApprovalRead](items=to_models(ctx, ApprovalRead, rows), total=total)


@router.post(
    "/billing/approvals/{approval_id}/approve",
    operation_id="approve_billing_request",
    responses={403: {"description": "second_user_required (own request)"}},
)
def approve(
    approval_id: IdPath, ctx: Approver, body: ApprovalDecision | None = None
) -> ApprovalRead:
    """Approve another user's discount, refund or write-off (audited)."""
    return to_model(
        ctx,
        ApprovalRead,
        approval_svc.decide(ctx.uow(), approval_id, approve=True, note=body.note if body else None),
    )


@router.post("/billing/approvals/{approval_id}/reject", operation_id="reject_billing_request")
def reject(
    approval_id: IdPath, ctx: Approver, body: ApprovalDecision | None = None
) -> ApprovalRead:
    return to_model(
        ctx,
        ApprovalRead,
        approval_svc.decide(
            ctx.uow(), approval_id, approve=False, note=body.note if body else None
        ),
    )


@router.post("/billing/prints", operation_id="record_billing_print", status_code=204)
def record_print(body: BillingPrintRecord, ctx: BillingReader) -> Response:
    """Record that an invoice, receipt, statement or claim summary was printed (audited)."""
    svc.record_print(
        ctx.uow(),
        document=body.document,
        invoice_id=body.invoice_id,
        payment_id=body.payment_id,
        patient_id=body.patient_id,
    )
    return Response(status_code=204)
