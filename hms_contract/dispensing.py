"""Dispensing schemas: the prescription queue, verification (safety re-check, FEFO picks,
scan verdicts), dispenses with their picked batches, returns, send-back, labels; and ward
requisitions. Imports only pydantic.

Label barcodes carry ``HMSDL`` + the dispense line id (10 digits), see
``hms_server.domain.barcodes``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hms_contract.clinical import Para, RequiredPara
from hms_contract.common import Money, Quantity
from hms_contract.pharmacy import Id, PositiveQuantity, ScanCode, SmallId
from hms_contract.prescribing import ConflictRead, PatientBrief

_STRICT = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- queue


class QueueItemRead(BaseModel):
    prescription_item_id: int
    drug_id: int
    generic_name: str
    strength: str | None
    form: str
    dose: Quantity
    unit: str
    route: str
    frequency: str
    duration_days: int | None
    instructions: str | None
    prescribed: Quantity
    dispensed: Quantity
    owed: Quantity


class QueueEntryRead(BaseModel):
    prescription_id: int
    number: str
    created_at: datetime
    prescriber_name: str | None
    patient: PatientBrief
    status: Literal["new", "partly_dispensed"]
    items: list[QueueItemRead]


# ---------------------------------------------------------------- dispensing


class DispenseLineCreate(BaseModel):
    model_config = _STRICT
    prescription_item_id: Id
    quantity: PositiveQuantity
    scanned_code: ScanCode | None = Field(
        default=None,
        description="The pack scanned for this line; must be the prescribed "
        "medicine and one of the picked batches",
    )


class DispenseCreate(BaseModel):
    model_config = _STRICT
    prescription_id: Id
    location_id: SmallId
    lines: Annotated[list[DispenseLineCreate], Field(min_length=1, max_length=20)]
    override_reason: (
        Annotated[
            RequiredPara,
            Field(max_length=1000, description="Dispense despite safety conflicts; audited"),
        ]
        | None
    ) = None


class PickRead(BaseModel):
    batch_id: int
    item_id: int
    item_name: str
    lot: str
    expiry: date
    quantity: Quantity


class ScanVerdict(BaseModel):
    ok: bool
    code: str | None = None  # wrong_item | wrong_batch | unknown_barcode | malformed_barcode
    message: str


class PreviewLineRead(BaseModel):
    prescription_item_id: int
    generic_name: str
    requested: Quantity
    owed: Quantity
    available: Quantity
    picks: list[PickRead]
    problem: str | None = None  # insufficient_stock | exceeds_owed | no_stock_item
    scan: ScanVerdict | None = None


class DispensePreviewRead(BaseModel):
    """What dispensing would do now, without doing it."""

    prescription_id: int
    patient: PatientBrief
    conflicts: list[ConflictRead]
    prescriber_overrode: list[str]
    lines: list[PreviewLineRead]
    ready: bool


class DispenseLineRead(BaseModel):
    id: int
    prescription_item_id: int
    item_id: int
    item_name: str
    drug_id: int | None
    batch_id: int
    lot: str
    expiry: date
    quantity: Quantity
    returned_quantity: Quantity
    unit_cost: Money
    label_code: str


class OwedRead(BaseModel):
    prescription_item_id: int
    prescribed: Quantity
    dispensed: Quantity
    owed: Quantity


class DispenseRead(BaseModel):
    id: int
    number: str
    prescription_id: int
    prescription_number: str
    patient: PatientBrief
    location_id: int
    pharmacist_user_id: int | None
    pharmacist_name: str | None
    dispensed_at: datetime
    override_reason: str | None
    conflicts: list[ConflictRead]
    lines: list[DispenseLineRead]
    owed: list[OwedRead]


class ReturnLineCreate(BaseModel):
    model_config = _STRICT
    dispense_line_id: Id
    quantity: PositiveQuantity
    restock: bool = Field(
        default=True, description="Back to available stock; false writes it off as waste"
    )


class ReturnCreate(BaseModel):
    model_config = _STRICT
    lines: Annotated[list[ReturnLineCreate], Field(min_length=1, max_length=40)]
    reason: Annotated[RequiredPara, Field(max_length=500)]


class SendBackCreate(BaseModel):
    model_config = _STRICT
    reason: Annotated[RequiredPara, Field(max_length=1000)]


class SendBackRead(BaseModel):
    prescription_id: int
    reason: str
    at: datetime


class LabelRead(BaseModel):
    """Everything a dispensing label prints (the desktop renders it locally)."""

    dispense_line_id: int
    barcode: str
    hospital_name: str
    patient_name: str
    mrn: str
    drug: str
    strength: str | None
    form: str
    instructions: str
    quantity: Quantity
    unit: str
    lot: str
    expiry: date
    dispensed_on: date
    pharmacist: str | None
    prescription_number: str


# ---------------------------------------------------------------- ward requisitions

RequisitionStatus = Literal["requested", "approved", "issued", "received", "rejected", "cancelled"]


class RequisitionLineCreate(BaseModel):
    model_config = _STRICT
    item_id: SmallId
    quantity: PositiveQuantity


class RequisitionCreate(BaseModel):
    model_config = _STRICT
    ward_location_id: SmallId
    source_location_id: SmallId
    lines: Annotated[list[RequisitionLineCreate], Field(min_length=1, max_length=100)]
    note: Annotated[Para, Field(max_length=500)] | None = None


class ApprovedQuantity(BaseModel):
    model_config = _STRICT
    line_id: Id
    quantity: Annotated[Quantity, Field(ge=0)]


class RequisitionDecision(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    approve: bool = True
    lines: Annotated[list[ApprovedQuantity], Field(max_length=100)] = Field(
        default=[], description="Approved quantities; omitted lines are approved as requested"
    )
    note: Annotated[Para, Field(max_length=500)] | None = None


class RequisitionStep(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]


class RequisitionLineRead(BaseModel):
    id: int
    item_id: int
    item_name: str
    base_unit: str
    requested_quantity: Quantity
    approved_quantity: Quantity | None
    issued_quantity: Quantity


class RequisitionRead(BaseModel):
    id: int
    number: str
    ward_location_id: int
    ward_location_name: str
    source_location_id: int
    source_location_name: str
    status: RequisitionStatus
    note: str | None
    decision_note: str | None
    requested_by: int | None
    requested_at: datetime
    approved_at: datetime | None
    issued_at: datetime | None
    received_at: datetime | None
    version: int
    lines: list[RequisitionLineRead]
