"""Appointments, the consultation queue and the waitlist: the rows of the booking lifecycle.

Double booking is impossible because of the exclusion constraints on ``appointments``; the
pre-check queries here only let the service give the friendly answer sooner. Writes that can
lose a race (``try_insert``, ``try_flush``) run in a savepoint and say which rule stopped
them, so the transaction stays usable for suggestions or another overbook place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import (
    INACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    Doctor,
    QueueEntry,
    WaitlistEntry,
)
from hms_server.adapters.repositories import Repository

EXCLUSION_VIOLATION = "23P01"
DOCTOR_PLACE_TAKEN = "ex_appointments_doctor_slot"
PATIENT_OVERLAP = "ex_appointments_patient_overlap"
REFERENCE_TAKEN = "uq_appointments_booking_reference"


def _violated(exc: IntegrityError) -> str | None:
    """The rule a failed write broke: one of the constraint names above, or None."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION:
        return PATIENT_OVERLAP if name == PATIENT_OVERLAP else DOCTOR_PLACE_TAKEN
    return REFERENCE_TAKEN if name == REFERENCE_TAKEN else None


class AppointmentRepository(Repository):
    def get(self, appointment_id: int, *, lock: bool = False) -> Appointment | None:
        return self.session.get(Appointment, appointment_id, with_for_update=lock)

    def by_reference(self, reference: str) -> Appointment | None:
        return self.session.scalars(
            select(Appointment).where(Appointment.booking_reference == reference).limit(1)
        ).first()

    def _overlapping(self, start: datetime, end: datetime, exclude_id: int | None) -> Select[int]:
        query = select(Appointment.id).where(
            Appointment.starts_at < end,
            Appointment.ends_at > start,
            Appointment.status.not_in(INACTIVE_APPOINTMENT_STATUSES),
        )
        if exclude_id is not None:
            query = query.where(Appointment.id != exclude_id)
        return query

    def patient_busy(
        self, patient_id: int, start: datetime, end: datetime, *, exclude_id: int | None = None
    ) -> bool:
        return (
            self.session.scalar(
                self._overlapping(start, end, exclude_id).where(
                    Appointment.patient_id == patient_id
                )
            )
            is not None
        )

    def place_busy(
        self,
        doctor_id: int,
        place: int,
        start: datetime,
        end: datetime,
        *,
        exclude_id: int | None = None,
    ) -> bool:
        return (
            self.session.scalar(
                self._overlapping(start, end, exclude_id).where(
                    Appointment.doctor_id == doctor_id, Appointment.overbook_slot == place
                )
            )
            is not None
        )

    def taken_overbook_places(self, doctor_id: int, start: datetime, end: datetime) -> set[int]:
        return set(
            self.session.scalars(
                self._overlapping(start, end, None)
                .with_only_columns(Appointment.overbook_slot)
                .where(Appointment.doctor_id == doctor_id, Appointment.overbook_slot > 0)
            )
        )

    def try_insert(self, appointment: Appointment, new_reference: Callable[[], str]) -> str | None:
        """Insert in a savepoint. None = booked; else the constraint that refused it
        (``DOCTOR_PLACE_TAKEN`` or ``PATIENT_OVERLAP``). A clashing booking reference is
        replaced and retried."""
        for _attempt in range(3):
            try:
                self.insert_in_savepoint(appointment)
                return None
            except IntegrityError as exc:
                rule = _violated(exc)
                if rule == REFERENCE_TAKEN:
                    appointment.booking_reference = new_reference()
                    continue
                if rule is None:
                    raise
                return rule
        raise RuntimeError("could not allocate a booking reference")  # pragma: no cover

    def try_flush(self) -> str | None:
        """Write pending changes (a moved appointment) in a savepoint: None, or the exclusion
        constraint that refused them."""
        try:
            with self.session.begin_nested():
                self.session.flush()
        except IntegrityError as exc:
            rule = _violated(exc)
            if rule not in (DOCTOR_PLACE_TAKEN, PATIENT_OVERLAP):
                raise
            return rule
        return None

    def with_doctor_and_patient(
        self,
        appointment_id: int,
    ) -> tuple[Appointment, Doctor, Patient] | None:
        row = self.session.execute(
            select(Appointment, Doctor, Patient)
            .join(Doctor, Doctor.id == Appointment.doctor_id)
            .join(Patient, Patient.id == Appointment.patient_id)
            .where(Appointment.id == appointment_id)
        ).first()
        return (row[0], row[1], row[2]) if row is not None else None

    def move_patient(self, loser_id: int, survivor_id: int) -> None:
        """Patient merge: appointments, queue entries and waitlist entries follow the
        survivor. An active appointment of the merged-away record overlapping one of the
        survivor's (the same visit booked twice) is cancelled first, so the survivor keeps
        one booking and the patient-overlap constraint holds."""
        survivor_appt = aliased(Appointment)
        duplicate_ids = list(
            self.session.scalars(
                select(Appointment.id).where(
                    Appointment.patient_id == loser_id,
                    Appointment.status.not_in(INACTIVE_APPOINTMENT_STATUSES),
                    select(survivor_appt.id)
                    .where(
                        survivor_appt.patient_id == survivor_id,
                        survivor_appt.status.not_in(INACTIVE_APPOINTMENT_STATUSES),
                        survivor_appt.starts_at < Appointment.ends_at,
                        survivor_appt.ends_at > Appointment.starts_at,
                    )
                    .exists(),
                )
            )
        )
        if duplicate_ids:
            # A bulk UPDATE: it moves the version itself (the mapper's lock is per object).
            self.session.execute(
                update(Appointment)
                .where(Appointment.id.in_(duplicate_ids))
                .values(
                    status="cancelled",
                    cancel_reason="duplicate record merged",
                    updated_at=utcnow(),
                    version=Appointment.version + 1,
                )
                .execution_options(synchronize_session=False)
            )
        model: Any
        for model in (Appointment, QueueEntry, WaitlistEntry):
            self.session.execute(
                update(model)
                .where(model.patient_id == loser_id)
                .values(patient_id=survivor_id)
                .execution_options(synchronize_session=False)
            )


