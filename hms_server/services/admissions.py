"""Admission, transfer, discharge and cancellation (ADT), one function per use case.

Each runs in one transaction: the admission row, the bed stay, the bed's status, the
inpatient encounter, the care team, the audit entries, the live events for desktops and
the domain event other areas react to (HL7 ADT out, billing through the bed-day ledger) all
commit together or not at all. Beds are locked (``FOR UPDATE``, in id order) before they are
checked, so twenty people admitting to one bed at once queue on the lock and nineteen of them
get ``bed_occupied``; the unique indexes and exclusion constraints of migration 0030 would
refuse the write anyway if a check were ever missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.wards import Admission, Bed, BedStay, Ward
from hms_server.adapters.repositories.wards import WardRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.domain.events import AdmissionChanged, PatientsMerged
from hms_server.domain.wards import (
    AdmissionNotOpenError,
    AlreadyAdmittedError,
    BedDaysCapturedError,
    SameBedError,
    check_bed_accepts,
)
from hms_server.services.access import add_care_team_member

CATEGORY = "admissions"


@dataclass(frozen=True)
class AdmitInput:
    patient_id: int
    bed_id: int
    reason: str
    source: str = "clinic"
    attending_doctor_user_id: int | None = None
    diagnosis: str | None = None
    icd10_code: str | None = None
    expected_los_days: int | None = None
    appointment_id: int | None = None


def _field(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(
        message, extra={"errors": [{"field": field, "message": message, "type": "value_error"}]}
    )


def _actor_id(uow: UnitOfWork) -> int:
    assert uow.actor is not None and uow.actor.user_id is not None
    return uow.actor.user_id


def _bed_and_ward(repo: WardRepository, bed_id: int, *, field: str = "bed_id") -> tuple[Bed, Ward]:
    bed = repo.bed(bed_id, lock=True)
    if bed is None:
        raise _field(field, f"No bed with id {bed_id}.")
    ward = repo.ward(bed.ward_id)
    assert ward is not None
    if not ward.active:
        raise ConflictError(
            f"Ward {ward.code} is closed; choose a bed on an open ward.",
            extra={"reason": "ward_closed"},
        )
    return bed, ward


def _room_policy(repo: WardRepository, bed: Bed, ward: Ward) -> str:
    room = repo.room(bed.room_id)
    if room is not None and room.gender_policy != "mixed":
        return room.gender_policy
    return ward.gender_policy


def _occupy(repo: WardRepository, bed: Bed, now: datetime) -> None:
    bed.status, bed.status_changed_at, bed.blocked_reason = "occupied", now, None
    bed.version += 1


def _release(bed: Bed, now: datetime) -> None:
    # A bed a patient has left is dirty until someone marks it clean.
    bed.status, bed.status_changed_at = "cleaning", now
    bed.version += 1


def _join_care_team(
    uow: UnitOfWork, repo: WardRepository, admission: Admission, ward: Ward
) -> None:
    """The attending doctor and the ward's nurses join the patient's care team."""
    if admission.attending_doctor_user_id is not None:
        add_care_team_member(
            uow,
            patient_id=admission.patient_id,
            user_id=admission.attending_doctor_user_id,
            role="attending",
            source="admission",
            added_by_user_id=_actor_id(uow),
        )
    for nurse_id in repo.ward_nurse_ids(ward.id):
        add_care_team_member(
            uow,
            patient_id=admission.patient_id,
            user_id=nurse_id,
            role="ward_nurse",
            source="admission",
            added_by_user_id=_actor_id(uow),
        )


def _check_doctor(repo: WardRepository, user_id: int, field: str) -> None:
    user = repo.user(user_id)
    if user is None or not user.active or "doctor" not in (user.roles or []):
        raise _field(field, f"User {user_id} is not an active doctor.")


def _publish_bed(uow: UnitOfWork, bed: Bed) -> None:
    uow.publish("bed.changed", {"bed_id": bed.id, "ward_id": bed.ward_id, "status": bed.status})


def admit_patient(uow: UnitOfWork, data: AdmitInput) -> Admission:
    """Admit to a free bed: 409 ``bed_occupied`` / ``bed_blocked`` / ``bed_being_cleaned``
    / ``bed_gender_policy``, 409 ``already_admitted`` when the patient has an open admission.

    A doctor admitting without naming an attending doctor becomes the attending doctor.
    """
    from hms_server.services.encounters import open_encounter

    with uow:
        repo = uow.repo(WardRepository)
        me = _actor_id(uow)
        patient = repo.patient(data.patient_id, lock=True)
        if patient is None:
            raise _field("patient_id", f"No patient with id {data.patient_id}.")
        if patient.merged_into_id is not None:
            raise ConflictError(
                f"Patient {patient.id} was merged into {patient.merged_into_id}; admit that "
                "record.",
                extra={"merged_into_id": patient.merged_into_id},
            )
        existing = repo.open_admission_of(patient.id)
        if existing is not None:
            raise AlreadyAdmittedError(
                "The patient is already admitted (transfer them instead).",
                extra={"admission_id": existing.id, "bed_id": existing.current_bed_id},
            )
        attending = data.attending_doctor_user_id
        if attending is None and uow.actor and "doctor" in uow.actor.roles:
            attending = me
        if attending is not None:
            _check_doctor(repo, attending, "attending_doctor_user_id")
        bed, ward = _bed_and_ward(repo, data.bed_id)
        check_bed_accepts(
            bed.status, gender_policy=_room_policy(repo, bed, ward), patient_sex=patient.sex
        )
        now = utcnow()
        admission = Admission(
            patient_id=patient.id,
            status="admitted",
            source=data.source,
            reason=data.reason.strip(),
            diagnosis=data.diagnosis,
            icd10_code=data.icd10_code,
            expected_los_days=data.expected_los_days,
            admitted_by_user_id=me,
            attending_doctor_user_id=attending,
            appointment_id=data.appointment_id,
            current_bed_id=bed.id,
            admitted_at=now,
            version=1,
        )
        repo.add(admission)
        repo.flush()
        repo.add(
            BedStay(
                admission_id=admission.id,
                patient_id=patient.id,
                bed_id=bed.id,
                ward_id=ward.id,
                ward_class=ward.ward_class,
                started_at=now,
            )
        )
        _occupy(repo, bed, now)
        repo.flush()
        if attending is not None:
            encounter = open_encounter(
                uow,
                patient_id=patient.id,
                clinician_user_id=attending,
                kind="inpatient",
                reason=admission.reason,
                started_at=now,
            )
            admission.encounter_id = encounter.id
        _join_care_team(uow, repo, admission, ward)
        uow.audit(
            CATEGORY,
            "admission.admit",
            patient_id=patient.id,
            detail={
                "admission_id": admission.id,
                "bed_id": bed.id,
                "ward_id": ward.id,
                "source": data.source,
            },
        )
        uow.publish(
            "admission.changed",
            {
                "admission_id": admission.id,
                "ward_id": ward.id,
                "patient_id": patient.id,
                "change": "admitted",
            },
        )
        _publish_bed(uow, bed)
        uow.emit(AdmissionChanged(admission.id, patient.id, "admitted", now))
        repo.flush()
        uow.commit()
        return admission


def _open_admission(repo: WardRepository, admission_id: int) -> Admission:
    admission = repo.admission(admission_id, lock=True)
    if admission is None:
        raise NotFoundError(f"No admission with id {admission_id}.")
    if admission.status != "admitted":
        raise AdmissionNotOpenError(
            f"This admission is {admission.status}; it can no longer be changed.",
            extra={"admission_status": admission.status},
        )
    return admission


def transfer_patient(
    uow: UnitOfWork, admission_id: int, *, bed_id: int, reason: str | None = None
) -> Admission:
    """Move an admitted patient to another bed (same or another ward). The old bed goes to
    cleaning; the new ward's nurses join the care team."""
    with uow:
        repo = uow.repo(WardRepository)
        admission = _open_admission(repo, admission_id)
        if admission.current_bed_id == bed_id:
            raise SameBedError("The patient is already in that bed.")
        assert admission.current_bed_id is not None
        beds = {b.id: b for b in repo.beds_locked([admission.current_bed_id, bed_id])}
        if bed_id not in beds:
            raise _field("bed_id", f"No bed with id {bed_id}.")
        old_bed, new_bed = beds[admission.current_bed_id], beds[bed_id]
        new_ward = repo.ward(new_bed.ward_id)
        assert new_ward is not None
        if not new_ward.active:
            raise ConflictError(f"Ward {new_ward.code} is closed.", extra={"reason": "ward_closed"})
        patient = repo.patient(admission.patient_id)
        assert patient is not None
        check_bed_accepts(
            new_bed.status,
            gender_policy=_room_policy(repo, new_bed, new_ward),
            patient_sex=patient.sex,
        )
        now = utcnow()
        stay = repo.open_stay(admission.id)
        if stay is not None:
            stay.ended_at = max(now, stay.started_at)
        repo.flush()
        admission.current_bed_id = new_bed.id
        admission.version += 1
        repo.add(
            BedStay(
                admission_id=admission.id,
                patient_id=admission.patient_id,
                bed_id=new_bed.id,
                ward_id=new_ward.id,
                ward_class=new_ward.ward_class,
                started_at=now,
            )
        )
        _release(old_bed, now)
        _occupy(repo, new_bed, now)
        repo.flush()
        if old_bed.ward_id != new_bed.ward_id:
            _join_care_team(uow, repo, admission, new_ward)
        uow.audit(
            CATEGORY,
            "admission.transfer",
            patient_id=admission.patient_id,
            detail={
                "admission_id": admission.id,
                "from_bed_id": old_bed.id,
                "to_bed_id": new_bed.id,
                "reason": reason,
            },
        )
        uow.publish(
            "admission.changed",
            {
                "admission_id": admission.id,
                "ward_id": new_ward.id,
                "from_ward_id": old_bed.ward_id,
                "patient_id": admission.patient_id,
                "change": "transferred",
            },
        )
        _publish_bed(uow, old_bed)
        _publish_bed(uow, new_bed)
        uow.emit(
            AdmissionChanged(
                admission.id, admission.patient_id, "transferred", now, previous_bed_id=old_bed.id
            )
        )
        uow.commit()
        return admission


