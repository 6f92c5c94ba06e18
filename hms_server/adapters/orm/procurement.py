"""Procurement: supplier price history, purchase orders and goods received notes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Sequence,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base
from hms_server.adapters.orm.pharmacy import COST, QTY

PURCHASE_ORDER_NUMBER_SEQUENCE = Sequence(
    "purchase_order_number_seq", start=1, metadata=Base.metadata
)
GOODS_RECEIPT_NUMBER_SEQUENCE = Sequence(
    "goods_receipt_number_seq", start=1, metadata=Base.metadata
)


class SupplierPrice(Base):
    """A price a supplier quoted, was ordered at, or delivered at (the price history)."""

    __tablename__ = "supplier_prices"
    __table_args__ = (
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
        CheckConstraint("source IN ('quote','order','receipt')", name="source_code"),
        Index("ix_supplier_prices_item_recorded", "item_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), nullable=False)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"), nullable=False)
    unit_cost: Mapped[Decimal] = mapped_column(COST, nullable=False)
    source: Mapped[str] = mapped_column(String(8), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())


class PurchaseOrder(Base):
    """draft → approved → sent → partly received → closed (or cancelled before receipt)."""

    __tablename__ = "purchase_orders"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft','approved','sent','partly_received','closed','cancelled')",
            name="status_code",
        ),
        Index("ix_purchase_orders_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), nullable=False, index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    note: Mapped[str | None] = mapped_column(String(500))
    expected_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no", name="uq_purchase_order_lines_order_line"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
        CheckConstraint(
            "received_quantity >= 0 AND received_quantity <= quantity",
            name="received_within_ordered",
        ),
        Index("ix_purchase_order_lines_item", "item_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), nullable=False
    )
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    unit_cost: Mapped[Decimal] = mapped_column(COST, nullable=False)
    received_quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False, default=Decimal(0))


class GoodsReceipt(Base):
    """A delivery received into a location, against a purchase order or not (opening stock)."""

    __tablename__ = "goods_receipts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"), nullable=False)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    purchase_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_orders.id"), index=True
    )
    delivery_note: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())


class GoodsReceiptLine(Base):
    __tablename__ = "goods_receipt_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
        ForeignKeyConstraint(
            ["batch_id", "item_id"],
            ["stock_batches.id", "stock_batches.item_id"],
            name="fk_goods_receipt_lines_batch_item",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(
        ForeignKey("goods_receipts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    item_id: Mapped[int] = mapped_column(Integer, nullable=False)
    batch_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_order_lines.id"))
    lot: Mapped[str] = mapped_column(String(40), nullable=False)
    expiry: Mapped[date] = mapped_column(Date, nullable=False)
    quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    unit_cost: Mapped[Decimal] = mapped_column(COST, nullable=False)
