"""Inventory: locations, the catalogue, stock by batch, the ledger, adjustments, write-offs,
transfers, quarantine, the expiry sweep, reconciliation and barcode look-up.

Quantities are in each item's base unit, as decimal strings. Ward staff (``stock.read``
without ``stock.read_all``) see ward-store stock only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.pharmacy import (
    AdjustmentCreate,
    BatchRead,
    ExpirySweepRead,
    ItemKind,
    LocationCreate,
    LocationKind,
    LocationRead,
    LocationUpdate,
    MovementKind,
    MovementRead,
    ReconciliationRead,
    ScanRead,
    ScanRequest,
    StatusChange,
    StockItemCreate,
    StockItemRead,
    StockItemUpdate,
    StockLevelRead,
    StockLevelSet,
    StockRead,
    StockStatus,
    StockSummaryRead,
    TransferCreate,
    TransferRead,
    WriteOffCreate,
)
from hms_server.api.deps import RequestContext, requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import Limit
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import medication_codes
from hms_server.services import stock as stock_service
from hms_server.services.stock import PackInput, TransferInput, TransferResult

router = APIRouter(tags=["inventory"], responses=PROBLEM_RESPONSES)

StockReader = requirement(Perm.STOCK_READ)
StockReaderAll = requirement(Perm.STOCK_READ_ALL)
InventoryManager = requirement(Perm.INVENTORY_MANAGE)
StockAdjuster = requirement(Perm.STOCK_ADJUST)

OptionalId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def _sees_all(ctx: RequestContext) -> bool:
    return Perm.STOCK_READ_ALL in ctx.principal.permissions


# ---------------------------------------------------------------- locations


@router.get("/locations", operation_id="list_locations")
def list_locations(
    ctx: StockReader, kind: LocationKind | None = None, include_inactive: bool = False
) -> Page[LocationRead]:
    """Stock locations: central store, pharmacy, ward stores, theatre, quarantine."""
    rows = stock_service.list_locations(ctx.uow(), kind=kind, include_inactive=include_inactive)
    return Page[LocationRead](items=[LocationRead.model_validate(r) for r in rows], total=len(rows))


@router.post(
    "/locations", operation_id="create_location", status_code=201, response_model=LocationRead
)
def create_location(
    body: LocationCreate,
    request: Request,
    ctx: InventoryManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: stock_service.create_location(
            uow,
            code=body.code,
            name=body.name,
            kind=body.kind,
            ward_code=body.ward_code,
            dispensing=body.dispensing,
        ),
        LocationRead.model_validate,
    )


@router.patch("/locations/{location_id}", operation_id="update_location")
def update_location(location_id: int, body: LocationUpdate, ctx: InventoryManager) -> LocationRead:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    return LocationRead.model_validate(
        stock_service.update_location(ctx.uow(), location_id, version=body.version, changes=changes)
    )


# ---------------------------------------------------------------- catalogue


@router.get("/stock-items", operation_id="list_stock_items")
def list_stock_items(
    ctx: StockReader,
    q: Annotated[str | None, Query(max_length=100)] = None,
    kind: ItemKind | None = None,
    drug_id: OptionalId = None,
    item_class: Annotated[str | None, Query(max_length=40)] = None,
    include_inactive: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[StockItemRead]:
    """The catalogue: search by name, code, drug name or GTIN."""
    rows, total = stock_service.list_items(
        ctx.uow(),
        q=q,
        kind=kind,
        drug_id=drug_id,
        item_class=item_class,
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
    )
    return Page[StockItemRead](items=[StockItemRead.model_validate(r) for r in rows], total=total)


@router.post(
    "/stock-items", operation_id="create_stock_item", status_code=201, response_model=StockItemRead
)
def create_stock_item(
    body: StockItemCreate,
    request: Request,
    ctx: InventoryManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A stock item. A medicine carries ``drug_id`` (its formulary drug); packs give pack
    sizes in base units and their GTINs."""
    packs = [PackInput(p.name, p.base_quantity, p.gtin) for p in body.packs]
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: stock_service.create_item(
            uow,
            code=body.code,
            name=body.name,
            kind=body.kind,
            drug_id=body.drug_id,
            base_unit=body.base_unit,
            divisible=body.divisible,
            item_class=body.item_class,
            preferred_supplier_id=body.preferred_supplier_id,
            packs=packs,
        ),
        StockItemRead.model_validate,
        headers=lambda row: {"Location": f"/api/v1/stock-items/{row['id']}"},
    )


@router.get("/stock-items/{item_id}", operation_id="get_stock_item")
def get_stock_item(item_id: int, ctx: StockReader) -> StockItemRead:
    return StockItemRead.model_validate(stock_service.get_item(ctx.uow(), item_id))


@router.patch("/stock-items/{item_id}", operation_id="update_stock_item")
def update_stock_item(item_id: int, body: StockItemUpdate, ctx: InventoryManager) -> StockItemRead:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    return StockItemRead.model_validate(
        stock_service.update_item(ctx.uow(), item_id, version=body.version, changes=changes)
    )


@router.get("/stock-items/{item_id}/batches", operation_id="list_item_batches")
def list_item_batches(item_id: int, ctx: StockReaderAll) -> list[BatchRead]:
    return [
        BatchRead.model_validate(b) for b in stock_service.list_batches(ctx.uow(), item_id=item_id)
    ]


@router.put("/stock-items/{item_id}/levels/{location_id}", operation_id="set_stock_level")
def set_stock_level(
    item_id: int, location_id: int, body: StockLevelSet, ctx: InventoryManager
) -> StockLevelRead:
    """Reorder level, par level and safety stock of the item at the location."""
    return StockLevelRead.model_validate(
        stock_service.set_level(
            ctx.uow(),
            item_id,
            location_id,
            reorder_level=body.reorder_level,
            par_level=body.par_level,
            safety_stock=body.safety_stock,
        )
    )


