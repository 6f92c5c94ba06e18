"""Dispensing (what left the pharmacy for which prescription, from which batch) and ward
requisitions (a ward asks a store for stock; the store issues it as a transfer).

Dispenses reference the prescription, not the patient: the patient is the prescription's, so
patient merge (which moves prescriptions) needs nothing here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Sequence,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base
from hms_server.adapters.orm.pharmacy import COST, QTY

DISPENSE_NUMBER_SEQUENCE = Sequence("dispense_number_seq", start=1, metadata=Base.metadata)
REQUISITION_NUMBER_SEQUENCE = Sequence("requisition_number_seq", start=1, metadata=Base.metadata)


class Dispense(Base):
    __tablename__ = "dispenses"
    __table_args__ = (Index("ix_dispenses_dispensed_at", "dispensed_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    prescription_id: Mapped[int] = mapped_column(
        ForeignKey("prescriptions.id"), nullable=False, index=True
    )
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"), nullable=False)
    pharmacist_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dispensed_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    #: The pharmacist's reason to go ahead despite safety conflicts found at dispensing.
    override_reason: Mapped[str | None] = mapped_column(String(1000))
    conflicts: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'")
    )


class DispenseLine(Base):
    """One batch of one prescription item handed out (a FEFO pick can span batches)."""

    __tablename__ = "dispense_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "returned_quantity >= 0 AND returned_quantity <= quantity",
            name="returned_within_dispensed",
        ),
        ForeignKeyConstraint(
            ["batch_id", "item_id"],
            ["stock_batches.id", "stock_batches.item_id"],
            name="fk_dispense_lines_batch_item",
        ),
        Index("ix_dispense_lines_batch", "batch_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dispense_id: Mapped[int] = mapped_column(
        ForeignKey("dispenses.id", ondelete="CASCADE"), nullable=False, index=True
    )
    prescription_item_id: Mapped[int] = mapped_column(
        ForeignKey("prescription_items.id"), nullable=False, index=True
    )
    item_id: Mapped[int] = mapped_column(Integer, nullable=False)
    batch_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    unit_cost: Mapped[Decimal] = mapped_column(COST, nullable=False)
    returned_quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False, default=Decimal(0))


class PrescriptionSendBack(Base):
    """The pharmacist sent a prescription back to its prescriber (it leaves the queue)."""

    __tablename__ = "prescription_send_backs"

    prescription_id: Mapped[int] = mapped_column(ForeignKey("prescriptions.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(1000), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())


class Requisition(Base):
    """requested → approved → issued → received (or rejected / cancelled)."""

    __tablename__ = "requisitions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('requested','approved','issued','received','rejected','cancelled')",
            name="status_code",
        ),
        CheckConstraint("ward_location_id <> source_location_id", name="distinct_locations"),
        Index("ix_requisitions_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    ward_location_id: Mapped[int] = mapped_column(
        ForeignKey("stock_locations.id"), nullable=False, index=True
    )
    source_location_id: Mapped[int] = mapped_column(
        ForeignKey("stock_locations.id"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="requested")
    note: Mapped[str | None] = mapped_column(String(500))
    decision_note: Mapped[str | None] = mapped_column(String(500))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime | None]
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class RequisitionLine(Base):
    __tablename__ = "requisition_lines"
    __table_args__ = (
        CheckConstraint("requested_quantity > 0", name="requested_positive"),
        CheckConstraint(
            "approved_quantity IS NULL OR approved_quantity >= 0", name="approved_not_negative"
        ),
        CheckConstraint("issued_quantity >= 0", name="issued_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    requisition_id: Mapped[int] = mapped_column(
        ForeignKey("requisitions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"), nullable=False)
    requested_quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    approved_quantity: Mapped[Decimal | None] = mapped_column(QTY)
    issued_quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False, default=Decimal(0))
