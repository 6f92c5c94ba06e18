"""Stock control: cycle counts with variance review, batch recall with its trace, alerts
and inventory reports."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.pharmacy import (
    ConsumptionSeries,
    CountDecision,
    CountEntries,
    RecallCreate,
    RecallReport,
    StockAlerts,
    StockCountCreate,
    StockCountRead,
    ValuationRow,
    WasteRow,
)
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.domain.pharmacy import DEFAULT_EXPIRY_WINDOWS
from hms_server.services import pharmacy_reports as reports
from hms_server.services import recall as recall_service
from hms_server.services import stock_counts

router = APIRouter(tags=["inventory"], responses=PROBLEM_RESPONSES)

StockReaderAll = requirement(Perm.STOCK_READ_ALL)
InventoryManager = requirement(Perm.INVENTORY_MANAGE)
StockAdjuster = requirement(Perm.STOCK_ADJUST)
OptionalId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


# ---------------------------------------------------------------- counts


@router.post(
    "/stock-counts", operation_id="open_stock_count", status_code=201, response_model=StockCountRead
)
def open_stock_count(
    body: StockCountCreate,
    request: Request,
    ctx: InventoryManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Open a cycle count of a location (optionally one item class): the expected
    quantities are snapshotted now."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: stock_counts.open_count(
            uow, location_id=body.location_id, item_class=body.item_class, note=body.note
        ),
        StockCountRead.model_validate,
    )


@router.get("/stock-counts", operation_id="list_stock_counts")
def list_stock_counts(
    ctx: StockReaderAll,
    location_id: OptionalId = None,
    status: Literal["open", "submitted", "approved", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[StockCountRead]:
    rows, total = stock_counts.list_counts(
        ctx.uow(), location_id=location_id, status=status, limit=limit, offset=offset
    )
    return Page[StockCountRead](items=[StockCountRead.model_validate(r) for r in rows], total=total)


@router.get("/stock-counts/{count_id}", operation_id="get_stock_count")
def get_stock_count(count_id: int, ctx: StockReaderAll) -> StockCountRead:
    return StockCountRead.model_validate(stock_counts.get_count(ctx.uow(), count_id))


@router.put("/stock-counts/{count_id}/entries", operation_id="enter_stock_counts")
def enter_stock_counts(count_id: int, body: CountEntries, ctx: InventoryManager) -> StockCountRead:
    entries = [(e.line_id, e.counted_quantity, e.note) for e in body.entries]
    return StockCountRead.model_validate(
        stock_counts.enter_counts(ctx.uow(), count_id, version=body.version, entries=entries)
    )


@router.post("/stock-counts/{count_id}/submit", operation_id="submit_stock_count")
def submit_stock_count(count_id: int, body: CountDecision, ctx: InventoryManager) -> StockCountRead:
    return StockCountRead.model_validate(
        stock_counts.submit_count(ctx.uow(), count_id, version=body.version)
    )


@router.post("/stock-counts/{count_id}/approve", operation_id="approve_stock_count")
def approve_stock_count(count_id: int, body: CountDecision, ctx: StockAdjuster) -> StockCountRead:
    """Accept the variances: each is posted to the ledger."""
    return StockCountRead.model_validate(
        stock_counts.approve_count(ctx.uow(), count_id, version=body.version)
    )


@router.post("/stock-counts/{count_id}/cancel", operation_id="cancel_stock_count")
def cancel_stock_count(count_id: int, body: CountDecision, ctx: InventoryManager) -> StockCountRead:
    return StockCountRead.model_validate(
        stock_counts.cancel_count(ctx.uow(), count_id, version=body.version)
    )


# ---------------------------------------------------------------- recall


@router.post("/batches/{batch_id}/recall", operation_id="recall_batch")
def recall_batch(batch_id: int, body: RecallCreate, ctx: InventoryManager) -> RecallReport:
    """Recall a lot: it cannot be picked any more; the answer shows where every unit is and
    which patients received it."""
    return RecallReport.model_validate(
        recall_service.recall_batch(ctx.uow(), batch_id, reason=body.reason)
    )


@router.get("/batches/{batch_id}/trace", operation_id="trace_batch")
def trace_batch(batch_id: int, ctx: InventoryManager) -> RecallReport:
    return RecallReport.model_validate(recall_service.recall_report(ctx.uow(), batch_id))


# ---------------------------------------------------------------- alerts and reports


@router.get("/stock-alerts", operation_id="stock_alerts")
def stock_alerts(
    ctx: StockReaderAll,
    location_id: OptionalId = None,
    windows: Annotated[
        list[Annotated[int, Query(ge=1, le=730)]] | None,
        Query(max_length=6, description="Near-expiry windows in days"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> StockAlerts:
    """Stock-outs and low stock (against reorder levels), near expiry (e.g. 90/60/30 days)
    and expired stock."""
    return StockAlerts.model_validate(
        reports.alerts(
            ctx.uow(),
            location_id=location_id,
            windows=windows or list(DEFAULT_EXPIRY_WINDOWS),
            limit=limit,
        )
    )


@router.get("/reports/waste", operation_id="waste_report")
def waste_report(
    ctx: StockReaderAll,
    start: date | None = None,
    end: date | None = None,
    location_id: OptionalId = None,
) -> list[WasteRow]:
    """Waste by month and reason (write-offs and recalls, valued at unit cost)."""
    return [
        WasteRow.model_validate(r)
        for r in reports.waste(ctx.uow(), start=start, end=end, location_id=location_id)
    ]


@router.get("/reports/stock-valuation", operation_id="stock_valuation_report")
def stock_valuation_report(ctx: StockReaderAll) -> list[ValuationRow]:
    return [ValuationRow.model_validate(r) for r in reports.valuation(ctx.uow())]


@router.get("/reports/consumption", operation_id="consumption_report")
def consumption_report(
    ctx: StockReaderAll,
    item_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
    location_id: OptionalId = None,
    weeks: Annotated[int, Query(ge=1, le=104)] = 26,
) -> ConsumptionSeries:
    """Weekly consumption of an item (for the trend chart)."""
    return ConsumptionSeries.model_validate(
        reports.consumption(ctx.uow(), item_id=item_id, location_id=location_id, weeks=weeks)
    )
