"""Wards, rooms, beds and the bed board; nurse ward assignments; the ward's due-now list
and shift handover.

The bed board (``GET /beds``) is for everyone who places patients (``wards.read``): names
only for roles that read demographics, clinical alerts only for clinical roles.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.nursing import DueItem, DueList, HandoverPatient, HandoverReport
from hms_contract.wards import (
    BedAlerts,
    BedCreate,
    BedRead,
    BedStatus,
    BedStatusChange,
    NurseAssignmentRead,
    RoomCreate,
    RoomRead,
    WardCreate,
    WardRead,
    WardUpdate,
)
from hms_server.adapters.uow import UnitOfWork
from hms_server.api.deps import RequestContext, requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.errors import NotFoundError
from hms_server.domain.permissions import Perm
from hms_server.services import ward_rounds
from hms_server.services import wards as svc

router = APIRouter(tags=["wards"], responses=PROBLEM_RESPONSES)

WardsRead = requirement(Perm.WARDS_READ)
WardsAdmin = requirement(Perm.WARDS_ADMIN)
BedsManage = requirement(Perm.BEDS_MANAGE)
ClinicalRead = requirement(Perm.CLINICAL_READ)


def bed_read(ctx: RequestContext, entry: svc.BoardEntry) -> BedRead:
    row = entry.row
    perms = ctx.principal.permissions
    names = Perm.PATIENTS_READ in perms and row.patient_id is not None
    alerts = None
    if row.alerts is not None and Perm.CLINICAL_READ in perms:
        alerts = BedAlerts(
            allergy=row.alerts.allergy,
            overdue_doses=row.alerts.overdue_doses,
            due_doses=row.alerts.due_doses,
            overdue_tasks=row.alerts.overdue_tasks,
            news2=entry.news2.total if entry.news2 else None,
            news2_risk=entry.news2.risk if entry.news2 else None,
            news2_complete=bool(entry.news2 and entry.news2.complete),
        )
    return BedRead(
        id=row.id,
        ward_id=row.ward_id,
        label=row.label,
        status=row.status,  # type: ignore[arg-type]
        patient_id=row.patient_id,
        room_id=row.room_id,
        room_label=row.room_label,
        bed_type=row.bed_type,
        gender_policy=row.gender_policy,  # type: ignore[arg-type]
        blocked_reason=row.blocked_reason,
        status_changed_at=ctx.hospital.local(row.status_changed_at),
        version=row.version,
        admission_id=row.admission_id,
        admitted_at=ctx.hospital.local(row.admitted_at) if row.admitted_at else None,
        days_in=entry.days_in,
        patient_name=f"{row.given_name} {row.family_name}" if names else None,
        patient_mrn=row.mrn if names else None,
        patient_sex=row.sex if names else None,
        patient_age=entry.age if names else None,
        attending_doctor_name=row.attending_doctor_name if row.patient_id else None,
        alerts=alerts,
    )


# ---------------------------------------------------------------- wards


@router.get("/wards", operation_id="list_wards")
def list_wards(
    ctx: WardsRead,
    include_inactive: bool = False,
    mine: Annotated[bool, Query(description="Only the wards I am assigned to")] = False,
) -> Page[WardRead]:
    """Wards with their bed counts by status."""
    rows = svc.list_wards(ctx.uow(), include_inactive=include_inactive, mine=mine)
    return Page[WardRead](items=[WardRead.model_validate(r) for r in rows], total=len(rows))


@router.post("/wards", operation_id="create_ward", status_code=201, response_model=WardRead)
def create_ward(
    body: WardCreate, request: Request, ctx: WardsAdmin, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.create_ward(
            uow,
            code=body.code,
            name=body.name,
            ward_class=body.ward_class,
            gender_policy=body.gender_policy,
            mar_window_minutes=body.mar_window_minutes,
        ),
        lambda w: WardRead.model_validate(w),
        headers=lambda w: {"Location": f"/api/v1/wards/{w.id}"},
    )


@router.patch("/wards/{ward_id}", operation_id="update_ward")
def update_ward(ward_id: IdPath, body: WardUpdate, ctx: WardsAdmin) -> WardRead:
    """Rename, reclassify, change the dose window, or close (only an empty) ward."""
    ward = svc.update_ward(
        ctx.uow(),
        ward_id,
        version=body.version,
        changes=body.model_dump(exclude={"version"}, exclude_unset=True),
    )
    return WardRead.model_validate(ward)


@router.get("/wards/{ward_id}/rooms", operation_id="list_rooms")
def list_rooms(ward_id: IdPath, ctx: WardsRead) -> Page[RoomRead]:
    rooms = svc.list_rooms(ctx.uow(), ward_id)
    return Page[RoomRead](items=[RoomRead.model_validate(r) for r in rooms], total=len(rooms))


@router.post(
    "/wards/{ward_id}/rooms", operation_id="create_room", status_code=201, response_model=RoomRead
)
def create_room(
    ward_id: IdPath,
    body: RoomCreate,
    request: Request,
    ctx: WardsAdmin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.add_room(uow, ward_id, label=body.label, gender_policy=body.gender_policy),
        lambda r: RoomRead.model_validate(r),
    )


@router.get("/wards/{ward_id}/nurses", operation_id="list_ward_nurses")
def list_ward_nurses(ward_id: IdPath, ctx: WardsRead) -> Page[NurseAssignmentRead]:
    rows = svc.list_nurses(ctx.uow(), ward_id)
    items = [
        NurseAssignmentRead(
            ward_id=a.ward_id,
            user_id=u.id,
            username=u.username,
            full_name=u.full_name,
            assigned_at=ctx.hospital.local(a.assigned_at),
        )
        for a, u in rows
    ]
    return Page[NurseAssignmentRead](items=items, total=len(items))


@router.put("/wards/{ward_id}/nurses/{user_id}", operation_id="assign_ward_nurse")
def assign_ward_nurse(ward_id: IdPath, user_id: IdPath, ctx: WardsAdmin) -> NurseAssignmentRead:
    """Assign a nurse to the ward (idempotent); they join its patients' care teams."""
    assignment = svc.assign_nurse(ctx.uow(), ward_id, user_id)
    rows = {u.id: u for _, u in svc.list_nurses(ctx.uow(), ward_id)}
    user = rows[user_id]
    return NurseAssignmentRead(
        ward_id=ward_id,
        user_id=user_id,
        username=user.username,
        full_name=user.full_name,
        assigned_at=ctx.hospital.local(assignment.assigned_at),
    )


