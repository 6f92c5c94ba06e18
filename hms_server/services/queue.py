"""The consultation queue: check-in with a token number, call, start and complete.

Tokens count up from 1 per doctor per day. Check-in locks the doctor row so concurrent
check-ins for one doctor take turns; ``uq_queue_entries_token`` backs that up in the database.
Starting a consultation opens the patient's encounter (``services.encounters``); completing
it closes the encounter.

Who may act: QUEUE_MANAGE holders. A doctor who has a clinic of their own (a ``doctors`` row)
may only work their own queue; staff without one (reception, a covering locum) may work any.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import Appointment, Doctor, QueueEntry
from hms_server.adapters.repositories.appointments import (
    AppointmentRepository,
    QueueRepository,
)
from hms_server.adapters.repositories.scheduling import SchedulingRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ForbiddenError, NotFoundError
from hms_server.domain.hospital import Hospital
from hms_server.domain.scheduling import (
    APPOINTMENT_TRANSITIONS,
    QUEUE_TRANSITIONS,
    InvalidTransitionError,
    check_transition,
    waiting_minutes,
)
from hms_server.domain.shown import shown_patients
from hms_server.services import encounters, scheduling

CATEGORY = "scheduling"


class CheckInTooLateError(InvalidTransitionError):
    code, title = "check_in_closed", "Check-in closed"


def _queue_event(uow: UnitOfWork, entry: QueueEntry) -> None:
    uow.publish(
        "queue.updated",
        {
            "doctor_id": entry.doctor_id,
            "queue_entry_id": entry.id,
            "date": entry.queue_date.isoformat(),
            "status": entry.status,
        },
    )


def check_in(uow: UnitOfWork, appointment_id: int, *, now: datetime | None = None) -> QueueEntry:
    """Mark the patient arrived and give them the next token of the doctor's day.

    Check-in is refused for appointments on a day that has passed; early arrival (any time
    on or before the day) is accepted and queued for the appointment's day.
    """
    now = now or utcnow()
    with uow:
        appointments, queue = uow.repo(AppointmentRepository), uow.repo(QueueRepository)
        appointment = appointments.get(appointment_id, lock=True)
        if appointment is None:
            raise NotFoundError(f"No appointment with id {appointment_id}.")
        check_transition(APPOINTMENT_TRANSITIONS, appointment.status, "checked_in", "appointment")
        queue_day = uow.hospital.local(appointment.starts_at).date()
        if queue_day < uow.hospital.local(now).date():
            raise CheckInTooLateError("This appointment's day has passed; book a new one.")
        # Serialise token allocation per doctor (the unique constraint is the backstop).
        uow.repo(SchedulingRepository).doctor(appointment.doctor_id, lock=True)
        last = queue.last_token(appointment.doctor_id, queue_day)
        entry = QueueEntry(
            appointment_id=appointment.id,
            patient_id=appointment.patient_id,
            doctor_id=appointment.doctor_id,
            queue_date=queue_day,
            token=last + 1,
            status="waiting",
            checked_in_at=now,
        )
        appointment.status = "checked_in"
        appointment.updated_at = now
        queue.add(entry)
        uow.audit(
            CATEGORY,
            "appointment.check_in",
            patient_id=appointment.patient_id,
            detail={
                "appointment_id": appointment.id,
                "queue_entry_id": entry.id,
                "token": entry.token,
            },
        )
        uow.publish(
            "appointment.checked_in",
            {
                "appointment_id": appointment.id,
                "doctor_id": appointment.doctor_id,
                "patient_id": appointment.patient_id,
                "queue_entry_id": entry.id,
                "date": queue_day.isoformat(),
            },
        )
        _queue_event(uow, entry)
        uow.commit()
        return entry


def _entry_for_update(uow: UnitOfWork, entry_id: int) -> QueueEntry:
    entry = uow.repo(QueueRepository).get(entry_id, lock=True)
    if entry is None:
        raise NotFoundError(f"No queue entry with id {entry_id}.")
    actor = uow.actor
    if actor is not None and actor.user_id is not None:
        own = scheduling.doctor_for_user(uow, actor.user_id)
        if own is not None and own.id != entry.doctor_id:
            raise ForbiddenError("This patient is in another doctor's queue.")
    return entry


def _appointment(uow: UnitOfWork, entry: QueueEntry) -> Appointment | None:
    if entry.appointment_id is None:
        return None
    return uow.repo(AppointmentRepository).get(entry.appointment_id, lock=True)


def call_patient(uow: UnitOfWork, entry_id: int, *, now: datetime | None = None) -> QueueEntry:
    """Call the patient to the consulting room (may be repeated)."""
    with uow:
        entry = _entry_for_update(uow, entry_id)
        check_transition(QUEUE_TRANSITIONS, entry.status, "called", "queue entry")
        entry.status, entry.called_at = "called", now or utcnow()
        uow.audit(
            CATEGORY, "queue.call", patient_id=entry.patient_id, detail={"queue_entry_id": entry.id}
        )
        _queue_event(uow, entry)
        uow.commit()
        return entry


def start_consultation(
    uow: UnitOfWork, entry_id: int, *, now: datetime | None = None
) -> QueueEntry:
    """The patient is with the doctor: open the encounter in their record."""
    now = now or utcnow()
    with uow:
        entry = _entry_for_update(uow, entry_id)
        check_transition(QUEUE_TRANSITIONS, entry.status, "in_consultation", "queue entry")
        appointment = _appointment(uow, entry)
        if appointment is not None:
            check_transition(
                APPOINTMENT_TRANSITIONS, appointment.status, "in_consultation", "appointment"
            )
        doctor = uow.repo(SchedulingRepository).doctor(entry.doctor_id)
        assert doctor is not None
        encounter = encounters.open_encounter(
            uow,
            patient_id=entry.patient_id,
            clinician_user_id=doctor.user_id,
            appointment_id=entry.appointment_id,
            kind="outpatient",
        )
        # Rows change after the encounter is written, so each is UPDATEd (and its version
        # moved on) exactly once.
        if appointment is not None:
            appointment.status = "in_consultation"
            appointment.updated_at = now
            appointment.encounter_id = encounter.id
        entry.encounter_id = encounter.id
        entry.status, entry.started_at = "in_consultation", now
        entry.called_at = entry.called_at or now
        uow.audit(
            CATEGORY,
            "queue.start",
            patient_id=entry.patient_id,
            detail={"queue_entry_id": entry.id, "encounter_id": encounter.id},
        )
        _queue_event(uow, entry)
        uow.commit()
        return entry


def complete_consultation(
    uow: UnitOfWork, entry_id: int, *, now: datetime | None = None
) -> QueueEntry:
    """The consultation is over: close the encounter, complete the appointment."""
    now = now or utcnow()
    with uow:
        entry = _entry_for_update(uow, entry_id)
        check_transition(QUEUE_TRANSITIONS, entry.status, "done", "queue entry")
        appointment = _appointment(uow, entry)
        if entry.encounter_id is not None:
            encounters.close_encounter(uow, entry.encounter_id)
        if appointment is not None and appointment.status == "in_consultation":
            appointment.status = "completed"
            appointment.updated_at = now
        entry.status, entry.completed_at = "done", now
        uow.audit(
            CATEGORY,
            "queue.complete",
            patient_id=entry.patient_id,
            detail={"queue_entry_id": entry.id, "encounter_id": entry.encounter_id},
        )
        _queue_event(uow, entry)
        uow.commit()
        return entry


@dataclass(frozen=True)
class QueueRow:
    entry: QueueEntry
    doctor: Doctor
    patient: Patient
    appointment: Appointment | None
    waiting_minutes: int


@dataclass(frozen=True)
class QueueBoard:
    day: date
    rows: list[QueueRow]
    counts: dict[str, int]
    average_wait_minutes: float | None
    longest_wait_minutes: int | None


def queue_board(
    uow: UnitOfWork,
    *,
    day: date | None = None,
    doctor_id: int | None = None,
    department_id: int | None = None,
    now: datetime | None = None,
) -> QueueBoard:
    """The day's queue of a doctor or a department in token order, with waiting times:
    minutes from check-in to being called (or until now while still waiting)."""
    now = now or utcnow()
    day = day or uow.hospital.local(now).date()
    with uow:
        found = uow.repo(QueueRepository).board(
            day, doctor_id=doctor_id, department_id=department_id
        )
        rows = []
        counts = {status: 0 for status in ("waiting", "called", "in_consultation", "done", "left")}
        waits: list[int] = []
        for entry, doctor, patient, appointment in found:
            seen_at = entry.called_at or entry.started_at
            until = seen_at or (entry.completed_at if entry.status == "done" else None) or now
            wait = waiting_minutes(entry.checked_in_at, until)
            if entry.status != "left":
                waits.append(wait)
            counts[entry.status] = counts.get(entry.status, 0) + 1
            rows.append(QueueRow(entry, doctor, patient, appointment, wait))
        if rows:
            uow.audit(
                CATEGORY,
                "queue.read",
                detail={"count": len(rows), **shown_patients(r.entry.patient_id for r in rows)},
            )
            uow.commit()
        return QueueBoard(
            day,
            rows,
            counts,
            round(sum(waits) / len(waits), 1) if waits else None,
            max(waits) if waits else None,
        )


@dataclass(frozen=True)
class QueueEntryView:
    """A queue entry as the board shows it: times in the hospital's zone, waiting minutes,
    and the patient's name and MRN only for a reader allowed to see patients."""

    id: int
    token: int
    status: str
    appointment_id: int | None
    patient_id: int
    patient_name: str | None
    patient_mrn: str | None
    doctor_id: int
    doctor_name: str | None
    queue_date: date
    appointment_start: datetime | None
    checked_in_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    waiting_minutes: int
    encounter_id: int | None
    version: int


