"""Clinic assignments (admin): which clinic a nurse works, so its checked-in patients are on
her care for the day."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from hms_contract.access import ClinicAssignmentCreate, ClinicAssignmentRead
from hms_contract.common import Page, SaneDate
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import OptionalId
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import clinic_assignments as svc
from hms_server.services.clinic_assignments import AssignmentView

router = APIRouter(tags=["clinical access"], responses=PROBLEM_RESPONSES)

ClinicAssigner = requirement(Perm.CLINIC_ASSIGN)


def assignment_read(view: AssignmentView) -> ClinicAssignmentRead:
    return ClinicAssignmentRead.model_validate(view.assignment).model_copy(
        update={
            "username": view.username,
            "full_name": view.full_name,
            "department": view.department,
        }
    )


@router.get("/clinic-assignments", operation_id="list_clinic_assignments")
def list_clinic_assignments(
    ctx: ClinicAssigner,
    user_id: OptionalId = None,
    department_id: OptionalId = None,
    day: Annotated[SaneDate | None, Query(alias="date", description="In force on this day")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[ClinicAssignmentRead]:
    """Who works which clinic; ``date`` keeps that day's and the standing assignments."""
    rows, total = svc.list_assignments(
        ctx.uow(), user_id=user_id, department_id=department_id, day=day, limit=limit, offset=offset
    )
    return Page[ClinicAssignmentRead](items=[assignment_read(v) for v in rows], total=total)


@router.post(
    "/clinic-assignments",
    operation_id="assign_clinic",
    status_code=201,
    response_model=ClinicAssignmentRead,
)
def assign_clinic(
    body: ClinicAssignmentCreate,
    request: Request,
    ctx: ClinicAssigner,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Assign a nurse (or doctor) to a department's clinic for a day, or standing."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.assign_clinic(
            uow, user_id=body.user_id, department_id=body.department_id, on_date=body.on_date
        ),
        assignment_read,
        headers=lambda v: {"Location": f"/api/v1/clinic-assignments/{v.assignment.id}"},
    )


@router.delete(
    "/clinic-assignments/{assignment_id}", operation_id="remove_clinic_assignment", status_code=204
)
def remove_clinic_assignment(
    assignment_id: Annotated[int, Path(ge=1, le=2**63 - 1)], ctx: ClinicAssigner
) -> Response:
    svc.remove_assignment(ctx.uow(), assignment_id)
    return Response(status_code=204)
