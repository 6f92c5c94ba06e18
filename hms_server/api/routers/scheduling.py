"""Departments, doctors, weekly schedules, exceptions, appointment types and free slots.

Reading is open to everyone with ``schedule.read``; changing schedules needs
``schedule.manage`` (admin, manager). Times are answered in the hospital time zone.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from hms_contract.common import Page, SaneDate, SaneDateTime
from hms_contract.scheduling import (
    AppointmentTypeRead,
    DepartmentCreate,
    DepartmentRead,
    DoctorCreate,
    DoctorRead,
    DoctorUpdate,
    FreeSlotList,
    FreeSlotRead,
    ScheduleExceptionIn,
    ScheduleExceptionRead,
    SessionTemplateRead,
    SlotList,
    SlotRead,
    WeeklySchedule,
)
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath, OptionalId
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.domain.scheduling import SessionTemplate
from hms_server.services import scheduling as svc

router = APIRouter(tags=["scheduling"], responses=PROBLEM_RESPONSES)
T = TypeVar("T", bound=BaseModel)

ScheduleReader = requirement(Perm.SCHEDULE_READ)
ScheduleManager = requirement(Perm.SCHEDULE_MANAGE)


def _read(model: type[T], row: object) -> T:
    """A service's row or view as the contract's model (fields by name)."""
    return model.model_validate(row, from_attributes=True)


# --- departments ---------------------------------------------------------------------------


@router.get("/departments", operation_id="list_departments")
def list_departments(ctx: ScheduleReader) -> Page[DepartmentRead]:
    """Active departments (clinics) with their number of doctors."""
    items = [_read(DepartmentRead, d) for d in svc.list_departments(ctx.uow())]
    return Page[DepartmentRead](items=items, total=len(items))


@router.post(
    "/departments", operation_id="create_department", status_code=201, response_model=DepartmentRead
)
def create_department(
    body: DepartmentCreate,
    request: Request,
    ctx: ScheduleManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.create_department(uow, name=body.name, location=body.location),
        lambda d: _read(DepartmentRead, d),
    )


# --- doctors -------------------------------------------------------------------------------


@router.get("/doctors", operation_id="list_doctors")
def list_doctors(
    ctx: ScheduleReader,
    department_id: OptionalId = None,
    specialty: Annotated[str | None, Query(max_length=100)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    include_inactive: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[DoctorRead]:
    """Bookable doctors by name; filter by department, specialty or a name fragment."""
    rows, total = svc.list_doctors(
        ctx.uow(),
        department_id=department_id,
        specialty=specialty,
        q=q,
        limit=limit,
        offset=offset,
        include_inactive=include_inactive,
    )
    return Page[DoctorRead](items=[_read(DoctorRead, d) for d in rows], total=total)


@router.post("/doctors", operation_id="create_doctor", status_code=201, response_model=DoctorRead)
def create_doctor(
    body: DoctorCreate,
    request: Request,
    ctx: ScheduleManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Make a user with the doctor role bookable in a department."""

    def work(uow):  # type: ignore[no-untyped-def]
        doctor = svc.create_doctor(
            uow,
            user_id=body.user_id,
            department_id=body.department_id,
            specialty=body.specialty,
            display_name=body.display_name,
            registration_number=body.registration_number,
        )
        return svc.get_doctor(uow, doctor.id)

    return run_idempotent(
        ctx, request, idempotency_key, body, work, lambda view: _read(DoctorRead, view)
    )


@router.get("/doctors/{doctor_id}", operation_id="get_doctor")
def get_doctor(doctor_id: IdPath, ctx: ScheduleReader) -> DoctorRead:
    return _read(DoctorRead, svc.get_doctor(ctx.uow(), doctor_id))


@router.patch("/doctors/{doctor_id}", operation_id="update_doctor")
def update_doctor(doctor_id: IdPath, body: DoctorUpdate, ctx: ScheduleManager) -> DoctorRead:
    """Move to another department, rename, change specialty, (de)activate; needs ``version``."""
    svc.update_doctor(
        ctx.uow(),
        doctor_id,
        version=body.version,
        department_id=body.department_id,
        specialty=body.specialty,
        display_name=body.display_name,
        active=body.active,
        registration_number=body.registration_number,
    )
    return _read(DoctorRead, svc.get_doctor(ctx.uow(), doctor_id))


# --- weekly schedule and exceptions ----------------------------------------------------------


def _template_read(t: object) -> SessionTemplateRead:
    return _read(SessionTemplateRead, t)


@router.get("/doctors/{doctor_id}/schedule", operation_id="get_doctor_schedule")
def get_schedule(doctor_id: IdPath, ctx: ScheduleReader) -> Page[SessionTemplateRead]:
    """The doctor's weekly sessions."""
    rows = svc.list_templates(ctx.uow(), doctor_id)
    return Page[SessionTemplateRead](items=[_template_read(t) for t in rows], total=len(rows))


@router.put("/doctors/{doctor_id}/schedule", operation_id="replace_doctor_schedule")
def replace_schedule(
    doctor_id: IdPath, body: WeeklySchedule, ctx: ScheduleManager
) -> Page[SessionTemplateRead]:
    """Replace the doctor's whole weekly schedule (sessions, slot length, overbook places)."""
    sessions = [
        SessionTemplate(
            weekday=s.weekday,
            start=s.start_time,
            end=s.end_time,
            slot_minutes=s.slot_minutes,
            overbook_places=s.overbook_places,
            location=s.location,
            valid_from=s.valid_from or date.min,
            valid_to=s.valid_to,
        )
        for s in body.sessions
    ]
    rows = svc.replace_templates(ctx.uow(), doctor_id, sessions)
    return Page[SessionTemplateRead](items=[_template_read(t) for t in rows], total=len(rows))


