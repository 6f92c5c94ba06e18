"""Appointments (book, list, read, reschedule, cancel, no-show, check-in) and the waitlist.

Booking and check-in are reception work (``appointments.write``); reading needs
``schedule.read``, patient names are included only for roles with ``patients.read``, and the
reason and notes only for those who book or treat (``APPOINTMENT_REASON_READERS``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page, SaneDate
from hms_contract.scheduling import (
    AppointmentCancel,
    AppointmentCreate,
    AppointmentNoShow,
    AppointmentRead,
    AppointmentReschedule,
    AppointmentStatus,
    QueueEntryRead,
    WaitlistCreate,
    WaitlistRead,
)
from hms_server.api.deps import RequestContext, requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath, OptionalId
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.views import combined
from hms_server.domain.permissions import APPOINTMENT_REASON_READERS, Perm
from hms_server.services import appointments as svc
from hms_server.services import queue as queue_svc
from hms_server.services import waitlist as waitlist_svc

router = APIRouter(tags=["appointments"], responses=PROBLEM_RESPONSES)

ScheduleReader = requirement(Perm.SCHEDULE_READ)
AppointmentWriter = requirement(Perm.APPOINTMENTS_WRITE)
AppointmentSort = Annotated[
    str,
    Query(
        pattern=r"^-?(start|id|status|doctor_id)$",
        description="start, id, status, doctor_id; '-' = desc",
    ),
]


def may_read_reasons(ctx: RequestContext) -> bool:
    """Reasons and notes say why a patient comes: for those who book or treat them only."""
    return bool(APPOINTMENT_REASON_READERS & ctx.principal.permissions)


def appointment_read(
    ctx: RequestContext, a: object, doctor: object = None, patient: object = None
) -> AppointmentRead:
    """Patient names only for roles that may read patients; reasons and notes only for
    roles that book or treat (a manager sees the schedule, not why patients come)."""
    view = svc.appointment_view(
        ctx.hospital,
        a,
        doctor,
        patient,  # type: ignore[arg-type]
        show_patient=Perm.PATIENTS_READ in ctx.principal.permissions,
        show_reasons=may_read_reasons(ctx),
    )
    return AppointmentRead.model_validate(view, from_attributes=True)


@router.post(
    "/appointments",
    operation_id="book_appointment",
    status_code=201,
    response_model=AppointmentRead,
    responses={409: {"description": "slot_taken (with suggestions), patient_busy"}},
)
def book_appointment(
    body: AppointmentCreate,
    request: Request,
    ctx: AppointmentWriter,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Book a slot. The end follows from the type (default ``new``) unless given. A retried
    request with the same ``Idempotency-Key`` returns the first booking."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.book_appointment(
            uow,
            patient_id=body.patient_id,
            doctor_id=body.doctor_id,
            start=body.start,
            end=body.end,
            type_code=body.type,
            reason=body.reason,
            notes=body.notes,
            overbook=body.overbook,
        ),
        lambda a: appointment_read(ctx, a),
        headers=lambda a: {"Location": f"/api/v1/appointments/{a.id}"},
    )


@router.get("/appointments", operation_id="list_appointments")
def list_appointments(
    ctx: ScheduleReader,
    day: Annotated[
        SaneDate | None, Query(alias="date", description="Local day (YYYY-MM-DD)")
    ] = None,
    date_to: Annotated[SaneDate | None, Query(description="Last local day of a range")] = None,
    doctor_id: OptionalId = None,
    department_id: OptionalId = None,
    patient_id: OptionalId = None,
    status: Annotated[list[AppointmentStatus] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    sort: AppointmentSort = "start",
) -> Page[AppointmentRead]:
    """Appointments by day (or range), doctor, department, patient and status."""
    rows, total = svc.list_appointments(
        ctx.uow(),
        day=day,
        date_to=date_to,
        doctor_id=doctor_id,
        department_id=department_id,
        patient_id=patient_id,
        status=list(status) if status else None,
        limit=limit,
        offset=offset,
        sort=sort,
    )
    items = svc.appointment_list_items(
        ctx.hospital,
        rows,
        show_patient=Perm.PATIENTS_READ in ctx.principal.permissions,
        show_reasons=may_read_reasons(ctx),
    )
    return Page[AppointmentRead](
        items=[AppointmentRead.model_validate(item) for item in items], total=total
    )


@router.get("/appointments/{appointment_id}", operation_id="get_appointment")
def get_appointment(appointment_id: IdPath, ctx: ScheduleReader) -> AppointmentRead:
    """One appointment (the read is audited against the patient)."""
    return appointment_read(ctx, *svc.get_appointment_view(ctx.uow(), appointment_id))


@router.post("/appointments/{appointment_id}/reschedule", operation_id="reschedule_appointment")
def reschedule(
    appointment_id: IdPath, body: AppointmentReschedule, ctx: AppointmentWriter
) -> AppointmentRead:
    """Move to another free slot of the same doctor; ``version`` must be current."""
    a = svc.reschedule_appointment(
        ctx.uow(), appointment_id, start=body.start, end=body.end, version=body.version
    )
    return appointment_read(ctx, a)


@router.post("/appointments/{appointment_id}/cancel", operation_id="cancel_appointment")
def cancel(
    appointment_id: IdPath, body: AppointmentCancel, ctx: AppointmentWriter
) -> AppointmentRead:
    """Cancel with a reason; the freed slot is offered to the waitlist."""
    a = svc.cancel_appointment(ctx.uow(), appointment_id, reason=body.reason, version=body.version)
    return appointment_read(ctx, a)


@router.post("/appointments/{appointment_id}/no-show", operation_id="mark_no_show")
def no_show(
    appointment_id: IdPath, ctx: AppointmentWriter, body: AppointmentNoShow | None = None
) -> AppointmentRead:
    a = svc.mark_no_show(ctx.uow(), appointment_id, version=body.version if body else None)
    return appointment_read(ctx, a)


@router.post(
    "/appointments/{appointment_id}/check-in",
    operation_id="check_in_appointment",
    response_model=QueueEntryRead,
)
def check_in(appointment_id: IdPath, ctx: AppointmentWriter) -> QueueEntryRead:
    """The patient has arrived: they join the doctor's queue with a token number."""
    entry = queue_svc.check_in(ctx.uow(), appointment_id)
    return QueueEntryRead.model_validate(
        queue_svc.queue_entry_view(
            ctx.hospital, entry, show_patient=Perm.PATIENTS_READ in ctx.principal.permissions
        ),
        from_attributes=True,
    )


