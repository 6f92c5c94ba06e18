"""Ward requisitions: nurses request stock for their ward store, the pharmacy approves and
issues it (a ledger transfer), the ward confirms receipt."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.dispensing import (
    RequisitionCreate,
    RequisitionDecision,
    RequisitionRead,
    RequisitionStatus,
    RequisitionStep,
)
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import requisitions as service

router = APIRouter(tags=["requisitions"], responses=PROBLEM_RESPONSES)

StockReader = requirement(Perm.STOCK_READ)
WardRequester = requirement(Perm.WARD_STOCK_REQUEST)
InventoryManager = requirement(Perm.INVENTORY_MANAGE)
OptionalId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


@router.get("/requisitions", operation_id="list_requisitions")
def list_requisitions(
    ctx: StockReader,
    ward_location_id: OptionalId = None,
    source_location_id: OptionalId = None,
    status: RequisitionStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[RequisitionRead]:
    rows, total = service.list_requisitions(
        ctx.uow(),
        ward_location_id=ward_location_id,
        source_location_id=source_location_id,
        status=status,
        limit=limit,
        offset=offset,
    )
    return Page[RequisitionRead](
        items=[RequisitionRead.model_validate(r) for r in rows], total=total
    )


@router.post(
    "/requisitions",
    operation_id="create_requisition",
    status_code=201,
    response_model=RequisitionRead,
)
def create_requisition(
    body: RequisitionCreate,
    request: Request,
    ctx: WardRequester,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A ward asks a store for stock."""
    lines = [(ln.item_id, ln.quantity) for ln in body.lines]
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: service.request_stock(
            uow,
            ward_location_id=body.ward_location_id,
            source_location_id=body.source_location_id,
            lines=lines,
            note=body.note,
        ),
        RequisitionRead.model_validate,
    )


@router.get("/requisitions/{requisition_id}", operation_id="get_requisition")
def get_requisition(requisition_id: int, ctx: StockReader) -> RequisitionRead:
    return RequisitionRead.model_validate(service.get_requisition(ctx.uow(), requisition_id))


@router.post("/requisitions/{requisition_id}/decision", operation_id="decide_requisition")
def decide_requisition(
    requisition_id: int, body: RequisitionDecision, ctx: InventoryManager
) -> RequisitionRead:
    """Approve (optionally less than requested) or reject."""
    approved = {ln.line_id: ln.quantity for ln in body.lines}
    return RequisitionRead.model_validate(
        service.decide_requisition(
            ctx.uow(),
            requisition_id,
            version=body.version,
            approve=body.approve,
            approved=approved,
            note=body.note,
        )
    )


@router.post("/requisitions/{requisition_id}/issue", operation_id="issue_requisition")
def issue_requisition(
    requisition_id: int, body: RequisitionStep, ctx: InventoryManager
) -> RequisitionRead:
    """Issue the approved stock: a transfer from the store into the ward store."""
    return RequisitionRead.model_validate(
        service.issue_requisition(ctx.uow(), requisition_id, version=body.version)
    )


@router.post("/requisitions/{requisition_id}/receive", operation_id="receive_requisition")
def receive_requisition(
    requisition_id: int, body: RequisitionStep, ctx: WardRequester
) -> RequisitionRead:
    return RequisitionRead.model_validate(
        service.receive_requisition(ctx.uow(), requisition_id, version=body.version)
    )


@router.post("/requisitions/{requisition_id}/cancel", operation_id="cancel_requisition")
def cancel_requisition(
    requisition_id: int, body: RequisitionStep, ctx: WardRequester
) -> RequisitionRead:
    return RequisitionRead.model_validate(
        service.cancel_requisition(ctx.uow(), requisition_id, version=body.version)
    )
