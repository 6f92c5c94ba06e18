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
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import (
    INACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentType,
    Doctor,
    QueueEntry,
    WaitlistEntry,
)
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import NotFoundError, ValidationFailedError
from hms_server.domain.events import AppointmentChanged, PatientsMerged, SlotFreed
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
from hms_server.domain.versioning import check_version
from hms_server.services import scheduling

CATEGORY = "scheduling"
DEFAULT_TYPE = "new"
SUGGESTIONS = 5
EXCLUSION_VIOLATION = "23P01"
DOCTOR_CONSTRAINT = "ex_appointments_doctor_slot"
PATIENT_CONSTRAINT = "ex_appointments_patient_overlap"
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def _field_error(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(
        message, extra={"errors": [{"field": field, "message": message, "type": "value_error"}]})


def new_booking_reference() -> str:
    """Eight unambiguous characters as ``XXXX-XXXX`` (~10^12 values, not guessable)."""
    raw = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _aware(uow: UnitOfWork, value: datetime) -> datetime:
    """A time without an offset is read as hospital-local time."""
    return value.replace(tzinfo=uow.hospital.zone) if value.tzinfo is None else value


def _announce(uow: UnitOfWork, change: str, appointment: Appointment) -> None:
    uow.session.flush()  # the appointment needs its id
    uow.emit(AppointmentChanged(appointment_id=appointment.id, change=change))


def _suggestions(uow: UnitOfWork, doctor_id: int, after: datetime,
                 duration: int | None) -> list[dict[str, Any]]:
    free = scheduling.find_free_slots(uow, doctor_id=doctor_id, after=after,
                                      limit=SUGGESTIONS, duration_minutes=duration)
    return [suggestion(uow, f) for f in free]


def suggestion(uow: UnitOfWork, free: FreeSlot) -> dict[str, Any]:
    local = uow.hospital.local
    return {"doctor_id": free.doctor_id, "start": local(free.start).isoformat(),
            "end": local(free.end).isoformat()}


def _slot_taken(uow: UnitOfWork, doctor_id: int, start: datetime,
                duration: int | None) -> SlotTakenError:
    return SlotTakenError(
        "That time was just booked by someone else. Choose one of the suggested slots.",
        extra={"suggestions": _suggestions(uow, doctor_id, start, duration)})


def _patient_busy() -> PatientBusyError:
    return PatientBusyError("The patient already has an appointment overlapping that time.")


def _overlapping(session: Session, *, start: datetime, end: datetime,
                 exclude_id: int | None = None) -> Select[tuple[int]]:
    query = select(Appointment.id).where(
        Appointment.starts_at < end, Appointment.ends_at > start,
        Appointment.status.not_in(INACTIVE_APPOINTMENT_STATUSES))
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    return query


def _resolve_time(uow: UnitOfWork, doctor: Doctor, start: datetime, end: datetime | None,
                  duration: int, now: datetime) -> tuple[Slot, datetime]:
    """Check ``start`` is the start of one of the doctor's slots and work out the end."""
    if start < now:
        raise InPastError("The appointment time is in the past.")
    slots = scheduling.doctor_day_slots(uow, doctor.id, uow.hospital.local(start).date())
    index = next((i for i, s in enumerate(slots) if s.start == start), None)
    if index is None:
        raise OutsideScheduleError(
            "The doctor has no slot starting at that time (outside their sessions, on leave, "
            "or not on a slot boundary).",
            extra={"suggestions": _suggestions(uow, doctor.id, start, duration)})
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


def _choose_place(session: Session, doctor_id: int, slot: Slot, start: datetime,
                  end: datetime, overbook: bool) -> int:
    """Regular place (0) or the first free overbook place (1..N)."""
    if not overbook:
        return 0
    if slot.overbook_places < 1:
        raise OverbookFullError("This session allows no overbooking.")
    taken = set(session.scalars(
        _overlapping(session, start=start, end=end).with_only_columns(Appointment.overbook_slot)
        .where(Appointment.doctor_id == doctor_id, Appointment.overbook_slot > 0)))
    for place in range(1, slot.overbook_places + 1):
        if place not in taken:
            return place
    raise OverbookFullError("Every overbook place of this slot is taken.")


def _insert_guarded(session: Session, appointment: Appointment) -> bool:
    """Flush inside a savepoint so a lost race leaves the transaction usable (for the
    suggestions, or another overbook place). False = the doctor's place was taken meanwhile;
    a patient overlap raises ``PatientBusyError``."""
    for _attempt in range(3):
        try:
            with session.begin_nested():
                session.add(appointment)
                session.flush()
            return True
        except IntegrityError as exc:
            diag = getattr(exc.orig, "diag", None)
            name = getattr(diag, "constraint_name", None)
            if getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION:
                if name == PATIENT_CONSTRAINT:
                    raise _patient_busy() from exc
                return False
            if name == "uq_appointments_booking_reference":
                appointment.booking_reference = new_booking_reference()
                continue
            raise
    raise RuntimeError("could not allocate a booking reference")  # pragma: no cover


def book_appointment(uow: UnitOfWork, *, patient_id: int, doctor_id: int,
                     start: datetime, end: datetime | None = None, type_code: str | None = None,
                     reason: str | None = None, notes: str | None = None,
                     source: str = "staff", overbook: bool = False,
                     now: datetime | None = None) -> Appointment:
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
        session = uow.session
        doctor = session.get(Doctor, doctor_id)
        if doctor is None or not doctor.active:
            raise _field_error("doctor_id", f"No bookable doctor with id {doctor_id}.")
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise _field_error("patient_id", f"No patient with id {patient_id}.")
        if patient.merged_into_id is not None:
            raise _field_error("patient_id",
                               f"This record was merged into patient {patient.merged_into_id}.")
        appt_type = session.get(AppointmentType, type_code or DEFAULT_TYPE)
        if appt_type is None:
            raise _field_error("type", f"Unknown appointment type '{type_code}'.")
        duration = appt_type.duration_minutes
        slot, end = _resolve_time(uow, doctor, start, end, duration, now)
        if session.scalar(_overlapping(session, start=start, end=end)
                          .where(Appointment.patient_id == patient_id)):
            raise _patient_busy()
        # An overbook booking that loses a race for place k tries the next free place.
        for _attempt in range(slot.overbook_places + 1 if overbook else 1):
            place = _choose_place(session, doctor.id, slot, start, end, overbook)
            if session.scalar(_overlapping(session, start=start, end=end).where(
                    Appointment.doctor_id == doctor.id, Appointment.overbook_slot == place)):
                raise _slot_taken(uow, doctor.id, start, duration)
            appointment = Appointment(
                patient_id=patient_id, doctor_id=doctor.id, starts_at=start, ends_at=end,
                overbook_slot=place, status="booked", type_code=appt_type.code,
                source=source, location=slot.location, reason=reason, notes=notes,
                booking_reference=new_booking_reference(),
                created_by_user_id=uow.actor.user_id if uow.actor else None, version=1)
            if _insert_guarded(session, appointment):
                break
        else:
            if overbook:
                raise OverbookFullError("Every overbook place of this slot is taken.")
            raise _slot_taken(uow, doctor.id, start, duration)
        uow.audit(CATEGORY, "appointment.book", patient_id=patient_id,
                  detail={"appointment_id": appointment.id, "doctor_id": doctor.id,
                          "source": source, "overbook_slot": place})
        uow.publish("appointment.booked", _event(uow, appointment))
        _announce(uow, "booked", appointment)
        uow.commit()
        return appointment


def _event(uow: UnitOfWork, appointment: Appointment) -> dict[str, Any]:
    return {"appointment_id": appointment.id, "doctor_id": appointment.doctor_id,
            "patient_id": appointment.patient_id,
            "date": uow.hospital.local(appointment.starts_at).date().isoformat()}


def _lock(session: Session, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id, with_for_update=True)
    if appointment is None:
        raise NotFoundError(f"No appointment with id {appointment_id}.")
    return appointment


def _slot_freed(uow: UnitOfWork, appointment: Appointment, start: datetime,
                end: datetime) -> None:
    """A future regular place became free: tell the areas that fill places (the waitlist)."""
    if appointment.overbook_slot == 0 and start > utcnow():
        uow.emit(SlotFreed(doctor_id=appointment.doctor_id, start=start, end=end,
                           exclude_patient_id=appointment.patient_id))


def reschedule_appointment(uow: UnitOfWork, appointment_id: int, *, start: datetime,
                           version: int, end: datetime | None = None,
                           now: datetime | None = None) -> Appointment:
    """Move a booked appointment (same doctor) to another free slot; ``version`` must match.
    The freed time is offered to the waitlist. Publishes ``appointment.rescheduled``."""
    now = now or utcnow()
    start = _aware(uow, start)
    with uow:
        session = uow.session
        appointment = _lock(session, appointment_id)
        check_version(appointment.version, version, "appointment")
        if appointment.status != "booked":
            raise InvalidTransitionError(
                f"Only a booked appointment can be moved (it is '{appointment.status}').",
                extra={"current_status": appointment.status})
        doctor = session.get(Doctor, appointment.doctor_id)
        assert doctor is not None
        appt_type = session.get(AppointmentType, appointment.type_code)
        duration = appt_type.duration_minutes if appt_type else 15
        slot, new_end = _resolve_time(uow, doctor, start, end, duration, now)
        if session.scalar(_overlapping(session, start=start, end=new_end,
                                       exclude_id=appointment.id)
                          .where(Appointment.doctor_id == doctor.id,
                                 Appointment.overbook_slot == appointment.overbook_slot)):
            raise _slot_taken(uow, doctor.id, start, duration)
        if session.scalar(_overlapping(session, start=start, end=new_end,
                                       exclude_id=appointment.id)
                          .where(Appointment.patient_id == appointment.patient_id)):
            raise _patient_busy()
        old_start, old_end = appointment.starts_at, appointment.ends_at
        appointment.starts_at, appointment.ends_at = start, new_end
        appointment.location = slot.location
        appointment.updated_at = now
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError as exc:
            if getattr(exc.orig, "sqlstate", None) != EXCLUSION_VIOLATION:
                raise
            if getattr(getattr(exc.orig, "diag", None), "constraint_name", "") == \
                    PATIENT_CONSTRAINT:
                raise _patient_busy() from exc
            raise _slot_taken(uow, doctor.id, start, duration) from exc
        uow.audit(CATEGORY, "appointment.reschedule", patient_id=appointment.patient_id,
                  detail={"appointment_id": appointment.id, "doctor_id": doctor.id})
        uow.publish("appointment.rescheduled", _event(uow, appointment))
        _announce(uow, "rescheduled", appointment)
        _slot_freed(uow, appointment, old_start, old_end)
        uow.commit()
        return appointment


def cancel_appointment(uow: UnitOfWork, appointment_id: int, *,
                       reason: str, version: int | None = None,
                       by_patient: bool = False) -> Appointment:
    """Cancel with a reason; a waiting queue entry leaves the queue and the freed time is
    offered to the waitlist. Publishes ``appointment.cancelled``."""
    if not reason or not reason.strip():
        raise _field_error("reason", "A cancellation reason is required.")
    with uow:
        appointment = _lock(uow.session, appointment_id)
        if version is not None:
            check_version(appointment.version, version, "appointment")
        check_transition(APPOINTMENT_TRANSITIONS, appointment.status, "cancelled", "appointment")
        appointment.status = "cancelled"
        appointment.cancel_reason = reason.strip()
        appointment.updated_at = utcnow()
        _leave_queue(uow.session, appointment)
        uow.audit(CATEGORY, "appointment.cancel", patient_id=appointment.patient_id,
                  detail={"appointment_id": appointment.id, "by_patient": by_patient})
        uow.publish("appointment.cancelled", _event(uow, appointment))
        _announce(uow, "cancelled", appointment)
        _slot_freed(uow, appointment, appointment.starts_at, appointment.ends_at)
        uow.commit()
        return appointment


def _leave_queue(session: Session, appointment: Appointment) -> QueueEntry | None:
    entry = session.scalar(select(QueueEntry).where(QueueEntry.appointment_id == appointment.id))
    if entry is not None and entry.status in ("waiting", "called"):
        entry.status = "left"
    return entry


def mark_no_show(uow: UnitOfWork, appointment_id: int, *,
                 version: int | None = None) -> Appointment:
    """The patient did not come: the appointment stops blocking the doctor's time."""
    with uow:
        appointment = _lock(uow.session, appointment_id)
        if version is not None:
            check_version(appointment.version, version, "appointment")
        check_transition(APPOINTMENT_TRANSITIONS, appointment.status, "no_show", "appointment")
        appointment.status = "no_show"
        appointment.updated_at = utcnow()
        entry = _leave_queue(uow.session, appointment)
        uow.audit(CATEGORY, "appointment.no_show", patient_id=appointment.patient_id,
                  detail={"appointment_id": appointment.id})
        uow.publish("appointment.no_show", _event(uow, appointment))
        if entry is not None:
            uow.publish("queue.updated", {"doctor_id": appointment.doctor_id,
                                          "date": entry.queue_date.isoformat(),
                                          "queue_entry_id": entry.id})
        uow.commit()
        return appointment


def get_appointment(uow: UnitOfWork, appointment_id: int) -> Appointment:
    """One appointment; the read is audited against the patient."""
    with uow:
        appointment = uow.session.get(Appointment, appointment_id)
        if appointment is None:
            raise NotFoundError(f"No appointment with id {appointment_id}.")
        uow.audit(CATEGORY, "appointment.read", patient_id=appointment.patient_id,
                  detail={"appointment_id": appointment.id})
        uow.commit()
        return appointment


def get_appointment_view(uow: UnitOfWork,
                         appointment_id: int) -> tuple[Appointment, Doctor, Patient]:
    """One appointment with its doctor and patient rows, for display; audited."""
    with uow:
        row = uow.session.execute(
            select(Appointment, Doctor, Patient)
            .join(Doctor, Doctor.id == Appointment.doctor_id)
            .join(Patient, Patient.id == Appointment.patient_id)
            .where(Appointment.id == appointment_id)).first()
        if row is None:
            raise NotFoundError(f"No appointment with id {appointment_id}.")
        uow.audit(CATEGORY, "appointment.read", patient_id=row[0].patient_id,
                  detail={"appointment_id": appointment_id})
        uow.commit()
        return row[0], row[1], row[2]


def get_appointment_by_reference(uow: UnitOfWork, reference: str) -> Appointment | None:
    """For the public booking page: look up by booking reference (caller checks the
    date of birth before revealing anything)."""
    with uow:
        return uow.session.scalar(select(Appointment).where(
            Appointment.booking_reference == reference.strip().upper()))


SORTABLE = {"start": Appointment.starts_at, "id": Appointment.id,
            "status": Appointment.status, "doctor_id": Appointment.doctor_id}


def list_appointments(uow: UnitOfWork, *, day: date | None = None,
                      date_to: date | None = None, doctor_id: int | None = None,
                      department_id: int | None = None, patient_id: int | None = None,
                      status: list[str] | None = None, limit: int = 100, offset: int = 0,
                      sort: str = "start", audit: bool = True,
                      ) -> tuple[list[tuple[Appointment, Doctor, Patient]], int]:
    """Appointments filtered by local day (or ``day``..``date_to``), doctor, department,
    patient and status; with doctor and patient rows for display. Audited as one list read."""
    with uow:
        query = (select(Appointment, Doctor, Patient)
                 .join(Doctor, Doctor.id == Appointment.doctor_id)
                 .join(Patient, Patient.id == Appointment.patient_id))
        if day is not None:
            first, _ = uow.hospital.day_bounds(day)
            _, last = uow.hospital.day_bounds(date_to or day)
            query = query.where(Appointment.starts_at >= first, Appointment.starts_at < last)
        if doctor_id is not None:
            query = query.where(Appointment.doctor_id == doctor_id)
        if department_id is not None:
            query = query.where(Doctor.department_id == department_id)
        if patient_id is not None:
            query = query.where(Appointment.patient_id == patient_id)
        if status:
            query = query.where(Appointment.status.in_(status))
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        column = SORTABLE[sort.lstrip("-")]
        rows = [(a, d, p) for a, d, p in uow.session.execute(
            query.order_by(column.desc() if sort.startswith("-") else column, Appointment.id)
            .limit(limit).offset(offset))]
        if audit and rows:
            uow.audit(CATEGORY, "appointment.list",
                      patient_id=patient_id,
                      detail={"count": len(rows),
                              "patient_ids": sorted({a.patient_id for a, _, _ in rows})[:200]})
            uow.commit()
        return rows, total



# ---------------------------------------------------------------- patient merge

def move_schedule_on_merge(uow: UnitOfWork, event: PatientsMerged) -> None:
    """Appointments, queue entries and waitlist entries follow the surviving record.

    Where both records hold an active appointment at overlapping times (the same visit
    booked twice under two records), the merged-away one is cancelled first, so the
    survivor keeps one booking and the patient-overlap constraint holds."""
    session = uow.session
    loser, survivor = event.loser_id, event.survivor_id
    survivor_appt = aliased(Appointment)
    overlapping = (
        select(Appointment.id)
        .where(Appointment.patient_id == loser,
               Appointment.status.not_in(INACTIVE_APPOINTMENT_STATUSES),
               select(survivor_appt.id).where(
                   survivor_appt.patient_id == survivor,
                   survivor_appt.status.not_in(INACTIVE_APPOINTMENT_STATUSES),
                   survivor_appt.starts_at < Appointment.ends_at,
                   survivor_appt.ends_at > Appointment.starts_at).exists()))
    duplicate_ids = list(session.scalars(overlapping))
    if duplicate_ids:
        session.execute(update(Appointment).where(Appointment.id.in_(duplicate_ids))
                        .values(status="cancelled", cancel_reason="duplicate record merged",
                                updated_at=utcnow(), version=Appointment.version + 1)
                        .execution_options(synchronize_session=False))
    for model in (Appointment, QueueEntry, WaitlistEntry):
        session.execute(update(model).where(model.patient_id == loser)
                        .values(patient_id=survivor)
                        .execution_options(synchronize_session=False))
