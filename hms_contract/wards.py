"""Wards, rooms, beds, the bed board, and admissions (admit, transfer, discharge, cancel).
Imports only pydantic. Times are ISO 8601 with an offset (the hospital's zone on answers)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hms_contract.clinical import Line, RequiredLine, RequiredPara

WardClass = Literal["general", "semi_private", "private", "icu"]
GenderPolicy = Literal["mixed", "female", "male"]
BedType = Literal["standard", "icu", "isolation", "bariatric", "paediatric", "maternity"]
BedStatus = Literal["free", "occupied", "cleaning", "blocked"]
AdmissionSource = Literal["clinic", "emergency", "booked", "transfer"]
AdmissionStatus = Literal["admitted", "discharged", "cancelled"]
DischargeDisposition = Literal["home", "transfer_out", "against_advice", "deceased", "other"]

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
_STRICT = ConfigDict(extra="forbid")
_READ = ConfigDict(from_attributes=True)


# ---------------------------------------------------------------- wards, rooms, beds


class WardCreate(BaseModel):
    model_config = _STRICT
    code: Annotated[RequiredLine, Field(max_length=16, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    name: Annotated[RequiredLine, Field(max_length=100)]
    ward_class: WardClass
    gender_policy: GenderPolicy = "mixed"
    mar_window_minutes: Annotated[int, Field(ge=15, le=240)] = 60


class WardUpdate(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    name: Annotated[RequiredLine, Field(max_length=100)] | None = None
    ward_class: WardClass | None = None
    gender_policy: GenderPolicy | None = None
    mar_window_minutes: Annotated[int, Field(ge=15, le=240)] | None = None
    active: bool | None = None


class WardRead(BaseModel):
    model_config = _READ
    id: int
    code: str
    name: str
    ward_class: WardClass
    gender_policy: GenderPolicy
    mar_window_minutes: int
    active: bool
    version: int
    bed_count: int = 0
    free_beds: int = 0
    occupied_beds: int = 0
    cleaning_beds: int = 0
    blocked_beds: int = 0


class RoomCreate(BaseModel):
    model_config = _STRICT
    label: Annotated[RequiredLine, Field(max_length=32)]
    gender_policy: GenderPolicy = "mixed"


class RoomRead(BaseModel):
    model_config = _READ
    id: int
    ward_id: int
    label: str
    gender_policy: GenderPolicy


class BedCreate(BaseModel):
    model_config = _STRICT
    room_id: Id
    label: Annotated[RequiredLine, Field(max_length=32)]
    bed_type: BedType = "standard"


class BedStatusChange(BaseModel):
    """Block a bed (out of service, with a reason), unblock it, or send it for cleaning."""

    model_config = _STRICT
    status: Literal["free", "blocked", "cleaning"]
    reason: Annotated[Line, Field(max_length=200)] | None = None
    version: Annotated[int, Field(ge=1)] | None = None


class BedAlerts(BaseModel):
    """What the bed board flags for the patient in a bed (clinical roles only). Flags and
    counts, not the details: those are read from the patient's chart."""

    allergy: bool = False
    overdue_doses: int = 0
    due_doses: int = 0
    overdue_tasks: int = 0
    news2: int | None = None
    news2_risk: str | None = None
    news2_complete: bool = False


class BedRead(BaseModel):
    """A bed on the bed board. ``patient_*`` are set while it is occupied; names only for
    roles that may read demographics, ``alerts`` only for clinical roles."""

    id: int
    ward_id: int
    label: str
    status: BedStatus
    patient_id: int | None = None
    room_id: int
    room_label: str
    bed_type: BedType
    gender_policy: GenderPolicy
    blocked_reason: str | None = None
    status_changed_at: datetime
    version: int
    admission_id: int | None = None
    admitted_at: datetime | None = None
    days_in: int | None = None
    patient_name: str | None = None
    patient_mrn: str | None = None
    patient_sex: str | None = None
    patient_age: int | None = None
    attending_doctor_name: str | None = None
    alerts: BedAlerts | None = None


