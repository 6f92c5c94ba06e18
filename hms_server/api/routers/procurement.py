"""Procurement: goods receipts (with or without a purchase order), suppliers and their price
history, reorder suggestions and purchase orders."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.procurement import (
    GoodsReceiptCreate,
    GoodsReceiptRead,
    OrderFromSuggestions,
    PoStatus,
    PriceQuote,
    PriceRead,
    PurchaseOrderCreate,
    PurchaseOrderRead,
    PurchaseOrderStep,
    ReorderSuggestion,
    SupplierCreate,
    SupplierRead,
    SupplierUpdate,
)
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import procurement, receiving
from hms_server.services.procurement import OrderLineInput
from hms_server.services.receiving import ReceiptLineInput, ReceiptView

router = APIRouter(tags=["procurement"], responses=PROBLEM_RESPONSES)

InventoryManager = requirement(Perm.INVENTORY_MANAGE)
StockReaderAll = requirement(Perm.STOCK_READ_ALL)
Purchaser = requirement(Perm.PURCHASING)
PurchaseApprover = requirement(Perm.PURCHASE_APPROVE)
OptionalId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


def _receipt_read(view: ReceiptView) -> GoodsReceiptRead:
    return GoodsReceiptRead.model_validate(view.as_dict())


@router.post(
    "/goods-receipts",
    operation_id="receive_goods",
    status_code=201,
    response_model=GoodsReceiptRead,
)
def receive_goods(
    body: GoodsReceiptCreate,
    request: Request,
    ctx: InventoryManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Receive a delivery: each line's lot and expiry become a batch at the location and a
    ledger receipt; the unit cost feeds stock valuation. Without ``purchase_order_id`` it is
    opening stock."""
    lines = [
        ReceiptLineInput(ln.item_id, ln.lot, ln.expiry, ln.quantity, ln.unit_cost, ln.order_line_id)
        for ln in body.lines
    ]
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: receiving.receive_goods(
            uow,
            location_id=body.location_id,
            lines=lines,
            purchase_order_id=body.purchase_order_id,
            supplier_id=body.supplier_id,
            delivery_note=body.delivery_note,
            note=body.note,
        ),
        _receipt_read,
        headers=lambda view: {"Location": f"/api/v1/goods-receipts/{view.receipt.id}"},
    )


@router.get("/goods-receipts/{receipt_id}", operation_id="get_goods_receipt")
def get_goods_receipt(receipt_id: int, ctx: StockReaderAll) -> GoodsReceiptRead:
    return _receipt_read(receiving.get_receipt(ctx.uow(), receipt_id))


# ---------------------------------------------------------------- suppliers


@router.get("/suppliers", operation_id="list_suppliers")
def list_suppliers(
    ctx: StockReaderAll,
    q: Annotated[str | None, Query(max_length=100)] = None,
    include_inactive: bool = False,
) -> Page[SupplierRead]:
    rows = procurement.list_suppliers(ctx.uow(), q=q, include_inactive=include_inactive)
    return Page[SupplierRead](items=[SupplierRead.model_validate(s) for s in rows], total=len(rows))


@router.post(
    "/suppliers", operation_id="create_supplier", status_code=201, response_model=SupplierRead
)
def create_supplier(
    body: SupplierCreate, request: Request, ctx: Purchaser, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: procurement.create_supplier(uow, **body.model_dump()),
        SupplierRead.model_validate,
    )


@router.patch("/suppliers/{supplier_id}", operation_id="update_supplier")
def update_supplier(supplier_id: int, body: SupplierUpdate, ctx: Purchaser) -> SupplierRead:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    return SupplierRead.model_validate(
        procurement.update_supplier(ctx.uow(), supplier_id, version=body.version, changes=changes)
    )


@router.post(
    "/suppliers/{supplier_id}/prices", operation_id="record_supplier_quote", status_code=201
)
def record_supplier_quote(supplier_id: int, body: PriceQuote, ctx: Purchaser) -> PriceRead:
    return PriceRead.model_validate(
        procurement.record_quote(
            ctx.uow(), supplier_id, item_id=body.item_id, unit_cost=body.unit_cost
        )
    )


