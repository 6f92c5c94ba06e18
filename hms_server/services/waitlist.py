"""Waitlist: patients who want an earlier or any slot with a doctor or a department.

When a future regular slot frees up (cancel, reschedule), ``offer_freed_slot`` gives it to
the longest-waiting matching entry: the entry becomes ``offered`` until ``offer_expires_at``,
a ``waitlist.offered`` event is published to desktops and ``WaitlistOffered`` is emitted in the
same transaction (areas that tell the patient subscribe to it in ``hms_server.bootstrap``).
Dependencies point one way: the waitlist books through ``services.appointments`` and hears
about freed places through the ``SlotFreed`` event, never the reverse. The slot is not held:
accepting books it like any booking and may find it taken; an expired offer counts as waiting
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.scheduling import Appointment, WaitlistEntry
from hms_server.adapters.repositories.appointments import WaitlistRepository
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.repositories.scheduling import SchedulingRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import NotFoundError, ValidationFailedError
from hms_server.domain.events import SlotFreed, WaitlistOffered
from hms_server.domain.scheduling import InvalidTransitionError
from hms_server.services.appointments import book_appointment

CATEGORY = "scheduling"
OFFER_HOLD = timedelta(hours=2)


def _invalid(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(
        message, extra={"errors": [{"field": field, "message": message, "type": "value_error"}]}
    )


def add_to_waitlist(
    uow: UnitOfWork,
    *,
    patient_id: int,
    doctor_id: int | None = None,
    department_id: int | None = None,
    earliest_date: date,
    latest_date: date,
    type_code: str = "new",
    reason: str | None = None,
) -> WaitlistEntry:
    """Put a patient on the waitlist for a doctor, or for anyone in a department."""
    if doctor_id is None and department_id is None:
        raise _invalid("doctor_id", "Give doctor_id or department_id.")
    if earliest_date > latest_date:
        raise _invalid("latest_date", "latest_date must not be before earliest_date.")
    with uow:
        scheduling_rows = uow.repo(SchedulingRepository)
        if uow.repo(PatientRepository).get(patient_id) is None:
            raise _invalid("patient_id", f"No patient with id {patient_id}.")
        if doctor_id is not None and scheduling_rows.doctor(doctor_id) is None:
            raise _invalid("doctor_id", f"No doctor with id {doctor_id}.")
        if department_id is not None and scheduling_rows.department(department_id) is None:
            raise _invalid("department_id", f"No department with id {department_id}.")
        if scheduling_rows.appointment_type(type_code) is None:
            raise _invalid("type", f"Unknown appointment type '{type_code}'.")
        entry = WaitlistEntry(
            patient_id=patient_id,
            doctor_id=doctor_id,
            department_id=department_id,
            type_code=type_code,
            earliest_date=earliest_date,
            latest_date=latest_date,
            reason=reason,
            status="waiting",
        )
        uow.repo(WaitlistRepository).add(entry)
        uow.audit(CATEGORY, "waitlist.add", patient_id=patient_id, detail={"waitlist_id": entry.id})
        uow.publish("waitlist.updated", {"waitlist_id": entry.id, "patient_id": patient_id})
        uow.commit()
        return entry


@dataclass(frozen=True)
class WaitlistView:
    """An entry with the names a screen shows: the patient (only for roles that may read
    demographics), the doctor or department waited for, and the doctor offered."""

    entry: WaitlistEntry
    patient_mrn: str | None = None
    patient_name: str | None = None
    doctor_name: str | None = None
    department_name: str | None = None
    offered_doctor_name: str | None = None


def list_waitlist(
    uow: UnitOfWork,
    *,
    status: str | None = None,
    doctor_id: int | None = None,
    department_id: int | None = None,
    patient_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
    show_patient: bool = False,
) -> tuple[list[WaitlistView], int]:
    """Entries, longest-waiting first, with the names a screen shows. Patients' names and
    MRNs only with ``show_patient`` (the reader may see demographics); that read is
    audited with the entry ids."""
    with uow:
        rows, total = uow.repo(WaitlistRepository).search(
            status=status,
            doctor_id=doctor_id,
            department_id=department_id,
            patient_id=patient_id,
            limit=limit,
            offset=offset,
        )
        scheduling_rows = uow.repo(SchedulingRepository)
        doctors = scheduling_rows.doctor_names(
            {d for e in rows for d in (e.doctor_id, e.offered_doctor_id) if d}
        )
        departments = {
            e.department_id: scheduling_rows.department(e.department_id)
            for e in rows
            if e.department_id
        }
        who = (
            uow.repo(PatientRepository).identities([e.patient_id for e in rows])
            if show_patient
            else {}
        )
        views = []
        for e in rows:
            mrn, given, family = who.get(e.patient_id, (None, None, None))
            department = departments.get(e.department_id) if e.department_id else None
            views.append(
                WaitlistView(
                    e,
                    mrn,
                    f"{family}, {given}" if family else None,
                    doctors.get(e.doctor_id) if e.doctor_id else None,
                    department.name if department else None,
                    doctors.get(e.offered_doctor_id) if e.offered_doctor_id else None,
                )
            )
        if show_patient and rows:
            uow.audit(
                CATEGORY,
                "waitlist.list",
                detail={"waitlist_ids": [e.id for e in rows], "result_count": total},
            )
        uow.commit()
        return views, total


def offer_freed_slot(
    uow: UnitOfWork,
    *,
    doctor_id: int,
    start: datetime,
    end: datetime,
    exclude_patient_id: int | None = None,
    now: datetime | None = None,
) -> WaitlistEntry | None:
    """Offer a freed slot to the first matching waiting entry (inside the caller's
    transaction). Entries another transaction is offering right now are skipped."""
    now = now or utcnow()
    day = uow.hospital.local(start).date()
    with uow:
        department_id = uow.repo(SchedulingRepository).department_of_doctor(doctor_id)
        entry = uow.repo(WaitlistRepository).first_waiting_for(
            doctor_id=doctor_id,
            department_id=department_id,
            day=day,
            now=now,
            exclude_patient_id=exclude_patient_id,
        )
        if entry is None:
            uow.commit()
            return None
        entry.status = "offered"
        entry.offered_doctor_id = doctor_id
        entry.offered_start, entry.offered_end = start, end
        entry.offer_expires_at = min(now + OFFER_HOLD, start)
        uow.audit(
            CATEGORY,
            "waitlist.offer",
            patient_id=entry.patient_id,
            detail={"waitlist_id": entry.id, "doctor_id": doctor_id},
        )
        uow.publish(
            "waitlist.offered",
            {"waitlist_id": entry.id, "patient_id": entry.patient_id, "doctor_id": doctor_id},
        )
        uow.emit(WaitlistOffered(waitlist_id=entry.id, patient_id=entry.patient_id))
        uow.commit()
        return entry


def _get(uow: UnitOfWork, entry_id: int) -> WaitlistEntry:
    entry = uow.repo(WaitlistRepository).get(entry_id, lock=True)
    if entry is None:
        raise NotFoundError(f"No waitlist entry with id {entry_id}.")
    return entry


def on_slot_freed(uow: UnitOfWork, event: SlotFreed) -> None:
    """Handles ``SlotFreed``: offer the place to the longest-waiting matching entry."""
    offer_freed_slot(
        uow,
        doctor_id=event.doctor_id,
        start=event.start,
        end=event.end,
        exclude_patient_id=event.exclude_patient_id,
    )


def accept_offer(uow: UnitOfWork, entry_id: int) -> Appointment:
    """Book the offered slot for the waiting patient (``slot_taken`` if someone was faster)."""
    with uow:
        entry = _get(uow, entry_id)
        if (
            entry.status != "offered"
            or entry.offered_start is None
            or entry.offered_doctor_id is None
        ):
            raise InvalidTransitionError(
                "This waitlist entry has no open offer.", extra={"current_status": entry.status}
            )
        appointment = book_appointment(
            uow,
            patient_id=entry.patient_id,
            doctor_id=entry.offered_doctor_id,
            start=entry.offered_start,
            type_code=entry.type_code,
            reason=entry.reason,
        )
        entry.status, entry.appointment_id = "booked", appointment.id
        uow.audit(
            CATEGORY,
            "waitlist.accept",
            patient_id=entry.patient_id,
            detail={"waitlist_id": entry.id, "appointment_id": appointment.id},
        )
        uow.publish("waitlist.updated", {"waitlist_id": entry.id, "patient_id": entry.patient_id})
        uow.commit()
        return appointment


def remove_from_waitlist(uow: UnitOfWork, entry_id: int) -> WaitlistEntry:
    with uow:
        entry = _get(uow, entry_id)
        if entry.status in ("booked", "cancelled"):
            raise InvalidTransitionError(
                f"This waitlist entry is already '{entry.status}'.",
                extra={"current_status": entry.status},
            )
        entry.status = "cancelled"
        uow.audit(
            CATEGORY,
            "waitlist.remove",
            patient_id=entry.patient_id,
            detail={"waitlist_id": entry.id},
        )
        uow.publish("waitlist.updated", {"waitlist_id": entry.id, "patient_id": entry.patient_id})
        uow.commit()
        return entry
