"""Pharmacy and inventory: the catalogue (stock items linked to formulary drugs, packs with
GTINs), locations, batches, balances per location and batch, the movement ledger and stock
counts. Procurement, dispensing and equipment have their own modules.

Invariants PostgreSQL enforces itself (migration 0020):
- ``stock_balances.quantity >= 0`` (CHECK) — stock can never go negative, under any
  concurrency;
- a balance changes only by inserting a ``stock_movements`` row: a trigger applies each
  movement to its balance, and another refuses a direct change of a balance's quantity, so
  on-hand always equals the ledger;
- the ledger is append-only (UPDATE/DELETE raise);
- a balance's and a movement's item is its batch's item (composite foreign key).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    Sequence,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base

QTY = Numeric(14, 3)
COST = Numeric(14, 4)

STOCK_COUNT_NUMBER_SEQUENCE = Sequence("stock_count_number_seq", start=1, metadata=Base.metadata)
TRANSFER_NUMBER_SEQUENCE = Sequence("stock_transfer_number_seq", start=1, metadata=Base.metadata)


class StockLocation(Base):
    """Where stock is held: the central store, the pharmacy, ward stores, theatre. A ward
    store names its ward by a plain ``ward_code`` (the wards table belongs to the ward area)."""

    __tablename__ = "stock_locations"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('central_store','pharmacy','ward_store','theatre','quarantine','other')",
            name="kind_code",
        ),
        CheckConstraint("kind <> 'ward_store' OR ward_code IS NOT NULL", name="ward_store_ward"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    ward_code: Mapped[str | None] = mapped_column(String(32))
    dispensing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class Supplier(Base):
    __tablename__ = "suppliers"
    __table_args__ = (CheckConstraint("lead_time_days BETWEEN 0 AND 365", name="lead_time_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    contact_name: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    lead_time_days: Mapped[int] = mapped_column(Integer, nullable=False, default=7)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class StockItem(Base):
    """Something the hospital stocks. A medicine is one formulary drug (``drug_id``), so
    prescribing and dispensing speak of the same thing; quantities are in ``base_unit``."""

    __tablename__ = "stock_items"
    __table_args__ = (
        CheckConstraint("kind IN ('medicine','consumable','supply','equipment')", name="kind_code"),
        CheckConstraint("(kind = 'medicine') = (drug_id IS NOT NULL)", name="medicine_drug"),
        Index("ix_stock_items_lower_name", text("lower(name)")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    drug_id: Mapped[int | None] = mapped_column(ForeignKey("drugs.id"), index=True)
    base_unit: Mapped[str] = mapped_column(String(24), nullable=False)
    divisible: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    item_class: Mapped[str | None] = mapped_column(String(40), index=True)
    preferred_supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class StockItemPack(Base):
    """A pack level of an item (strip = 10 tablets, box = 100 tablets) and its GTIN-14."""

    __tablename__ = "stock_item_packs"
    __table_args__ = (
        CheckConstraint("base_quantity > 0", name="base_quantity_positive"),
        CheckConstraint("gtin ~ '^[0-9]{14}$'", name="gtin_format"),
        UniqueConstraint("item_id", "name", name="uq_stock_item_packs_item_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("stock_items.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(40), nullable=False)
    base_quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)


class StockLevel(Base):
    """Reorder level, par level and safety stock of an item at a location."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        PrimaryKeyConstraint("item_id", "location_id", name="pk_stock_levels"),
        CheckConstraint(
            "reorder_level >= 0 AND par_level >= 0 AND safety_stock >= 0",
            name="levels_not_negative",
        ),
        CheckConstraint("par_level >= reorder_level", name="par_at_least_reorder"),
    )

    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"), nullable=False)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"), nullable=False)
    reorder_level: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    par_level: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    safety_stock: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class StockBatch(Base):
    """One lot of an item: lot number, expiry, unit cost (per base unit, the receipts'
    weighted average), and whether it was recalled."""

    __tablename__ = "stock_batches"
    __table_args__ = (
        UniqueConstraint("item_id", "lot", name="uq_stock_batches_item_lot"),
        UniqueConstraint("id", "item_id", name="uq_stock_batches_id_item"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
        CheckConstraint("lot <> ''", name="lot_not_blank"),
        Index("ix_stock_batches_lot", "lot"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"), nullable=False)
    lot: Mapped[str] = mapped_column(String(40), nullable=False)
    expiry: Mapped[date] = mapped_column(Date, nullable=False)
    unit_cost: Mapped[Decimal] = mapped_column(COST, nullable=False)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    recalled_at: Mapped[datetime | None]
    recall_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())


class StockBalance(Base):
    """On hand of one batch at one location. Written only by the ledger trigger (quantity)
    and by status changes (quarantine, expiry sweep, recall)."""

    __tablename__ = "stock_balances"
    __table_args__ = (
        PrimaryKeyConstraint("location_id", "batch_id", name="pk_stock_balances"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint(
            "status IN ('available','quarantined','expired','recalled')", name="status_code"
        ),
        ForeignKeyConstraint(
            ["batch_id", "item_id"],
            ["stock_batches.id", "stock_batches.item_id"],
            name="fk_stock_balances_batch_item",
        ),
        Index("ix_stock_balances_item_location", "item_id", "location_id"),
    )

    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"), nullable=False)
    batch_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    item_id: Mapped[int] = mapped_column(Integer, nullable=False)
    quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="available")
    status_reason: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())


class StockMovement(Base):
    """The ledger: every change of stock, with who, when, why and what caused it."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('receipt','transfer','issue','dispense','return',"
            "'adjustment','write_off','recall','count')",
            name="kind_code",
        ),
        CheckConstraint("quantity_delta <> 0", name="delta_not_zero"),
        CheckConstraint(
            "(kind IN ('receipt','return') AND quantity_delta > 0) OR "
            "(kind IN ('dispense','write_off','recall') AND quantity_delta < 0) OR "
            "kind IN ('transfer','issue','adjustment','count')",
            name="delta_direction",
        ),
        CheckConstraint(
            "kind NOT IN ('adjustment','write_off') OR coalesce(btrim(reason), '') <> ''",
            name="reason_required",
        ),
        ForeignKeyConstraint(
            ["batch_id", "item_id"],
            ["stock_batches.id", "stock_batches.item_id"],
            name="fk_stock_movements_batch_item",
        ),
        Index("ix_stock_movements_item_location_at", "item_id", "location_id", "at"),
        Index("ix_stock_movements_batch", "batch_id"),
        Index("ix_stock_movements_at", "at"),
        Index("ix_stock_movements_reference", "reference_type", "reference_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    item_id: Mapped[int] = mapped_column(Integer, nullable=False)
    batch_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"), nullable=False)
    quantity_delta: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    unit_cost: Mapped[Decimal] = mapped_column(COST, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    reason_code: Mapped[str | None] = mapped_column(String(24))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: What caused it: goods_receipt, dispense, transfer, requisition, stock_count, …
    reference_type: Mapped[str | None] = mapped_column(String(24))
    reference_id: Mapped[int | None] = mapped_column(BigInteger)


class StockCount(Base):
    """A cycle count of a location (optionally one item class): expected quantities are
    snapshotted when it opens; counted ones are entered, reviewed, then approved, which
    posts the variances to the ledger."""

    __tablename__ = "stock_counts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open','submitted','approved','cancelled')", name="status_code"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"), nullable=False)
    item_class: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open")
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class StockCountLine(Base):
    __tablename__ = "stock_count_lines"
    __table_args__ = (
        UniqueConstraint("count_id", "batch_id", name="uq_stock_count_lines_count_batch"),
        CheckConstraint("expected_quantity >= 0", name="expected_not_negative"),
        CheckConstraint(
            "counted_quantity IS NULL OR counted_quantity >= 0", name="counted_not_negative"
        ),
        ForeignKeyConstraint(
            ["batch_id", "item_id"],
            ["stock_batches.id", "stock_batches.item_id"],
            name="fk_stock_count_lines_batch_item",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count_id: Mapped[int] = mapped_column(
        ForeignKey("stock_counts.id", ondelete="CASCADE"), nullable=False
    )
    item_id: Mapped[int] = mapped_column(Integer, nullable=False)
    batch_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    expected_quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    counted_quantity: Mapped[Decimal | None] = mapped_column(QTY)
    note: Mapped[str | None] = mapped_column(String(200))
