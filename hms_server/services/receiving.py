"""Goods receipts: a delivery's lines (lot, expiry, quantity, unit cost) become batches and
ledger receipts; against a purchase order they also advance its lines and status.

A receipt without a purchase order is allowed (opening stock, donations). Everything is
checked before anything is written, and the whole receipt is one transaction: a bad line
leaves the ledger untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.base import touch, utcnow
from hms_server.adapters.orm.pharmacy import StockBatch, StockItem
from hms_server.adapters.orm.procurement import (
    GOODS_RECEIPT_NUMBER_SEQUENCE,
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    SupplierPrice,
)
from hms_server.adapters.repositories.pharmacy import Posting, StockRepository
from hms_server.adapters.repositories.procurement import ProcurementRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ValidationFailedError
from hms_server.domain.pharmacy import (
    RECEIVABLE_PO_STATUSES,
    InvalidStateError,
    LotExpiryMismatchError,
    OverReceiptError,
    StockNotAvailableError,
    check_quantity,
    check_receipt_expiry,
    field_problem,
    po_status_after_receipt,
)
from hms_server.services.stock import CATEGORY, user_id_of


@dataclass(frozen=True)
class ReceiptLineInput:
    item_id: int
    lot: str
    expiry: date
    quantity: Decimal
    unit_cost: Decimal
    order_line_id: int | None = None


@dataclass(frozen=True)
class ReceiptView:
    receipt: GoodsReceipt
    lines: list[GoodsReceiptLine]
    order_status: str | None
    total: Decimal

    def as_dict(self) -> dict[str, Any]:
        r = self.receipt
        return {
            "id": r.id,
            "number": r.number,
            "location_id": r.location_id,
            "supplier_id": r.supplier_id,
            "purchase_order_id": r.purchase_order_id,
            "purchase_order_status": self.order_status,
            "delivery_note": r.delivery_note,
            "note": r.note,
            "received_at": r.received_at,
            "received_by": r.received_by,
            "total": self.total,
            "lines": [
                {
                    "id": ln.id,
                    "line_no": ln.line_no,
                    "item_id": ln.item_id,
                    "batch_id": ln.batch_id,
                    "order_line_id": ln.order_line_id,
                    "lot": ln.lot,
                    "expiry": ln.expiry,
                    "quantity": ln.quantity,
                    "unit_cost": ln.unit_cost,
                }
                for ln in self.lines
            ],
        }


def _total(uow: UnitOfWork, lines: list[GoodsReceiptLine]) -> Decimal:
    return uow.hospital.round_money(sum((ln.quantity * ln.unit_cost for ln in lines), Decimal(0)))


def _bad(field: str, message: str, detail: str) -> ValidationFailedError:
    return ValidationFailedError(detail, extra={"errors": [field_problem(field, message)]})


def _match_order_lines(
    lines: list[ReceiptLineInput], order_lines: list[PurchaseOrderLine]
) -> list[PurchaseOrderLine]:
    """The purchase-order line each receipt line delivers (named, or the first line of the
    same item with something outstanding), refusing more than was ordered."""
    by_id = {ol.id: ol for ol in order_lines}
    outstanding = {ol.id: ol.quantity - ol.received_quantity for ol in order_lines}
    matched: list[PurchaseOrderLine] = []
    for n, line in enumerate(lines):
        if line.order_line_id is not None:
            target = by_id.get(line.order_line_id)
            if target is None or target.item_id != line.item_id:
                raise _bad(
                    f"lines.{n}.order_line_id",
                    "not a line of this order for this item",
                    "A receipt line names a purchase-order line of another order or item.",
                )
        else:
            target = next(
                (ol for ol in order_lines if ol.item_id == line.item_id and outstanding[ol.id] > 0),
                None,
            )
            if target is None:
                raise _bad(
                    f"lines.{n}.item_id",
                    "not outstanding on this order",
                    "This item is not (or no longer) outstanding on the purchase order.",
                )
        if line.quantity > outstanding[target.id]:
            raise OverReceiptError(
                f"Line {n + 1} delivers {line.quantity} but only {outstanding[target.id]} "
                "is outstanding on the order.",
                extra={"errors": [field_problem(f"lines.{n}.quantity", "more than ordered")]},
            )
        outstanding[target.id] -= line.quantity
        matched.append(target)
    return matched


def receive_goods(
    uow: UnitOfWork,
    *,
    location_id: int,
    lines: list[ReceiptLineInput],
    purchase_order_id: int | None,
    supplier_id: int | None,
    delivery_note: str | None,
    note: str | None,
) -> ReceiptView:
    """Receive a delivery into ``location_id`` (see module docstring)."""
    with uow:
        repo = uow.repo(StockRepository)
        buying = uow.repo(ProcurementRepository)
        location = repo.location(location_id)
        if not location.active:
            raise _bad("location_id", "inactive location", "This location is not active.")
        today = uow.hospital.today()
        order: PurchaseOrder | None = None
        order_lines: list[PurchaseOrderLine] = []
        if purchase_order_id is not None:
            order = buying.order(purchase_order_id, lock=True)
            if order.status not in RECEIVABLE_PO_STATUSES:
                raise InvalidStateError(
                    f"Purchase order {order.number} is {order.status.replace('_', ' ')}; "
                    "only approved or sent orders can be received.",
                    extra={"state": order.status},
                )
            if order.location_id != location_id:
                raise _bad(
                    "location_id",
                    "not the order's delivery location",
                    "This order is to be delivered to another location.",
                )
            supplier_id = order.supplier_id
            order_lines = buying.order_lines(order.id, lock=True)
        elif supplier_id is not None and repo.supplier(supplier_id) is None:
            raise _bad("supplier_id", "unknown supplier", f"No supplier with id {supplier_id}.")
        items = repo.items_by_id(line.item_id for line in lines)
        for n, line in enumerate(lines):
            item = items.get(line.item_id)
            if item is None or not item.active:
                raise _bad(
                    f"lines.{n}.item_id",
                    "unknown or inactive item",
                    f"No active stock item with id {line.item_id}.",
                )
            check_quantity(
                line.quantity,
                divisible=item.divisible,
                unit=item.base_unit,
                field=f"lines.{n}.quantity",
            )
            if line.unit_cost < 0:
                raise _bad(
                    f"lines.{n}.unit_cost",
                    "must not be negative",
                    "A unit cost cannot be negative.",
                )
            check_receipt_expiry(line.expiry, today, field=f"lines.{n}.expiry")
        matched = _match_order_lines(lines, order_lines) if order else [None] * len(lines)

        number = repo.next_number("GRN", GOODS_RECEIPT_NUMBER_SEQUENCE)
        me = user_id_of(uow)
        receipt = GoodsReceipt(
            number=number,
            location_id=location_id,
            supplier_id=supplier_id,
            purchase_order_id=order.id if order else None,
            delivery_note=delivery_note,
            note=note,
            received_by=me,
            received_at=utcnow(),
        )
        buying.add(receipt)
        postings: list[Posting] = []
        receipt_lines: list[GoodsReceiptLine] = []
        for n, (line, order_line) in enumerate(zip(lines, matched, strict=True)):
            batch = _batch_for(uow, items[line.item_id], line, supplier_id, n)
            receipt_line = GoodsReceiptLine(
                receipt_id=receipt.id,
                line_no=n + 1,
                item_id=line.item_id,
                batch_id=batch.id,
                order_line_id=order_line.id if order_line else None,
                lot=line.lot,
                expiry=line.expiry,
                quantity=line.quantity,
                unit_cost=line.unit_cost,
            )
            buying.stage(receipt_line)
            receipt_lines.append(receipt_line)
            postings.append(
                Posting(
                    "receipt",
                    line.item_id,
                    batch.id,
                    location_id,
                    line.quantity,
                    line.unit_cost,
                    me,
                    reason=f"Goods receipt {number}",
                    reference_type="goods_receipt",
                    reference_id=receipt.id,
                )
            )
            if order_line is not None:
                order_line.received_quantity += line.quantity
            if supplier_id is not None:
                buying.stage(
                    SupplierPrice(
                        supplier_id=supplier_id,
                        item_id=line.item_id,
                        unit_cost=line.unit_cost,
                        source="receipt",
                    )
                )
        buying.flush()
        repo.post_movements(postings)
        order_status = None
        if order is not None:
            order.status = po_status_after_receipt(
                (ol.quantity, ol.received_quantity) for ol in order_lines
            )
            if order.status == "closed":
                order.closed_at = receipt.received_at
            touch(order)
            order_status = order.status
        buying.flush()
        uow.audit(
            CATEGORY,
            "goods.receive",
            detail={
                "receipt_id": receipt.id,
                "number": number,
                "location_id": location_id,
                "purchase_order_id": receipt.purchase_order_id,
                "lines": len(lines),
            },
        )
        uow.publish("stock.received", {"receipt_id": receipt.id, "location_id": location_id})
        view = ReceiptView(receipt, receipt_lines, order_status, _total(uow, receipt_lines))
        uow.commit()
        return view


def _batch_for(
    uow: UnitOfWork, item: StockItem, line: ReceiptLineInput, supplier_id: int | None, n: int
) -> StockBatch:
    """The lot's batch (created on first receipt). A lot is one expiry; re-receiving it moves
    its unit cost to the weighted average of everything received of it."""
    repo = uow.repo(StockRepository)
    batch = repo.batch_by_lot(item.id, line.lot, lock=True)
    if batch is None:
        return repo.add_batch(
            item_id=item.id,
            lot=line.lot,
            expiry=line.expiry,
            unit_cost=line.unit_cost,
            supplier_id=supplier_id,
        )
    if batch.expiry != line.expiry:
        raise LotExpiryMismatchError(
            f"Lot {line.lot} of {item.name} is known with expiry {batch.expiry.isoformat()}, "
            f"not {line.expiry.isoformat()}; check the pack.",
            extra={"errors": [field_problem(f"lines.{n}.expiry", "differs from the lot's")]},
        )
    if batch.recalled_at is not None:
        raise StockNotAvailableError(
            f"Lot {line.lot} of {item.name} has been recalled; it cannot be received."
        )
    received = uow.repo(ProcurementRepository).received_of_batch(batch.id)
    if received + line.quantity > 0:
        batch.unit_cost = (
            (batch.unit_cost * received + line.unit_cost * line.quantity)
            / (received + line.quantity)
        ).quantize(Decimal("0.0001"))
    return batch


def get_receipt(uow: UnitOfWork, receipt_id: int) -> ReceiptView:
    with uow:
        buying = uow.repo(ProcurementRepository)
        receipt = buying.receipt(receipt_id)
        lines = buying.receipt_lines(receipt.id)
        order = buying.order(receipt.purchase_order_id) if receipt.purchase_order_id else None
        return ReceiptView(receipt, lines, order.status if order else None, _total(uow, lines))
