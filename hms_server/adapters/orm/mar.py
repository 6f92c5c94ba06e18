"""The medication administration record: inpatient medication orders, their scheduled
doses, and what the nurse recorded for each.

A prescription written for an admitted patient becomes an inpatient order (one per
prescription line); the order generates scheduled doses. A dose is recorded at most once:
``uq_medication_administrations_dose`` makes the second of two nurses scanning the same dose
at the same moment fail in the database, whatever the application checked before.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Time,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base
from hms_server.domain.mar import ADMIN_STATUSES, DOSE_STATUSES, ORDER_STATUSES


def _in(values: tuple[str, ...]) -> str:
    return ",".join(f"'{v}'" for v in values)


class MedicationOrder(Base):
    """An inpatient order: a prescription line being given on the ward, with its schedule
    (local wall-clock ``schedule_times``, every ``every_days`` days) or as needed (PRN)."""

    __tablename__ = "medication_orders"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(ORDER_STATUSES)})", name="status_code"),
        CheckConstraint("dose > 0", name="dose_positive"),
        CheckConstraint("every_days BETWEEN 1 AND 28", name="every_days_range"),
        CheckConstraint("NOT prn OR prn_interval_minutes BETWEEN 30 AND 1440", name="prn_interval"),
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="period_order"),
        Index("ix_medication_orders_admission", "admission_id"),
        Index("ix_medication_orders_prescription", "prescription_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), nullable=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    prescription_id: Mapped[int] = mapped_column(ForeignKey("prescriptions.id"), nullable=False)
    prescription_item_id: Mapped[int] = mapped_column(
        ForeignKey("prescription_items.id"), nullable=False, unique=True
    )
    drug_id: Mapped[int] = mapped_column(ForeignKey("drugs.id"), nullable=False)
    dose: Mapped[Decimal] = mapped_column(Numeric(12, 3), nullable=False)
    unit: Mapped[str] = mapped_column(String(32), nullable=False)
    route: Mapped[str] = mapped_column(String(32), nullable=False)
    frequency: Mapped[str] = mapped_column(String(64), nullable=False)
    schedule_times: Mapped[list[time]] = mapped_column(
        ARRAY(Time), nullable=False, server_default=text("'{}'")
    )
    every_days: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=1)
    prn: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    prn_interval_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    starts_at: Mapped[datetime] = mapped_column(nullable=False)
    ends_at: Mapped[datetime | None]
    #: Doses exist up to here; an open-ended order is topped up by the ward worker.
    scheduled_until: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="active")
    instructions: Mapped[str | None] = mapped_column(String(500))
    stopped_at: Mapped[datetime | None]
    stopped_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    stop_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class ScheduledDose(Base):
    """One planned dose. Cancelled doses (order stopped or changed) stay for the record."""

    __tablename__ = "scheduled_doses"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(DOSE_STATUSES)})", name="status_code"),
        Index(
            "uq_scheduled_doses_order_due",
            "order_id",
            "due_at",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_scheduled_doses_admission_due", "admission_id", "due_at"),
        Index(
            "ix_scheduled_doses_open_due", "due_at", postgresql_where=text("status = 'scheduled'")
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("medication_orders.id"), nullable=False)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), nullable=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="scheduled")
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class MedicationAdministration(Base):
    """What the nurse recorded: given, held, refused or missed, when, why, and what was
    scanned (the wristband and the medication's GS1 or dispensing-label code).

    ``stock_item_id`` and ``dispense_line_id`` come from the pharmacy's barcode resolver and
    carry no foreign key, so the ward does not depend on the pharmacy's tables."""

    __tablename__ = "medication_administrations"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(ADMIN_STATUSES)})", name="status_code"),
        CheckConstraint(
            "status = 'given' OR length(btrim(coalesce(reason, ''))) > 0",
            name="reason_unless_given",
        ),
        CheckConstraint(
            "NOT outside_window OR length(btrim(coalesce(reason, ''))) > 0",
            name="reason_outside_window",
        ),
        Index(
            "uq_medication_administrations_dose",
            "dose_id",
            unique=True,
            postgresql_where=text("dose_id IS NOT NULL"),
        ),
        Index("ix_medication_administrations_order_at", "order_id", "administered_at"),
        Index("ix_medication_administrations_patient", "patient_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("medication_orders.id"), nullable=False)
    dose_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_doses.id"))
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), nullable=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    administered_at: Mapped[datetime] = mapped_column(nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    recorded_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    outside_window: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    patient_barcode: Mapped[str | None] = mapped_column(String(64))
    medication_barcode: Mapped[str | None] = mapped_column(String(200))
    scanned_drug_id: Mapped[int | None] = mapped_column(Integer)
    stock_item_id: Mapped[int | None] = mapped_column(BigInteger)
    dispense_line_id: Mapped[int | None] = mapped_column(BigInteger)
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    expiry: Mapped[date | None] = mapped_column(Date)