# ---------------------------------------------------------------- admissions


class AdmissionCreate(BaseModel):
    """Admit a patient to a bed. ``attending_doctor_user_id`` defaults to the admitting
    doctor; a receptionist admitting on a doctor's behalf names the doctor."""

    model_config = _STRICT
    patient_id: Id
    bed_id: Id
    reason: Annotated[RequiredLine, Field(max_length=500)]
    source: AdmissionSource = "clinic"
    attending_doctor_user_id: Id | None = None
    diagnosis: Annotated[Line, Field(max_length=300)] | None = None
    icd10_code: Annotated[Line, Field(max_length=10)] | None = None
    expected_los_days: Annotated[int, Field(ge=1, le=365)] | None = None
    appointment_id: Id | None = None


class TransferRequest(BaseModel):
    model_config = _STRICT
    bed_id: Id
    reason: Annotated[Line, Field(max_length=500)] | None = None


class DischargeRequest(BaseModel):
    """Discharge with the doctor's summary, signed by the discharging doctor."""

    model_config = _STRICT
    summary: Annotated[RequiredPara, Field(max_length=20000)]
    disposition: DischargeDisposition = "home"


class CancelAdmissionRequest(BaseModel):
    model_config = _STRICT
    reason: Annotated[RequiredLine, Field(min_length=5, max_length=500)]


class AttendingChange(BaseModel):
    model_config = _STRICT
    doctor_user_id: Id


class BedStayRead(BaseModel):
    model_config = _READ
    bed_id: int
    bed_label: str
    ward_id: int
    ward_code: str
    ward_class: WardClass
    started_at: datetime
    ended_at: datetime | None


class AdmissionRead(BaseModel):
    """An admission. ``diagnosis``, ``icd10_code`` and ``reason`` are clinical detail and
    are left empty for roles without clinical access (e.g. reception)."""

    id: int
    patient_id: int
    status: AdmissionStatus
    source: AdmissionSource
    admitted_at: datetime
    discharged_at: datetime | None = None
    cancelled_at: datetime | None = None
    bed_id: int | None = None
    bed_label: str | None = None
    ward_id: int | None = None
    ward_code: str | None = None
    ward_name: str | None = None
    ward_class: WardClass | None = None
    attending_doctor_user_id: int | None = None
    attending_doctor_name: str | None = None
    encounter_id: int | None = None
    expected_los_days: int | None = None
    days_in: int
    patient_name: str | None = None
    patient_mrn: str | None = None
    reason: str | None = None
    diagnosis: str | None = None
    icd10_code: str | None = None
    discharge_disposition: DischargeDisposition | None = None
    discharge_note_id: int | None = None
    version: int
    stays: list[BedStayRead] = []


class DischargeSummaryRead(BaseModel):
    """Everything the printed discharge summary shows."""

    admission: AdmissionRead
    patient_name: str
    patient_mrn: str
    date_of_birth: date
    sex: str
    allergies: list[str]
    summary: str
    signed_by_name: str | None
    signed_at: datetime | None
    medications_on_discharge: list[str]
    hospital_name: str


class NurseAssignmentRead(BaseModel):
    ward_id: int
    user_id: int
    username: str
    full_name: str
    assigned_at: datetime


__all__ = [
    "AdmissionCreate",
    "AdmissionRead",
    "AttendingChange",
    "BedAlerts",
    "BedCreate",
    "BedRead",
    "BedStatusChange",
    "BedStayRead",
    "CancelAdmissionRequest",
    "DischargeRequest",
    "DischargeSummaryRead",
    "NurseAssignmentRead",
    "RoomCreate",
    "RoomRead",
    "TransferRequest",
    "WardCreate",
    "WardRead",
    "WardUpdate",
]
