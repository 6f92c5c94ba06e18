"""Scheduling: departments, doctors, weekly session templates, exceptions, appointments,
waitlist and the consultation queue.

The database enforces the rules that must hold under concurrency (see migration 0003):
- ``ex_appointments_doctor_slot``: no two active appointments of one doctor overlap on the
  same *place* (``overbook_slot`` 0 = the regular place, 1..N = overbook places);
- ``ex_appointments_patient_overlap``: a patient holds no two overlapping active appointments;
- ``uq_queue_entries_token``: a token number is unique per doctor per day.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base

APPOINTMENT_STATUSES = (
    "booked",
    "checked_in",
    "in_consultation",
    "completed",
    "cancelled",
    "no_show",
)
INACTIVE_APPOINTMENT_STATUSES = ("cancelled", "no_show")
QUEUE_STATUSES = ("waiting", "called", "in_consultation", "done", "left")
WAITLIST_STATUSES = ("waiting", "offered", "booked", "cancelled")
EXCEPTION_KINDS = ("leave", "holiday", "cancelled_session", "other")


def _in(values: tuple[str, ...]) -> str:
    return ",".join(f"'{v}'" for v in values)


class Department(Base):
    """A department or clinic that doctors belong to (e.g. Cardiology)."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    location: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(nullable=False, default=True)


class Doctor(Base):
    """A bookable clinician: one staff user, one department, a specialty."""

    __tablename__ = "doctors"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, unique=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id"), nullable=False, index=True
    )
    specialty: Mapped[str] = mapped_column(String(100), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: The professional registration (licence) number printed on prescriptions.
    registration_number: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(nullable=False, default=True)
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class ScheduleTemplate(Base):
    """One weekly session: e.g. Mondays 09:00–12:00 in Room 4, 15-minute slots, 2 overbook
    places per slot. ``weekday`` is ISO-like 0 = Monday … 6 = Sunday; times are hospital-local."""

    __tablename__ = "schedule_templates"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_time < end_time", name="time_order"),
        CheckConstraint("slot_minutes BETWEEN 5 AND 240", name="slot_length"),
        CheckConstraint("overbook_places BETWEEN 0 AND 10", name="overbook_range"),
        CheckConstraint("valid_to IS NULL OR valid_from <= valid_to", name="valid_order"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    doctor_id: Mapped[int] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), nullable=False, index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    start_time: Mapped[time] = mapped_column(Time, nullable=False)
    end_time: Mapped[time] = mapped_column(Time, nullable=False)
    slot_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    overbook_places: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    location: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_to: Mapped[date | None] = mapped_column(Date)


class ScheduleException(Base):
    """Time a doctor is not bookable: leave, a holiday, a cancelled session. A NULL
    ``doctor_id`` applies to every doctor (public holiday); NULL times mean whole days."""

    __tablename__ = "schedule_exceptions"
    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="date_order"),
        CheckConstraint("(start_time IS NULL) = (end_time IS NULL)", name="times_paired"),
        CheckConstraint("start_time IS NULL OR start_time < end_time", name="time_order"),
        CheckConstraint(f"kind IN ({_in(EXCEPTION_KINDS)})", name="kind_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    doctor_id: Mapped[int | None] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(200))


class AppointmentType(Base):
    """new / follow_up / procedure. An appointment occupies the type's duration rounded up to
    whole slots of the session it is booked in."""

    __tablename__ = "appointment_types"
    __table_args__ = (CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    duration_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class Appointment(Base):
    """A patient's booked time with a doctor. Editable (``version``)."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="time_order"),
        CheckConstraint(f"status IN ({_in(APPOINTMENT_STATUSES)})", name="status_code"),
        CheckConstraint("source IN ('staff','self')", name="source_code"),
        CheckConstraint("overbook_slot BETWEEN 0 AND 10", name="overbook_range"),
        Index("ix_appointments_doctor_start", "doctor_id", "starts_at"),
        Index("ix_appointments_patient_start", "patient_id", "starts_at"),
        Index("ix_appointments_start", "starts_at"),
        ExcludeConstraint(
            ("doctor_id", "="),
            ("overbook_slot", "="),
            (func.tstzrange(text("starts_at"), text("ends_at"), "[)"), "&&"),
            name="ex_appointments_doctor_slot",
            using="gist",
            where=text(f"status NOT IN ({_in(INACTIVE_APPOINTMENT_STATUSES)})"),
        ),
        ExcludeConstraint(
            ("patient_id", "="),
            (func.tstzrange(text("starts_at"), text("ends_at"), "[)"), "&&"),
            name="ex_appointments_patient_overlap",
            using="gist",
            where=text(f"status NOT IN ({_in(INACTIVE_APPOINTMENT_STATUSES)})"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(nullable=False)
    ends_at: Mapped[datetime] = mapped_column(nullable=False)
    overbook_slot: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="booked")
    type_code: Mapped[str] = mapped_column(ForeignKey("appointment_types.code"), nullable=False)
    source: Mapped[str] = mapped_column(String(8), nullable=False, default="staff")
    location: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    booking_reference: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    # Plain column, no FK: the encounters table arrives in a later migration.
    encounter_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class WaitlistEntry(Base):
    """A patient waiting for an earlier/any slot with a doctor or anyone in a department.
    When a matching slot frees up the entry is ``offered`` that slot until ``offer_expires_at``."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(WAITLIST_STATUSES)})", name="status_code"),
        CheckConstraint("doctor_id IS NOT NULL OR department_id IS NOT NULL", name="target"),
        CheckConstraint("earliest_date <= latest_date", name="date_order"),
        Index("ix_waitlist_entries_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False, index=True)
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctors.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    type_code: Mapped[str] = mapped_column(ForeignKey("appointment_types.code"), nullable=False)
    earliest_date: Mapped[date] = mapped_column(Date, nullable=False)
    latest_date: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="waiting")
    offered_doctor_id: Mapped[int | None] = mapped_column(BigInteger)
    offered_start: Mapped[datetime | None] = mapped_column()
    offered_end: Mapped[datetime | None] = mapped_column()
    offer_expires_at: Mapped[datetime | None] = mapped_column()
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class QueueEntry(Base):
    """A checked-in patient waiting for (or seeing) a doctor today. Timestamps give the
    waiting-time figures on the queue board."""

    __tablename__ = "queue_entries"
    __table_args__ = (
        UniqueConstraint("doctor_id", "queue_date", "token", name="uq_queue_entries_token"),
        CheckConstraint(f"status IN ({_in(QUEUE_STATUSES)})", name="status_code"),
        CheckConstraint("token >= 1", name="token_positive"),
        Index("ix_queue_entries_date_doctor", "queue_date", "doctor_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"), nullable=False)
    queue_date: Mapped[date] = mapped_column(Date, nullable=False)
    token: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="waiting")
    checked_in_at: Mapped[datetime] = mapped_column(nullable=False)
    called_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    encounter_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
