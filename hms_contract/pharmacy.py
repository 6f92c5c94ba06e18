"""Pharmacy and inventory schemas: catalogue, locations, stock by batch, the movement ledger,
adjustments, transfers, write-offs, stock counts, recall, alerts, reports and barcode
look-up. Imports only pydantic (and the shared contract types).

Quantities are in the item's base unit (tablet, mL, piece) and travel as decimal strings
(``"50"``, ``"2.5"``); integers are accepted on input, floats are refused. Money (unit
costs, values) is a decimal string too.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hms_contract.clinical import Line, Para, RequiredLine, RequiredPara
from hms_contract.common import Money, Quantity

_READ = ConfigDict(from_attributes=True)
_STRICT = ConfigDict(extra="forbid")

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
SmallId = Annotated[int, Field(ge=1, le=2**31 - 1)]
PositiveQuantity = Annotated[Quantity, Field(gt=0)]
NonNegativeQuantity = Annotated[Quantity, Field(ge=0)]
NonNegativeMoney = Annotated[Money, Field(ge=0)]
Code = Annotated[RequiredLine, Field(max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
Lot = Annotated[RequiredLine, Field(max_length=40)]
Reason = Annotated[RequiredPara, Field(max_length=500)]

LocationKind = Literal["central_store", "pharmacy", "ward_store", "theatre", "quarantine", "other"]
ItemKind = Literal["medicine", "consumable", "supply", "equipment"]
StockStatus = Literal["available", "quarantined", "expired", "recalled"]
MovementKind = Literal[
    "receipt",
    "transfer",
    "issue",
    "dispense",
    "return",
    "adjustment",
    "write_off",
    "recall",
    "count",
]
WriteOffReason = Literal["expired", "damaged", "returned_unusable", "recalled", "other"]


def _scan_text(value: str) -> str:
    # A GS1 code read by a keyboard-wedge scanner may carry <GS> (0x1d) separators; nothing
    # else that is not printable belongs in a barcode.
    if any((not ch.isprintable()) and ch != "\x1d" for ch in value):
        raise ValueError("must contain only printable characters (and GS separators)")
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


ScanCode = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_scan_text)]
Gtin = Annotated[
    str,
    Field(pattern=r"^[0-9]{8}$|^[0-9]{12,14}$", description="GTIN-8/12/13/14; stored as 14 digits"),
]


# ---------------------------------------------------------------- locations


class LocationRead(BaseModel):
    model_config = _READ
    id: int
    code: str
    name: str
    kind: LocationKind
    ward_code: str | None
    dispensing: bool
    active: bool
    version: int


class LocationCreate(BaseModel):
    model_config = _STRICT
    code: Code
    name: Annotated[RequiredLine, Field(max_length=120)]
    kind: LocationKind
    ward_code: (
        Annotated[
            Line, Field(max_length=32, description="The ward this store serves (ward stores)")
        ]
        | None
    ) = None
    dispensing: bool = False


class LocationUpdate(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    name: Annotated[RequiredLine, Field(max_length=120)] | None = None
    ward_code: Annotated[Line, Field(max_length=32)] | None = None
    dispensing: bool | None = None
    active: bool | None = None


# ---------------------------------------------------------------- catalogue


class PackCreate(BaseModel):
    model_config = _STRICT
    name: Annotated[RequiredLine, Field(max_length=40, examples=["box"])]
    base_quantity: PositiveQuantity
    gtin: Gtin | None = None


class PackRead(BaseModel):
    model_config = _READ
    id: int
    name: str
    base_quantity: Quantity
    gtin: str | None


class StockItemCreate(BaseModel):
    model_config = _STRICT
    code: Annotated[Code, Field(max_length=40)]
    name: Annotated[RequiredLine, Field(max_length=200)]
    kind: ItemKind = "medicine"
    drug_id: SmallId | None = Field(
        default=None, description="Formulary drug; required for medicines"
    )
    base_unit: Annotated[RequiredLine, Field(max_length=24, examples=["tablet"])] = "unit"
    divisible: bool = Field(
        default=False, description="Whether fractions of the base unit can be issued"
    )
    item_class: Annotated[Line, Field(max_length=40)] | None = None
    preferred_supplier_id: SmallId | None = None
    packs: Annotated[list[PackCreate], Field(max_length=6)] = []


class StockItemUpdate(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    name: Annotated[RequiredLine, Field(max_length=200)] | None = None
    item_class: Annotated[Line, Field(max_length=40)] | None = None
    preferred_supplier_id: SmallId | None = None
    active: bool | None = None


class StockItemRead(BaseModel):
    model_config = _READ
    id: int
    code: str
    name: str
    kind: ItemKind
    drug_id: int | None
    drug_name: str | None = None
    strength: str | None = None
    form: str | None = None
    base_unit: str
    divisible: bool
    item_class: str | None
    preferred_supplier_id: int | None
    active: bool
    version: int
    packs: list[PackRead] = []


class StockLevelSet(BaseModel):
    model_config = _STRICT
    reorder_level: NonNegativeQuantity
    par_level: NonNegativeQuantity
    safety_stock: NonNegativeQuantity = Decimal(0)


class StockLevelRead(BaseModel):
    model_config = _READ
    item_id: int
    location_id: int
    reorder_level: Quantity
    par_level: Quantity
    safety_stock: Quantity
    version: int


# ---------------------------------------------------------------- stock


class StockRead(BaseModel):
    """One batch at one location."""

    item_id: int
    item_code: str
    item_name: str
    base_unit: str
    location_id: int
    location_code: str
    batch_id: int
    lot: str
    expiry: date
    quantity: Quantity
    status: StockStatus
    unit_cost: Money
    expires_in_days: int


class StockSummaryRead(BaseModel):
    """An item's totals at a location (all batches)."""

    item_id: int
    item_code: str
    item_name: str
    base_unit: str
    location_id: int
    available: Quantity
    unavailable: Quantity
    next_expiry: date | None
    reorder_level: Quantity | None
    value: Money