# ---------------------------------------------------------------- stock


@router.get("/stock", operation_id="list_stock")
def list_stock(
    ctx: StockReader,
    item_id: OptionalId = None,
    location_id: OptionalId = None,
    lot: Annotated[str | None, Query(max_length=40)] = None,
    status: StockStatus | None = None,
    include_empty: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[StockRead]:
    """Stock by batch (lot, expiry, quantity, status), first expiry first."""
    rows, total = stock_service.list_stock(
        ctx.uow(),
        item_id=item_id,
        location_id=location_id,
        lot=lot,
        status=status,
        include_empty=include_empty,
        all_locations=_sees_all(ctx),
        limit=limit,
        offset=offset,
    )
    return Page[StockRead](items=[StockRead.model_validate(r) for r in rows], total=total)


@router.get("/stock/summary", operation_id="stock_summary")
def stock_summary(
    ctx: StockReader,
    location_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[StockSummaryRead]:
    """Per item at one location: usable and unusable quantity, next expiry, value."""
    rows, total = stock_service.stock_summary(
        ctx.uow(),
        location_id=location_id,
        q=q,
        all_locations=_sees_all(ctx),
        limit=limit,
        offset=offset,
    )
    return Page[StockSummaryRead](
        items=[StockSummaryRead.model_validate(r) for r in rows], total=total
    )


@router.get("/stock-movements", operation_id="list_stock_movements")
def list_stock_movements(
    ctx: StockReaderAll,
    item_id: OptionalId = None,
    location_id: OptionalId = None,
    batch_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    kind: MovementKind | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[MovementRead]:
    """The ledger, newest first."""
    rows, total = stock_service.list_movements(
        ctx.uow(),
        item_id=item_id,
        location_id=location_id,
        batch_id=batch_id,
        kind=kind,
        limit=limit,
        offset=offset,
    )
    return Page[MovementRead](items=[MovementRead.model_validate(r) for r in rows], total=total)


@router.post(
    "/stock-adjustments", operation_id="adjust_stock", status_code=201, response_model=MovementRead
)
def adjust_stock(
    body: AdjustmentCreate,
    request: Request,
    ctx: StockAdjuster,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Correct a lot's balance at a location up or down; the reason is required."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: stock_service.adjust_stock(
            uow,
            item_id=body.item_id,
            location_id=body.location_id,
            lot=body.lot,
            quantity_delta=body.quantity_delta,
            reason=body.reason,
        ),
        MovementRead.model_validate,
    )


@router.post(
    "/stock-write-offs",
    operation_id="write_off_stock",
    status_code=201,
    response_model=MovementRead,
)
def write_off_stock(
    body: WriteOffCreate,
    request: Request,
    ctx: StockAdjuster,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Waste: expired, damaged, returned unusable, recalled (reported by reason and month)."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: stock_service.write_off(
            uow,
            item_id=body.item_id,
            location_id=body.location_id,
            lot=body.lot,
            quantity=body.quantity,
            reason_code=body.reason_code,
            reason=body.reason,
        ),
        MovementRead.model_validate,
    )


def _transfer_read(result: TransferResult) -> TransferRead:
    return TransferRead(
        reference=result.reference,
        from_location_id=result.from_location_id,
        to_location_id=result.to_location_id,
        movements=[MovementRead.model_validate(m) for m in result.movements],
    )


@router.post(
    "/stock-transfers", operation_id="transfer_stock", status_code=201, response_model=TransferRead
)
def transfer_stock(
    body: TransferCreate,
    request: Request,
    ctx: InventoryManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Move stock between locations, first expiry first unless a lot is named."""
    lines = [TransferInput(ln.item_id, ln.quantity, ln.lot) for ln in body.lines]
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: stock_service.transfer_stock(
            uow,
            from_location_id=body.from_location_id,
            to_location_id=body.to_location_id,
            lines=lines,
            note=body.note,
        ),
        _transfer_read,
    )


@router.post("/batches/{batch_id}/status", operation_id="change_batch_status")
def change_batch_status(batch_id: int, body: StatusChange, ctx: InventoryManager) -> StockRead:
    """Quarantine a lot at a location (it cannot be picked) or release it."""
    return StockRead.model_validate(
        stock_service.change_status(
            ctx.uow(),
            batch_id,
            location_id=body.location_id,
            status=body.status,
            reason=body.reason,
        )
    )


@router.post("/stock/expiry-sweep", operation_id="sweep_expired_stock")
def sweep_expired_stock(ctx: InventoryManager) -> ExpirySweepRead:
    """Mark every lot past its expiry as ``expired`` now (also runs hourly by itself)."""
    count, quantity = stock_service.sweep_expired(ctx.uow())
    return ExpirySweepRead(balances_expired=count, quantity=quantity)


@router.get("/stock/reconciliation", operation_id="reconcile_stock")
def reconcile_stock(ctx: StockReaderAll) -> ReconciliationRead:
    """Balances that disagree with their ledger (none, unless the database was tampered
    with outside the application)."""
    checked, mismatches = stock_service.reconcile(ctx.uow())
    return ReconciliationRead(balances_checked=checked, mismatches=mismatches)


@router.post("/barcodes/resolve", operation_id="resolve_barcode")
def resolve_barcode(body: ScanRequest, ctx: StockReader) -> ScanRead:
    """What a scanned GS1 pack code or dispensing label identifies."""
    return ScanRead.model_validate(medication_codes.describe_scan(ctx.uow(), body.code))