def _exception_read(e: object) -> ScheduleExceptionRead:
    return _read(ScheduleExceptionRead, e)


@router.get("/doctors/{doctor_id}/exceptions", operation_id="list_schedule_exceptions")
def list_exceptions(
    doctor_id: IdPath,
    ctx: ScheduleReader,
    from_date: Annotated[SaneDate | None, Query(alias="from")] = None,
    to_date: Annotated[SaneDate | None, Query(alias="to")] = None,
) -> Page[ScheduleExceptionRead]:
    """Leave, holidays and cancelled sessions affecting the doctor (hospital-wide included)."""
    rows = svc.list_exceptions(ctx.uow(), doctor_id, first=from_date, last=to_date)
    return Page[ScheduleExceptionRead](items=[_exception_read(e) for e in rows], total=len(rows))


@router.post(
    "/doctors/{doctor_id}/exceptions",
    operation_id="add_schedule_exception",
    status_code=201,
    response_model=ScheduleExceptionRead,
)
def add_exception(
    doctor_id: IdPath,
    body: ScheduleExceptionIn,
    request: Request,
    ctx: ScheduleManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.add_exception(
            uow,
            doctor_id=doctor_id,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            kind=body.kind,
            start_time=body.start_time,
            end_time=body.end_time,
            reason=body.reason,
        ),
        _exception_read,
    )


@router.post(
    "/schedule-exceptions",
    operation_id="add_hospital_closure",
    status_code=201,
    response_model=ScheduleExceptionRead,
)
def add_hospital_closure(
    body: ScheduleExceptionIn,
    request: Request,
    ctx: ScheduleManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A closure for every doctor (e.g. a public holiday)."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.add_exception(
            uow,
            doctor_id=None,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            kind=body.kind,
            start_time=body.start_time,
            end_time=body.end_time,
            reason=body.reason,
        ),
        _exception_read,
    )


@router.delete(
    "/schedule-exceptions/{exception_id}", operation_id="delete_schedule_exception", status_code=204
)
def delete_exception(exception_id: IdPath, ctx: ScheduleManager) -> Response:
    svc.delete_exception(ctx.uow(), exception_id)
    return Response(status_code=204)


@router.get("/appointment-types", operation_id="list_appointment_types")
def list_appointment_types(ctx: ScheduleReader) -> Page[AppointmentTypeRead]:
    rows = svc.list_appointment_types(ctx.uow())
    items = [_read(AppointmentTypeRead, t) for t in rows]
    return Page[AppointmentTypeRead](items=items, total=len(items))


# --- slots -----------------------------------------------------------------------------------


@router.get("/slots", operation_id="list_slots")
def list_slots(
    ctx: ScheduleReader,
    doctor_id: Annotated[int, Query(ge=1, le=2**63 - 1)],
    day: Annotated[SaneDate, Query(alias="date", description="YYYY-MM-DD (hospital time zone)")],
) -> SlotList:
    """Every slot of the doctor's day; ``available`` = the regular place is free and the slot
    has not started."""
    tz = ctx.hospital.zone
    views = svc.list_slots(ctx.uow(), doctor_id=doctor_id, day=day)
    items = [
        SlotRead(
            start=v.start.astimezone(tz),
            end=v.end.astimezone(tz),
            available=v.available,
            overbook_available=v.overbook_available,
            location=v.location,
        )
        for v in views
    ]
    return SlotList(items=items, doctor_id=doctor_id, date=day, timezone=ctx.hospital.timezone)


@router.get("/slots/next-available", operation_id="next_available_slots")
def next_available(
    ctx: ScheduleReader,
    department_id: OptionalId = None,
    specialty: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    doctor_id: OptionalId = None,
    after: Annotated[
        SaneDateTime | SaneDate | None,
        Query(alias="from", description="Date or date-time to search from (default now)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    days: Annotated[int, Query(ge=1, le=svc.MAX_SEARCH_DAYS)] = 28,
    type_code: Annotated[str | None, Query(alias="type", min_length=1, max_length=32)] = None,
) -> FreeSlotList:
    """The earliest free slots across a department's or specialty's doctors (or one doctor)."""
    tz = ctx.hospital.zone
    start: datetime | None
    if isinstance(after, datetime):
        start = after if after.tzinfo else after.replace(tzinfo=tz)
    elif isinstance(after, date):
        start = datetime.combine(after, time.min, tzinfo=tz)
    else:
        start = None
    free = svc.next_available(
        ctx.uow(),
        department_id=department_id,
        specialty=specialty,
        doctor_id=doctor_id,
        after=start,
        limit=limit,
        days=days,
        type_code=type_code,
    )
    names = svc.doctor_names(ctx.uow(), {f.doctor_id for f in free})
    return FreeSlotList(
        items=[
            FreeSlotRead(
                doctor_id=f.doctor_id,
                doctor_name=names.get(f.doctor_id),
                start=f.start.astimezone(tz),
                end=f.end.astimezone(tz),
                location=f.location,
            )
            for f in free
        ]
    )
