"""Wards, rooms and beds; admissions and the bed stays that make them up; nurse ward
assignments; the bed-day ledger billing is told about.

The invariants the ward cannot live without are PostgreSQL's, not the application's:

- one patient per bed: ``uq_admissions_current_bed`` (one *open* admission per bed) and the
  exclusion constraint ``ex_bed_stays_bed_overlap`` (no two stays of one bed overlap in time);
- one open admission per patient: ``uq_admissions_open_patient``;
- an admission is in one bed at a time: ``ex_bed_stays_admission_overlap``;
- one bed-day per admission and local day: the ledger's primary key.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base
from hms_server.domain.wards import (
    ADMISSION_SOURCES,
    ADMISSION_STATUSES,
    BED_STATUSES,
    BED_TYPES,
    DISCHARGE_DISPOSITIONS,
    GENDER_POLICIES,
    WARD_CLASSES,
)


def _in(values: tuple[str, ...]) -> str:
    return ",".join(f"'{v}'" for v in values)


class Ward(Base):
    """A ward. ``ward_class`` is what billing prices a bed-day at; ``mar_window_minutes`` is
    how early or late a scheduled dose may be given without a reason."""

    __tablename__ = "wards"
    __table_args__ = (
        CheckConstraint(f"ward_class IN ({_in(WARD_CLASSES)})", name="ward_class_code"),
        CheckConstraint(f"gender_policy IN ({_in(GENDER_POLICIES)})", name="gender_policy_code"),
        CheckConstraint("mar_window_minutes BETWEEN 15 AND 240", name="mar_window_range"),
        CheckConstraint("length(btrim(code)) > 0", name="code_present"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    ward_class: Mapped[str] = mapped_column(String(16), nullable=False)
    gender_policy: Mapped[str] = mapped_column(String(8), nullable=False, default="mixed")
    mar_window_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=60)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class Room(Base):
    """A room or bay of a ward; a bay may be single-sex (``gender_policy``)."""

    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("ward_id", "label", name="uq_rooms_ward_label"),
        # Target of the beds' (room_id, ward_id) key: a bed's ward is its room's ward.
        UniqueConstraint("id", "ward_id", name="uq_rooms_id_ward"),
        CheckConstraint(f"gender_policy IN ({_in(GENDER_POLICIES)})", name="gender_policy_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"), nullable=False)
    label: Mapped[str] = mapped_column(String(32), nullable=False)
    gender_policy: Mapped[str] = mapped_column(String(8), nullable=False, default="mixed")


class Bed(Base):
    """A bed. ``status`` is kept by the ADT services in the same transaction as the stays
    (occupied exactly while an open admission holds it); cleaning and blocking are manual."""

    __tablename__ = "beds"
    __table_args__ = (
        ForeignKeyConstraint(
            ["room_id", "ward_id"], ["rooms.id", "rooms.ward_id"], name="fk_beds_room_ward_rooms"
        ),
        UniqueConstraint("ward_id", "label", name="uq_beds_ward_label"),
        CheckConstraint(f"status IN ({_in(BED_STATUSES)})", name="status_code"),
        CheckConstraint(f"bed_type IN ({_in(BED_TYPES)})", name="bed_type_code"),
        CheckConstraint("status = 'blocked' OR blocked_reason IS NULL", name="blocked_reason"),
        Index("ix_beds_ward_status", "ward_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"), nullable=False)
    room_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    label: Mapped[str] = mapped_column(String(32), nullable=False)
    bed_type: Mapped[str] = mapped_column(String(16), nullable=False, default="standard")
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="free")
    blocked_reason: Mapped[str | None] = mapped_column(String(200))
    status_changed_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class Admission(Base):
    """One inpatient stay, from admission to discharge (or cancellation if made in error).
    ``current_bed_id`` is the bed it holds while open; its history is in ``bed_stays``."""

    __tablename__ = "admissions"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(ADMISSION_STATUSES)})", name="status_code"),
        CheckConstraint(f"source IN ({_in(ADMISSION_SOURCES)})", name="source_code"),
        CheckConstraint(
            f"discharge_disposition IS NULL OR discharge_disposition IN "
            f"({_in(DISCHARGE_DISPOSITIONS)})",
            name="disposition_code",
        ),
        CheckConstraint(
            "(status = 'admitted') = (current_bed_id IS NOT NULL)", name="open_holds_bed"
        ),
        CheckConstraint(
            "status <> 'discharged' OR discharged_at IS NOT NULL", name="discharged_at_set"
        ),
        CheckConstraint(
            "status <> 'cancelled' OR cancelled_at IS NOT NULL", name="cancelled_at_set"
        ),
        CheckConstraint(
            "discharged_at IS NULL OR discharged_at >= admitted_at", name="discharge_after_admit"
        ),
        CheckConstraint(
            "expected_los_days IS NULL OR expected_los_days BETWEEN 1 AND 365",
            name="expected_los_range",
        ),
        Index(
            "uq_admissions_open_patient",
            "patient_id",
            unique=True,
            postgresql_where=text("status = 'admitted'"),
        ),
        Index(
            "uq_admissions_current_bed",
            "current_bed_id",
            unique=True,
            postgresql_where=text("status = 'admitted'"),
        ),
        Index("ix_admissions_patient_admitted", "patient_id", text("admitted_at DESC")),
        Index(
            "ix_admissions_open_admitted",
            "admitted_at",
            postgresql_where=text("status = 'admitted'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="admitted")
    source: Mapped[str] = mapped_column(String(12), nullable=False, default="clinic")
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    diagnosis: Mapped[str | None] = mapped_column(String(300))
    icd10_code: Mapped[str | None] = mapped_column(String(10))
    expected_los_days: Mapped[int | None] = mapped_column(SmallInteger)
    admitted_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    attending_doctor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"))
    appointment_id: Mapped[int | None] = mapped_column(BigInteger)
    current_bed_id: Mapped[int | None] = mapped_column(ForeignKey("beds.id"))
    admitted_at: Mapped[datetime] = mapped_column(nullable=False)
    discharged_at: Mapped[datetime | None]
    discharged_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    discharge_disposition: Mapped[str | None] = mapped_column(String(16))
    discharge_note_id: Mapped[int | None] = mapped_column(ForeignKey("clinical_notes.id"))
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class BedStay(Base):
    """A period an admission held a bed (an admission has one per bed it was in)."""

    __tablename__ = "bed_stays"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="period_order"),
        CheckConstraint(f"ward_class IN ({_in(WARD_CLASSES)})", name="ward_class_code"),
        ExcludeConstraint(
            ("bed_id", "="),
            (func.tstzrange(text("started_at"), text("ended_at"), "[)"), "&&"),
            name="ex_bed_stays_bed_overlap",
            using="gist",
        ),
        ExcludeConstraint(
            ("admission_id", "="),
            (func.tstzrange(text("started_at"), text("ended_at"), "[)"), "&&"),
            name="ex_bed_stays_admission_overlap",
            using="gist",
        ),
        Index("ix_bed_stays_admission", "admission_id", "started_at"),
        Index("ix_bed_stays_patient", "patient_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), nullable=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    bed_id: Mapped[int] = mapped_column(ForeignKey("beds.id"), nullable=False)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"), nullable=False)
    #: The ward's class when the stay began: what a bed-day of this stay is priced at.
    ward_class: Mapped[str] = mapped_column(String(16), nullable=False)
    started_at: Mapped[datetime] = mapped_column(nullable=False)
    ended_at: Mapped[datetime | None]


class WardNurseAssignment(Base):
    """A nurse works on a ward: they see (and care for) the patients admitted there."""

    __tablename__ = "ward_nurse_assignments"
    __table_args__ = (Index("ix_ward_nurse_assignments_user", "user_id"),)

    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    assigned_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    assigned_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class BedDay(Base):
    """One occupied midnight of an admission, told to billing exactly once."""

    __tablename__ = "bed_days"
    __table_args__ = (
        CheckConstraint(f"ward_class IN ({_in(WARD_CLASSES)})", name="ward_class_code"),
        Index("ix_bed_days_patient", "patient_id"),
    )

    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"), nullable=False)
    ward_class: Mapped[str] = mapped_column(String(16), nullable=False)
    captured_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
