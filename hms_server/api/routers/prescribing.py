"""Formulary search and prescriptions with server-side safety checks."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.prescribing import (
    ConflictRead,
    DrugRead,
    OverrideRead,
    PatientBrief,
    PrescriptionCancel,
    PrescriptionCreate,
    PrescriptionEncounter,
    PrescriptionItemRead,
    PrescriptionRead,
    SafetyCheckRead,
    SafetyCheckRequest,
)
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.views import combined, read
from hms_server.domain.permissions import Perm
from hms_server.services import prescribing as rx_service
from hms_server.services.prescribing import ItemInput, PrescriptionView

router = APIRouter(tags=["prescribing"], responses=PROBLEM_RESPONSES)

FormularyReader = requirement(Perm.FORMULARY_READ)
Prescriber = requirement(Perm.PRESCRIBE)
ClinicalRead = requirement(Perm.CLINICAL_READ)


def prescription_read(view: PrescriptionView) -> PrescriptionRead:
    return read(
        PrescriptionRead,
        combined(
            view.prescription,
            patient=read(PatientBrief, view.patient) if view.patient else None,
            prescriber_name=view.prescriber_name,
            prescriber_registration=view.prescriber_registration,
            encounter=read(PrescriptionEncounter, view.encounter) if view.encounter else None,
            # Each line: as prescribed (the item first), with the drug's names and form.
            items=[read(PrescriptionItemRead, combined(i, d)) for i, d in view.items],
            overrides=[read(OverrideRead, o) for o in view.overrides],
        ),
    )


@router.get("/formulary", operation_id="search_formulary")
def search_formulary(
    ctx: FormularyReader,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Page[DrugRead]:
    """Search medicines by generic name, ingredient, therapeutic class or ATC code."""
    rows, total = rx_service.search_formulary(ctx.uow(), q=q, limit=limit, offset=offset)
    return Page[DrugRead](items=[DrugRead.model_validate(d) for d in rows], total=total)


@router.get("/formulary/{drug_id}", operation_id="get_formulary_drug")
def get_formulary_drug(drug_id: int, ctx: FormularyReader) -> DrugRead:
    return DrugRead.model_validate(rx_service.get_drug(ctx.uow(), drug_id))


@router.post(
    "/prescriptions",
    operation_id="create_prescription",
    status_code=201,
    response_model=PrescriptionRead,
    responses={
        409: {
            "description": "Safety conflict: code allergy_conflict, "
            "interaction or duplicate_therapy; the "
            "conflicts are listed. Resend with "
            "override_reason to prescribe anyway."
        }
    },
)
def create_prescription(
    body: PrescriptionCreate,
    request: Request,
    ctx: Prescriber,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Prescribe. The server checks allergies (by ingredient and class), interactions
    (within the prescription and with active medications) and duplicate therapy."""
    items = [
        ItemInput(
            drug_id=i.drug_id,
            dose=i.dose,
            unit=i.unit,
            route=i.route,
            frequency=i.frequency,
            duration_days=i.duration_days,
            quantity=i.quantity,
            instructions=i.instructions,
        )
        for i in body.items
    ]
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: rx_service.create_prescription(
            uow,
            patient_id=body.patient_id,
            items=items,
            notes=body.notes,
            override_reason=body.override_reason,
            encounter_id=body.encounter_id,
        ),
        prescription_read,
        headers=lambda v: {"Location": f"/api/v1/prescriptions/{v.prescription.id}"},
    )


@router.post("/prescriptions/check", operation_id="check_prescription")
def check_prescription(body: SafetyCheckRequest, ctx: Prescriber) -> SafetyCheckRead:
    """Dry run of the safety checks for these drugs (nothing is saved)."""
    conflicts = rx_service.check_safety(ctx.uow(), body.patient_id, body.drug_ids)
    return SafetyCheckRead(
        ok=not conflicts, conflicts=[ConflictRead(**c.as_dict()) for c in conflicts]
    )  # type: ignore[arg-type]


@router.get("/prescriptions/{prescription_id}", operation_id="get_prescription")
def get_prescription(prescription_id: int, ctx: ClinicalRead) -> PrescriptionRead:
    return prescription_read(rx_service.get_prescription(ctx.uow(), prescription_id))


@router.post("/prescriptions/{prescription_id}/cancel", operation_id="cancel_prescription")
def cancel_prescription(
    prescription_id: int, body: PrescriptionCancel, ctx: Prescriber
) -> PrescriptionRead:
    return prescription_read(
        rx_service.cancel_prescription(
            ctx.uow(), prescription_id, version=body.version, reason=body.reason
        )
    )


@router.get("/patients/{patient_id}/prescriptions", operation_id="list_patient_prescriptions")
def list_patient_prescriptions(
    patient_id: int,
    ctx: ClinicalRead,
    status: Literal["active", "completed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[PrescriptionRead]:
    rows, total = rx_service.list_prescriptions(
        ctx.uow(), patient_id, status=status, limit=limit, offset=offset
    )
    return Page[PrescriptionRead](items=[prescription_read(v) for v in rows], total=total)
