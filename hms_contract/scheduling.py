"""Scheduling request/response shapes (pydantic only). Times are ISO 8601 with an offset, in
the hospital time zone; a request time without an offset is read as hospital-local time."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hms_contract.common import SaneDate, SaneDateTime

Id = Field(ge=1, le=2**63 - 1)
AppointmentStatus = Literal[
    "booked", "checked_in", "in_consultation", "completed", "cancelled", "no_show"
]
QueueStatus = Literal["waiting", "called", "in_consultation", "done", "left"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DepartmentRead(BaseModel):
    id: int
    name: str
    location: str | None = None
    doctor_count: int = 0


class DepartmentCreate(_Strict):
    name: str = Field(min_length=2, max_length=100)
    location: str | None = Field(default=None, max_length=100)


class DoctorRead(BaseModel):
    id: int
    user_id: int
    full_name: str
    department: str
    department_id: int
    specialty: str
    active: bool
    version: int
    registration_number: str | None = Field(
        default=None,
        description="Professional registration (licence) number, printed on prescriptions",
    )


RegistrationNumber = Field(
    default=None, min_length=2, max_length=64, pattern=r"^[0-9A-Za-z][0-9A-Za-z .\-/]*$"
)


class DoctorCreate(_Strict):
    user_id: int = Id
    department_id: int = Id
    specialty: str = Field(min_length=2, max_length=100)
    display_name: str | None = Field(default=None, min_length=2, max_length=200)
    registration_number: str | None = RegistrationNumber


class DoctorUpdate(_Strict):
    version: int = Field(ge=1)
    department_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    specialty: str | None = Field(default=None, min_length=2, max_length=100)
    display_name: str | None = Field(default=None, min_length=2, max_length=200)
    active: bool | None = None
    registration_number: str | None = RegistrationNumber


class SessionTemplateIn(_Strict):
    weekday: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    start_time: time
    end_time: time
    slot_minutes: int = Field(default=15, ge=5, le=240)
    overbook_places: int = Field(default=0, ge=0, le=10)
    location: str | None = Field(default=None, max_length=100)
    valid_from: SaneDate | None = None
    valid_to: SaneDate | None = None

    @model_validator(mode="after")
    def _order(self) -> SessionTemplateIn:
        if self.start_time >= self.end_time:
            raise ValueError("end_time must be after start_time")
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValueError("valid_to must not be before valid_from")
        return self


class SessionTemplateRead(BaseModel):
    id: int
    weekday: int
    start_time: time
    end_time: time
    slot_minutes: int
    overbook_places: int
    location: str | None
    valid_from: date
    valid_to: date | None


class WeeklySchedule(_Strict):
    sessions: list[SessionTemplateIn] = Field(max_length=100)


class ScheduleExceptionIn(_Strict):
    starts_on: SaneDate
    ends_on: SaneDate
    start_time: time | None = None
    end_time: time | None = None
    kind: Literal["leave", "holiday", "cancelled_session", "other"] = "leave"
    reason: str | None = Field(default=None, max_length=200)


class ScheduleExceptionRead(BaseModel):
    id: int
    doctor_id: int | None
    starts_on: date
    ends_on: date
    start_time: time | None
    end_time: time | None
    kind: str
    reason: str | None


class AppointmentTypeRead(BaseModel):
    code: str
    name: str
    duration_minutes: int


class SlotRead(BaseModel):
    start: datetime
    end: datetime
    available: bool
    overbook_available: int = 0
    location: str | None = None


class SlotList(BaseModel):
    items: list[SlotRead]
    doctor_id: int
    date: date
    timezone: str


class FreeSlotRead(BaseModel):
    doctor_id: int
    doctor_name: str | None = None
    start: datetime
    end: datetime
    location: str | None = None


class FreeSlotList(BaseModel):
    items: list[FreeSlotRead]


class AppointmentCreate(_Strict):
    patient_id: int = Id
    doctor_id: int = Id
    start: SaneDateTime
    end: SaneDateTime | None = None
    type: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="new, follow_up, procedure (default new)",
    )
    reason: str | None = Field(default=None, max_length=500)
    notes: str | None = Field(default=None, max_length=4000)
    overbook: bool = Field(default=False, description="Use an overbook place of the slot")


class AppointmentRead(BaseModel):
    id: int
    patient_id: int
    doctor_id: int
    doctor_name: str | None = None
    patient_name: str | None = Field(default=None, description="Only with patients.read")
    patient_mrn: str | None = Field(default=None, description="Only with patients.read")
    start: datetime
    end: datetime
    status: AppointmentStatus
    type: str
    source: Literal["staff", "self"]
    overbook_slot: int
    location: str | None
    reason: str | None = Field(description="Only for roles that book or treat (not managers)")
    notes: str | None = Field(description="Only for roles that book or treat (not managers)")
    cancel_reason: str | None
    booking_reference: str
    encounter_id: int | None
    version: int


class AppointmentCancel(_Strict):
    reason: str = Field(min_length=1, max_length=500)
    version: int | None = Field(default=None, ge=1)


class AppointmentNoShow(_Strict):
    version: int | None = Field(default=None, ge=1)


class AppointmentReschedule(_Strict):
    start: SaneDateTime
    version: int = Field(ge=1)
    end: SaneDateTime | None = None


class QueueEntryRead(BaseModel):
    id: int
    token: int
    status: QueueStatus
    appointment_id: int | None
    patient_id: int
    patient_name: str | None = None
    patient_mrn: str | None = None
    doctor_id: int
    doctor_name: str | None = None
    queue_date: date
    appointment_start: datetime | None = None
    checked_in_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    waiting_minutes: int
    encounter_id: int | None
    version: int


class QueueSummary(BaseModel):
    waiting: int = 0
    called: int = 0
    in_consultation: int = 0
    done: int = 0
    left: int = 0
    average_wait_minutes: float | None = None
    longest_wait_minutes: int | None = None


class QueueBoardRead(BaseModel):
    items: list[QueueEntryRead]
    total: int
    date: date
    summary: QueueSummary


class WaitlistCreate(_Strict):
    patient_id: int = Id
    doctor_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    department_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    earliest_date: SaneDate
    latest_date: SaneDate
    type: str = Field(default="new", min_length=1, max_length=32)
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _target(self) -> WaitlistCreate:
        if self.doctor_id is None and self.department_id is None:
            raise ValueError("give doctor_id or department_id")
        if self.earliest_date > self.latest_date:
            raise ValueError("latest_date must not be before earliest_date")
        return self


class WaitlistRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    doctor_id: int | None
    department_id: int | None
    type_code: str
    earliest_date: date
    latest_date: date
    reason: str | None
    status: Literal["waiting", "offered", "booked", "cancelled"]
    offered_doctor_id: int | None
    offered_start: datetime | None
    offered_end: datetime | None
    offer_expires_at: datetime | None
    appointment_id: int | None
    created_at: datetime
    version: int
    patient_mrn: str | None = Field(
        default=None, description="Only for roles that may read demographics"
    )
    patient_name: str | None = None
    doctor_name: str | None = None
    department_name: str | None = None
    offered_doctor_name: str | None = None
