"""Admissions: admit, transfer, discharge, cancel an admission made in error, name the
attending doctor; list and read admissions; the discharge summary.

Reception admits (``admissions.write``) but sees no clinical detail: ``reason``,
``diagnosis`` and ``icd10_code`` are answered only to roles with ``clinical.read``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.wards import (
    AdmissionCreate,
    AdmissionRead,
    AdmissionStatus,
    AttendingChange,
    BedStayRead,
    CancelAdmissionRequest,
    DischargeRequest,
    DischargeSummaryRead,
    TransferRequest,
)
from hms_server.api.deps import RequestContext, requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath, OptionalId
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.domain.wards import length_of_stay_days
from hms_server.services import admissions as adt
from hms_server.services import wards as ward_svc

router = APIRouter(tags=["admissions"], responses=PROBLEM_RESPONSES)

WardsRead = requirement(Perm.WARDS_READ)
AdmissionsWrite = requirement(Perm.ADMISSIONS_WRITE)
BedsManage = requirement(Perm.BEDS_MANAGE)
Discharger = requirement(Perm.DISCHARGE)
ClinicalRead = requirement(Perm.CLINICAL_READ)


def admission_read(ctx: RequestContext, row: Any) -> AdmissionRead:
    perms = ctx.principal.permissions
    clinical = Perm.CLINICAL_READ in perms
    names = Perm.PATIENTS_READ in perms
    hospital = ctx.hospital
    until = row.discharged_at or row.cancelled_at or hospital.now()
    return AdmissionRead(
        id=row.id,
        patient_id=row.patient_id,
        status=row.status,  # type: ignore[arg-type]
        source=row.source,  # type: ignore[arg-type]
        admitted_at=hospital.local(row.admitted_at),
        discharged_at=hospital.local(row.discharged_at) if row.discharged_at else None,
        cancelled_at=hospital.local(row.cancelled_at) if row.cancelled_at else None,
        bed_id=row.bed_id,
        bed_label=row.bed_label,
        ward_id=row.ward_id,
        ward_code=row.ward_code,
        ward_name=row.ward_name,
        ward_class=row.ward_class,  # type: ignore[arg-type]
        attending_doctor_user_id=row.attending_doctor_user_id,
        attending_doctor_name=row.attending_doctor_name,
        encounter_id=row.encounter_id,
        expected_los_days=row.expected_los_days,
        days_in=length_of_stay_days(row.admitted_at, until, hospital.zone),
        patient_name=f"{row.given_name} {row.family_name}" if names else None,
        patient_mrn=row.mrn if names else None,
        reason=row.reason if clinical else None,
        diagnosis=row.diagnosis if clinical else None,
        icd10_code=row.icd10_code if clinical else None,
        discharge_disposition=row.discharge_disposition,  # type: ignore[arg-type]
        discharge_note_id=row.discharge_note_id if clinical else None,
        version=row.version,
        stays=[
            BedStayRead(
                bed_id=s.bed_id,
                bed_label=s.bed_label,
                ward_id=s.ward_id,
                ward_code=s.ward_code,
                ward_class=s.ward_class,  # type: ignore[arg-type]
                started_at=hospital.local(s.started_at),
                ended_at=hospital.local(s.ended_at) if s.ended_at else None,
            )
            for s in row.stays
        ],
    )


def _read(ctx: RequestContext, admission_id: int) -> AdmissionRead:
    return admission_read(ctx, ward_svc.get_admission(ctx.uow(), admission_id))


@router.post(
    "/admissions",
    operation_id="admit_patient",
    status_code=201,
    response_model=AdmissionRead,
    responses={
        409: {
            "description": "bed_occupied, bed_blocked, bed_being_cleaned, "
            "bed_gender_policy, already_admitted"
        }
    },
)
def admit_patient(
    body: AdmissionCreate,
    request: Request,
    ctx: AdmissionsWrite,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Admit a patient to a free bed. One bed holds one patient and a patient has one open
    admission: both enforced by the database, also under concurrency."""
    data = adt.AdmitInput(**body.model_dump())
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        # Read back in the same transaction: the answer is stored with the idempotency key.
        lambda uow: ward_svc.get_admission(uow, adt.admit_patient(uow, data).id),
        lambda row: admission_read(ctx, row),
        headers=lambda row: {"Location": f"/api/v1/admissions/{row.id}"},
    )


