"""Procurement: suppliers and their price history, reorder suggestions from actual
consumption, and purchase orders (draft → approved → sent → partly received → closed).

A suggestion becomes a purchase order in one step (``order_from_suggestions``): one draft
per supplier, priced at the supplier's last price.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hms_server.adapters.orm.base import touch, utcnow
from hms_server.adapters.orm.pharmacy import Supplier
from hms_server.adapters.orm.procurement import (
    PURCHASE_ORDER_NUMBER_SEQUENCE,
    PurchaseOrder,
    PurchaseOrderLine,
    SupplierPrice,
)
from hms_server.adapters.queries.procurement import ProcurementQueries
from hms_server.adapters.repositories.pharmacy import StockRepository
from hms_server.adapters.repositories.procurement import ProcurementRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ConflictError, ValidationFailedError
from hms_server.domain.pharmacy import (
    DEFAULT_LEAD_TIME_DAYS,
    FORECAST_WEEKS,
    SMOOTHING_ALPHA,
    ReorderInput,
    check_po_transition,
    check_quantity,
    field_problem,
    reorder_advice,
)
from hms_server.domain.versioning import check_version
from hms_server.services.stock import user_id_of

CATEGORY = "procurement"


# ---------------------------------------------------------------- suppliers


def _supplier(uow: UnitOfWork, supplier_id: int, *, lock: bool = False) -> Supplier:
    return uow.repo(ProcurementRepository).supplier(supplier_id, lock=lock)


def list_suppliers(uow: UnitOfWork, *, q: str | None, include_inactive: bool) -> list[Supplier]:
    with uow:
        return uow.repo(ProcurementRepository).suppliers(q=q, include_inactive=include_inactive)


def create_supplier(uow: UnitOfWork, **fields: Any) -> Supplier:
    with uow:
        code = fields["code"].upper()
        if uow.repo(ProcurementRepository).supplier_code_taken(code):
            raise ConflictError(
                f"A supplier with code {code} exists already.",
                extra={"errors": [field_problem("code", "already used")]},
            )
        supplier = Supplier(**{**fields, "code": code}, active=True, version=1)
        uow.repo(ProcurementRepository).add(supplier)
        uow.audit(CATEGORY, "supplier.create", detail={"supplier_id": supplier.id})
        uow.commit()
        return supplier


def update_supplier(
    uow: UnitOfWork, supplier_id: int, *, version: int, changes: dict[str, Any]
) -> Supplier:
    with uow:
        supplier = _supplier(uow, supplier_id, lock=True)
        check_version(supplier.version, version, "supplier")
        for key, value in changes.items():
            setattr(supplier, key, value)
        touch(supplier)
        uow.audit(
            CATEGORY,
            "supplier.update",
            detail={"supplier_id": supplier.id, "fields": sorted(changes)},
        )
        uow.commit()
        return supplier


def record_quote(
    uow: UnitOfWork, supplier_id: int, *, item_id: int, unit_cost: Decimal
) -> SupplierPrice:
    with uow:
        _supplier(uow, supplier_id)
        uow.repo(StockRepository).item(item_id)
        price = SupplierPrice(
            supplier_id=supplier_id,
            item_id=item_id,
            unit_cost=unit_cost,
            source="quote",
            recorded_at=utcnow(),
        )
        uow.repo(ProcurementRepository).add(price)
        uow.commit()
        return price


def price_history(
    uow: UnitOfWork, *, item_id: int | None, supplier_id: int | None, limit: int
) -> list[SupplierPrice]:
    with uow:
        return uow.repo(ProcurementQueries).price_history(
            item_id=item_id, supplier_id=supplier_id, limit=limit
        )


# ---------------------------------------------------------------- suggestions


def _q(value: Decimal | float, places: str = "0.001") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def suggestions(
    uow: UnitOfWork,
    *,
    location_id: int,
    include_all: bool = False,
    item_ids: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Reorder suggestions for every item consumed or levelled at the location, most urgent
    (fewest days of stock) first. ``include_all`` also lists items that need no order."""
    with uow:
        uow.repo(StockRepository).location(location_id)
        now = utcnow()
        rows = uow.repo(ProcurementQueries).reorder_inputs(
            location_id=location_id,
            now=now,
            since=now - timedelta(weeks=FORECAST_WEEKS),
            today=uow.hospital.today(),
            alpha=SMOOTHING_ALPHA,
            weeks=FORECAST_WEEKS,
            default_lead=DEFAULT_LEAD_TIME_DAYS,
            item_ids=item_ids,
        )
        out = []
        for row in rows:
            advice = reorder_advice(
                ReorderInput(
                    on_hand=row["on_hand"],
                    on_order=row["on_order"],
                    weekly_demand=float(row["weekly"]),
                    lead_time_days=row["lead_time_days"],
                    reorder_level=row["reorder_level"],
                    par_level=row["par_level"],
                    safety_stock=row["safety_stock"],
                    pack_size=row["pack_size"],
                )
            )
            if advice.suggested <= 0 and not include_all:
                continue
            out.append(
                {
                    "item_id": row["item_id"],
                    "item_code": row["item_code"],
                    "item_name": row["item_name"],
                    "base_unit": row["base_unit"],
                    "location_id": location_id,
                    "supplier_id": row["supplier_id"],
                    "supplier_name": row["supplier_name"],
                    "on_hand": row["on_hand"],
                    "on_order": row["on_order"],
                    "weekly_demand": _q(row["weekly"]),
                    "days_of_stock": (
                        _q(advice.days_of_stock, "0.1")
                        if advice.days_of_stock is not None
                        else None
                    ),
                    "lead_time_days": row["lead_time_days"],
                    "reorder_point": advice.reorder_point,
                    "target_level": advice.target,
                    "suggested_quantity": advice.suggested,
                    "pack_size": row["pack_size"],
                    "last_unit_cost": None,
                }
            )
        out.sort(
            key=lambda r: (
                r["days_of_stock"] is None,
                r["days_of_stock"] if r["days_of_stock"] is not None else Decimal(0),
                r["item_name"],
            )
        )
        return out


