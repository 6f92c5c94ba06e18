"""The medication administration record: inpatient orders, scheduled doses, and recording
a dose after the five-rights barcode check. Imports only pydantic."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hms_contract.clinical import Line, RequiredLine

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
DoseStatus = Literal["scheduled", "given", "held", "refused", "missed", "cancelled"]
AdministrationStatus = Literal["given", "held", "refused", "missed"]
OrderStatus = Literal["active", "stopped", "completed", "unscheduled"]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["06:00"])]
_STRICT = ConfigDict(extra="forbid")


class MedicationOrderRead(BaseModel):
    """An inpatient order (one prescription line given on the ward)."""

    id: int
    admission_id: int
    patient_id: int
    prescription_id: int
    prescription_item_id: int
    drug_id: int
    drug_name: str
    strength: str | None
    form: str | None
    dose: Decimal
    unit: str
    route: str
    frequency: str
    schedule_times: list[str]
    every_days: int
    prn: bool
    prn_interval_minutes: int | None
    starts_at: datetime
    ends_at: datetime | None
    status: OrderStatus
    instructions: str | None
    stop_reason: str | None
    last_given_at: datetime | None = None
    version: int


class ScheduledDoseRead(BaseModel):
    """One scheduled dose. ``overdue``: still not recorded after its window closed; ``due``:
    inside its window now."""

    id: int
    order_id: int
    prescription_item_id: int
    drug_name: str
    dose: Decimal
    unit: str
    route: str
    due_at: datetime
    status: DoseStatus
    window_minutes: int
    due: bool = False
    overdue: bool = False
    administered_at: datetime | None = None
    recorded_by_name: str | None = None
    reason: str | None = None
    version: int


class MarRead(BaseModel):
    """``items``: the doses in the period, oldest first; ``orders``: the admission's orders
    (the rows of the MAR grid), PRN ones included."""

    admission_id: int
    patient_id: int
    items: list[ScheduledDoseRead]
    total: int
    orders: list[MedicationOrderRead]


class AdministrationCreate(BaseModel):
    """Record a dose after scanning. A scheduled dose is named by ``dose_id``; an as-needed
    (PRN) dose by ``order_id``. The medication barcode is required when the dose is given."""

    model_config = _STRICT
    dose_id: Id | None = None
    order_id: Id | None = None
    patient_barcode: Annotated[RequiredLine, Field(max_length=64)]
    medication_barcode: Annotated[Line, Field(max_length=200)] | None = None
    status: AdministrationStatus
    reason: Annotated[Line, Field(max_length=500)] | None = None
    administered_at: datetime | None = None

    @model_validator(mode="after")
    def _target(self) -> AdministrationCreate:
        if (self.dose_id is None) == (self.order_id is None):
            raise ValueError("give either dose_id (a scheduled dose) or order_id (PRN)")
        if self.status == "given" and not self.medication_barcode:
            raise ValueError("scan the medication (medication_barcode) to record it as given")
        if self.administered_at is not None and self.administered_at.tzinfo is None:
            raise ValueError("administered_at needs a time zone")
        return self


class AdministrationRead(BaseModel):
    id: int
    order_id: int
    dose_id: int | None
    patient_id: int
    admission_id: int
    status: AdministrationStatus
    administered_at: datetime
    recorded_by_user_id: int
    reason: str | None
    outside_window: bool
    scanned_drug_id: int | None
    gtin: str | None
    lot: str | None


class OrderStop(BaseModel):
    model_config = _STRICT
    reason: Annotated[RequiredLine, Field(max_length=500)]


class OrderChange(BaseModel):
    """Change how an order is scheduled; future doses are regenerated from now."""

    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    frequency: Annotated[RequiredLine, Field(max_length=64)] | None = None
    schedule_times: Annotated[list[ClockTime], Field(min_length=1, max_length=24)] | None = None
    duration_days: Annotated[int, Field(ge=1, le=60)] | None = None