@router.get("/admissions", operation_id="list_admissions")
def list_admissions(
    ctx: WardsRead,
    patient_id: OptionalId = None,
    status: AdmissionStatus | None = None,
    ward_id: OptionalId = None,
    mine: Annotated[bool, Query(description="My patients: on my wards, or whom I attend")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[AdmissionRead]:
    rows, total = ward_svc.list_admissions(
        ctx.uow(),
        patient_id=patient_id,
        status=status,
        ward_id=ward_id,
        mine=mine,
        limit=limit,
        offset=offset,
    )
    return Page[AdmissionRead](items=[admission_read(ctx, r) for r in rows], total=total)


@router.get("/admissions/{admission_id}", operation_id="get_admission")
def get_admission(admission_id: IdPath, ctx: WardsRead) -> AdmissionRead:
    """One admission with its bed history."""
    return _read(ctx, admission_id)


@router.post(
    "/admissions/{admission_id}/transfer",
    operation_id="transfer_patient",
    responses={
        409: {
            "description": "admission_not_open, bed_occupied, bed_blocked, "
            "bed_being_cleaned, same_bed"
        }
    },
)
def transfer_patient(admission_id: IdPath, body: TransferRequest, ctx: BedsManage) -> AdmissionRead:
    """Move the patient to another bed (on this or another ward)."""
    adt.transfer_patient(ctx.uow(), admission_id, bed_id=body.bed_id, reason=body.reason)
    return _read(ctx, admission_id)


@router.post(
    "/admissions/{admission_id}/discharge",
    operation_id="discharge_patient",
    responses={409: {"description": "admission_not_open"}},
)
def discharge_patient(
    admission_id: IdPath, body: DischargeRequest, ctx: Discharger
) -> AdmissionRead:
    """Discharge with the summary, signed by the discharging doctor."""
    adt.discharge_patient(
        ctx.uow(), admission_id, summary=body.summary, disposition=body.disposition
    )
    return _read(ctx, admission_id)


@router.post(
    "/admissions/{admission_id}/cancel",
    operation_id="cancel_admission",
    responses={409: {"description": "admission_not_open, bed_days_captured"}},
)
def cancel_admission(
    admission_id: IdPath, body: CancelAdmissionRequest, ctx: AdmissionsWrite
) -> AdmissionRead:
    """Cancel an admission made in error (before any bed-day was charged)."""
    adt.cancel_admission(ctx.uow(), admission_id, reason=body.reason)
    return _read(ctx, admission_id)


@router.post("/admissions/{admission_id}/attending", operation_id="change_attending_doctor")
def change_attending_doctor(
    admission_id: IdPath, body: AttendingChange, ctx: AdmissionsWrite
) -> AdmissionRead:
    adt.change_attending(ctx.uow(), admission_id, doctor_user_id=body.doctor_user_id)
    return _read(ctx, admission_id)


@router.get("/admissions/{admission_id}/discharge-summary", operation_id="get_discharge_summary")
def get_discharge_summary(admission_id: IdPath, ctx: ClinicalRead) -> DischargeSummaryRead:
    """What the printed discharge summary shows."""
    view = ward_svc.discharge_summary(ctx.uow(), admission_id)
    patient = view.patient
    return DischargeSummaryRead(
        admission=admission_read(ctx, view.admission),
        patient_name=f"{patient.given_name} {patient.family_name}",
        patient_mrn=patient.mrn,
        date_of_birth=patient.date_of_birth,
        sex=patient.sex,
        allergies=view.allergies,
        summary=view.summary,
        signed_by_name=view.signed_by_name,
        signed_at=ctx.hospital.local(view.signed_at) if view.signed_at else None,
        medications_on_discharge=view.medications,
        hospital_name=ctx.hospital.name,
    )