@router.delete(
    "/wards/{ward_id}/nurses/{user_id}", operation_id="unassign_ward_nurse", status_code=204
)
def unassign_ward_nurse(ward_id: IdPath, user_id: IdPath, ctx: WardsAdmin) -> Response:
    svc.unassign_nurse(ctx.uow(), ward_id, user_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- beds


@router.get("/beds", operation_id="list_beds", response_model=Page[BedRead])
def list_beds(
    ctx: WardsRead,
    ward_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    status: BedStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The bed board: every bed (of a ward) with its status and the patient in it."""
    entries, total = svc.bed_board(
        ctx.uow(),
        ward_id=ward_id,
        status=status,
        limit=limit,
        offset=offset,
        with_alerts=Perm.CLINICAL_READ in ctx.principal.permissions,
    )
    page = Page[BedRead](items=[bed_read(ctx, e) for e in entries], total=total)
    # Serialised once here: a whole hospital's board is 900 items, and letting the framework
    # validate them against the response model a second time costs more than the queries.
    return Response(page.model_dump_json(), media_type="application/json")


@router.post("/beds", operation_id="create_bed", status_code=201, response_model=BedRead)
def create_bed(
    body: BedCreate, request: Request, ctx: WardsAdmin, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    def work(uow: UnitOfWork) -> svc.BoardEntry:
        bed = svc.add_bed(uow, room_id=body.room_id, label=body.label, bed_type=body.bed_type)
        return _board_entry(ctx, uow, bed.id)

    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        work,
        lambda entry: bed_read(ctx, entry),
        headers=lambda entry: {"Location": f"/api/v1/beds/{entry.row.id}"},
    )


def _board_entry(ctx: RequestContext, uow: UnitOfWork, bed_id: int) -> svc.BoardEntry:
    entries, _ = svc.bed_board(
        uow,
        ward_id=None,
        status=None,
        limit=1,
        offset=0,
        with_alerts=Perm.CLINICAL_READ in ctx.principal.permissions,
        bed_id=bed_id,
    )
    if not entries:
        raise NotFoundError(f"No bed with id {bed_id}.")
    return entries[0]


def _one_bed(ctx: RequestContext, bed_id: int) -> BedRead:
    return bed_read(ctx, _board_entry(ctx, ctx.uow(), bed_id))


@router.get("/beds/{bed_id}", operation_id="get_bed")
def get_bed(bed_id: IdPath, ctx: WardsRead) -> BedRead:
    return _one_bed(ctx, bed_id)


@router.post("/beds/{bed_id}/clean", operation_id="mark_bed_clean")
def mark_bed_clean(bed_id: IdPath, ctx: BedsManage) -> BedRead:
    """A bed left by a patient is ready again (cleaning → free)."""
    svc.change_bed_status(ctx.uow(), bed_id, status="free", reason=None, version=None)
    return _one_bed(ctx, bed_id)


@router.post("/beds/{bed_id}/status", operation_id="change_bed_status")
def change_bed_status(bed_id: IdPath, body: BedStatusChange, ctx: BedsManage) -> BedRead:
    """Block a bed (with a reason), unblock it, or send it for cleaning."""
    svc.change_bed_status(
        ctx.uow(), bed_id, status=body.status, reason=body.reason, version=body.version
    )
    return _one_bed(ctx, bed_id)


# ---------------------------------------------------------------- the ward's round


@router.get("/wards/{ward_id}/due", operation_id="ward_due_list")
def ward_due_list(
    ward_id: IdPath, ctx: ClinicalRead, within_minutes: Annotated[int, Query(ge=0, le=24 * 60)] = 60
) -> DueList:
    """Doses, care tasks and observations due in the next ``within_minutes`` and all that
    is overdue, soonest first (the ward's nurses and doctors)."""
    entries = ward_rounds.due_list(ctx.uow(), ward_id, within_minutes=within_minutes)
    items = [
        DueItem(
            kind=e.kind,
            ref_id=e.ref_id,
            admission_id=e.admission_id,  # type: ignore[arg-type]
            patient_id=e.patient_id,
            patient_name=e.patient_name,
            bed_label=e.bed_label,
            title=e.title,
            due_at=ctx.hospital.local(e.due_at),
            overdue=e.overdue,
        )
        for e in entries
    ]
    return DueList(ward_id=ward_id, items=items, total=len(items))


@router.get("/wards/{ward_id}/handover", operation_id="ward_handover")
def ward_handover(
    ward_id: IdPath, ctx: ClinicalRead, hours_ahead: Annotated[int, Query(ge=1, le=24)] = 12
) -> HandoverReport:
    """The shift handover report of the ward (printable on the desktop)."""
    report = ward_rounds.handover(ctx.uow(), ward_id, hours_ahead=hours_ahead)
    return HandoverReport(
        ward_id=report.ward_id,
        ward_code=report.ward_code,
        ward_name=report.ward_name,
        generated_at=ctx.hospital.local(report.generated_at),
        shift=report.shift,  # type: ignore[arg-type]
        occupied=report.occupied,
        free=report.free,
        patients=[HandoverPatient.model_validate(p, from_attributes=True) for p in report.patients],
    )
