"""The consultation queue board and its actions (call, start, complete).

``queue.manage`` (reception, doctors); a doctor with their own clinic works only their own
queue. Starting a consultation opens the patient's encounter; completing closes it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hms_contract.common import SaneDate
from hms_contract.scheduling import QueueBoardRead, QueueEntryRead, QueueSummary
from hms_server.api.deps import RequestContext, requirement
from hms_server.api.params import IdPath, OptionalId
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import queue as svc

router = APIRouter(prefix="/queue", tags=["queue"], responses=PROBLEM_RESPONSES)

QueueReader = requirement(Perm.SCHEDULE_READ)
QueueManager = requirement(Perm.QUEUE_MANAGE)


def queue_entry_read(
    ctx: RequestContext,
    entry: object,
    *,
    doctor: object = None,
    patient: object = None,
    appointment: object = None,
    wait: int | None = None,
) -> QueueEntryRead:
    """Patient names only for roles that may read patients."""
    view = svc.queue_entry_view(
        ctx.hospital,
        entry,
        doctor=doctor,
        patient=patient,  # type: ignore[arg-type]
        appointment=appointment,
        wait=wait,  # type: ignore[arg-type]
        show_patient=Perm.PATIENTS_READ in ctx.principal.permissions,
    )
    return QueueEntryRead.model_validate(view, from_attributes=True)


@router.get("", operation_id="get_queue_board")
def queue_board(
    ctx: QueueReader,
    doctor_id: OptionalId = None,
    department_id: OptionalId = None,
    day: Annotated[SaneDate | None, Query(alias="date", description="Default: today")] = None,
) -> QueueBoardRead:
    """The day's queue in token order with waiting times (check-in until called; until now
    while still waiting) and a summary per status."""
    board = svc.queue_board(ctx.uow(), day=day, doctor_id=doctor_id, department_id=department_id)
    items = [
        queue_entry_read(
            ctx,
            r.entry,
            doctor=r.doctor,
            patient=r.patient,
            appointment=r.appointment,
            wait=r.waiting_minutes,
        )
        for r in board.rows
    ]
    return QueueBoardRead(
        items=items,
        total=len(items),
        date=board.day,
        summary=QueueSummary(
            **board.counts,
            average_wait_minutes=board.average_wait_minutes,
            longest_wait_minutes=board.longest_wait_minutes,
        ),
    )


@router.post("/{entry_id}/call", operation_id="call_queue_patient")
def call_patient(entry_id: IdPath, ctx: QueueManager) -> QueueEntryRead:
    """Call the patient in (repeatable)."""
    return queue_entry_read(ctx, svc.call_patient(ctx.uow(), entry_id))


@router.post("/{entry_id}/start", operation_id="start_consultation")
def start(entry_id: IdPath, ctx: QueueManager) -> QueueEntryRead:
    """Start the consultation and open the encounter."""
    return queue_entry_read(ctx, svc.start_consultation(ctx.uow(), entry_id))


@router.post("/{entry_id}/complete", operation_id="complete_consultation")
def complete(entry_id: IdPath, ctx: QueueManager) -> QueueEntryRead:
    """Finish the consultation and close the encounter."""
    return queue_entry_read(ctx, svc.complete_consultation(ctx.uow(), entry_id))
