"""Procurement: goods receipts (with or without a purchase order), suppliers and their price
history, reorder suggestions and purchase orders."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hms_contract.procurement import GoodsReceiptCreate, GoodsReceiptRead
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import receiving
from hms_server.services.receiving import ReceiptLineInput, ReceiptView

router = APIRouter(tags=["procurement"], responses=PROBLEM_RESPONSES)

InventoryManager = requirement(Perm.INVENTORY_MANAGE)


def _receipt_read(view: ReceiptView) -> GoodsReceiptRead:
    return GoodsReceiptRead.model_validate(view.as_dict())


@router.post("/goods-receipts", operation_id="receive_goods", status_code=201,
             response_model=GoodsReceiptRead)
def receive_goods(body: GoodsReceiptCreate, request: Request, ctx: InventoryManager,
                  idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Receive a delivery: each line's lot and expiry become a batch at the location and a
    ledger receipt; the unit cost feeds stock valuation. Without ``purchase_order_id`` it is
    opening stock."""
    lines = [ReceiptLineInput(ln.item_id, ln.lot, ln.expiry, ln.quantity, ln.unit_cost,
                              ln.order_line_id) for ln in body.lines]
    return run_idempotent(
        ctx, request, idempotency_key, body,
        lambda uow: receiving.receive_goods(
            uow, location_id=body.location_id, lines=lines,
            purchase_order_id=body.purchase_order_id, supplier_id=body.supplier_id,
            delivery_note=body.delivery_note, note=body.note),
        _receipt_read,
        headers=lambda view: {"Location": f"/api/v1/goods-receipts/{view.receipt.id}"})
