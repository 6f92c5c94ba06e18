"""Encounters: open and close a consultation.

Called by the API and by scheduling when a doctor starts or completes a consultation.
Opening an encounter is the documented start of a treatment relationship, so the clinician
joins the patient's care team in the same transaction (see ``services.access``).
"""

from __future__ import annotations

from datetime import datetime

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import ENCOUNTER_KINDS, Encounter
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.repositories.clinical import ChartRepository
from hms_server.adapters.repositories.identity import UserRepository
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.domain.events import ConsultationCompleted
from hms_server.services.access import add_care_team_member

CATEGORY = "encounters"


def _require_patient(uow: UnitOfWork, patient_id: int) -> Patient:
    patient = uow.repo(PatientRepository).get(patient_id)
    if patient is None:
        raise NotFoundError(f"No patient with id {patient_id}.")
    if patient.merged_into_id is not None:
        raise ConflictError(
            f"Patient {patient_id} was merged into {patient.merged_into_id}; use that record.",
            extra={"merged_into_id": patient.merged_into_id},
        )
    return patient


def get_encounter_row(uow: UnitOfWork, encounter_id: int, *, lock: bool = False) -> Encounter:
    encounter = uow.repo(ChartRepository).encounter(encounter_id, lock=lock)
    if encounter is None:
        raise NotFoundError(f"No encounter with id {encounter_id}.")
    return encounter


def open_encounter(
    uow: UnitOfWork,
    *,
    patient_id: int,
    clinician_user_id: int,
    appointment_id: int | None = None,
    kind: str = "outpatient",
    reason: str | None = None,
    started_at: datetime | None = None,
    join_care_team: bool = True,
) -> Encounter:
    """Start an encounter and make the clinician part of the patient's care team.

    Callers establish the care relationship first: the queue (the patient is with this
    doctor), or ``services.clinical.open_encounter_checked`` for the API, which passes
    ``join_care_team=False`` when the access was only break-the-glass or the clinic of the
    day, so an emergency or a day's triage does not turn into lasting access.

    Idempotent per appointment: a second call for the same appointment returns the
    encounter already in progress instead of opening another one.
    """
    if kind not in ENCOUNTER_KINDS:
        raise ValidationFailedError(
            f"Unknown encounter kind '{kind}'.",
            extra={"errors": [{"field": "kind", "type": "enum", "message": "unknown kind"}]},
        )
    with uow:
        _require_patient(uow, patient_id)
        if uow.repo(UserRepository).get(clinician_user_id) is None:
            raise NotFoundError(f"No user with id {clinician_user_id}.")
        if appointment_id is not None:
            existing = uow.repo(ChartRepository).open_encounter_for_appointment(appointment_id)
            if existing is not None:
                uow.commit()
                return existing
        encounter = Encounter(
            patient_id=patient_id,
            clinician_user_id=clinician_user_id,
            appointment_id=appointment_id,
            kind=kind,
            status="in_progress",
            reason=reason,
            started_at=started_at or utcnow(),
        )
        uow.repo(ChartRepository).add(encounter)
        if join_care_team:
            add_care_team_member(
                uow,
                patient_id=patient_id,
                user_id=clinician_user_id,
                role="attending",
                source="encounter",
            )
        uow.audit(
            CATEGORY,
            "encounter.open",
            patient_id=patient_id,
            detail={
                "encounter_id": encounter.id,
                "appointment_id": appointment_id,
                "clinician_user_id": clinician_user_id,
                "kind": kind,
            },
        )
        uow.publish("encounter.opened", {"encounter_id": encounter.id, "patient_id": patient_id})
        uow.commit()
        return encounter


def close_encounter(
    uow: UnitOfWork, encounter_id: int, *, ended_at: datetime | None = None
) -> Encounter:
    """Finish an encounter. Closing one that is already finished is a no-op."""
    with uow:
        encounter = get_encounter_row(uow, encounter_id, lock=True)
        if encounter.status == "cancelled":
            raise ConflictError("This encounter was cancelled and cannot be closed.")
        if encounter.status == "in_progress":
            encounter.status = "finished"
            encounter.ended_at = max(ended_at or utcnow(), encounter.started_at)
            uow.audit(
                CATEGORY,
                "encounter.close",
                patient_id=encounter.patient_id,
                detail={"encounter_id": encounter.id},
            )
            uow.publish(
                "encounter.closed",
                {"encounter_id": encounter.id, "patient_id": encounter.patient_id},
            )
            # Billing charges the consultation (once per encounter; capture is idempotent).
            uow.emit(
                ConsultationCompleted(
                    encounter_id=encounter.id,
                    patient_id=encounter.patient_id,
                    doctor_user_id=encounter.clinician_user_id,
                    department_id=None,
                    ended_at=encounter.ended_at,
                )
            )
        uow.commit()
        return encounter
