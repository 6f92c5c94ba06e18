"""Formulary and prescription schemas. Imports only pydantic."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hms_contract.clinical import Line, Para, RequiredLine, RequiredPara

_READ = ConfigDict(from_attributes=True)
_STRICT = ConfigDict(extra="forbid")
Quantity = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3, allow_inf_nan=False)]


class DrugRead(BaseModel):
    model_config = _READ
    id: int
    code: str
    generic_name: str
    ingredients: list[str]
    form: str
    strength: str | None
    route: str
    atc_code: str | None
    therapeutic_class: str | None
    class_name: str | None
    essential: bool
    synonyms: list[str] = Field(
        default_factory=list,
        description="Other common names of the ingredient (aspirin, acetaminophen, meperidine ...)",
    )
    brand_names: list[str] = Field(default_factory=list)


class PrescriptionItemCreate(BaseModel):
    model_config = _STRICT
    drug_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    dose: Quantity
    unit: Annotated[RequiredLine, Field(max_length=32)]
    route: Annotated[RequiredLine, Field(max_length=32)]
    frequency: Annotated[RequiredLine, Field(max_length=64)]
    duration_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    quantity: Quantity
    instructions: Annotated[Line, Field(max_length=500)] | None = None


class PrescriptionCreate(BaseModel):
    model_config = _STRICT
    patient_id: Annotated[int, Field(ge=1, le=2**63 - 1)]
    encounter_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    items: Annotated[list[PrescriptionItemCreate], Field(min_length=1, max_length=20)]
    notes: Annotated[Para, Field(max_length=1000)] | None = None
    override_reason: (
        Annotated[
            Para, Field(max_length=1000, description="Prescribe despite safety conflicts; audited")
        ]
        | None
    ) = None


class SafetyCheckRequest(BaseModel):
    model_config = _STRICT
    patient_id: Annotated[int, Field(ge=1, le=2**63 - 1)]
    drug_ids: Annotated[
        list[Annotated[int, Field(ge=1, le=2**31 - 1)]], Field(min_length=1, max_length=20)
    ]


class ConflictRead(BaseModel):
    type: Literal["allergy_conflict", "interaction", "duplicate_therapy"]
    drug_ids: list[int]
    reason: str
    severity: str
    source: str | None = Field(
        default=None,
        description="Where the rule comes from (for "
        "an interaction, the citation of the interaction table)",
    )


class SafetyCheckRead(BaseModel):
    ok: bool
    conflicts: list[ConflictRead]


class PrescriptionItemRead(BaseModel):
    id: int
    line_no: int
    drug_id: int
    generic_name: str
    strength: str | None
    form: str
    dose: Decimal
    unit: str
    route: str
    frequency: str
    duration_days: int | None
    quantity: Decimal
    instructions: str | None


class PatientBrief(BaseModel):
    model_config = _READ
    id: int
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    sex: str


class OverrideRead(BaseModel):
    model_config = _READ
    user_id: int
    reason: str
    conflicts: list[ConflictRead]
    created_at: datetime


class PrescriptionEncounter(BaseModel):
    """The visit a prescription was written in (printed on the prescription)."""

    model_config = _READ
    id: int
    kind: str
    started_at: datetime
    reason: str | None = None


class PrescriptionRead(BaseModel):
    id: int
    number: str
    patient_id: int
    patient: PatientBrief | None = None
    encounter_id: int | None
    encounter: PrescriptionEncounter | None = None
    prescriber_user_id: int
    prescriber_name: str | None
    prescriber_registration: str | None = Field(
        default=None, description="The prescriber's professional registration number"
    )
    status: str
    notes: str | None
    created_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None
    version: int
    items: list[PrescriptionItemRead]
    overrides: list[OverrideRead]


class PrescriptionCancel(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    reason: Annotated[RequiredPara, Field(max_length=500)]