def queue_entry_view(
    hospital: Hospital,
    entry: QueueEntry,
    *,
    doctor: Doctor | None = None,
    patient: Patient | None = None,
    appointment: Appointment | None = None,
    wait: int | None = None,
    show_patient: bool = False,
) -> QueueEntryView:
    def local(value: datetime | None) -> datetime | None:
        return hospital.local(value) if value is not None else None

    shown = patient if show_patient else None
    if wait is None:
        until = entry.called_at or entry.started_at or entry.checked_in_at
        wait = waiting_minutes(entry.checked_in_at, until)
    return QueueEntryView(
        id=entry.id,
        token=entry.token,
        status=entry.status,
        appointment_id=entry.appointment_id,
        patient_id=entry.patient_id,
        patient_name=f"{shown.given_name} {shown.family_name}" if shown else None,
        patient_mrn=shown.mrn if shown else None,
        doctor_id=entry.doctor_id,
        doctor_name=doctor.display_name if doctor else None,
        queue_date=entry.queue_date,
        appointment_start=local(appointment.starts_at) if appointment else None,
        checked_in_at=hospital.local(entry.checked_in_at),
        called_at=local(entry.called_at),
        started_at=local(entry.started_at),
        completed_at=local(entry.completed_at),
        waiting_minutes=wait,
        encounter_id=entry.encounter_id,
        version=entry.version,
    )
