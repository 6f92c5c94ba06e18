"""Nursing on the ward: assessments, vitals (entry and the grid with NEWS2), fluid balance,
care tasks and nursing notes of an admission.

Reading needs ``clinical.read`` and a care relationship (the ward counts); writing needs
``clinical.write`` and ward care: a nurse of the patient's ward, the attending doctor, or
break-the-glass (403 ``not_on_ward`` otherwise).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.clinical import VitalsCreate, VitalsRead
from hms_contract.common import Page
from hms_contract.nursing import (
    AssessmentCreate,
    AssessmentKind,
    AssessmentRead,
    FluidBalance,
    FluidCreate,
    FluidEntryRead,
    NursingNoteCreate,
    NursingNoteRead,
    ShiftBalance,
    TaskCreate,
    TaskDone,
    TaskRead,
    TaskStatus,
    VitalsGrid,
    VitalsRow,
)
from hms_server.api.deps import RequestContext, requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.clinical import MEASURED_VITALS
from hms_server.domain.permissions import Perm
from hms_server.services import nursing as svc

router = APIRouter(tags=["nursing"], responses=PROBLEM_RESPONSES)

ClinicalRead = requirement(Perm.CLINICAL_READ)
ClinicalWrite = requirement(Perm.CLINICAL_WRITE)


def _task_read(ctx: RequestContext, task: Any, completed_by: str | None) -> TaskRead:
    local = ctx.hospital.local
    return TaskRead(
        id=task.id,
        admission_id=task.admission_id,
        patient_id=task.patient_id,
        kind=task.kind,
        title=task.title,
        due_at=local(task.due_at),  # type: ignore[arg-type]
        repeat_every_minutes=task.repeat_every_minutes,
        status=task.status,
        note=task.note,  # type: ignore[arg-type]
        completed_at=local(task.completed_at) if task.completed_at else None,
        completed_by_name=completed_by,
        overdue=task.status == "open" and task.due_at < ctx.hospital.now(),
        version=task.version,
    )


# ---------------------------------------------------------------- assessments


@router.post(
    "/admissions/{admission_id}/assessments",
    operation_id="record_assessment",
    status_code=201,
    response_model=AssessmentRead,
)
def record_assessment(
    admission_id: IdPath,
    body: AssessmentCreate,
    request: Request,
    ctx: ClinicalWrite,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Score an assessment on the server: NEWS2 (from the newest vitals plus consciousness
    and oxygen), Morse falls risk, or Braden pressure-ulcer risk."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.record_assessment(uow, admission_id, kind=body.kind, answers=body.answers),
        lambda pair: _assessment(ctx, *pair),
    )


def _assessment(ctx: RequestContext, row: object, name: str | None) -> AssessmentRead:
    read = AssessmentRead.model_validate(row, from_attributes=True)
    return read.model_copy(
        update={"assessed_by_name": name, "assessed_at": ctx.hospital.local(read.assessed_at)}
    )


@router.get("/admissions/{admission_id}/assessments", operation_id="list_assessments")
def list_assessments(
    admission_id: IdPath,
    ctx: ClinicalRead,
    kind: AssessmentKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[AssessmentRead]:
    rows = svc.list_assessments(ctx.uow(), admission_id, kind=kind, limit=limit)
    return Page[AssessmentRead](items=[_assessment(ctx, a, n) for a, n in rows], total=len(rows))


# ---------------------------------------------------------------- vitals


@router.post(
    "/admissions/{admission_id}/vitals",
    operation_id="record_ward_vitals",
    status_code=201,
    response_model=VitalsRead,
)
def record_ward_vitals(
    admission_id: IdPath,
    body: VitalsCreate,
    request: Request,
    ctx: ClinicalWrite,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Vitals taken on the ward (into the chart, on the inpatient encounter)."""
    values = body.model_dump(include=set(MEASURED_VITALS))
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.record_ward_vitals(
            uow, admission_id, values=values, recorded_at=body.recorded_at, notes=body.notes
        ),
        lambda v: VitalsRead.model_validate(v),
    )


