"""Duty roster and leave: the week grid per ward or department, who is on duty now, shifts,
leave requests and their decision; each employee's own shifts and leave under ``/me/...``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from hms_contract.common import Page, SaneDate
from hms_contract.staff import (
    LeaveCreate,
    LeaveCreateForStaff,
    LeaveDecision,
    LeaveRead,
    LeaveStatus,
    RosterUnit,
    ShiftCreate,
    ShiftRead,
)
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath, OptionalId
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import roster as service

router = APIRouter(tags=["roster"], responses=PROBLEM_RESPONSES)

RosterReader = requirement(Perm.ROSTER_READ)
RosterManager = requirement(Perm.ROSTER_MANAGE)
LeaveDecider = requirement(Perm.LEAVE_DECIDE)
SignedIn = requirement(Perm.SELF)
Days = Annotated[int, Query(ge=1, le=42, description="How many days from start (7 = a week)")]


def _shift(view: object) -> ShiftRead:
    return ShiftRead.model_validate(view, from_attributes=True)


def _leave(view: object) -> LeaveRead:
    return LeaveRead.model_validate(view, from_attributes=True)


@router.get("/roster/units", operation_id="list_roster_units")
def list_roster_units(ctx: RosterReader) -> list[RosterUnit]:
    """Wards and departments shifts can be worked in."""
    return [
        RosterUnit.model_validate(u, from_attributes=True) for u in service.list_units(ctx.uow())
    ]


@router.get("/shifts", operation_id="list_shifts")
def list_shifts(
    ctx: RosterReader,
    start: SaneDate,
    days: Days = 7,
    ward_id: OptionalId = None,
    department_id: OptionalId = None,
    staff_id: OptionalId = None,
) -> list[ShiftRead]:
    """Shifts overlapping ``days`` hospital days from ``start`` (the week grid)."""
    views = service.roster(
        ctx.uow(),
        start=start,
        days=days,
        ward_id=ward_id,
        department_id=department_id,
        staff_id=staff_id,
    )
    return [_shift(v) for v in views]


@router.get("/shifts/on-duty", operation_id="on_duty_now")
def on_duty_now(
    ctx: RosterReader, ward_id: OptionalId = None, department_id: OptionalId = None
) -> list[ShiftRead]:
    """Who is on duty right now (optionally on one ward or in one department)."""
    return [
        _shift(v) for v in service.on_duty(ctx.uow(), ward_id=ward_id, department_id=department_id)
    ]


@router.post("/shifts", operation_id="add_shift", status_code=201, response_model=ShiftRead)
def add_shift(
    body: ShiftCreate, request: Request, ctx: RosterManager, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Roster a shift. 409 ``shift_overlap`` lists the person's clashing shifts; 409
    ``shift_during_leave`` if they are on approved leave."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: service.add_shift(uow, **body.model_dump()),
        _shift,
    )


@router.delete("/shifts/{shift_id}", operation_id="remove_shift", status_code=204)
def remove_shift(shift_id: IdPath, ctx: RosterManager) -> Response:
    service.remove_shift(ctx.uow(), shift_id)
    return Response(status_code=204)


# --- leave ----------------------------------------------------------------------------------


@router.get("/leave-requests", operation_id="list_leave_requests")
def list_leave_requests(
    ctx: LeaveDecider,
    status: LeaveStatus | None = None,
    staff_id: OptionalId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[LeaveRead]:
    views, total = service.list_leave(
        ctx.uow(), status=status, staff_id=staff_id, limit=limit, offset=offset
    )
    return Page[LeaveRead](items=[_leave(v) for v in views], total=total)


@router.post(
    "/leave-requests", operation_id="file_leave_request", status_code=201, response_model=LeaveRead
)
def file_leave_request(
    body: LeaveCreateForStaff,
    request: Request,
    ctx: LeaveDecider,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """File leave for someone (a phoned-in sick day); it is decided like any other."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: service.file_leave(uow, **body.model_dump()),
        _leave,
    )


@router.post("/leave-requests/{leave_id}/decision", operation_id="decide_leave_request")
def decide_leave_request(leave_id: IdPath, body: LeaveDecision, ctx: LeaveDecider) -> LeaveRead:
    """Approve or decline. 403 ``own_leave_decision`` for one's own request; 409
    ``leave_clash`` lists the shifts rostered in the period."""
    return _leave(
        service.decide_leave(
            ctx.uow(), leave_id, version=body.version, decision=body.decision, note=body.note
        )
    )


@router.get("/me/shifts", operation_id="my_shifts")
def my_shifts(ctx: SignedIn, start: SaneDate, days: Days = 7) -> list[ShiftRead]:
    """Your own shifts."""
    return [_shift(v) for v in service.my_shifts(ctx.uow(), start=start, days=days)]


@router.get("/me/leave-requests", operation_id="my_leave_requests")
def my_leave_requests(ctx: SignedIn) -> list[LeaveRead]:
    return [_leave(v) for v in service.my_leave(ctx.uow())]


@router.post(
    "/me/leave-requests", operation_id="request_leave", status_code=201, response_model=LeaveRead
)
def request_leave(
    body: LeaveCreate, request: Request, ctx: SignedIn, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Ask for leave for yourself."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: service.request_own_leave(uow, **body.model_dump()),
        _leave,
    )