class QueueRepository(Repository):
    def get(self, entry_id: int, *, lock: bool = False) -> QueueEntry | None:
        return self.session.get(QueueEntry, entry_id, with_for_update=lock)

    def for_appointment(self, appointment_id: int) -> QueueEntry | None:
        return self.session.scalar(
            select(QueueEntry).where(QueueEntry.appointment_id == appointment_id)
        )

    def last_token(self, doctor_id: int, day: date) -> int:
        return (
            self.session.scalar(
                select(func.max(QueueEntry.token)).where(
                    QueueEntry.doctor_id == doctor_id, QueueEntry.queue_date == day
                )
            )
            or 0
        )

    def board(
        self,
        day: date,
        *,
        doctor_id: int | None,
        department_id: int | None,
    ) -> list[tuple[QueueEntry, Doctor, Patient, Appointment | None]]:
        query = (
            select(QueueEntry, Doctor, Patient, Appointment)
            .join(Doctor, Doctor.id == QueueEntry.doctor_id)
            .join(Patient, Patient.id == QueueEntry.patient_id)
            .outerjoin(Appointment, Appointment.id == QueueEntry.appointment_id)
            .where(QueueEntry.queue_date == day)
        )
        if doctor_id is not None:
            query = query.where(QueueEntry.doctor_id == doctor_id)
        if department_id is not None:
            query = query.where(Doctor.department_id == department_id)
        return [
            (e, d, p, a)
            for e, d, p, a in self.session.execute(
                query.order_by(QueueEntry.doctor_id, QueueEntry.token)
            )
        ]


class WaitlistRepository(Repository):
    def get(self, entry_id: int, *, lock: bool = False) -> WaitlistEntry | None:
        return self.session.get(WaitlistEntry, entry_id, with_for_update=lock)

    def search(
        self,
        *,
        status: str | None,
        doctor_id: int | None,
        department_id: int | None,
        patient_id: int | None,
        limit: int,
        offset: int,
    ) -> tuple[list[WaitlistEntry], int]:
        query = select(WaitlistEntry)
        for column, value in (
            (WaitlistEntry.status, status),
            (WaitlistEntry.doctor_id, doctor_id),
            (WaitlistEntry.department_id, department_id),
            (WaitlistEntry.patient_id, patient_id),
        ):
            if value:
                query = query.where(column == value)
        return self.page(query, [WaitlistEntry.created_at, WaitlistEntry.id], limit, offset)

    def first_waiting_for(
        self,
        *,
        doctor_id: int,
        department_id: int | None,
        day: date,
        now: datetime,
        exclude_patient_id: int | None,
    ) -> WaitlistEntry | None:
        """The longest-waiting entry a freed slot of ``doctor_id`` on ``day`` fits (an
        expired offer counts as waiting); entries another transaction is offering right now
        are skipped."""
        query = (
            select(WaitlistEntry)
            .where(
                or_(
                    WaitlistEntry.status == "waiting",
                    and_(WaitlistEntry.status == "offered", WaitlistEntry.offer_expires_at < now),
                ),
                or_(
                    WaitlistEntry.doctor_id == doctor_id,
                    and_(
                        WaitlistEntry.doctor_id.is_(None),
                        WaitlistEntry.department_id == department_id,
                    ),
                ),
                WaitlistEntry.earliest_date <= day,
                WaitlistEntry.latest_date >= day,
            )
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if exclude_patient_id is not None:
            query = query.where(WaitlistEntry.patient_id != exclude_patient_id)
        return self.session.scalar(query)