def priced(uow: UnitOfWork, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add each row's last known unit cost (for one page of suggestions)."""
    with uow:
        prices = uow.repo(ProcurementQueries).last_prices([r["item_id"] for r in rows])
        return [{**r, "last_unit_cost": prices.get(r["item_id"])} for r in rows]


def order_from_suggestions(
    uow: UnitOfWork,
    *,
    location_id: int,
    picks: list[tuple[int, Decimal | None]],
    supplier_id: int | None,
) -> list[dict[str, Any]]:
    """One draft purchase order per supplier for the picked suggestions."""
    with uow:
        wanted = [item_id for item_id, _ in picks]
        if len(set(wanted)) != len(wanted):
            raise ValidationFailedError("Each item may be picked once.")
        found = {
            r["item_id"]: r
            for r in suggestions(uow, location_id=location_id, include_all=True, item_ids=wanted)
        }
        items = uow.repo(StockRepository).items_by_id(wanted)
        if supplier_id is not None:
            _supplier(uow, supplier_id)
        groups: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        for n, (item_id, quantity) in enumerate(picks):
            item = items.get(item_id)
            if item is None:
                raise ValidationFailedError(
                    f"No stock item with id {item_id}.",
                    extra={"errors": [field_problem(f"items.{n}.item_id", "unknown item")]},
                )
            qty = (
                quantity
                if quantity is not None
                else (found[item_id]["suggested_quantity"] if item_id in found else Decimal(0))
            )
            if qty <= 0:
                raise ValidationFailedError(
                    f"{item.name} needs no order now; give a quantity to order it anyway.",
                    extra={"errors": [field_problem(f"items.{n}.quantity", "nothing suggested")]},
                )
            supplier = supplier_id or item.preferred_supplier_id
            if supplier is None:
                raise ValidationFailedError(
                    f"{item.name} has no preferred supplier; choose one.",
                    extra={"errors": [field_problem(f"items.{n}.item_id", "no supplier")]},
                )
            groups[supplier].append((item_id, qty))
        orders = []
        for supplier, lines in sorted(groups.items()):
            prices = uow.repo(ProcurementQueries).last_prices([i for i, _ in lines], supplier)
            fallback = uow.repo(ProcurementQueries).last_prices([i for i, _ in lines])
            orders.append(
                _create_order(
                    uow,
                    supplier_id=supplier,
                    location_id=location_id,
                    expected_on=None,
                    note="From reorder suggestions",
                    lines=[
                        OrderLineInput(i, q, prices.get(i, fallback.get(i, Decimal(0))))
                        for i, q in lines
                    ],
                )
            )
        views = [order_view(uow, o) for o in orders]
        uow.commit()
        return views


# ---------------------------------------------------------------- purchase orders


@dataclass(frozen=True)
class OrderLineInput:
    item_id: int
    quantity: Decimal
    unit_cost: Decimal


def _create_order(
    uow: UnitOfWork,
    *,
    supplier_id: int,
    location_id: int,
    expected_on: date | None,
    note: str | None,
    lines: list[OrderLineInput],
) -> PurchaseOrder:
    repo = uow.repo(StockRepository)
    supplier = _supplier(uow, supplier_id)
    if not supplier.active:
        raise ValidationFailedError(
            "This supplier is not active.",
            extra={"errors": [field_problem("supplier_id", "inactive")]},
        )
    repo.location(location_id)
    items = repo.items_by_id(line.item_id for line in lines)
    for n, line in enumerate(lines):
        item = items.get(line.item_id)
        if item is None or not item.active:
            raise ValidationFailedError(
                f"No active stock item with id {line.item_id}.",
                extra={"errors": [field_problem(f"lines.{n}.item_id", "unknown item")]},
            )
        check_quantity(
            line.quantity,
            divisible=item.divisible,
            unit=item.base_unit,
            field=f"lines.{n}.quantity",
        )
    order = PurchaseOrder(
        number=repo.next_number("PO", PURCHASE_ORDER_NUMBER_SEQUENCE),
        supplier_id=supplier_id,
        location_id=location_id,
        status="draft",
        note=note,
        expected_on=expected_on,
        created_by=user_id_of(uow),
        created_at=utcnow(),
        version=1,
    )
    buying = uow.repo(ProcurementRepository)
    buying.add(order)
    for n, line in enumerate(lines, start=1):
        buying.stage(
            PurchaseOrderLine(
                order_id=order.id,
                line_no=n,
                item_id=line.item_id,
                quantity=line.quantity,
                unit_cost=line.unit_cost,
                received_quantity=Decimal(0),
            )
        )
        buying.stage(
            SupplierPrice(
                supplier_id=supplier_id,
                item_id=line.item_id,
                unit_cost=line.unit_cost,
                source="order",
                recorded_at=utcnow(),
            )
        )
    buying.flush()
    uow.audit(CATEGORY, "order.create", detail={"order_id": order.id, "supplier_id": supplier_id})
    return order


def create_order(
    uow: UnitOfWork,
    *,
    supplier_id: int,
    location_id: int,
    expected_on: date | None,
    note: str | None,
    lines: list[OrderLineInput],
) -> dict[str, Any]:
    with uow:
        order = _create_order(
            uow,
            supplier_id=supplier_id,
            location_id=location_id,
            expected_on=expected_on,
            note=note,
            lines=lines,
        )
        view = order_view(uow, order)
        uow.commit()
        return view


def order_view(uow: UnitOfWork, order: PurchaseOrder) -> dict[str, Any]:
    rows = uow.repo(ProcurementRepository).order_lines_with_items(order.id)
    supplier = _supplier(uow, order.supplier_id)
    return {
        "id": order.id,
        "number": order.number,
        "supplier_id": order.supplier_id,
        "supplier_name": supplier.name,
        "location_id": order.location_id,
        "status": order.status,
        "note": order.note,
        "expected_on": order.expected_on,
        "created_at": order.created_at,
        "approved_at": order.approved_at,
        "sent_at": order.sent_at,
        "closed_at": order.closed_at,
        "version": order.version,
        "total": uow.hospital.round_money(
            sum((ln.quantity * ln.unit_cost for ln, _ in rows), Decimal(0))
        ),
        "lines": [
            {
                "id": ln.id,
                "line_no": ln.line_no,
                "item_id": ln.item_id,
                "item_name": item.name,
                "base_unit": item.base_unit,
                "quantity": ln.quantity,
                "received_quantity": ln.received_quantity,
                "outstanding": ln.quantity - ln.received_quantity,
                "unit_cost": ln.unit_cost,
            }
            for ln, item in rows
        ],
    }


def _order(uow: UnitOfWork, order_id: int, *, lock: bool = False) -> PurchaseOrder:
    return uow.repo(ProcurementRepository).order(order_id, lock=lock)


def get_order(uow: UnitOfWork, order_id: int) -> dict[str, Any]:
    with uow:
        return order_view(uow, _order(uow, order_id))


def list_orders(
    uow: UnitOfWork,
    *,
    status: str | None,
    supplier_id: int | None,
    location_id: int | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    with uow:
        orders, total = uow.repo(ProcurementRepository).orders(
            status=status,
            supplier_id=supplier_id,
            location_id=location_id,
            limit=limit,
            offset=offset,
        )
        return [order_view(uow, o) for o in orders], total


def change_order_status(
    uow: UnitOfWork, order_id: int, *, version: int, status: str
) -> dict[str, Any]:
    """approve / send / cancel / close (a short delivery that will not be completed)."""
    with uow:
        order = _order(uow, order_id, lock=True)
        check_version(order.version, version, "purchase order")
        check_po_transition(order.status, status)
        now = utcnow()
        if status == "approved":
            order.approved_at, order.approved_by = now, user_id_of(uow)
        elif status == "sent":
            order.sent_at = now
        elif status == "closed":
            order.closed_at = now
        if status == "cancelled" and any(
            ln.received_quantity > 0 for ln in uow.repo(ProcurementRepository).order_lines(order.id)
        ):
            raise ConflictError("Goods were received against this order; close it instead.")
        order.status = status
        uow.audit(CATEGORY, f"order.{status}", detail={"order_id": order.id})
        uow.publish("purchase_order.changed", {"order_id": order.id, "status": status})
        view = order_view(uow, order)
        uow.commit()
        return view
