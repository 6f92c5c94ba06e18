"""The chart: encounters, notes, vitals, allergies, problems, ICD-10, summary and timeline.

Every route needs ``clinical.read`` or ``clinical.write`` and, per patient, a care
relationship or a break-the-glass grant (403 ``care_relationship_required``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.clinical import (
    AllergyCreate,
    AllergyRead,
    AllergyUpdate,
    ChartRead,
    EncounterCreate,
    EncounterRead,
    EncounterStatus,
    Icd10Read,
    MedicationRead,
    NoteAmend,
    NoteCreate,
    NoteRead,
    NoteVersionRead,
    PatientHeader,
    ProblemCreate,
    ProblemRead,
    ProblemStatus,
    ProblemUpdate,
    TimelineItem,
    TrendPoint,
    VitalsCreate,
    VitalsRead,
    VitalsTrend,
)
from hms_contract.common import Page, SaneDateTime
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import Limit, Offset
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.views import combined, read
from hms_server.domain.errors import ValidationFailedError
from hms_server.domain.permissions import Perm
from hms_server.services import chart as chart_service
from hms_server.services import clinical as clinical_service
from hms_server.services.clinical import TREND_METRICS, EncounterView, NoteView
from hms_server.services.prescribing import MedicationView
from hms_server.services.prescribing import list_medications as list_active_medications

router = APIRouter(tags=["clinical"], responses=PROBLEM_RESPONSES)

ClinicalRead = requirement(Perm.CLINICAL_READ)
ClinicalWrite = requirement(Perm.CLINICAL_WRITE)


def encounter_read(view: EncounterView) -> EncounterRead:
    return EncounterRead.model_validate(view.encounter).model_copy(
        update={"clinician_name": view.clinician_name}
    )


def note_read(view: NoteView) -> NoteRead:
    versions = [
        read(
            NoteVersionRead,
            combined(
                v, author_name=view.names.get(v.author_user_id), signed=v.signed_at is not None
            ),
        )
        for v in view.versions
    ]
    note = view.note
    return read(
        NoteRead,
        combined(
            note,
            author_name=view.names.get(note.author_user_id),
            version=note.current_version,
            signed=versions[-1].signed,
            current=versions[-1],
            versions=versions,
        ),
    )


def medication_read(m: MedicationView) -> MedicationRead:
    """Dose and route as prescribed (the item), names and form from the formulary."""
    return read(
        MedicationRead,
        combined(
            m.item,
            m.drug,
            prescription_id=m.prescription.id,
            prescription_number=m.prescription.number,
            item_id=m.item.id,
            prescribed_at=m.prescription.created_at,
            prescriber_user_id=m.prescription.prescriber_user_id,
        ),
    )


# ---------------------------------------------------------------- encounters


@router.post(
    "/patients/{patient_id}/encounters",
    operation_id="open_patient_encounter",
    status_code=201,
    response_model=EncounterRead,
)
def open_patient_encounter(
    patient_id: int,
    body: EncounterCreate,
    request: Request,
    ctx: ClinicalWrite,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Open an encounter with the signed-in clinician, who needs access to the chart first
    (a care relationship or break-the-glass). On a lasting relationship the clinician joins
    the care team (audited)."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: clinical_service.open_encounter_checked(
            uow, patient_id, appointment_id=body.appointment_id, kind=body.kind, reason=body.reason
        ),
        lambda e: EncounterRead.model_validate(e),
        headers=lambda e: {"Location": f"/api/v1/encounters/{e.id}"},
    )


@router.get("/patients/{patient_id}/encounters", operation_id="list_patient_encounters")
def list_patient_encounters(
    patient_id: int,
    ctx: ClinicalRead,
    status: EncounterStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[EncounterRead]:
    rows, total = clinical_service.list_encounters(
        ctx.uow(), patient_id, status=status, limit=limit, offset=offset
    )
    return Page[EncounterRead](items=[encounter_read(v) for v in rows], total=total)


@router.get("/encounters/{encounter_id}", operation_id="get_encounter")
def get_encounter(encounter_id: int, ctx: ClinicalRead) -> EncounterRead:
    return encounter_read(clinical_service.get_encounter(ctx.uow(), encounter_id))


@router.post("/encounters/{encounter_id}/close", operation_id="close_encounter")
def close_encounter(encounter_id: int, ctx: ClinicalWrite) -> EncounterRead:
    """Finish the encounter (no-op if already finished)."""
    return encounter_read(clinical_service.close_encounter_checked(ctx.uow(), encounter_id))


# ---------------------------------------------------------------- notes


@router.post(
    "/patients/{patient_id}/notes",
    operation_id="create_note",
    status_code=201,
    response_model=NoteRead,
)
def create_note(
    patient_id: int,
    body: NoteCreate,
    request: Request,
    ctx: ClinicalWrite,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Write a clinical note (SOAP sections or free text); ``sign`` attests it now."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: clinical_service.create_note(
            uow,
            patient_id,
            encounter_id=body.encounter_id,
            note_type=body.note_type,
            title=body.title,
            text=body.text(),
            sign=body.sign,
        ),
        note_read,
        headers=lambda v: {"Location": f"/api/v1/patients/{patient_id}/notes/{v.note.id}"},
    )


@router.get("/patients/{patient_id}/notes", operation_id="list_notes")
def list_notes(
    patient_id: int,
    ctx: ClinicalRead,
    encounter_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[NoteRead]:
    rows, total = clinical_service.list_notes(
        ctx.uow(), patient_id, encounter_id=encounter_id, limit=limit, offset=offset
    )
    return Page[NoteRead](items=[note_read(v) for v in rows], total=total)


@router.get("/patients/{patient_id}/notes/{note_id}", operation_id="get_note")
def get_note(patient_id: int, note_id: int, ctx: ClinicalRead) -> NoteRead:
    """A note with every version (amendments never overwrite)."""
    return note_read(clinical_service.get_note(ctx.uow(), patient_id, note_id))


@router.post(
    "/patients/{patient_id}/notes/{note_id}/amend", operation_id="amend_note", status_code=201
)
def amend_note(patient_id: int, note_id: int, body: NoteAmend, ctx: ClinicalWrite) -> NoteRead:
    """Append a new version with a reason; the old versions stay visible."""
    return note_read(
        clinical_service.amend_note(
            ctx.uow(),
            patient_id,
            note_id,
            version=body.version,
            reason=body.reason,
            text=body.text(),
            sign=body.sign,
        )
    )


@router.post("/patients/{patient_id}/notes/{note_id}/sign", operation_id="sign_note")
def sign_note(patient_id: int, note_id: int, ctx: ClinicalWrite) -> NoteRead:
    """The author attests the newest version."""
    return note_read(clinical_service.sign_note(ctx.uow(), patient_id, note_id))


# ---------------------------------------------------------------- vitals


@router.post(
    "/patients/{patient_id}/vitals",
    operation_id="record_vitals",
    status_code=201,
    response_model=VitalsRead,
)
def record_vitals(
    patient_id: int,
    body: VitalsCreate,
    request: Request,
    ctx: ClinicalWrite,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record vitals; implausible values are refused (422), BMI is derived and abnormal
    values are flagged."""
    values = body.model_dump(exclude={"encounter_id", "recorded_at", "notes"})
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: clinical_service.record_vitals(
            uow,
            patient_id,
            values=values,
            encounter_id=body.encounter_id,
            recorded_at=body.recorded_at,
            notes=body.notes,
        ),
        VitalsRead.model_validate,
    )