@router.get("/supplier-prices", operation_id="list_supplier_prices")
def list_supplier_prices(
    ctx: StockReaderAll,
    item_id: OptionalId = None,
    supplier_id: OptionalId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PriceRead]:
    """Price history, newest first (quotes, order prices, delivered prices)."""
    return [
        PriceRead.model_validate(p)
        for p in procurement.price_history(
            ctx.uow(), item_id=item_id, supplier_id=supplier_id, limit=limit
        )
    ]


# ---------------------------------------------------------------- reorder suggestions


@router.get("/reorder-suggestions", operation_id="reorder_suggestions")
def reorder_suggestions(
    ctx: StockReaderAll,
    location_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
    include_all: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[ReorderSuggestion]:
    """What to order now, from smoothed consumption, lead time, stock on hand and on order;
    fewest days of stock first."""
    rows = procurement.suggestions(ctx.uow(), location_id=location_id, include_all=include_all)
    page = procurement.priced(ctx.uow(), rows[offset : offset + limit])
    return Page[ReorderSuggestion](
        items=[ReorderSuggestion.model_validate(r) for r in page], total=len(rows)
    )


@router.post(
    "/purchase-orders/from-suggestions",
    operation_id="order_from_suggestions",
    status_code=201,
    response_model=list[PurchaseOrderRead],
)
def order_from_suggestions(
    body: OrderFromSuggestions,
    request: Request,
    ctx: Purchaser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Turn suggestions into draft purchase orders, one per supplier, in one step."""
    picks = [(p.item_id, p.quantity) for p in body.items]
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: procurement.order_from_suggestions(
            uow, location_id=body.location_id, picks=picks, supplier_id=body.supplier_id
        ),
        lambda views: [PurchaseOrderRead.model_validate(v) for v in views],
    )  # type: ignore[arg-type,return-value]


# ---------------------------------------------------------------- purchase orders


@router.get("/purchase-orders", operation_id="list_purchase_orders")
def list_purchase_orders(
    ctx: StockReaderAll,
    status: PoStatus | None = None,
    supplier_id: OptionalId = None,
    location_id: OptionalId = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[PurchaseOrderRead]:
    rows, total = procurement.list_orders(
        ctx.uow(),
        status=status,
        supplier_id=supplier_id,
        location_id=location_id,
        limit=limit,
        offset=offset,
    )
    return Page[PurchaseOrderRead](
        items=[PurchaseOrderRead.model_validate(r) for r in rows], total=total
    )


@router.post(
    "/purchase-orders",
    operation_id="create_purchase_order",
    status_code=201,
    response_model=PurchaseOrderRead,
)
def create_purchase_order(
    body: PurchaseOrderCreate,
    request: Request,
    ctx: Purchaser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    lines = [OrderLineInput(ln.item_id, ln.quantity, ln.unit_cost) for ln in body.lines]
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: procurement.create_order(
            uow,
            supplier_id=body.supplier_id,
            location_id=body.location_id,
            expected_on=body.expected_on,
            note=body.note,
            lines=lines,
        ),
        PurchaseOrderRead.model_validate,
    )


@router.get("/purchase-orders/{order_id}", operation_id="get_purchase_order")
def get_purchase_order(order_id: int, ctx: StockReaderAll) -> PurchaseOrderRead:
    return PurchaseOrderRead.model_validate(procurement.get_order(ctx.uow(), order_id))


@router.post("/purchase-orders/{order_id}/approve", operation_id="approve_purchase_order")
def approve_purchase_order(
    order_id: int, body: PurchaseOrderStep, ctx: PurchaseApprover
) -> PurchaseOrderRead:
    return PurchaseOrderRead.model_validate(
        procurement.change_order_status(
            ctx.uow(), order_id, version=body.version, status="approved"
        )
    )


@router.post("/purchase-orders/{order_id}/{step}", operation_id="advance_purchase_order")
def advance_purchase_order(
    order_id: int, step: Literal["send", "cancel", "close"], body: PurchaseOrderStep, ctx: Purchaser
) -> PurchaseOrderRead:
    """send (to the supplier), cancel (nothing received yet), close (short delivery)."""
    status = {"send": "sent", "cancel": "cancelled", "close": "closed"}[step]
    return PurchaseOrderRead.model_validate(
        procurement.change_order_status(ctx.uow(), order_id, version=body.version, status=status)
    )