class MovementRead(BaseModel):
    model_config = _READ
    id: int
    at: datetime
    kind: MovementKind
    item_id: int
    batch_id: int
    lot: str | None = None
    location_id: int
    quantity_delta: Quantity
    unit_cost: Money
    reason: str | None
    reason_code: str | None
    user_id: int | None
    reference_type: str | None
    reference_id: int | None


class AdjustmentCreate(BaseModel):
    model_config = _STRICT
    item_id: SmallId
    location_id: SmallId
    lot: Lot
    quantity_delta: Quantity
    reason: Reason


class WriteOffCreate(BaseModel):
    model_config = _STRICT
    item_id: SmallId
    location_id: SmallId
    lot: Lot
    quantity: PositiveQuantity
    reason_code: WriteOffReason
    reason: Reason


class TransferLine(BaseModel):
    model_config = _STRICT
    item_id: SmallId
    quantity: PositiveQuantity
    lot: Lot | None = Field(default=None, description="Omit to pick first-expiry-first")


class TransferCreate(BaseModel):
    model_config = _STRICT
    from_location_id: SmallId
    to_location_id: SmallId
    lines: Annotated[list[TransferLine], Field(min_length=1, max_length=100)]
    note: Annotated[Para, Field(max_length=500)] | None = None


class TransferRead(BaseModel):
    reference: str
    from_location_id: int
    to_location_id: int
    movements: list[MovementRead]


class StatusChange(BaseModel):
    """Quarantine a batch at a location, or release it back to available."""

    model_config = _STRICT
    location_id: SmallId
    status: Literal["available", "quarantined"]
    reason: Reason


class BatchRead(BaseModel):
    model_config = _READ
    id: int
    item_id: int
    lot: str
    expiry: date
    unit_cost: Money
    supplier_id: int | None
    recalled_at: datetime | None
    recall_reason: str | None


# ---------------------------------------------------------------- counts


