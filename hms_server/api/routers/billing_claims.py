"""Claims to payers: the worklists (to submit, rejected, awaiting remittance), batch
submission (one FHIR batch Bundle per payer, adjudicated at once), remittances, and what
happens to a rejected amount."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.insurance import (
    ClaimBatchCreate,
    ClaimBatchRead,
    ClaimRead,
    ClaimStatus,
    RejectionResolve,
    RemittanceCreate,
)
from hms_contract.payments import PaymentRead
from hms_server.api.deps import RequestContext
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath, Limit, Offset, OptionalId
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.routers._billing import (
    BillingReader,
    InsuranceManager,
    to_model,
    to_models,
)
from hms_server.services.billing import claims as svc
from hms_server.services.billing.views import claim_views

router = APIRouter(tags=["billing: claims"], responses=PROBLEM_RESPONSES)


def _claims(ctx: RequestContext, rows: list) -> list[ClaimRead]:  # type: ignore[type-arg]
    uow = ctx.uow()
    with uow:
        return to_models(ctx, ClaimRead, claim_views(uow, rows))


@router.get("/claims", operation_id="list_claims")
def list_claims(
    ctx: BillingReader,
    worklist: Literal["to_submit", "submitted", "rejected", "awaiting_remittance"] | None = None,
    payer_id: OptionalId = None,
    patient_id: OptionalId = None,
    status: Annotated[list[ClaimStatus] | None, Query()] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[ClaimRead]:
    """Claims by worklist: ``to_submit`` (ready), ``rejected`` (rejected amounts not yet
    resolved), ``awaiting_remittance`` (approved, not yet paid in full)."""
    rows, total = svc.list_claims(
        ctx.uow(),
        payer_id=payer_id,
        status=status,
        patient_id=patient_id,
        worklist=worklist,
        limit=limit,
        offset=offset,
    )
    return Page[ClaimRead](items=_claims(ctx, rows), total=total)


@router.get("/claims/{claim_id}", operation_id="get_claim")
def get_claim(claim_id: IdPath, ctx: BillingReader) -> ClaimRead:
    return _claims(ctx, [svc.get_claim(ctx.uow(), claim_id)])[0]


@router.post(
    "/claim-batches",
    operation_id="submit_claim_batch",
    status_code=201,
    response_model=ClaimBatchRead,
    responses={503: {"description": "payer_unavailable (claims stay ready)"}},
)
def submit_batch(
    body: ClaimBatchCreate,
    request: Request,
    ctx: InsuranceManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send the payer's ready claims (or the listed ones) as one FHIR batch; the answer has
    each claim adjudicated (approved, partly approved or rejected with reasons)."""

    def answer(result):  # type: ignore[no-untyped-def]
        batch, claims = result
        return ClaimBatchRead(
            id=batch.id,
            number=batch.number,
            payer_id=batch.payer_id,
            submitted_at=batch.submitted_at,
            claims=_claims(ctx, claims),
        )

    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.submit_batch(
            uow, ctx.runtime.billing.payer, payer_id=body.payer_id, claim_ids=body.claim_ids
        ),
        answer,
    )


@router.post(
    "/claims/{claim_id}/remittance",
    operation_id="post_claim_remittance",
    status_code=201,
    response_model=PaymentRead,
)
def post_remittance(
    claim_id: IdPath,
    body: RemittanceCreate,
    request: Request,
    ctx: InsuranceManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The payer's money for an approved claim (an insurance payment with its receipt)."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.post_remittance(
            uow,
            claim_id,
            amount=body.amount,
            reference=body.reference,
            received_on=body.received_on,
        ),
        lambda view: to_model(ctx, PaymentRead, view),
    )


@router.post("/claims/{claim_id}/rejection", operation_id="resolve_claim_rejection")
def resolve_rejection(claim_id: IdPath, body: RejectionResolve, ctx: InsuranceManager) -> ClaimRead:
    """Bill the rejected amount to the patient, or ask a manager to write it off."""
    claim = svc.resolve_rejection(ctx.uow(), claim_id, action=body.action, reason=body.reason)
    return _claims(ctx, [claim])[0]