@router.get("/patients/{patient_id}/vitals", operation_id="list_vitals")
def list_vitals(
    patient_id: int,
    ctx: ClinicalRead,
    since: SaneDateTime | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[VitalsRead]:
    rows, total = clinical_service.list_vitals(
        ctx.uow(), patient_id, since=since, limit=limit, offset=offset
    )
    return Page[VitalsRead](items=[VitalsRead.model_validate(r) for r in rows], total=total)


@router.get("/patients/{patient_id}/vitals/trend", operation_id="vitals_trend")
def vitals_trend(
    patient_id: int,
    ctx: ClinicalRead,
    metric: Annotated[
        list[str] | None,
        Query(description=f"Any of: {', '.join(TREND_METRICS)} (repeatable); default all"),
    ] = None,
    since: SaneDateTime | None = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> VitalsTrend:
    """Series per measurement, oldest first, for the trend chart."""
    metrics = metric or list(TREND_METRICS)
    unknown = [m for m in metrics if m not in TREND_METRICS]
    if unknown:
        raise ValidationFailedError(
            f"Unknown metric(s): {', '.join(unknown)[:200]}.",
            extra={
                "errors": [{"field": "query.metric", "message": "unknown metric", "type": "enum"}]
            },
        )
    series = clinical_service.vitals_trend(
        ctx.uow(), patient_id, metrics=metrics, since=since, limit=limit
    )
    return VitalsTrend(
        patient_id=patient_id, series={k: [TrendPoint(**p) for p in v] for k, v in series.items()}
    )


# ---------------------------------------------------------------- allergies


@router.post(
    "/patients/{patient_id}/allergies",
    operation_id="add_allergy",
    status_code=201,
    response_model=AllergyRead,
)
def add_allergy(
    patient_id: int,
    body: AllergyCreate,
    request: Request,
    ctx: ClinicalWrite,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record an allergy or intolerance; prescribing checks it against drug ingredients."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: clinical_service.add_allergy(
            uow,
            patient_id,
            substance=body.substance,
            reaction=body.reaction,
            severity=body.severity,
            status=body.status,
            category=body.category,
            kind=body.kind,
            onset_date=body.onset_date,
        ),
        AllergyRead.model_validate,
        headers=lambda a: {"Location": f"/api/v1/patients/{patient_id}/allergies/{a.id}"},
    )


@router.get("/patients/{patient_id}/allergies", operation_id="list_allergies")
def list_allergies(
    patient_id: int, ctx: ClinicalRead, include_inactive: bool = False
) -> Page[AllergyRead]:
    rows = clinical_service.list_allergies(ctx.uow(), patient_id, include_inactive=include_inactive)
    return Page[AllergyRead](items=[AllergyRead.model_validate(r) for r in rows], total=len(rows))


@router.patch("/patients/{patient_id}/allergies/{allergy_id}", operation_id="update_allergy")
def update_allergy(
    patient_id: int, allergy_id: int, body: AllergyUpdate, ctx: ClinicalWrite
) -> AllergyRead:
    """Change reaction, severity or status (e.g. ``entered_in_error``); ``version`` must
    match."""
    row = clinical_service.update_allergy(
        ctx.uow(),
        patient_id,
        allergy_id,
        version=body.version,
        changes=body.model_dump(exclude={"version"}, exclude_unset=True),
    )
    return AllergyRead.model_validate(row)


# ---------------------------------------------------------------- problems


@router.post(
    "/patients/{patient_id}/problems",
    operation_id="add_problem",
    status_code=201,
    response_model=ProblemRead,
)
def add_problem(
    patient_id: int,
    body: ProblemCreate,
    request: Request,
    ctx: ClinicalWrite,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Add to the problem list with an ICD-10-CM code (validated; description defaults to
    the code's title)."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: clinical_service.add_problem(
            uow,
            patient_id,
            icd10_code=body.icd10_code,
            description=body.description,
            status=body.status,
            onset_date=body.onset_date,
            notes=body.notes,
            encounter_id=body.encounter_id,
        ),
        ProblemRead.model_validate,
    )


@router.get("/patients/{patient_id}/problems", operation_id="list_problems")
def list_problems(
    patient_id: int, ctx: ClinicalRead, status: ProblemStatus | None = None
) -> Page[ProblemRead]:
    rows = clinical_service.list_problems(ctx.uow(), patient_id, status=status)
    return Page[ProblemRead](items=[ProblemRead.model_validate(r) for r in rows], total=len(rows))


@router.patch("/patients/{patient_id}/problems/{problem_id}", operation_id="update_problem")
def update_problem(
    patient_id: int, problem_id: int, body: ProblemUpdate, ctx: ClinicalWrite
) -> ProblemRead:
    row = clinical_service.update_problem(
        ctx.uow(),
        patient_id,
        problem_id,
        version=body.version,
        changes=body.model_dump(exclude={"version"}, exclude_unset=True),
    )
    return ProblemRead.model_validate(row)


@router.get("/icd10", operation_id="search_icd10")
def search_icd10(
    ctx: ClinicalRead,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    billable_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[Icd10Read]:
    """Search ICD-10-CM (CDC, public domain) by code prefix or words of the title."""
    rows, total = clinical_service.search_icd10(q, limit=limit, billable_only=billable_only)
    return Page[Icd10Read](items=[Icd10Read.model_validate(r) for r in rows], total=total)


# ---------------------------------------------------------------- chart, timeline


@router.get("/patients/{patient_id}/chart", operation_id="get_chart")
def get_chart(patient_id: int, ctx: ClinicalRead) -> ChartRead:
    """Chart header and overview: allergies, active problems, current medications, latest
    vitals, recent encounters."""
    summary = chart_service.chart_summary(ctx.uow(), patient_id)
    header = PatientHeader.model_validate(summary.patient).model_copy(
        update={"age_years": summary.age_years}
    )
    return ChartRead(
        patient=header,
        access=summary.access,
        allergies=[AllergyRead.model_validate(a) for a in summary.allergies],
        has_allergies=bool(summary.allergies),
        problems=[ProblemRead.model_validate(p) for p in summary.problems],
        medications=[medication_read(m) for m in summary.medications],
        latest_vitals=(
            VitalsRead.model_validate(summary.latest_vitals) if summary.latest_vitals else None
        ),
        recent_encounters=[encounter_read(e) for e in summary.recent_encounters],
        counts=summary.counts,
    )


@router.get("/patients/{patient_id}/timeline", operation_id="get_timeline")
def get_timeline(
    patient_id: int,
    ctx: ClinicalRead,
    kind: Annotated[
        list[str] | None,
        Query(description=f"Filter: {', '.join(chart_service.TIMELINE_KINDS)} (repeatable)"),
    ] = None,
    since: SaneDateTime | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[TimelineItem]:
    """One chronological list (newest first) of everything in the chart."""
    if kind:
        unknown = [k for k in kind if k not in chart_service.TIMELINE_KINDS]
        if unknown:
            raise ValidationFailedError(
                "Unknown timeline kind.",
                extra={
                    "errors": [{"field": "query.kind", "message": "unknown kind", "type": "enum"}]
                },
            )
    rows, total = chart_service.timeline(
        ctx.uow(), patient_id, kinds=kind, since=since, limit=limit, offset=offset
    )
    return Page[TimelineItem](items=[TimelineItem(**r.__dict__) for r in rows], total=total)


@router.get("/patients/{patient_id}/medications", operation_id="list_medications")
def list_medications(patient_id: int, ctx: ClinicalRead) -> Page[MedicationRead]:
    """Current medications: items of active prescriptions still within their duration."""
    rows = list_active_medications(ctx.uow(), patient_id)
    return Page[MedicationRead](items=[medication_read(m) for m in rows], total=len(rows))
