"""Charges: manual ones (with a reason; audited) and the patient's list. Automatic charges
come from consultations, lab orders, dispensing and bed-days (see
``services/billing/charges.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.billing import ChargeCreate, ChargeRead, ChargeReverse, ChargeStatus
from hms_contract.common import Page
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath, Limit, Offset, OptionalId
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.routers._billing import (
    BillingReader,
    BillingWriter,
    to_model,
    to_models,
)
from hms_server.services.billing import charges as svc

router = APIRouter(tags=["billing: charges"], responses=PROBLEM_RESPONSES)


@router.post(
    "/charges",
    operation_id="create_charge",
    status_code=201,
    response_model=ChargeRead,
    responses={422: {"description": "unknown_price_code, too_many_decimals, ..."}},
)
def create_charge(
    body: ChargeCreate, request: Request, ctx: BillingWriter, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """A manual charge priced from the list in force on the service date."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.add_manual_charge(
            uow,
            patient_id=body.patient_id,
            price_item_code=body.price_item_code,
            price_item_id=body.price_item_id,
            quantity=body.quantity,
            reason=body.reason,
            encounter_id=body.encounter_id,
            service_date=body.service_date,
        ),
        lambda charge: to_model(ctx, ChargeRead, charge),
    )


@router.get("/patients/{patient_id}/charges", operation_id="list_patient_charges")
def list_patient_charges(
    patient_id: IdPath,
    ctx: BillingReader,
    status: Annotated[ChargeStatus | None, Query()] = None,
    encounter_id: OptionalId = None,
    admission_id: OptionalId = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> Page[ChargeRead]:
    """The patient's charges (``status=unbilled`` for what is not on an invoice yet)."""
    rows, total = svc.list_patient_charges(
        ctx.uow(),
        patient_id,
        status=status,
        encounter_id=encounter_id,
        admission_id=admission_id,
        limit=limit,
        offset=offset,
    )
    return Page[ChargeRead](items=to_models(ctx, ChargeRead, rows), total=total)


@router.post("/charges/{charge_id}/reverse", operation_id="reverse_charge")
def reverse_charge(charge_id: IdPath, body: ChargeReverse, ctx: BillingWriter) -> ChargeRead:
    """Take back an unbilled charge (409 when billed: credit its invoice instead)."""
    return to_model(ctx, ChargeRead, svc.reverse_charge(ctx.uow(), charge_id, reason=body.reason))
