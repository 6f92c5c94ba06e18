"""Prescribing: formulary search, prescriptions with server-side safety checks, overrides.

The checks (``domain.prescribing``) run on every new prescription against the patient's
active allergies and active medications. A conflict refuses the prescription (409) unless
the prescriber gives an ``override_reason``, which is stored and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import Encounter
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.prescribing import (
    Drug,
    Prescription,
    PrescriptionItem,
    PrescriptionOverride,
)
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.repositories.prescribing import PrescribingRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.clinical import field_error
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.domain.events import PrescriptionCancelled, PrescriptionIssued
from hms_server.domain.prescribing import (
    AllergyInfo,
    Conflict,
    DrugInfo,
    InteractionRule,
    PrescribingConflictError,
    check_prescription,
)
from hms_server.domain.versioning import check_version
from hms_server.services.access import (
    ensure_chart_access,
    ensure_chart_write_access,
    ensure_record_access,
)
from hms_server.services.clinical import actor_id, audit_read, check_encounter, user_names

CATEGORY = "prescriptions"


@dataclass(frozen=True)
class ItemInput:
    drug_id: int
    dose: Decimal
    unit: str
    route: str
    frequency: str
    duration_days: int | None
    quantity: Decimal
    instructions: str | None = None


@dataclass(frozen=True)
class PrescriptionView:
    prescription: Prescription
    items: list[tuple[PrescriptionItem, Drug]]
    prescriber_name: str | None
    patient: Patient | None
    overrides: list[PrescriptionOverride]
    prescriber_registration: str | None = None
    encounter: Encounter | None = None


# ---------------------------------------------------------------- formulary


def search_formulary(
    uow: UnitOfWork, *, q: str | None, limit: int, offset: int
) -> tuple[list[Drug], int]:
    """Drugs whose name, ingredient, class or ATC code contains ``q`` (case-insensitive)."""
    with uow:
        return uow.repo(PrescribingRepository).search_formulary(q=q, limit=limit, offset=offset)


def get_drug(uow: UnitOfWork, drug_id: int) -> Drug:
    with uow:
        drug = uow.repo(PrescribingRepository).drug(drug_id)
        if drug is None:
            raise NotFoundError(f"No formulary drug with id {drug_id}.")
        return drug


# ---------------------------------------------------------------- safety checks


def drug_info(drug: Drug) -> DrugInfo:
    return DrugInfo(
        id=drug.id,
        generic_name=drug.generic_name,
        ingredients=tuple(drug.ingredients),
        atc_code=drug.atc_code,
        therapeutic_class=drug.therapeutic_class,
        class_name=drug.class_name,
        allergy_groups=tuple(drug.allergy_groups or ()),
    )


def active_medication_rows(
    uow: UnitOfWork, patient_id: int, *, exclude_prescription_id: int | None = None
) -> list[tuple[PrescriptionItem, Drug, Prescription]]:
    return uow.repo(PrescribingRepository).active_medications(
        patient_id, exclude_prescription_id=exclude_prescription_id
    )


def _load_drugs(uow: UnitOfWork, items: list[ItemInput]) -> list[Drug]:
    found = uow.repo(PrescribingRepository).drugs(i.drug_id for i in items)
    errors = [
        field_error(f"items.{n}.drug_id", "not in the formulary")
        for n, item in enumerate(items)
        if item.drug_id not in found or not found[item.drug_id].active
    ]
    if errors:
        raise ValidationFailedError("Some items are not formulary drugs.", extra={"errors": errors})
    return [found[i.drug_id] for i in items]


def safety_conflicts(
    uow: UnitOfWork,
    patient_id: int,
    drugs: list[Drug],
    *,
    exclude_prescription_id: int | None = None,
) -> list[Conflict]:
    """The safety checks against the patient's record as it is now. Dispensing re-runs them
    for a prescription, excluding that prescription from the "active medications"."""
    repo = uow.repo(PrescribingRepository)
    allergies = [
        AllergyInfo(a.substance, a.severity, a.reaction) for a in repo.active_allergies(patient_id)
    ]
    active = [
        drug_info(d)
        for _, d, _ in repo.active_medications(
            patient_id, exclude_prescription_id=exclude_prescription_id
        )
    ]
    rules = [
        InteractionRule(r.side_a, r.side_b, r.severity, r.reason, r.source)
        for r in repo.interaction_rules()
    ]
    return check_prescription([drug_info(d) for d in drugs], active, allergies, rules)


def check_safety(uow: UnitOfWork, patient_id: int, drug_ids: list[int]) -> list[Conflict]:
    """Dry run of the prescribing checks (the desktop shows these before sending). It reads
    the allergies and medications, so it needs chart access like any read and never changes
    who has access; it is audited as a read."""
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        drugs = _load_drugs(
            uow, [ItemInput(i, Decimal(1), "", "", "", None, Decimal(1)) for i in drug_ids]
        )
        conflicts = safety_conflicts(uow, patient_id, drugs)
        audit_read(uow, basis, CATEGORY, safety_check=True, drug_ids=sorted(set(drug_ids)))
        uow.commit()
        return conflicts


# ---------------------------------------------------------------- prescriptions


def _view(uow: UnitOfWork, rx: Prescription, *, with_patient: bool = True) -> PrescriptionView:
    repo = uow.repo(PrescribingRepository)
    items = repo.items_with_drugs(rx.id)
    overrides = repo.overrides(rx.id)
    names = user_names(uow, [rx.prescriber_user_id])
    patient = uow.repo(PatientRepository).get(rx.patient_id) if with_patient else None
    return PrescriptionView(
        rx,
        items,
        names.get(rx.prescriber_user_id),
        patient,
        overrides,
        repo.prescriber_registration(rx.prescriber_user_id),
        repo.encounter(rx.encounter_id),
    )


def create_prescription(
    uow: UnitOfWork,
    *,
    patient_id: int,
    items: list[ItemInput],
    notes: str | None,
    override_reason: str | None,
    encounter_id: int | None,
) -> PrescriptionView:
    """Prescribe after the safety checks; conflicts → 409 unless overridden with a reason."""
    override = (override_reason or "").strip() or None
    with uow:
        ensure_chart_write_access(uow, patient_id)
        check_encounter(uow, encounter_id, patient_id)
        repo = uow.repo(PrescribingRepository)
        repo.lock_patient_prescribing(patient_id)
        drugs = _load_drugs(uow, items)
        conflicts = safety_conflicts(uow, patient_id, drugs)
        if conflicts and override is None:
            raise PrescribingConflictError(conflicts)
        number = repo.next_number()
        me = actor_id(uow)
        rx = Prescription(
            number=number,
            patient_id=patient_id,
            encounter_id=encounter_id,
            prescriber_user_id=me,
            status="active",
            notes=notes,
            created_at=utcnow(),
        )
        repo.add(rx)
        for line_no, item in enumerate(items, start=1):
            repo.stage(
                PrescriptionItem(
                    prescription_id=rx.id,
                    line_no=line_no,
                    drug_id=item.drug_id,
                    dose=item.dose,
                    unit=item.unit,
                    route=item.route,
                    frequency=item.frequency,
                    duration_days=item.duration_days,
                    quantity=item.quantity,
                    instructions=item.instructions,
                )
            )
        detail: dict[str, Any] = {
            "prescription_id": rx.id,
            "number": number,
            "drug_ids": [i.drug_id for i in items],
        }
        if conflicts:
            listed = [c.as_dict() for c in conflicts]
            repo.stage(
                PrescriptionOverride(
                    prescription_id=rx.id,
                    user_id=me,
                    reason=override or "",
                    conflicts=listed,
                    created_at=utcnow(),
                )
            )
            uow.audit(
                CATEGORY,
                "prescription.override",
                patient_id=patient_id,
                detail={
                    "prescription_id": rx.id,
                    "override_reason": override,
                    "conflicts": [
                        {"type": c.type, "drug_ids": list(c.drug_ids), "severity": c.severity}
                        for c in conflicts
                    ],
                },
            )
            detail["overridden"] = sorted({c.type for c in conflicts})
        repo.flush()
        uow.audit(CATEGORY, "prescription.create", patient_id=patient_id, detail=detail)
        uow.publish("prescription.created", {"prescription_id": rx.id, "patient_id": patient_id})
        uow.emit(PrescriptionIssued(rx.id, patient_id, encounter_id, rx.created_at))
        view = _view(uow, rx)
        uow.commit()
        return view


def _get_rx(uow: UnitOfWork, prescription_id: int, *, lock: bool = False) -> Prescription:
    rx = uow.repo(PrescribingRepository).prescription(prescription_id, lock=lock)
    if rx is None:
        raise _no_prescription(prescription_id)
    return rx


def _no_prescription(prescription_id: int) -> NotFoundError:
    return NotFoundError(f"No prescription with id {prescription_id}.")


def get_prescription(uow: UnitOfWork, prescription_id: int) -> PrescriptionView:
    with uow:
        rx = _get_rx(uow, prescription_id)
        basis = ensure_record_access(uow, rx.patient_id, _no_prescription(prescription_id))
        view = _view(uow, rx)
        audit_read(uow, basis, CATEGORY, prescription_id=rx.id)
        uow.commit()
        return view


def list_prescriptions(
    uow: UnitOfWork, patient_id: int, *, status: str | None, limit: int, offset: int
) -> tuple[list[PrescriptionView], int]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows, total = uow.repo(PrescribingRepository).prescriptions(
            patient_id, status=status, limit=limit, offset=offset
        )
        views = [_view(uow, rx, with_patient=False) for rx in rows]
        audit_read(uow, basis, CATEGORY)
        uow.commit()
        return views, total


@dataclass(frozen=True)
class MedicationView:
    item: PrescriptionItem
    drug: Drug
    prescription: Prescription


def list_medications(uow: UnitOfWork, patient_id: int) -> list[MedicationView]:
    """Current medications: items of active prescriptions still within their duration."""
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows = [MedicationView(i, d, p) for i, d, p in active_medication_rows(uow, patient_id)]
        audit_read(uow, basis, CATEGORY, medications=True)
        uow.commit()
        return rows


def cancel_prescription(
    uow: UnitOfWork, prescription_id: int, *, version: int, reason: str
) -> PrescriptionView:
    with uow:
        rx = _get_rx(uow, prescription_id, lock=True)
        ensure_record_access(uow, rx.patient_id, _no_prescription(prescription_id))
        check_version(rx.version, version, "prescription")
        if rx.status != "active":
            raise ConflictError(f"This prescription is {rx.status}; it cannot be cancelled.")
        rx.status = "cancelled"
        rx.cancelled_at = utcnow()
        rx.cancel_reason = reason.strip()
        uow.audit(
            CATEGORY,
            "prescription.cancel",
            patient_id=rx.patient_id,
            detail={"prescription_id": rx.id},
        )
        uow.publish(
            "prescription.cancelled", {"prescription_id": rx.id, "patient_id": rx.patient_id}
        )
        uow.emit(PrescriptionCancelled(rx.id, rx.patient_id))
        view = _view(uow, rx)
        uow.commit()
        return view


def prescription_of_item(uow: UnitOfWork, item_id: int) -> int | None:
    """The prescription a prescription item belongs to (reading it is audited separately)."""
    with uow:
        return uow.repo(PrescribingRepository).prescription_of_item(item_id)
