"""Equipment: the asset register, its usage log and its service history (preventive
maintenance, calibration, repairs). Due dates are stored so alerts are a plain index scan."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base


class Equipment(Base):
    __tablename__ = "equipment"
    __table_args__ = (
        CheckConstraint(
            "status IN ('in_service','out_of_service','under_maintenance','retired')",
            name="status_code",
        ),
        CheckConstraint(
            "status <> 'out_of_service' OR coalesce(btrim(status_reason), '') <> ''",
            name="out_of_service_reason",
        ),
        CheckConstraint(
            "maintenance_interval_days IS NULL OR maintenance_interval_days > 0",
            name="maintenance_interval_positive",
        ),
        CheckConstraint(
            "calibration_interval_days IS NULL OR calibration_interval_days > 0",
            name="calibration_interval_positive",
        ),
        Index("ix_equipment_next_service", "next_service_due"),
        Index("ix_equipment_next_calibration", "next_calibration_due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_tag: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    model: Mapped[str | None] = mapped_column(String(120))
    manufacturer: Mapped[str | None] = mapped_column(String(120))
    serial_number: Mapped[str] = mapped_column(String(80), nullable=False)
    location_id: Mapped[int] = mapped_column(
        ForeignKey("stock_locations.id"), nullable=False, index=True
    )
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="in_service")
    status_reason: Mapped[str | None] = mapped_column(String(500))
    purchased_on: Mapped[date | None] = mapped_column(Date)
    warranty_until: Mapped[date | None] = mapped_column(Date)
    maintenance_interval_days: Mapped[int | None] = mapped_column(Integer)
    calibration_interval_days: Mapped[int | None] = mapped_column(Integer)
    next_service_due: Mapped[date | None] = mapped_column(Date)
    next_calibration_due: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class EquipmentUsage(Base):
    __tablename__ = "equipment_usage"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    equipment_id: Mapped[int] = mapped_column(
        ForeignKey("equipment.id"), nullable=False, index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(nullable=False)
    ended_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(500))


class EquipmentService(Base):
    """One service event: preventive maintenance, calibration, repair or inspection."""

    __tablename__ = "equipment_services"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('preventive','calibration','repair','inspection')", name="kind_code"
        ),
        CheckConstraint("cost IS NULL OR cost >= 0", name="cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    equipment_id: Mapped[int] = mapped_column(
        ForeignKey("equipment.id"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    performed_on: Mapped[date] = mapped_column(Date, nullable=False)
    performed_by: Mapped[str] = mapped_column(String(120), nullable=False)
    notes: Mapped[str | None] = mapped_column(String(1000))
    cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
