"""Typed pharmacy and inventory calls over the public ``ApiClient`` transport. No Qt here.

Every method is a blocking HTTP call for the task runner and returns ``hms_contract``
models. Two problems get their own types because the dispensing dialog reacts to them:

- ``DispensingConflictError`` — 409 ``allergy_conflict`` / ``interaction`` /
  ``duplicate_therapy`` with the ``conflicts`` list (resend with ``override_reason``);
- ``InsufficientStockError`` — 409 ``insufficient_stock`` with how much is ``available``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from hms_contract.common import Page
from hms_contract.dispensing import (
    DispenseCreate,
    DispenseLineCreate,
    DispensePreviewRead,
    DispenseRead,
    LabelRead,
    QueueEntryRead,
    RequisitionCreate,
    RequisitionDecision,
    RequisitionRead,
    RequisitionStep,
    ReturnCreate,
    SendBackCreate,
    SendBackRead,
)
from hms_contract.equipment import EquipmentAlert, EquipmentRead
from hms_contract.pharmacy import (
    AdjustmentCreate,
    ConsumptionSeries,
    CountDecision,
    CountEntries,
    LocationRead,
    MovementRead,
    RecallCreate,
    RecallReport,
    ScanRead,
    ScanRequest,
    StatusChange,
    StockAlerts,
    StockCountCreate,
    StockCountRead,
    StockItemRead,
    StockRead,
    StockSummaryRead,
    TransferCreate,
    TransferRead,
    ValuationRow,
    WasteRow,
    WriteOffCreate,
)
from hms_contract.procurement import (
    GoodsReceiptCreate,
    GoodsReceiptRead,
    OrderFromSuggestions,
    PurchaseOrderRead,
    PurchaseOrderStep,
    ReorderSuggestion,
    SupplierRead,
)
from hms_desktop.api.errors import ApiProblem, specialise

SAFETY_CODES = frozenset({"allergy_conflict", "interaction", "duplicate_therapy"})


@dataclass(eq=False)
class DispensingConflictError(ApiProblem):
    """The safety checks re-run at dispensing found ``conflicts``
    (``[{type, drug_ids, reason, severity}]``)."""

    conflicts: list[dict[str, Any]] = field(default_factory=list)


@dataclass(eq=False)
class InsufficientStockError(ApiProblem):
    available: str | None = None


def _typed(problem: ApiProblem) -> ApiProblem:
    body = problem.body if isinstance(problem.body, dict) else {}
    if problem.status == 409 and problem.code in SAFETY_CODES:
        return specialise(
            problem, DispensingConflictError, conflicts=list(body.get("conflicts") or [])
        )
    if problem.status == 409 and problem.code == "insufficient_stock":
        return specialise(problem, InsufficientStockError, available=body.get("available"))
    return problem


class PharmacyApi:
    """The pharmacy workspace's calls. Thread-safe like the ``ApiClient`` it wraps."""

    def __init__(self, api: Any) -> None:
        self.api = api

    # -- reference -------------------------------------------------------------------------
    def locations(self, *, kind: str | None = None) -> list[LocationRead]:
        page = self.api.get("/locations", Page[LocationRead], params={"kind": kind})
        return list(page.items)

    def items(
        self, *, q: str | None = None, drug_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> Page[StockItemRead]:
        return self.api.get(
            "/stock-items",
            Page[StockItemRead],
            params={"q": q, "drug_id": drug_id, "limit": limit, "offset": offset},
        )

    def suppliers(self) -> list[SupplierRead]:
        return list(self.api.get("/suppliers", Page[SupplierRead]).items)

    # -- dispensing ------------------------------------------------------------------------
    def queue(
        self, *, q: str | None = None, limit: int = 100, offset: int = 0
    ) -> Page[QueueEntryRead]:
        return self.api.get(
            "/dispensing-queue",
            Page[QueueEntryRead],
            params={"q": q, "limit": limit, "offset": offset},
        )

    def preview(self, request: DispenseCreate) -> DispensePreviewRead:
        return self.api.post("/dispenses/preview", request, DispensePreviewRead)

    def dispense(self, request: DispenseCreate) -> DispenseRead:
        try:
            return self.api.post("/dispenses", request, DispenseRead, creates=True)
        except ApiProblem as problem:
            raise _typed(problem) from None

    def dispenses_of(self, prescription_id: int) -> list[DispenseRead]:
        return self.api.get(f"/prescriptions/{prescription_id}/dispenses", list[DispenseRead])

    def send_back(self, prescription_id: int, reason: str) -> SendBackRead:
        return self.api.post(
            f"/prescriptions/{prescription_id}/send-back",
            SendBackCreate(reason=reason),
            SendBackRead,
        )

    def return_lines(self, dispense_id: int, request: ReturnCreate) -> DispenseRead:
        return self.api.post(
            f"/dispenses/{dispense_id}/returns", request, DispenseRead, creates=True
        )

    def label(self, dispense_line_id: int) -> LabelRead:
        return self.api.get(f"/dispense-lines/{dispense_line_id}/label", LabelRead)

    def resolve(self, code: str) -> ScanRead:
        return self.api.post("/barcodes/resolve", ScanRequest(code=code), ScanRead)

    # -- stock -----------------------------------------------------------------------------
    def stock(
        self,
        *,
        item_id: int | None = None,
        location_id: int | None = None,
        lot: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[StockRead]:
        return self.api.get(
            "/stock",
            Page[StockRead],
            params={
                "item_id": item_id,
                "location_id": location_id,
                "lot": lot,
                "status": status,
                "limit": limit,
                "offset": offset,
            },
        )

    def summary(
        self, location_id: int, *, q: str | None = None, limit: int = 100, offset: int = 0
    ) -> Page[StockSummaryRead]:
        return self.api.get(
            "/stock/summary",
            Page[StockSummaryRead],
            params={"location_id": location_id, "q": q, "limit": limit, "offset": offset},
        )

    def movements(
        self,
        *,
        item_id: int | None = None,
        location_id: int | None = None,
        batch_id: int | None = None,
        limit: int = 50,
    ) -> Page[MovementRead]:
        return self.api.get(
            "/stock-movements",
            Page[MovementRead],
            params={
                "item_id": item_id,
                "location_id": location_id,
                "batch_id": batch_id,
                "limit": limit,
            },
        )

    def adjust(self, request: AdjustmentCreate) -> MovementRead:
        return self._create("/stock-adjustments", request, MovementRead)

    def write_off(self, request: WriteOffCreate) -> MovementRead:
        return self._create("/stock-write-offs", request, MovementRead)

    def transfer(self, request: TransferCreate) -> TransferRead:
        return self._create("/stock-transfers", request, TransferRead)

    def set_status(self, batch_id: int, request: StatusChange) -> StockRead:
        return self.api.post(f"/batches/{batch_id}/status", request, StockRead)

    def recall(self, batch_id: int, reason: str) -> RecallReport:
        return self.api.post(
            f"/batches/{batch_id}/recall", RecallCreate(reason=reason), RecallReport
        )

    def trace(self, batch_id: int) -> RecallReport:
        return self.api.get(f"/batches/{batch_id}/trace", RecallReport)

    def _create(self, path: str, body: Any, model: Any) -> Any:
        try:
            return self.api.post(path, body, model, creates=True)
        except ApiProblem as problem:
            raise _typed(problem) from None

    # -- counts ----------------------------------------------------------------------------
    def counts(self, *, status: str | None = None) -> Page[StockCountRead]:
        return self.api.get("/stock-counts", Page[StockCountRead], params={"status": status})

    def count(self, count_id: int) -> StockCountRead:
        return self.api.get(f"/stock-counts/{count_id}", StockCountRead)

    def open_count(self, location_id: int, item_class: str | None = None) -> StockCountRead:
        return self._create(
            "/stock-counts",
            StockCountCreate(location_id=location_id, item_class=item_class),
            StockCountRead,
        )

    def enter_counts(self, count_id: int, entries: CountEntries) -> StockCountRead:
        return self.api.put(f"/stock-counts/{count_id}/entries", entries, StockCountRead)

    def count_step(self, count_id: int, step: str, version: int) -> StockCountRead:
        return self.api.post(
            f"/stock-counts/{count_id}/{step}", CountDecision(version=version), StockCountRead
        )

    # -- procurement -----------------------------------------------------------------------
    def suggestions(self, location_id: int, *, limit: int = 200) -> Page[ReorderSuggestion]:
        return self.api.get(
            "/reorder-suggestions",
            Page[ReorderSuggestion],
            params={"location_id": location_id, "limit": limit},
        )

    def order_suggestions(self, request: OrderFromSuggestions) -> list[PurchaseOrderRead]:
        return self._create("/purchase-orders/from-suggestions", request, list[PurchaseOrderRead])

    def orders(self, *, status: str | None = None, limit: int = 100) -> Page[PurchaseOrderRead]:
        return self.api.get(
            "/purchase-orders", Page[PurchaseOrderRead], params={"status": status, "limit": limit}
        )

    def order_step(self, order_id: int, step: str, version: int) -> PurchaseOrderRead:
        return self.api.post(
            f"/purchase-orders/{order_id}/{step}",
            PurchaseOrderStep(version=version),
            PurchaseOrderRead,
        )

    def receive(self, request: GoodsReceiptCreate) -> GoodsReceiptRead:
        return self._create("/goods-receipts", request, GoodsReceiptRead)

    # -- requisitions ----------------------------------------------------------------------
    def requisitions(self, *, status: str | None = None, limit: int = 100) -> Page[RequisitionRead]:
        return self.api.get(
            "/requisitions", Page[RequisitionRead], params={"status": status, "limit": limit}
        )

    def request_stock(self, request: RequisitionCreate) -> RequisitionRead:
        return self._create("/requisitions", request, RequisitionRead)

    def decide(self, requisition_id: int, decision: RequisitionDecision) -> RequisitionRead:
        return self.api.post(f"/requisitions/{requisition_id}/decision", decision, RequisitionRead)

    def requisition_step(self, requisition_id: int, step: str, version: int) -> RequisitionRead:
        return self.api.post(
            f"/requisitions/{requisition_id}/{step}",
            RequisitionStep(version=version),
            RequisitionRead,
        )

    # -- alerts and reports ----------------------------------------------------------------
    def alerts(
        self, *, location_id: int | None = None, windows: tuple[int, ...] = (90, 60, 30)
    ) -> StockAlerts:
        return self.api.get(
            "/stock-alerts",
            StockAlerts,
            params={"location_id": location_id, "windows": list(windows)},
        )

    def equipment_alerts(self, *, within_days: int = 30) -> list[EquipmentAlert]:
        return self.api.get(
            "/equipment/alerts", list[EquipmentAlert], params={"within_days": within_days}
        )

    def equipment(self, *, location_id: int | None = None) -> Page[EquipmentRead]:
        return self.api.get("/equipment", Page[EquipmentRead], params={"location_id": location_id})

    def consumption(
        self, item_id: int, *, location_id: int | None = None, weeks: int = 26
    ) -> ConsumptionSeries:
        return self.api.get(
            "/reports/consumption",
            ConsumptionSeries,
            params={"item_id": item_id, "location_id": location_id, "weeks": weeks},
        )

    def waste(self, *, start: date | None = None, end: date | None = None) -> list[WasteRow]:
        return self.api.get(
            "/reports/waste",
            list[WasteRow],
            params={
                "start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None,
            },
        )

    def valuation(self) -> list[ValuationRow]:
        return self.api.get("/reports/stock-valuation", list[ValuationRow])


def dispense_request(
    prescription_id: int,
    location_id: int,
    lines: list[tuple[int, Decimal, str | None]],
    override_reason: str | None = None,
) -> DispenseCreate:
    """``lines`` are ``(prescription_item_id, quantity, scanned_code)``."""
    return DispenseCreate(
        prescription_id=prescription_id,
        location_id=location_id,
        lines=[
            DispenseLineCreate(prescription_item_id=i, quantity=q, scanned_code=code)
            for i, q, code in lines
        ],
        override_reason=override_reason or None,
    )
