"""Dispensing at the pharmacy: the live prescription queue, verification (safety re-check,
FEFO picks, scan verdicts), dispenses, returns, send-back, and label data.

New prescriptions reach the queue over ``GET /api/v1/events`` (``prescription.created``);
a dispense publishes ``prescription.dispensed``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.dispensing import (
    DispenseCreate,
    DispensePreviewRead,
    DispenseRead,
    LabelRead,
    QueueEntryRead,
    ReturnCreate,
    SendBackCreate,
    SendBackRead,
)
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import dispensing as service
from hms_server.services import dispensing_queue
from hms_server.services.dispensing import LineInput, ReturnInput

router = APIRouter(tags=["dispensing"], responses=PROBLEM_RESPONSES)

Dispenser = requirement(Perm.DISPENSE)


def _lines(body: DispenseCreate) -> list[LineInput]:
    return [LineInput(ln.prescription_item_id, ln.quantity, ln.scanned_code) for ln in body.lines]


@router.get("/dispensing-queue", operation_id="dispensing_queue")
def dispensing_queue_route(
    ctx: Dispenser,
    days: Annotated[int, Query(ge=1, le=365, description="Prescribed within")] = 30,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[QueueEntryRead]:
    """Active prescriptions with something still owed, oldest first."""
    rows, total = dispensing_queue.queue(ctx.uow(), days=days, q=q, limit=limit, offset=offset)
    return Page[QueueEntryRead](items=[QueueEntryRead.model_validate(r) for r in rows], total=total)


@router.post("/dispenses/preview", operation_id="preview_dispense")
def preview_dispense(body: DispenseCreate, ctx: Dispenser) -> DispensePreviewRead:
    """What dispensing would do now: safety conflicts, picked batches, scan verdicts.
    Nothing is dispensed."""
    return DispensePreviewRead.model_validate(
        service.preview_dispense(
            ctx.uow(),
            prescription_id=body.prescription_id,
            location_id=body.location_id,
            lines=_lines(body),
        )
    )


@router.post(
    "/dispenses",
    operation_id="create_dispense",
    status_code=201,
    response_model=DispenseRead,
    responses={
        409: {
            "description": "insufficient_stock, exceeds_owed, nothing_owed, "
            "prescription_cancelled, or a safety conflict "
            "(allergy_conflict, interaction, "
            "duplicate_therapy: resend with "
            "override_reason)"
        }
    },
)
def create_dispense(
    body: DispenseCreate, request: Request, ctx: Dispenser, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Dispense prescription items from a location, first expiry first. The answer lists
    the picked batches; what is not dispensed stays owed."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: service.dispense(
            uow,
            prescription_id=body.prescription_id,
            location_id=body.location_id,
            lines=_lines(body),
            override_reason=body.override_reason,
        ),
        DispenseRead.model_validate,
        headers=lambda view: {"Location": f"/api/v1/dispenses/{view['id']}"},
    )


@router.get("/dispenses/{dispense_id}", operation_id="get_dispense")
def get_dispense(dispense_id: int, ctx: Dispenser) -> DispenseRead:
    return DispenseRead.model_validate(service.get_dispense(ctx.uow(), dispense_id))


@router.get(
    "/prescriptions/{prescription_id}/dispenses", operation_id="list_prescription_dispenses"
)
def list_prescription_dispenses(prescription_id: int, ctx: Dispenser) -> list[DispenseRead]:
    return [
        DispenseRead.model_validate(v) for v in service.list_dispenses(ctx.uow(), prescription_id)
    ]


@router.post(
    "/dispenses/{dispense_id}/returns",
    operation_id="return_dispensed",
    status_code=201,
    response_model=DispenseRead,
)
def return_dispensed(
    dispense_id: int,
    body: ReturnCreate,
    request: Request,
    ctx: Dispenser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Medicines handed back go back to stock (or to waste when ``restock`` is false)."""
    lines = [ReturnInput(ln.dispense_line_id, ln.quantity, ln.restock) for ln in body.lines]
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: service.return_dispensed(uow, dispense_id, lines=lines, reason=body.reason),
        DispenseRead.model_validate,
    )


@router.post(
    "/prescriptions/{prescription_id}/send-back",
    operation_id="send_back_prescription",
    status_code=201,
)
def send_back_prescription(
    prescription_id: int, body: SendBackCreate, ctx: Dispenser
) -> SendBackRead:
    """Return the prescription to its prescriber with a reason; it leaves the queue."""
    record = service.send_back(ctx.uow(), prescription_id, reason=body.reason)
    return SendBackRead(prescription_id=record.prescription_id, reason=record.reason, at=record.at)


@router.get("/dispense-lines/{line_id}/label", operation_id="dispense_label")
def dispense_label(line_id: int, ctx: Dispenser) -> LabelRead:
    """What the line's dispensing label prints (the desktop renders the PDF locally)."""
    return LabelRead.model_validate(service.label(ctx.uow(), line_id))