def discharge_patient(
    uow: UnitOfWork, admission_id: int, *, summary: str, disposition: str = "home"
) -> Admission:
    """Discharge with the doctor's summary, kept as a signed ``discharge`` note in the
    chart. The bed goes to cleaning; future doses and open tasks end; the inpatient
    encounter closes; bed-days up to now are charged."""
    from hms_server.services.bed_days import capture_admission_bed_days
    from hms_server.services.clinical import create_note
    from hms_server.services.encounters import close_encounter
    from hms_server.services.mar import end_orders_of_admission
    from hms_server.services.nursing import cancel_open_tasks

    with uow:
        repo = uow.repo(WardRepository)
        admission = _open_admission(repo, admission_id)
        assert admission.current_bed_id is not None
        bed = repo.bed(admission.current_bed_id, lock=True)
        assert bed is not None
        now = utcnow()
        note = create_note(
            uow,
            admission.patient_id,
            encounter_id=admission.encounter_id,
            note_type="discharge",
            title="Discharge summary",
            text={"body": summary},
            sign=True,
        )
        stay = repo.open_stay(admission.id)
        if stay is not None:
            stay.ended_at = max(now, stay.started_at)
        admission.status, admission.discharged_at = "discharged", now
        admission.discharged_by_user_id = _actor_id(uow)
        admission.discharge_disposition = disposition
        admission.discharge_note_id = note.note.id
        admission.current_bed_id = None
        admission.version += 1
        _release(bed, now)
        repo.flush()
        end_orders_of_admission(uow, admission.id, reason="discharged")
        cancel_open_tasks(uow, admission.id)
        if admission.encounter_id is not None:
            close_encounter(uow, admission.encounter_id, ended_at=now)
        capture_admission_bed_days(uow, admission, until=now)
        uow.audit(
            CATEGORY,
            "admission.discharge",
            patient_id=admission.patient_id,
            detail={
                "admission_id": admission.id,
                "bed_id": bed.id,
                "disposition": disposition,
                "note_id": note.note.id,
            },
        )
        uow.publish(
            "admission.changed",
            {
                "admission_id": admission.id,
                "ward_id": bed.ward_id,
                "patient_id": admission.patient_id,
                "change": "discharged",
            },
        )
        _publish_bed(uow, bed)
        uow.emit(
            AdmissionChanged(
                admission.id, admission.patient_id, "discharged", now, previous_bed_id=bed.id
            )
        )
        uow.commit()
        return admission


