"""Equipment schemas: asset register, usage log, service history and due alerts. Imports
only pydantic."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hms_contract.clinical import Line, Para, RequiredLine, RequiredPara
from hms_contract.common import Money
from hms_contract.pharmacy import Code, NonNegativeMoney, SmallId

_READ = ConfigDict(from_attributes=True)
_STRICT = ConfigDict(extra="forbid")

EquipmentStatus = Literal["in_service", "out_of_service", "under_maintenance", "retired"]
ServiceKind = Literal["preventive", "calibration", "repair", "inspection"]
Interval = Annotated[int, Field(ge=1, le=3650)]


class EquipmentCreate(BaseModel):
    model_config = _STRICT
    asset_tag: Annotated[Code, Field(max_length=40)]
    name: Annotated[RequiredLine, Field(max_length=200)]
    serial_number: Annotated[RequiredLine, Field(max_length=80)]
    model: Annotated[Line, Field(max_length=120)] | None = None
    manufacturer: Annotated[Line, Field(max_length=120)] | None = None
    location_id: SmallId
    supplier_id: SmallId | None = None
    purchased_on: date | None = None
    warranty_until: date | None = None
    maintenance_interval_days: Interval | None = None
    calibration_interval_days: Interval | None = None


class EquipmentUpdate(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    name: Annotated[RequiredLine, Field(max_length=200)] | None = None
    location_id: SmallId | None = None
    warranty_until: date | None = None
    maintenance_interval_days: Interval | None = None
    calibration_interval_days: Interval | None = None


class EquipmentStatusChange(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    status: EquipmentStatus
    reason: Annotated[Para, Field(max_length=500)] | None = None


class EquipmentRead(BaseModel):
    model_config = _READ
    id: int
    asset_tag: str
    name: str
    model: str | None
    manufacturer: str | None
    serial_number: str
    location_id: int
    supplier_id: int | None
    status: EquipmentStatus
    status_reason: str | None
    purchased_on: date | None
    warranty_until: date | None
    maintenance_interval_days: int | None
    calibration_interval_days: int | None
    next_service_due: date | None
    next_calibration_due: date | None
    version: int


class UsageCreate(BaseModel):
    model_config = _STRICT
    started_at: datetime
    ended_at: datetime | None = None
    note: Annotated[Para, Field(max_length=500)] | None = None


class UsageRead(BaseModel):
    model_config = _READ
    id: int
    equipment_id: int
    user_id: int | None
    started_at: datetime
    ended_at: datetime | None
    note: str | None


class ServiceCreate(BaseModel):
    model_config = _STRICT
    kind: ServiceKind
    performed_on: date
    performed_by: Annotated[RequiredLine, Field(max_length=120)]
    notes: Annotated[RequiredPara, Field(max_length=1000)] | None = None
    cost: NonNegativeMoney | None = None
    return_to_service: bool = Field(default=False, description="Mark the asset in service again")


class ServiceRead(BaseModel):
    model_config = _READ
    id: int
    equipment_id: int
    kind: ServiceKind
    performed_on: date
    performed_by: str
    notes: str | None
    cost: Money | None
    recorded_at: datetime


class EquipmentAlert(BaseModel):
    equipment_id: int
    asset_tag: str
    name: str
    location_id: int
    kind: Literal["service_due", "calibration_due", "warranty_ending", "out_of_service"]
    due_on: date | None
    days: int | None
    overdue: bool
