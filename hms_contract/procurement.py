"""Procurement schemas: suppliers with price history, reorder suggestions, purchase orders
(draft → approved → sent → partly received → closed) and goods received notes. Imports only
pydantic."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hms_contract.clinical import Line, Para, RequiredLine
from hms_contract.common import Money, Quantity
from hms_contract.patients import Email
from hms_contract.pharmacy import Code, Id, Lot, NonNegativeMoney, PositiveQuantity, SmallId

_READ = ConfigDict(from_attributes=True)
_STRICT = ConfigDict(extra="forbid")

PoStatus = Literal["draft", "approved", "sent", "partly_received", "closed", "cancelled"]


class SupplierCreate(BaseModel):
    model_config = _STRICT
    code: Code
    name: Annotated[RequiredLine, Field(max_length=200)]
    contact_name: Annotated[Line, Field(max_length=120)] | None = None
    phone: Annotated[Line, Field(max_length=40)] | None = None
    email: Email | None = None
    lead_time_days: Annotated[int, Field(ge=0, le=365)] = 7


class SupplierUpdate(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    name: Annotated[RequiredLine, Field(max_length=200)] | None = None
    contact_name: Annotated[Line, Field(max_length=120)] | None = None
    phone: Annotated[Line, Field(max_length=40)] | None = None
    email: Email | None = None
    lead_time_days: Annotated[int, Field(ge=0, le=365)] | None = None
    active: bool | None = None


class SupplierRead(BaseModel):
    model_config = _READ
    id: int
    code: str
    name: str
    contact_name: str | None
    phone: str | None
    email: str | None
    lead_time_days: int
    active: bool
    version: int


class PriceRead(BaseModel):
    model_config = _READ
    supplier_id: int
    item_id: int
    unit_cost: Money
    source: Literal["quote", "order", "receipt"]
    recorded_at: datetime


class PriceQuote(BaseModel):
    model_config = _STRICT
    item_id: SmallId
    unit_cost: NonNegativeMoney


# ---------------------------------------------------------------- reorder suggestions


class ReorderSuggestion(BaseModel):
    item_id: int
    item_code: str
    item_name: str
    base_unit: str
    location_id: int
    supplier_id: int | None
    supplier_name: str | None
    on_hand: Quantity
    on_order: Quantity
    weekly_demand: Quantity
    days_of_stock: Quantity | None = Field(
        description="On hand / daily demand; null when nothing is consumed"
    )
    lead_time_days: int
    reorder_point: Quantity
    target_level: Quantity
    suggested_quantity: Quantity
    pack_size: Quantity
    last_unit_cost: Money | None


class SuggestionPick(BaseModel):
    model_config = _STRICT
    item_id: SmallId
    quantity: PositiveQuantity | None = Field(
        default=None, description="Omit to order the suggestion"
    )


class OrderFromSuggestions(BaseModel):
    """One step from suggestions to draft purchase orders (one per supplier)."""

    model_config = _STRICT
    location_id: SmallId
    items: Annotated[list[SuggestionPick], Field(min_length=1, max_length=500)]
    supplier_id: SmallId | None = Field(
        default=None, description="Override each item's preferred supplier"
    )


# ---------------------------------------------------------------- purchase orders


class PurchaseOrderLineCreate(BaseModel):
    model_config = _STRICT
    item_id: SmallId
    quantity: PositiveQuantity
    unit_cost: NonNegativeMoney


class PurchaseOrderCreate(BaseModel):
    model_config = _STRICT
    supplier_id: SmallId
    location_id: SmallId
    lines: Annotated[list[PurchaseOrderLineCreate], Field(min_length=1, max_length=500)]
    expected_on: date | None = None
    note: Annotated[Para, Field(max_length=500)] | None = None


class PurchaseOrderStep(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]


class PurchaseOrderLineRead(BaseModel):
    id: int
    line_no: int
    item_id: int
    item_name: str
    base_unit: str
    quantity: Quantity
    received_quantity: Quantity
    outstanding: Quantity
    unit_cost: Money


class PurchaseOrderRead(BaseModel):
    id: int
    number: str
    supplier_id: int
    supplier_name: str
    location_id: int
    status: PoStatus
    note: str | None
    expected_on: date | None
    created_at: datetime
    approved_at: datetime | None
    sent_at: datetime | None
    closed_at: datetime | None
    total: Money
    version: int
    lines: list[PurchaseOrderLineRead]


# ---------------------------------------------------------------- goods receipts


class GoodsReceiptLineCreate(BaseModel):
    model_config = _STRICT
    item_id: SmallId
    lot: Lot
    expiry: date
    quantity: PositiveQuantity
    unit_cost: NonNegativeMoney
    order_line_id: Id | None = Field(
        default=None, description="The purchase-order line this delivers"
    )


class GoodsReceiptCreate(BaseModel):
    """A delivery. Without ``purchase_order_id`` it is opening stock (or a donation)."""

    model_config = _STRICT
    location_id: SmallId
    lines: Annotated[list[GoodsReceiptLineCreate], Field(min_length=1, max_length=500)]
    purchase_order_id: Id | None = None
    supplier_id: SmallId | None = None
    delivery_note: Annotated[Line, Field(max_length=64)] | None = None
    note: Annotated[Para, Field(max_length=500)] | None = None


class GoodsReceiptLineRead(BaseModel):
    id: int
    line_no: int
    item_id: int
    batch_id: int
    order_line_id: int | None
    lot: str
    expiry: date
    quantity: Quantity
    unit_cost: Money


class GoodsReceiptRead(BaseModel):
    id: int
    number: str
    location_id: int
    supplier_id: int | None
    purchase_order_id: int | None
    purchase_order_status: PoStatus | None
    delivery_note: str | None
    note: str | None
    received_at: datetime
    received_by: int | None
    total: Money
    lines: list[GoodsReceiptLineRead]