@router.get("/admissions/{admission_id}/vitals-grid", operation_id="vitals_grid")
def vitals_grid(
    admission_id: IdPath,
    ctx: ClinicalRead,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> VitalsGrid:
    """The admission's vitals, newest first, each with its NEWS2 (manual and device)."""
    rows, total, every = svc.vitals_grid(ctx.uow(), admission_id, since=since, limit=limit)
    local = ctx.hospital.local
    items = [
        VitalsRow(
            id=r.vitals.id,
            recorded_at=local(r.vitals.recorded_at),
            source=r.vitals.source,  # type: ignore[arg-type]
            device_id=r.vitals.device_id,
            recorded_by_name=r.recorded_by_name,
            systolic_mmhg=r.vitals.systolic_mmhg,
            diastolic_mmhg=r.vitals.diastolic_mmhg,
            heart_rate_bpm=r.vitals.heart_rate_bpm,
            respiratory_rate=r.vitals.respiratory_rate,
            temperature_c=r.vitals.temperature_c,
            spo2_pct=r.vitals.spo2_pct,
            flags=r.vitals.flags or {},
            news2=r.score.total if r.score else None,
            news2_risk=r.score.risk if r.score else None,
            news2_complete=bool(r.score and r.score.complete),
        )
        for r in rows
    ]
    return VitalsGrid(
        admission_id=admission_id, items=items, total=total, observe_every_minutes=every
    )


# ---------------------------------------------------------------- fluid balance


@router.post(
    "/admissions/{admission_id}/fluids",
    operation_id="record_fluid",
    status_code=201,
    response_model=FluidEntryRead,
)
def record_fluid(
    admission_id: IdPath,
    body: FluidCreate,
    request: Request,
    ctx: ClinicalWrite,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.add_fluid(
            uow,
            admission_id,
            kind=body.kind,
            route=body.route,
            volume_ml=body.volume_ml,
            recorded_at=body.recorded_at,
            note=body.note,
        ),
        lambda f: FluidEntryRead.model_validate(f, from_attributes=True).model_copy(
            update={
                "recorded_at": ctx.hospital.local(f.recorded_at),
                "recorded_by_name": ctx.principal.username,
            }
        ),
    )


@router.get("/admissions/{admission_id}/fluid-balance", operation_id="fluid_balance")
def fluid_balance(
    admission_id: IdPath,
    ctx: ClinicalRead,
    day: Annotated[date | None, Query(description="Local day (default today)")] = None,
) -> FluidBalance:
    """Intake, output and balance per shift (early 07–15, late 15–23, night 23–07)."""
    the_day, shifts, entries = svc.fluid_balance(ctx.uow(), admission_id, day=day)
    local = ctx.hospital.local
    shift_rows = [
        ShiftBalance(
            shift=s.shift,
            starts_at=local(s.starts_at),  # type: ignore[arg-type]
            ends_at=local(s.ends_at),
            intake_ml=s.intake_ml,
            output_ml=s.output_ml,
            balance_ml=s.intake_ml - s.output_ml,
        )
        for s in shifts
    ]
    intake = sum(s.intake_ml for s in shifts)
    output = sum(s.output_ml for s in shifts)
    return FluidBalance(
        admission_id=admission_id,
        day=the_day,
        shifts=shift_rows,
        intake_ml=intake,
        output_ml=output,
        balance_ml=intake - output,
        entries=[
            FluidEntryRead(
                id=e.id,
                kind=e.kind,
                route=e.route,  # type: ignore[arg-type]
                volume_ml=e.volume_ml,
                recorded_at=local(e.recorded_at),
                recorded_by_name=name,
                note=e.note,
            )
            for e, name in entries
        ],
    )


# ---------------------------------------------------------------- care tasks


@router.post(
    "/admissions/{admission_id}/tasks",
    operation_id="create_care_task",
    status_code=201,
    response_model=TaskRead,
)
def create_care_task(
    admission_id: IdPath,
    body: TaskCreate,
    request: Request,
    ctx: ClinicalWrite,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.add_task(
            uow,
            admission_id,
            kind=body.kind,
            title=body.title,
            due_at=body.due_at,
            repeat_every_minutes=body.repeat_every_minutes,
            note=body.note,
        ),
        lambda t: _task_read(ctx, t, None),
    )


@router.get("/admissions/{admission_id}/tasks", operation_id="list_care_tasks")
def list_care_tasks(
    admission_id: IdPath, ctx: ClinicalRead, status: TaskStatus | None = None
) -> Page[TaskRead]:
    rows = svc.list_tasks(ctx.uow(), admission_id, status=status)
    return Page[TaskRead](items=[_task_read(ctx, t, n) for t, n in rows], total=len(rows))


@router.post("/care-tasks/{task_id}/complete", operation_id="complete_care_task")
def complete_care_task(task_id: IdPath, body: TaskDone, ctx: ClinicalWrite) -> TaskRead:
    """Done; a repeating task gets its next occurrence."""
    task, _ = svc.finish_task(ctx.uow(), task_id, version=body.version, note=body.note)
    return _task_read(ctx, task, None)


@router.post("/care-tasks/{task_id}/cancel", operation_id="cancel_care_task")
def cancel_care_task(task_id: IdPath, body: TaskDone, ctx: ClinicalWrite) -> TaskRead:
    task, _ = svc.finish_task(ctx.uow(), task_id, version=body.version, note=body.note, done=False)
    return _task_read(ctx, task, None)


# ---------------------------------------------------------------- nursing notes


@router.post(
    "/admissions/{admission_id}/nursing-notes",
    operation_id="add_nursing_note",
    status_code=201,
    response_model=NursingNoteRead,
)
def add_nursing_note(
    admission_id: IdPath,
    body: NursingNoteCreate,
    request: Request,
    ctx: ClinicalWrite,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A signed nursing note in the chart."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.add_nursing_note(uow, admission_id, text=body.text),
        lambda view: NursingNoteRead(
            id=view.note.id,
            admission_id=admission_id,
            text=view.current.body or "",
            author_name=view.names.get(view.note.author_user_id),
            created_at=ctx.hospital.local(view.note.created_at),
        ),
    )


@router.get("/admissions/{admission_id}/nursing-notes", operation_id="list_nursing_notes")
def list_nursing_notes(
    admission_id: IdPath, ctx: ClinicalRead, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> Page[NursingNoteRead]:
    rows = svc.list_nursing_notes(ctx.uow(), admission_id, limit=limit)
    items = [
        NursingNoteRead(
            id=n.id,
            admission_id=admission_id,
            text=v.body or "",
            author_name=author,
            created_at=ctx.hospital.local(n.created_at),
        )
        for n, v, author in rows
    ]
    return Page[NursingNoteRead](items=items, total=len(items))