class StockCountCreate(BaseModel):
    model_config = _STRICT
    location_id: SmallId
    item_class: Annotated[Line, Field(max_length=40)] | None = None
    note: Annotated[Para, Field(max_length=500)] | None = None


class CountEntry(BaseModel):
    model_config = _STRICT
    line_id: Id
    counted_quantity: NonNegativeQuantity
    note: Annotated[Line, Field(max_length=200)] | None = None


class CountEntries(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    entries: Annotated[list[CountEntry], Field(min_length=1, max_length=2000)]


class CountDecision(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]


class StockCountLineRead(BaseModel):
    id: int
    item_id: int
    item_name: str
    batch_id: int
    lot: str
    expiry: date
    expected_quantity: Quantity
    counted_quantity: Quantity | None
    variance: Quantity | None
    variance_value: Money | None
    note: str | None


class StockCountRead(BaseModel):
    id: int
    number: str
    location_id: int
    item_class: str | None
    status: Literal["open", "submitted", "approved", "cancelled"]
    note: str | None
    created_at: datetime
    submitted_at: datetime | None
    approved_at: datetime | None
    version: int
    lines: list[StockCountLineRead] = []
    variance_value: Money


# ---------------------------------------------------------------- recall


class RecallCreate(BaseModel):
    model_config = _STRICT
    reason: Reason


class RecallHolding(BaseModel):
    location_id: int
    location_code: str
    location_name: str
    quantity: Quantity
    status: StockStatus


class RecallRecipient(BaseModel):
    patient_id: int
    mrn: str
    patient_name: str
    dispense_id: int
    dispense_line_id: int
    dispensed_at: datetime
    quantity: Quantity
    returned_quantity: Quantity


class RecallReport(BaseModel):
    batch: BatchRead
    item_id: int
    item_name: str
    holdings: list[RecallHolding]
    on_hand_total: Quantity
    recipients: list[RecallRecipient]
    dispensed_total: Quantity


# ---------------------------------------------------------------- alerts and reports


class StockAlert(BaseModel):
    kind: Literal["stock_out", "low_stock", "near_expiry", "expired"]
    item_id: int
    item_name: str
    location_id: int
    location_code: str
    quantity: Quantity
    reorder_level: Quantity | None = None
    batch_id: int | None = None
    lot: str | None = None
    expiry: date | None = None
    window_days: int | None = None
    value: Money | None = None


class StockAlerts(BaseModel):
    windows: list[int]
    stock_outs: list[StockAlert]
    low_stock: list[StockAlert]
    near_expiry: list[StockAlert]
    expired: list[StockAlert]


class ExpirySweepRead(BaseModel):
    balances_expired: int
    quantity: Quantity


class WasteRow(BaseModel):
    month: str  # YYYY-MM
    reason_code: str
    quantity: Quantity
    value: Money


class ValuationRow(BaseModel):
    location_id: int
    location_code: str
    location_name: str
    status: StockStatus
    items: int
    quantity: Quantity
    value: Money


class ConsumptionPoint(BaseModel):
    week_start: date
    quantity: Quantity


class ConsumptionSeries(BaseModel):
    item_id: int
    location_id: int | None
    weeks: int
    points: list[ConsumptionPoint]


class ReconciliationRead(BaseModel):
    """Balances that disagree with the sum of their ledger (empty when all agree)."""

    balances_checked: int
    mismatches: list[dict[str, str]]


# ---------------------------------------------------------------- barcodes


class ScanRequest(BaseModel):
    model_config = _STRICT
    code: ScanCode


class ScanRead(BaseModel):
    """What a scanned code identifies (see ``hms_server.domain.barcodes``)."""

    kind: Literal["pack", "dispense_label"]
    stock_item_id: int | None
    drug_id: int | None
    item_name: str | None = None
    gtin: str | None = None
    pack_name: str | None = None
    pack_quantity: Quantity | None = None
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None
    dispense_line_id: int | None = None
    strength: str | None = None
    form: str | None = None
    route: str | None = None