# --- waitlist ------------------------------------------------------------------------------


@router.post(
    "/waitlist", operation_id="add_to_waitlist", status_code=201, response_model=WaitlistRead
)
def add_to_waitlist(
    body: WaitlistCreate,
    request: Request,
    ctx: AppointmentWriter,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Wait for a slot with a doctor (or anyone in a department) between two dates."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: waitlist_svc.add_to_waitlist(
            uow,
            patient_id=body.patient_id,
            doctor_id=body.doctor_id,
            department_id=body.department_id,
            earliest_date=body.earliest_date,
            latest_date=body.latest_date,
            type_code=body.type,
            reason=body.reason,
        ),
        WaitlistRead.model_validate,
    )


@router.get("/waitlist", operation_id="list_waitlist")
def list_waitlist(
    ctx: ScheduleReader,
    status: Annotated[str | None, Query(pattern=r"^(waiting|offered|booked|cancelled)$")] = None,
    doctor_id: OptionalId = None,
    department_id: OptionalId = None,
    patient_id: OptionalId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[WaitlistRead]:
    """Waiting (and offered) patients, longest-waiting first, with the doctor's and — for
    roles that may read demographics — the patient's name and MRN; the reason only for roles
    that may read appointment reasons."""
    rows, total = waitlist_svc.list_waitlist(
        ctx.uow(),
        status=status,
        doctor_id=doctor_id,
        department_id=department_id,
        patient_id=patient_id,
        limit=limit,
        offset=offset,
        show_patient=Perm.PATIENTS_READ in ctx.principal.permissions,
    )
    items = [
        WaitlistRead.model_validate(
            combined(
                v.entry,
                patient_mrn=v.patient_mrn,
                patient_name=v.patient_name,
                doctor_name=v.doctor_name,
                department_name=v.department_name,
                offered_doctor_name=v.offered_doctor_name,
            ),
            from_attributes=True,
        )
        for v in rows
    ]
    if not may_read_reasons(ctx):
        items = [item.model_copy(update={"reason": None}) for item in items]
    return Page[WaitlistRead](items=items, total=total)


@router.post(
    "/waitlist/{entry_id}/accept",
    operation_id="accept_waitlist_offer",
    status_code=201,
    response_model=AppointmentRead,
)
def accept_offer(entry_id: IdPath, ctx: AppointmentWriter) -> AppointmentRead:
    """Book the slot offered to this waitlist entry."""
    return appointment_read(ctx, waitlist_svc.accept_offer(ctx.uow(), entry_id))


@router.post("/waitlist/{entry_id}/remove", operation_id="remove_from_waitlist")
def remove(entry_id: IdPath, ctx: AppointmentWriter) -> WaitlistRead:
    return WaitlistRead.model_validate(waitlist_svc.remove_from_waitlist(ctx.uow(), entry_id))
