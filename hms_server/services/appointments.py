"""Booking lifecycle: book, reschedule, cancel, no-show, read.

Double booking is impossible because of the exclusion constraints on ``appointments``; the
pre-checks here only give the friendly answer sooner. When two requests race past the
pre-check, the loser's INSERT fails with SQLSTATE 23P01 inside a savepoint and is answered
with the same ``slot_taken`` problem (plus suggestions) as the pre-check.

Other areas react through domain events emitted inside the booking transaction:
``AppointmentChanged`` (``booked``, ``rescheduled``, ``cancelled``; messaging queues the
patient's notices) and ``SlotFreed`` (the waitlist offers the place). Their handlers are
subscribed in ``hms_server.bootstrap``; one that raises rolls the whole change back.

Self-booking: pass ``source="self"`` and a unit of work whose ``Actor`` describes the
anonymous web user (``user_id=None``); overbooking is refused for self-bookings.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import Appointment, Doctor, QueueEntry
from hms_server.adapters.queries.appointments import (
    APPOINTMENT_SORT_COLUMNS,
    AppointmentFilter,
    AppointmentListRow,
    appointment_page,
)
from hms_server.adapters.repositories.appointments import (
    PATIENT_OVERLAP,
    AppointmentRepository,
    QueueRepository,
)
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.repositories.scheduling import SchedulingRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import NotFoundError, ValidationFailedError
from hms_server.domain.events import AppointmentChanged, PatientsMerged, SlotFreed
from hms_server.domain.hospital import Hospital
from hms_server.domain.scheduling import (
    APPOINTMENT_TRANSITIONS,
    FreeSlot,
    InPastError,
    InvalidTransitionError,
    OutsideScheduleError,
    OverbookFullError,
    PatientBusyError,
    Slot,
    SlotTakenError,
    check_transition,
    consecutive_end,
    slot_span,
)
from hms_server.domain.shown import shown_patients
from hms_server.domain.versioning import check_version
from hms_server.services import scheduling

CATEGORY = "scheduling"
DEFAULT_TYPE = "new"
SUGGESTIONS = 5
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def _field_error(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(
        message, extra={"errors": [{"field": field, "message": message, "type": "value_error"}]}
    )


def new_booking_reference() -> str:
    """Eight unambiguous characters as ``XXXX-XXXX`` (~10^12 values, not guessable)."""
    raw = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _aware(uow: UnitOfWork, value: datetime) -> datetime:
    """A time without an offset is read as hospital-local time."""
    return value.replace(tzinfo=uow.hospital.zone) if value.tzinfo is None else value


def _announce(uow: UnitOfWork, change: str, appointment: Appointment) -> None:
    uow.repo(AppointmentRepository).flush()  # the appointment needs its id
    uow.emit(AppointmentChanged(appointment_id=appointment.id, change=change))


def _suggestions(
    uow: UnitOfWork, doctor_id: int, after: datetime, duration: int | None
) -> list[dict[str, Any]]:
    free = scheduling.find_free_slots(
        uow, doctor_id=doctor_id, after=after, limit=SUGGESTIONS, duration_minutes=duration
    )
    return [suggestion(uow, f) for f in free]


def suggestion(uow: UnitOfWork, free: FreeSlot) -> dict[str, Any]:
    local = uow.hospital.local
    return {
        "doctor_id": free.doctor_id,
        "start": local(free.start).isoformat(),
        "end": local(free.end).isoformat(),
    }


def _slot_taken(
    uow: UnitOfWork, doctor_id: int, start: datetime, duration: int | None
) -> SlotTakenError:
    return SlotTakenError(
        "That time was just booked by someone else. Choose one of the suggested slots.",
        extra={"suggestions": _suggestions(uow, doctor_id, start, duration)},
    )


def _patient_busy() -> PatientBusyError:
    return PatientBusyError("The patient already has an appointment overlapping that time.")


def _resolve_time(
    uow: UnitOfWork,
    doctor: Doctor,
    start: datetime,
    end: datetime | None,
    duration: int,
    now: datetime,
) -> tuple[Slot, datetime]:
    """Check ``start`` is the start of one of the doctor's slots and work out the end."""
    if start < now:
        raise InPastError("The appointment time is in the past.")
    slots = scheduling.doctor_day_slots(uow, doctor.id, uow.hospital.local(start).date())
    index = next((i for i, s in enumerate(slots) if s.start == start), None)
    if index is None:
        raise OutsideScheduleError(
            "The doctor has no slot starting at that time (outside their sessions, on leave, "
            "or not on a slot boundary).",
            extra={"suggestions": _suggestions(uow, doctor.id, start, duration)},
        )
    slot = slots[index]
    if end is None:
        end = consecutive_end(slots, index, slot_span(slot.slot_minutes, duration))
        if end is None:
            raise OutsideScheduleError("The appointment does not fit before the session ends.")
        return slot, end
    end = _aware(uow, end)
    if end <= start:
        raise _field_error("end", "end must be after start.")
    run_end = slot.end
    i = index
    while run_end < end and i + 1 < len(slots) and slots[i + 1].start == run_end:
        i += 1
        run_end = slots[i].end
    if end > run_end:
        raise OutsideScheduleError("The appointment would run past the end of the session.")
    return slot, end


