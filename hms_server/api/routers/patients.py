"""Patients: registration with duplicate prompt, search, demographics, merge."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from hms_contract.patients import (
    AllergyAlertRead,
    PatientCreate,
    PatientMerge,
    PatientPage,
    PatientRead,
    PatientSummary,
    PatientUpdate,
    PrintRecord,
)
from hms_server.api.deps import RequestContext, Require
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import patients as patient_service
from hms_server.services import wristbands

router = APIRouter(prefix="/patients", tags=["patients"], responses=PROBLEM_RESPONSES)

PatientReader = Annotated[RequestContext, Depends(Require(Perm.PATIENTS_READ))]
PatientWriter = Annotated[RequestContext, Depends(Require(Perm.PATIENTS_WRITE))]
PatientMerger = Annotated[RequestContext, Depends(Require(Perm.PATIENTS_MERGE))]
PatientId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _read(patient: object) -> PatientRead:
    return PatientRead.model_validate(patient)


@router.get("", operation_id="search_patients")
def search_patients(
    ctx: PatientReader,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description=(
                "MRN (any case, dashes/spaces allowed, prefix or check digit may be left off), "
                "name fragment (≥3 characters: anywhere in the name; 1-2: start of given or "
                "family name; accents and case ignored; several words must all match), phone "
                "(≥6 digits; matches the end of the number), date of birth YYYY-MM-DD (alone or "
                "after a name), national ID. Empty: all patients."
            ),
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PatientPage:
    """Search as you type; sorted by family name, given name. Merged-away records are not
    listed, but their MRN finds the surviving record. A search collects at most 1000 matches
    (``total_capped`` is then true: refine the search)."""
    page = patient_service.search_patients(
        ctx.uow(), q=q, limit=limit, offset=offset, mrn_prefix=ctx.settings.mrn_prefix
    )
    return PatientPage(
        items=[PatientSummary.model_validate(r) for r in page.rows],
        total=page.total,
        total_capped=page.total_capped,
    )


@router.post(
    "",
    operation_id="register_patient",
    status_code=201,
    response_model=PatientRead,
    responses={
        409: {
            "description": "possible_duplicates (with `candidates`: "
            "[{id, mrn, name, dob, score, reasons}])"
        }
    },
)
def register_patient(
    body: PatientCreate,
    request: Request,
    ctx: PatientWriter,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Register a patient; the server assigns the MRN. Likely duplicates answer 409
    ``possible_duplicates`` with ``candidates`` unless ``confirm_new`` is true."""
    data = body.model_dump(
        mode="json",
        exclude={"date_of_birth", "confirm_new", "age_years", "given_name", "family_name", "sex"},
    )
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body.model_dump(),
        lambda uow: patient_service.register_patient(
            uow,
            mrn_prefix=ctx.settings.mrn_prefix,
            given_name=body.given_name,
            family_name=body.family_name,
            sex=body.sex,
            date_of_birth=body.date_of_birth,
            age_years=body.age_years,
            confirm_new=body.confirm_new,
            **data,
        ),
        _read,
        headers=lambda p: {"Location": f"/api/v1/patients/{p.id}"},
    )


@router.get("/by-mrn/{mrn}", operation_id="get_patient_by_mrn")
def get_patient_by_mrn(mrn: Annotated[str, Path(max_length=40)], ctx: PatientReader) -> PatientRead:
    """The record an MRN belongs to; the MRN of a merged-away record answers the survivor."""
    return _read(
        patient_service.get_patient_by_mrn(ctx.uow(), mrn, mrn_prefix=ctx.settings.mrn_prefix)
    )


@router.get("/{patient_id}", operation_id="get_patient")
def get_patient(patient_id: PatientId, ctx: PatientReader) -> PatientRead:
    """One record. A merged-away record is returned with ``merged_into_id`` set."""
    return _read(patient_service.get_patient(ctx.uow(), patient_id))


@router.patch("/{patient_id}", operation_id="update_patient")
def update_patient(patient_id: PatientId, body: PatientUpdate, ctx: PatientWriter) -> PatientRead:
    """Change the fields given; ``version`` must be current (stale → 409 version_conflict)."""
    changes = body.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    if "date_of_birth" in changes and body.date_of_birth is not None:
        changes["date_of_birth"] = body.date_of_birth
    return _read(
        patient_service.update_patient(ctx.uow(), patient_id, version=body.version, changes=changes)
    )


@router.post("/{patient_id}/merge", operation_id="merge_patients")
def merge_patients(patient_id: PatientId, body: PatientMerge, ctx: PatientMerger) -> PatientRead:
    """Merge the duplicate ``merge_from_id`` into this patient (the survivor) at once, for
    the ``reason`` given (kept in the merge journal), and return the survivor. The
    duplicate's MRN keeps resolving to the survivor. (Reception's merge screen uses
    ``POST /patient-merges`` instead: pending, undoable until confirmed.)"""
    return _read(
        patient_service.merge_patients(
            ctx.uow(),
            patient_id,
            loser_id=body.merge_from_id,
            reason=body.reason,
            survivor_version=body.survivor_version,
            loser_version=body.merge_from_version,
        )
    )


@router.get("/{patient_id}/allergy-alert", operation_id="get_allergy_alert")
def get_allergy_alert(patient_id: PatientId, ctx: PatientReader) -> AllergyAlertRead:
    """The allergy flag a wristband or ID card prints (active substances and severities,
    nothing else of the chart). Audited."""
    return AllergyAlertRead.model_validate(wristbands.allergy_alert(ctx.uow(), patient_id))


@router.post("/{patient_id}/prints", operation_id="record_patient_print", status_code=204)
def record_print(patient_id: PatientId, body: PrintRecord, ctx: PatientReader) -> Response:
    """Record that the desktop printed an ID card or wristband (prints are audited)."""
    patient_service.record_print(ctx.uow(), patient_id, document=body.document)
    return Response(status_code=204)
