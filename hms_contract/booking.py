"""Shapes of the public self-booking JSON API (``/book/api``). Pydantic only.

Inputs are strict and bounded: unknown fields are refused, strings have length limits, so
bad input is a 422 listing every bad field, never a 500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hms_contract.common import SaneDate, SaneDateTime

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Phone = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=6, max_length=32, pattern=r"^[0-9+()\-. ]+$"
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BookableDoctorRead(BaseModel):
    id: int
    name: str
    specialty: str


class BookableDepartmentRead(BaseModel):
    id: int
    name: str
    location: str | None
    doctors: list[BookableDoctorRead]


class DepartmentList(BaseModel):
    items: list[BookableDepartmentRead]
    total: int


class FreeSlotRead(BaseModel):
    start: datetime = Field(description="Hospital-local time with offset")
    end: datetime
    location: str | None


class FreeSlotList(BaseModel):
    items: list[FreeSlotRead]
    total: int


class ExistingPatientIn(_Strict):
    kind: Literal["existing"]
    mrn: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32)]
    date_of_birth: SaneDate


class NewPatientIn(_Strict):
    kind: Literal["new"]
    given_name: Name
    family_name: Name
    date_of_birth: SaneDate
    phone: Phone
    email: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
            ),
        ]
        | None
    ) = None


class BookingRequest(_Strict):
    doctor_id: int = Field(ge=1, le=2**62)
    start: SaneDateTime = Field(description="A free slot's start exactly as listed")
    type: Literal["new", "follow_up"] = "new"
    patient: Annotated[ExistingPatientIn | NewPatientIn, Field(discriminator="kind")]


class BookingConfirmation(BaseModel):
    reference: str = Field(description="Quote it to cancel, e.g. K7MP-Q2XZ")
    start: datetime
    end: datetime
    doctor: str
    department: str
    location: str | None
    status: str
    mrn: str | None = Field(default=None, description="Only for a newly registered patient")


class CancellationRequest(_Strict):
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=20)]
    date_of_birth: SaneDate


class CancellationResult(BaseModel):
    reference: str
    status: str
    start: datetime