def _choose_place(
    uow: UnitOfWork, doctor_id: int, slot: Slot, start: datetime, end: datetime, overbook: bool
) -> int:
    """Regular place (0) or the first free overbook place (1..N)."""
    if not overbook:
        return 0
    if slot.overbook_places < 1:
        raise OverbookFullError("This session allows no overbooking.")
    taken = uow.repo(AppointmentRepository).taken_overbook_places(doctor_id, start, end)
    for place in range(1, slot.overbook_places + 1):
        if place not in taken:
            return place
    raise OverbookFullError("Every overbook place of this slot is taken.")


def book_appointment(
    uow: UnitOfWork,
    *,
    patient_id: int,
    doctor_id: int,
    start: datetime,
    end: datetime | None = None,
    type_code: str | None = None,
    reason: str | None = None,
    notes: str | None = None,
    source: str = "staff",
    overbook: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Book ``patient_id`` with ``doctor_id`` at ``start`` (a slot start; naive = local).

    The end is ``end`` if given, else the type's duration rounded up to whole slots.
    Raises ``InPastError``/``OutsideScheduleError`` (422), ``SlotTakenError`` (409,
    ``extra["suggestions"]``), ``PatientBusyError`` (409), ``ValidationFailedError`` for
    an unknown doctor, patient or type. Publishes ``appointment.booked``.
    """
    now = now or utcnow()
    start = _aware(uow, start)
    if source not in ("staff", "self"):
        raise _field_error("source", "source must be 'staff' or 'self'.")
    if overbook and source == "self":
        raise _field_error("overbook", "Self-booking cannot overbook.")
    with uow:
        appointments = uow.repo(AppointmentRepository)
        scheduling_rows = uow.repo(SchedulingRepository)
        doctor = scheduling_rows.doctor(doctor_id)
        if doctor is None or not doctor.active:
            raise _field_error("doctor_id", f"No bookable doctor with id {doctor_id}.")
        patient = uow.repo(PatientRepository).get(patient_id)
        if patient is None:
            raise _field_error("patient_id", f"No patient with id {patient_id}.")
        if patient.merged_into_id is not None:
            raise _field_error(
                "patient_id", f"This record was merged into patient {patient.merged_into_id}."
            )
        appt_type = scheduling_rows.appointment_type(type_code or DEFAULT_TYPE)
        if appt_type is None:
            raise _field_error("type", f"Unknown appointment type '{type_code}'.")
        duration = appt_type.duration_minutes
        slot, end = _resolve_time(uow, doctor, start, end, duration, now)
        if appointments.patient_busy(patient_id, start, end):
            raise _patient_busy()
        # An overbook booking that loses a race for place k tries the next free place.
        for _attempt in range(slot.overbook_places + 1 if overbook else 1):
            place = _choose_place(uow, doctor.id, slot, start, end, overbook)
            if appointments.place_busy(doctor.id, place, start, end):
                raise _slot_taken(uow, doctor.id, start, duration)
            appointment = Appointment(
                patient_id=patient_id,
                doctor_id=doctor.id,
                starts_at=start,
                ends_at=end,
                overbook_slot=place,
                status="booked",
                type_code=appt_type.code,
                source=source,
                location=slot.location,
                reason=reason,
                notes=notes,
                booking_reference=new_booking_reference(),
                created_by_user_id=uow.actor.user_id if uow.actor else None,
            )
            refused = appointments.try_insert(appointment, new_booking_reference)
            if refused == PATIENT_OVERLAP:
                raise _patient_busy()
            if refused is None:
                break
        else:
            if overbook:
                raise OverbookFullError("Every overbook place of this slot is taken.")
            raise _slot_taken(uow, doctor.id, start, duration)
        uow.audit(
            CATEGORY,
            "appointment.book",
            patient_id=patient_id,
            detail={
                "appointment_id": appointment.id,
                "doctor_id": doctor.id,
                "source": source,
                "overbook_slot": place,
            },
        )
        uow.publish("appointment.booked", _event(uow, appointment))
        _announce(uow, "booked", appointment)
        uow.commit()
        return appointment


def _event(uow: UnitOfWork, appointment: Appointment) -> dict[str, Any]:
    return {
        "appointment_id": appointment.id,
        "doctor_id": appointment.doctor_id,
        "patient_id": appointment.patient_id,
        "date": uow.hospital.local(appointment.starts_at).date().isoformat(),
    }


def _lock(uow: UnitOfWork, appointment_id: int) -> Appointment:
    appointment = uow.repo(AppointmentRepository).get(appointment_id, lock=True)
    if appointment is None:
        raise NotFoundError(f"No appointment with id {appointment_id}.")
    return appointment


def _slot_freed(uow: UnitOfWork, appointment: Appointment, start: datetime, end: datetime) -> None:
    """A future regular place became free: tell the areas that fill places (the waitlist)."""
    if appointment.overbook_slot == 0 and start > utcnow():
        uow.emit(
            SlotFreed(
                doctor_id=appointment.doctor_id,
                start=start,
                end=end,
                exclude_patient_id=appointment.patient_id,
            )
        )


def reschedule_appointment(
    uow: UnitOfWork,
    appointment_id: int,
    *,
    start: datetime,
    version: int,
    end: datetime | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move a booked appointment (same doctor) to another free slot; ``version`` must match.
    The freed time is offered to the waitlist. Publishes ``appointment.rescheduled``."""
    now = now or utcnow()
    start = _aware(uow, start)
    with uow:
        appointments = uow.repo(AppointmentRepository)
        scheduling_rows = uow.repo(SchedulingRepository)
        appointment = _lock(uow, appointment_id)
        check_version(appointment.version, version, "appointment")
        if appointment.status != "booked":
            raise InvalidTransitionError(
                f"Only a booked appointment can be moved (it is '{appointment.status}').",
                extra={"current_status": appointment.status},
            )
        doctor = scheduling_rows.doctor(appointment.doctor_id)
        assert doctor is not None
        appt_type = scheduling_rows.appointment_type(appointment.type_code)
        duration = appt_type.duration_minutes if appt_type else 15
        slot, new_end = _resolve_time(uow, doctor, start, end, duration, now)
        if appointments.place_busy(
            doctor.id, appointment.overbook_slot, start, new_end, exclude_id=appointment.id
        ):
            raise _slot_taken(uow, doctor.id, start, duration)
        if appointments.patient_busy(
            appointment.patient_id, start, new_end, exclude_id=appointment.id
        ):
            raise _patient_busy()
        old_start, old_end = appointment.starts_at, appointment.ends_at
        appointment.starts_at, appointment.ends_at = start, new_end
        appointment.location = slot.location
        appointment.updated_at = now
        refused = appointments.try_flush()
        if refused == PATIENT_OVERLAP:
            raise _patient_busy()
        if refused is not None:
            raise _slot_taken(uow, doctor.id, start, duration)
        uow.audit(
            CATEGORY,
            "appointment.reschedule",
            patient_id=appointment.patient_id,
            detail={"appointment_id": appointment.id, "doctor_id": doctor.id},
        )
        uow.publish("appointment.rescheduled", _event(uow, appointment))
        _announce(uow, "rescheduled", appointment)
        _slot_freed(uow, appointment, old_start, old_end)
        uow.commit()
        return appointment


def cancel_appointment(
    uow: UnitOfWork,
    appointment_id: int,
    *,
    reason: str,
    version: int | None = None,
    by_patient: bool = False,
) -> Appointment:
    """Cancel with a reason; a waiting queue entry leaves the queue and the freed time is
    offered to the waitlist. Publishes ``appointment.cancelled``."""
    if not reason or not reason.strip():
        raise _field_error("reason", "A cancellation reason is required.")
    with uow:
        appointment = _lock(uow, appointment_id)
        if version is not None:
            check_version(appointment.version, version, "appointment")
        check_transition(APPOINTMENT_TRANSITIONS, appointment.status, "cancelled", "appointment")
        appointment.status = "cancelled"
        appointment.cancel_reason = reason.strip()
        appointment.updated_at = utcnow()
        _leave_queue(uow, appointment)
        uow.audit(
            CATEGORY,
            "appointment.cancel",
            patient_id=appointment.patient_id,
            detail={"appointment_id": appointment.id, "by_patient": by_patient},
        )
        uow.publish("appointment.cancelled", _event(uow, appointment))
        _announce(uow, "cancelled", appointment)
        _slot_freed(uow, appointment, appointment.starts_at, appointment.ends_at)
        uow.commit()
        return appointment


def _leave_queue(uow: UnitOfWork, appointment: Appointment) -> QueueEntry | None:
    entry = uow.repo(QueueRepository).for_appointment(appointment.id)
    if entry is not None and entry.status in ("waiting", "called"):
        entry.status = "left"
    return entry


def mark_no_show(
    uow: UnitOfWork, appointment_id: int, *, version: int | None = None
) -> Appointment:
    """The patient did not come: the appointment stops blocking the doctor's time."""
    with uow:
        appointment = _lock(uow, appointment_id)
        if version is not None:
            check_version(appointment.version, version, "appointment")
        check_transition(APPOINTMENT_TRANSITIONS, appointment.status, "no_show", "appointment")
        appointment.status = "no_show"
        appointment.updated_at = utcnow()
        entry = _leave_queue(uow, appointment)
        uow.audit(
            CATEGORY,
            "appointment.no_show",
            patient_id=appointment.patient_id,
            detail={"appointment_id": appointment.id},
        )
        uow.publish("appointment.no_show", _event(uow, appointment))
        if entry is not None:
            uow.publish(
                "queue.updated",
                {
                    "doctor_id": appointment.doctor_id,
                    "date": entry.queue_date.isoformat(),
                    "queue_entry_id": entry.id,
                },
            )
        uow.commit()
        return appointment


def get_appointment(uow: UnitOfWork, appointment_id: int) -> Appointment:
    """One appointment; the read is audited against the patient."""
    with uow:
        appointment = uow.repo(AppointmentRepository).get(appointment_id)
        if appointment is None:
            raise NotFoundError(f"No appointment with id {appointment_id}.")
        uow.audit(
            CATEGORY,
            "appointment.read",
            patient_id=appointment.patient_id,
            detail={"appointment_id": appointment.id},
        )
        uow.commit()
        return appointment


def get_appointment_view(
    uow: UnitOfWork, appointment_id: int
) -> tuple[Appointment, Doctor, Patient]:
    """One appointment with its doctor and patient rows, for display; audited."""
    with uow:
        row = uow.repo(AppointmentRepository).with_doctor_and_patient(appointment_id)
        if row is None:
            raise NotFoundError(f"No appointment with id {appointment_id}.")
        uow.audit(
            CATEGORY,
            "appointment.read",
            patient_id=row[0].patient_id,
            detail={"appointment_id": appointment_id},
        )
        uow.commit()
        return row[0], row[1], row[2]


def get_appointment_by_reference(uow: UnitOfWork, reference: str) -> Appointment | None:
    """For the public booking page: look up by booking reference (caller checks the
    date of birth before revealing anything)."""
    with uow:
        return uow.repo(AppointmentRepository).by_reference(reference.strip().upper())


SORTABLE = tuple(APPOINTMENT_SORT_COLUMNS)


def list_appointments(
    uow: UnitOfWork,
    *,
    day: date | None = None,
    date_to: date | None = None,
    doctor_id: int | None = None,
    department_id: int | None = None,
    patient_id: int | None = None,
    status: list[str] | None = None,
    limit: int = 100,
    offset: int = 0,
    sort: str = "start",
    audit: bool = True,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
) -> tuple[list[AppointmentListRow], int]:
    """Appointments filtered by local day (or ``day``..``date_to``), start instants
    (``[starts_from, starts_before)``, for FHIR's ``date=ge..&date=lt..``), doctor,
    department, patient and status, as list rows with the doctor's and patient's names
    (shown with ``appointment_list_items``). Audited as one list read naming every patient
    shown."""
    with uow:
        first, last = starts_from, starts_before
        if day is not None:
            day_first, _ = uow.hospital.day_bounds(day)
            _, day_last = uow.hospital.day_bounds(date_to or day)
            first = day_first if first is None else max(first, day_first)
            last = day_last if last is None else min(last, day_last)
        where = AppointmentFilter(
            starts_from=first,
            starts_before=last,
            doctor_id=doctor_id,
            department_id=department_id,
            patient_id=patient_id,
            status=status,
        )
        rows, total = appointment_page(uow.session, where, sort=sort, limit=limit, offset=offset)
        if audit and rows:
            uow.audit(
                CATEGORY,
                "appointment.list",
                patient_id=patient_id,
                detail={"count": len(rows), **shown_patients(r.patient_id for r in rows)},
            )
            uow.commit()
        return rows, total


# ---------------------------------------------------------------- patient merge


def move_schedule_on_merge(uow: UnitOfWork, event: PatientsMerged) -> None:
    """Appointments, queue entries and waitlist entries follow the surviving record (an
    appointment booked twice for the same visit under both records is cancelled on the
    merged-away one; see ``AppointmentRepository.move_patient``)."""
    uow.repo(AppointmentRepository).move_patient(event.loser_id, event.survivor_id)


# ---------------------------------------------------------------- views for the API


@dataclass(frozen=True)
class AppointmentView:
    """An appointment as staff screens show it: times in the hospital's zone; the patient's
    name and MRN only for a reader allowed to see patients (``show_patient``)."""

    id: int
    patient_id: int
    doctor_id: int
    doctor_name: str | None
    patient_name: str | None
    patient_mrn: str | None
    start: datetime
    end: datetime
    status: str
    type: str
    source: str
    overbook_slot: int
    location: str | None
    reason: str | None
    notes: str | None
    cancel_reason: str | None
    booking_reference: str
    encounter_id: int | None
    version: int


def appointment_view(
    hospital: Hospital,
    a: Appointment,
    doctor: Doctor | None = None,
    patient: Patient | None = None,
    *,
    show_patient: bool = False,
    show_reasons: bool = True,
) -> AppointmentView:
    shown = patient if show_patient else None
    return AppointmentView(
        id=a.id,
        patient_id=a.patient_id,
        doctor_id=a.doctor_id,
        doctor_name=doctor.display_name if doctor else None,
        patient_name=f"{shown.given_name} {shown.family_name}" if shown else None,
        patient_mrn=shown.mrn if shown else None,
        start=hospital.local(a.starts_at),
        end=hospital.local(a.ends_at),
        status=a.status,
        type=a.type_code,
        source=a.source,
        overbook_slot=a.overbook_slot,
        location=a.location,
        reason=a.reason if show_reasons else None,
        notes=a.notes if show_reasons else None,
        cancel_reason=a.cancel_reason if show_reasons else None,
        booking_reference=a.booking_reference,
        encounter_id=a.encounter_id,
        version=a.version,
    )


def appointment_list_items(
    hospital: Hospital,
    rows: list[AppointmentListRow],
    *,
    show_patient: bool = False,
    show_reasons: bool = True,
) -> list[dict[str, Any]]:
    """The fields of ``appointment_view`` for each row of ``list_appointments``, as plain
    dicts, with the same rules for what a reader sees. Plain dicts because a list builds up
    to 500 at a time: a frozen view object per row, read back attribute by attribute, cost
    more than the query (``bench/doctor_list.py``)."""
    local = hospital.local
    return [
        {
            "id": r.id,
            "patient_id": r.patient_id,
            "doctor_id": r.doctor_id,
            "doctor_name": r.doctor_name,
            "patient_name": (
                f"{r.patient_given_name} {r.patient_family_name}" if show_patient else None
            ),
            "patient_mrn": r.patient_mrn if show_patient else None,
            "start": local(r.starts_at),
            "end": local(r.ends_at),
            "status": r.status,
            "type": r.type_code,
            "source": r.source,
            "overbook_slot": r.overbook_slot,
            "location": r.location,
            "reason": r.reason if show_reasons else None,
            "notes": r.notes if show_reasons else None,
            "cancel_reason": r.cancel_reason if show_reasons else None,
            "booking_reference": r.booking_reference,
            "encounter_id": r.encounter_id,
            "version": r.version,
        }
        for r in rows
    ]