def cancel_admission(uow: UnitOfWork, admission_id: int, *, reason: str) -> Admission:
    """Undo an admission made in error. Refused once a bed-day has been charged (discharge
    instead, so billing stays consistent). The bed is freed at once: nobody slept in it."""
    from hms_server.services.mar import end_orders_of_admission
    from hms_server.services.nursing import cancel_open_tasks

    with uow:
        repo = uow.repo(WardRepository)
        admission = _open_admission(repo, admission_id)
        if repo.has_bed_days(admission.id):
            raise BedDaysCapturedError(
                "A bed-day of this admission has already been charged; discharge the patient "
                "instead of cancelling."
            )
        assert admission.current_bed_id is not None
        bed = repo.bed(admission.current_bed_id, lock=True)
        assert bed is not None
        now = utcnow()
        stay = repo.open_stay(admission.id)
        if stay is not None:
            stay.ended_at = max(now, stay.started_at)
        admission.status, admission.cancelled_at = "cancelled", now
        admission.cancel_reason = reason.strip()
        admission.current_bed_id = None
        admission.version += 1
        bed.status, bed.status_changed_at = "free", now
        bed.version += 1
        repo.flush()
        end_orders_of_admission(uow, admission.id, reason="admission cancelled")
        cancel_open_tasks(uow, admission.id)
        if admission.encounter_id is not None:
            encounter = repo.encounter(admission.encounter_id)
            if encounter is not None and encounter.status == "in_progress":
                encounter.status, encounter.ended_at = "cancelled", now
                encounter.version += 1
        uow.audit(
            CATEGORY,
            "admission.cancel",
            patient_id=admission.patient_id,
            detail={"admission_id": admission.id, "bed_id": bed.id},
        )
        uow.publish(
            "admission.changed",
            {
                "admission_id": admission.id,
                "ward_id": bed.ward_id,
                "patient_id": admission.patient_id,
                "change": "cancelled",
            },
        )
        _publish_bed(uow, bed)
        uow.emit(
            AdmissionChanged(
                admission.id, admission.patient_id, "cancelled", now, previous_bed_id=bed.id
            )
        )
        uow.commit()
        return admission


