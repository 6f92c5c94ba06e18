"""Procurement repository: suppliers, price history, purchase orders and goods receipts."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import func, select

from hms_server.adapters.orm.pharmacy import StockItem, Supplier
from hms_server.adapters.orm.procurement import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
)
from hms_server.adapters.repositories import Repository
from hms_server.domain.errors import NotFoundError


class ProcurementRepository(Repository):
    """Not thread-safe; one per unit of work (``uow.repo(ProcurementRepository)``)."""

    # -- suppliers -------------------------------------------------------------------------
    def supplier(self, supplier_id: int, *, lock: bool = False) -> Supplier:
        found = self.session.get(Supplier, supplier_id, with_for_update=lock)
        if found is None:
            raise NotFoundError(f"No supplier with id {supplier_id}.")
        return found

    def supplier_code_taken(self, code: str) -> bool:
        return (
            self.session.scalar(
                select(Supplier.id).where(func.upper(Supplier.code) == code.upper())
            )
            is not None
        )

    def suppliers(self, *, q: str | None, include_inactive: bool) -> list[Supplier]:
        query = select(Supplier)
        if q and q.strip():
            query = query.where(func.lower(Supplier.name).like(f"%{q.strip().lower()}%"))
        if not include_inactive:
            query = query.where(Supplier.active.is_(True))
        return list(self.session.scalars(query.order_by(Supplier.name)))

    # -- purchase orders -------------------------------------------------------------------
    def order(self, order_id: int, *, lock: bool = False) -> PurchaseOrder:
        found = self.session.get(PurchaseOrder, order_id, with_for_update=lock)
        if found is None:
            raise NotFoundError(f"No purchase order with id {order_id}.")
        return found

    def order_lines(self, order_id: int, *, lock: bool = False) -> list[PurchaseOrderLine]:
        query = (
            select(PurchaseOrderLine)
            .where(PurchaseOrderLine.order_id == order_id)
            .order_by(PurchaseOrderLine.line_no)
        )
        if lock:
            query = query.with_for_update()
        return list(self.session.scalars(query))

    def order_lines_with_items(self, order_id: int) -> list[tuple[PurchaseOrderLine, StockItem]]:
        return [
            (ln, item)
            for ln, item in self.session.execute(
                select(PurchaseOrderLine, StockItem)
                .join(StockItem, StockItem.id == PurchaseOrderLine.item_id)
                .where(PurchaseOrderLine.order_id == order_id)
                .order_by(PurchaseOrderLine.line_no)
            )
        ]

    def orders(
        self,
        *,
        status: str | None,
        supplier_id: int | None,
        location_id: int | None,
        limit: int,
        offset: int,
    ) -> tuple[list[PurchaseOrder], int]:
        query = select(PurchaseOrder)
        if status:
            query = query.where(PurchaseOrder.status == status)
        if supplier_id is not None:
            query = query.where(PurchaseOrder.supplier_id == supplier_id)
        if location_id is not None:
            query = query.where(PurchaseOrder.location_id == location_id)
        return self.page(query, [PurchaseOrder.id.desc()], limit, offset)

    # -- goods receipts --------------------------------------------------------------------
    def receipt(self, receipt_id: int) -> GoodsReceipt:
        found = self.session.get(GoodsReceipt, receipt_id)
        if found is None:
            raise NotFoundError(f"No goods receipt with id {receipt_id}.")
        return found

    def receipt_lines(self, receipt_id: int) -> list[GoodsReceiptLine]:
        return list(
            self.session.scalars(
                select(GoodsReceiptLine)
                .where(GoodsReceiptLine.receipt_id == receipt_id)
                .order_by(GoodsReceiptLine.line_no)
            )
        )

    def received_of_batch(self, batch_id: int) -> Decimal:
        """Everything ever received of a lot (the weight of its current unit cost)."""
        return Decimal(
            self.session.scalar(
                select(func.coalesce(func.sum(GoodsReceiptLine.quantity), 0)).where(
                    GoodsReceiptLine.batch_id == batch_id
                )
            )
            or 0
        )

    def items(self, ids: Iterable[int]) -> dict[int, StockItem]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        return {
            i.id: i for i in self.session.scalars(select(StockItem).where(StockItem.id.in_(wanted)))
        }
