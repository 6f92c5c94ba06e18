"""Nursing on the ward: assessments (NEWS2, falls, pressure ulcers), vitals grid, fluid
balance per shift, care tasks, nursing notes, the due-now list and the handover report.
Imports only pydantic."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hms_contract.clinical import Line, RequiredLine, RequiredPara

AssessmentKind = Literal["news2", "morse_falls", "braden"]
Consciousness = Literal["alert", "confusion", "voice", "pain", "unresponsive"]
FluidKind = Literal["intake", "output"]
FluidRoute = Literal[
    "oral", "intravenous", "enteral", "urine", "drain", "vomit", "stool", "nasogastric", "other"
]
TaskKind = Literal["turn", "dressing", "observation", "hygiene", "mobilise", "catheter", "other"]
TaskStatus = Literal["open", "done", "cancelled"]
ShiftName = Literal["early", "late", "night"]
_STRICT = ConfigDict(extra="forbid")


def _aware(value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError("times need a time zone (e.g. 2026-01-31T10:00:00Z)")


class AssessmentCreate(BaseModel):
    """``answers`` depend on ``kind``. NEWS2: ``consciousness`` and ``on_oxygen`` (the other
    parameters come from the newest vitals, or give them here). Morse: the six items by
    name; Braden: the six subscale scores."""

    model_config = _STRICT
    kind: AssessmentKind
    answers: dict[str, Any] = Field(max_length=20)


class AssessmentRead(BaseModel):
    id: int
    admission_id: int
    kind: AssessmentKind
    total: int
    risk: str
    parts: dict[str, int]
    answers: dict[str, Any]
    assessed_at: datetime
    assessed_by_name: str | None = None
    vitals_id: int | None


class VitalsRow(BaseModel):
    """One row of the vitals grid, with its NEWS2 (partial when values are missing)."""

    id: int
    recorded_at: datetime
    source: Literal["manual", "device"]
    device_id: str | None
    recorded_by_name: str | None = None
    systolic_mmhg: int | None
    diastolic_mmhg: int | None
    heart_rate_bpm: int | None
    respiratory_rate: int | None
    temperature_c: Decimal | None
    spo2_pct: int | None
    flags: dict[str, str]
    news2: int | None
    news2_risk: str | None
    news2_complete: bool


class VitalsGrid(BaseModel):
    admission_id: int
    items: list[VitalsRow]
    total: int
    observe_every_minutes: int | None = Field(
        default=None, description="How often observations are due by the latest NEWS2"
    )


class FluidCreate(BaseModel):
    model_config = _STRICT
    kind: FluidKind
    route: FluidRoute
    volume_ml: Annotated[int, Field(ge=1, le=10000)]
    recorded_at: datetime | None = None
    note: Annotated[Line, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _check(self) -> FluidCreate:
        _aware(self.recorded_at)
        return self


class FluidEntryRead(BaseModel):
    id: int
    kind: FluidKind
    route: FluidRoute
    volume_ml: int
    recorded_at: datetime
    recorded_by_name: str | None = None
    note: str | None


class ShiftBalance(BaseModel):
    shift: ShiftName
    starts_at: datetime
    ends_at: datetime
    intake_ml: int
    output_ml: int
    balance_ml: int


class FluidBalance(BaseModel):
    admission_id: int
    day: date
    shifts: list[ShiftBalance]
    intake_ml: int
    output_ml: int
    balance_ml: int
    entries: list[FluidEntryRead]


class TaskCreate(BaseModel):
    model_config = _STRICT
    kind: TaskKind
    title: Annotated[RequiredLine, Field(max_length=200)]
    due_at: datetime
    repeat_every_minutes: Annotated[int, Field(ge=15, le=10080)] | None = None
    note: Annotated[Line, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _check(self) -> TaskCreate:
        _aware(self.due_at)
        return self


class TaskDone(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    note: Annotated[Line, Field(max_length=500)] | None = None


class TaskRead(BaseModel):
    id: int
    admission_id: int
    patient_id: int
    kind: TaskKind
    title: str
    due_at: datetime
    repeat_every_minutes: int | None
    status: TaskStatus
    note: str | None
    completed_at: datetime | None
    completed_by_name: str | None
    overdue: bool = False
    version: int


class NursingNoteCreate(BaseModel):
    model_config = _STRICT
    text: Annotated[RequiredPara, Field(max_length=10000)]


class NursingNoteRead(BaseModel):
    id: int
    admission_id: int
    text: str
    author_name: str | None
    created_at: datetime


class DueItem(BaseModel):
    """Something due now or overdue on a ward: a dose, a care task or observations."""

    kind: Literal["dose", "task", "vitals"]
    ref_id: int | None
    admission_id: int
    patient_id: int
    patient_name: str
    bed_label: str
    title: str
    due_at: datetime
    overdue: bool


class DueList(BaseModel):
    ward_id: int
    items: list[DueItem]
    total: int


class HandoverPatient(BaseModel):
    admission_id: int
    patient_id: int
    bed_label: str
    patient_name: str
    patient_mrn: str
    age: int
    sex: str
    days_in: int
    diagnosis: str | None
    attending_doctor_name: str | None
    allergies: list[str]
    latest_vitals: str | None
    news2: int | None
    news2_risk: str | None
    falls_risk: str | None
    pressure_risk: str | None
    fluid_balance_ml: int
    overdue_doses: list[str]
    due_doses: list[str]
    open_tasks: list[str]
    recent_notes: list[str]


class HandoverReport(BaseModel):
    ward_id: int
    ward_code: str
    ward_name: str
    generated_at: datetime
    shift: ShiftName
    occupied: int
    free: int
    patients: list[HandoverPatient]