def change_attending(uow: UnitOfWork, admission_id: int, *, doctor_user_id: int) -> Admission:
    """Name (or change) the attending doctor; opens the inpatient encounter if there was no
    doctor yet, and puts the doctor on the care team."""
    from hms_server.services.encounters import open_encounter

    with uow:
        repo = uow.repo(WardRepository)
        admission = _open_admission(repo, admission_id)
        _check_doctor(repo, doctor_user_id, "doctor_user_id")
        admission.attending_doctor_user_id = doctor_user_id
        admission.version += 1
        if admission.encounter_id is None:
            encounter = open_encounter(
                uow,
                patient_id=admission.patient_id,
                clinician_user_id=doctor_user_id,
                kind="inpatient",
                reason=admission.reason,
            )
            admission.encounter_id = encounter.id
        add_care_team_member(
            uow,
            patient_id=admission.patient_id,
            user_id=doctor_user_id,
            role="attending",
            source="admission",
            added_by_user_id=_actor_id(uow),
        )
        uow.audit(
            CATEGORY,
            "admission.attending",
            patient_id=admission.patient_id,
            detail={"admission_id": admission.id, "doctor_user_id": doctor_user_id},
        )
        uow.publish(
            "admission.changed",
            {
                "admission_id": admission.id,
                "patient_id": admission.patient_id,
                "change": "attending",
            },
        )
        repo.flush()
        uow.commit()
        return admission


def move_inpatient_records_on_merge(uow: UnitOfWork, event: PatientsMerged) -> None:
    """Admissions and everything recorded during them follow the surviving record of a
    patient merge. Two records that are both admitted cannot be merged: discharge (or
    cancel) one admission first."""
    from hms_server.adapters.orm.devices import DeviceMessage
    from hms_server.adapters.orm.mar import (
        MedicationAdministration,
        MedicationOrder,
        ScheduledDose,
    )
    from hms_server.adapters.orm.nursing import CareTask, FluidEntry, NursingAssessment
    from hms_server.adapters.orm.wards import BedDay

    repo = uow.repo(WardRepository)
    if repo.open_admission_of(event.loser_id) and repo.open_admission_of(event.survivor_id):
        raise ConflictError(
            "Both records are admitted; discharge or cancel one admission before merging.",
            extra={"reason": "both_admitted"},
        )
    repo.move_patient(
        event.loser_id,
        event.survivor_id,
        (
            Admission,
            BedStay,
            BedDay,
            MedicationOrder,
            ScheduledDose,
            MedicationAdministration,
            NursingAssessment,
            FluidEntry,
            CareTask,
            DeviceMessage,
        ),
    )
