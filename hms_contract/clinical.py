"""Chart schemas: encounters, notes, vitals, allergies, problems, labs, documents, access.
Imports only pydantic."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from hms_contract.common import SaneDate, SaneDateTime


def _clean(value: str, *, multiline: bool) -> str:
    allowed = {"\n", "\r", "\t"} if multiline else set()
    if any(unicodedata.category(ch).startswith("C") and ch not in allowed for ch in value):
        raise ValueError("must not contain control characters")
    return unicodedata.normalize("NFC", value).strip()


def _line(value: str) -> str:
    return _clean(value, multiline=False)


def _para(value: str) -> str:
    return _clean(value, multiline=True)


def _required(value: str) -> str:
    if not value:
        raise ValueError("must not be blank")
    return value


Line = Annotated[str, AfterValidator(_line)]
Para = Annotated[str, AfterValidator(_para)]
RequiredLine = Annotated[str, AfterValidator(_line), AfterValidator(_required)]
RequiredPara = Annotated[str, AfterValidator(_para), AfterValidator(_required)]

EncounterKind = Literal["outpatient", "inpatient", "emergency", "telehealth", "home"]
EncounterStatus = Literal["in_progress", "finished", "cancelled"]
NoteType = Literal["soap", "progress", "consult", "procedure", "discharge", "nursing"]
Severity = Literal["mild", "moderate", "severe"]
AllergyStatus = Literal["active", "inactive", "resolved", "entered_in_error"]
AllergyCategory = Literal["medication", "food", "environment", "biologic"]
ProblemStatus = Literal["active", "inactive", "resolved", "entered_in_error"]
LabPriority = Literal["routine", "urgent", "stat"]
LabOrderStatus = Literal["ordered", "resulted", "cancelled"]

_STRICT = ConfigDict(extra="forbid")
_READ = ConfigDict(from_attributes=True)


# ---------------------------------------------------------------- encounters


class EncounterCreate(BaseModel):
    model_config = _STRICT
    kind: EncounterKind = "outpatient"
    reason: Annotated[Line, Field(max_length=500)] | None = None
    appointment_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None


class EncounterRead(BaseModel):
    model_config = _READ
    id: int
    patient_id: int
    clinician_user_id: int
    clinician_name: str | None = None
    appointment_id: int | None
    kind: str
    status: str
    reason: str | None
    started_at: datetime
    ended_at: datetime | None
    version: int


# ---------------------------------------------------------------- notes


class _NoteText(BaseModel):
    subjective: Annotated[Para, Field(max_length=20_000)] | None = None
    objective: Annotated[Para, Field(max_length=20_000)] | None = None
    assessment: Annotated[Para, Field(max_length=20_000)] | None = None
    plan: Annotated[Para, Field(max_length=20_000)] | None = None
    body: Annotated[Para, Field(max_length=50_000)] | None = None

    @model_validator(mode="after")
    def _has_text(self) -> _NoteText:
        if not any([self.subjective, self.objective, self.assessment, self.plan, self.body]):
            raise ValueError(
                "a note needs text in at least one of subjective, objective, "
                "assessment, plan or body"
            )
        return self

    def text(self) -> dict[str, str | None]:
        return {
            k: getattr(self, k) for k in ("subjective", "objective", "assessment", "plan", "body")
        }


class NoteCreate(_NoteText):
    model_config = _STRICT
    encounter_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    note_type: NoteType = "soap"
    title: Annotated[Line, Field(max_length=200)] | None = None
    sign: bool = False


class NoteAmend(_NoteText):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1, description="The note's current version as read")]
    reason: Annotated[RequiredLine, Field(max_length=500)]
    sign: bool = False


class NoteVersionRead(BaseModel):
    model_config = _READ
    version_no: int
    subjective: str | None
    objective: str | None
    assessment: str | None
    plan: str | None
    body: str | None
    amendment_reason: str | None
    author_user_id: int
    author_name: str | None = None
    created_at: datetime
    signed_at: datetime | None
    signed_by_user_id: int | None
    signed: bool = False


class NoteRead(BaseModel):
    id: int
    patient_id: int
    encounter_id: int | None
    note_type: str
    title: str | None
    author_user_id: int
    author_name: str | None
    created_at: datetime
    version: int = Field(description="Current version number; send it back to amend")
    signed: bool
    current: NoteVersionRead
    versions: list[NoteVersionRead] = Field(description="Every version, oldest first")


# ---------------------------------------------------------------- vitals


class VitalsCreate(BaseModel):
    """Any subset of measurements; plausibility is checked by the server (422)."""

    model_config = _STRICT
    encounter_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    recorded_at: SaneDateTime | None = None
    systolic_mmhg: Annotated[int, Field(ge=0, le=1000)] | None = None
    diastolic_mmhg: Annotated[int, Field(ge=0, le=1000)] | None = None
    heart_rate_bpm: Annotated[int, Field(ge=0, le=1000)] | None = None
    respiratory_rate: Annotated[int, Field(ge=0, le=1000)] | None = None
    temperature_c: (
        Annotated[Decimal, Field(ge=0, le=100, max_digits=4, decimal_places=1)] | None
    ) = None
    spo2_pct: Annotated[int, Field(ge=0, le=100)] | None = None
    weight_kg: Annotated[Decimal, Field(ge=0, le=1000, max_digits=5, decimal_places=1)] | None = (
        None
    )
    height_cm: Annotated[Decimal, Field(ge=0, le=1000, max_digits=5, decimal_places=1)] | None = (
        None
    )
    notes: Annotated[Line, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _aware(self) -> VitalsCreate:
        if self.recorded_at is not None and self.recorded_at.tzinfo is None:
            raise ValueError("recorded_at needs a time zone (e.g. 2026-01-31T10:00:00Z)")
        return self


class VitalsRead(BaseModel):
    model_config = _READ
    id: int
    patient_id: int
    encounter_id: int | None
    recorded_by_user_id: int | None = Field(
        description="Who entered them; null for readings a bedside monitor sent"
    )
    source: Literal["manual", "device"] = "manual"
    device_id: str | None = None
    recorded_at: datetime
    systolic_mmhg: int | None
    diastolic_mmhg: int | None
    heart_rate_bpm: int | None
    respiratory_rate: int | None
    temperature_c: Decimal | None
    spo2_pct: int | None
    weight_kg: Decimal | None
    height_cm: Decimal | None
    bmi: Decimal | None
    flags: dict[str, str] = Field(description="Abnormal values: L/H, LL/HH when critical")
    notes: str | None


class TrendPoint(BaseModel):
    at: datetime
    value: float
    flag: str


class VitalsTrend(BaseModel):
    patient_id: int
    series: dict[str, list[TrendPoint]]


# ---------------------------------------------------------------- allergies


class AllergyCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    substance: Annotated[RequiredLine, Field(max_length=200)]
    reaction: Annotated[Line, Field(max_length=500)] | None = None
    severity: Severity = "moderate"
    status: AllergyStatus = "active"
    category: AllergyCategory = "medication"
    kind: Literal["allergy", "intolerance"] = "allergy"
    onset_date: SaneDate | None = None


class AllergyUpdate(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    reaction: Annotated[Line, Field(max_length=500)] | None = None
    severity: Severity | None = None
    status: AllergyStatus | None = None
    category: AllergyCategory | None = None


class AllergyRead(BaseModel):
    model_config = _READ
    id: int
    patient_id: int
    substance: str
    category: str
    kind: str
    reaction: str | None
    severity: str
    status: str
    onset_date: date | None
    recorded_by_user_id: int
    recorded_at: datetime
    updated_at: datetime
    version: int


# ---------------------------------------------------------------- problems


class ProblemCreate(BaseModel):
    model_config = _STRICT
    icd10_code: Annotated[
        RequiredLine, Field(max_length=10, pattern=r"^[A-Za-z][0-9A-Za-z.]{1,9}$")
    ]
    description: Annotated[Line, Field(max_length=300)] | None = None
    status: ProblemStatus = "active"
    onset_date: SaneDate | None = None
    notes: Annotated[Para, Field(max_length=1000)] | None = None
    encounter_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None


class ProblemUpdate(BaseModel):
    model_config = _STRICT
    version: Annotated[int, Field(ge=1)]
    status: ProblemStatus | None = None
    resolved_date: SaneDate | None = None
    notes: Annotated[Para, Field(max_length=1000)] | None = None


class ProblemRead(BaseModel):
    model_config = _READ
    id: int
    patient_id: int
    encounter_id: int | None
    icd10_code: str
    description: str
    status: str
    onset_date: date | None
    resolved_date: date | None
    notes: str | None
    recorded_by_user_id: int
    recorded_at: datetime
    version: int


class Icd10Read(BaseModel):
    model_config = _READ
    code: str
    description: str
    billable: bool


# ---------------------------------------------------------------- labs


class LabTestRead(BaseModel):
    model_config = _READ
    id: int
    code: str
    name: str
    loinc: str | None
    specimen: str | None
    unit: str | None
    ref_low: Decimal | None
    ref_high: Decimal | None
    value_type: str


class LabOrderCreate(BaseModel):
    model_config = _STRICT
    test_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    test_code: Annotated[Line, Field(max_length=32)] | None = None
    priority: LabPriority = "routine"
    notes: Annotated[Line, Field(max_length=500)] | None = None
    encounter_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> LabOrderCreate:
        if (self.test_id is None) == (not self.test_code):
            raise ValueError("give exactly one of test_id or test_code")
        return self


class LabResultCreate(BaseModel):
    model_config = _STRICT
    value_numeric: (
        Annotated[Decimal, Field(max_digits=14, decimal_places=4, allow_inf_nan=False)] | None
    ) = None
    value_text: Annotated[Line, Field(max_length=500)] | None = None
    comment: Annotated[Line, Field(max_length=500)] | None = None
    version: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _value(self) -> LabResultCreate:
        if self.value_numeric is None and not self.value_text:
            raise ValueError("give value_numeric or value_text")
        return self


class LabResultRead(BaseModel):
    model_config = _READ
    id: int
    order_id: int
    test_id: int
    test_code: str | None = None
    test_name: str | None = None
    loinc: str | None = None
    value_numeric: Decimal | None
    value_text: str | None
    unit: str | None
    ref_low: Decimal | None
    ref_high: Decimal | None
    flag: str | None
    comment: str | None
    resulted_by_user_id: int
    resulted_at: datetime


class LabOrderRead(BaseModel):
    id: int
    patient_id: int
    encounter_id: int | None
    test: LabTestRead
    ordered_by_user_id: int
    ordered_by_name: str | None
    ordered_at: datetime
    priority: str
    status: str
    notes: str | None
    version: int
    result: LabResultRead | None


# ---------------------------------------------------------------- documents


class DocumentRead(BaseModel):
    model_config = _READ
    id: int
    patient_id: int
    encounter_id: int | None
    title: str
    category: str | None
    filename: str | None
    content_type: str = Field(description="Decided from the file's content, not the client")
    size_bytes: int
    sha256: str
    uploaded_by_user_id: int
    uploaded_at: datetime


# ---------------------------------------------------------------- chart


class PatientHeader(BaseModel):
    model_config = _READ
    id: int
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    sex: str
    age_years: int | None = None


class MedicationRead(BaseModel):
    prescription_id: int
    prescription_number: str
    item_id: int
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
    prescribed_at: datetime
    prescriber_user_id: int


class ChartRead(BaseModel):
    patient: PatientHeader
    access: str = Field(description="care_team, appointment or break_glass")
    allergies: list[AllergyRead]
    has_allergies: bool
    problems: list[ProblemRead]
    medications: list[MedicationRead]
    latest_vitals: VitalsRead | None
    recent_encounters: list[EncounterRead]
    counts: dict[str, int]


class TimelineItem(BaseModel):
    kind: str
    id: int
    at: datetime
    summary: str
    encounter_id: int | None
    flag: str | None
    by: str | None = Field(default=None, description="Who recorded it (full name)")


# ---------------------------------------------------------------- access


class BreakGlassRequest(BaseModel):
    model_config = _STRICT
    reason: Annotated[
        RequiredPara,
        Field(min_length=10, max_length=1000, description="Why emergency access is needed"),
    ]


class BreakGlassRead(BaseModel):
    id: int
    patient_id: int
    patient_mrn: str | None = None
    patient_name: str | None = Field(default=None, description="Family, Given (review list)")
    user_id: int
    username: str | None = None
    full_name: str | None = None
    reason: str
    granted_at: datetime
    expires_at: datetime
    active: bool
    workstation: str | None = None
    access_count: int = 0
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    review_note: str | None = None


class BreakGlassReview(BaseModel):
    model_config = _STRICT
    note: Annotated[Para, Field(max_length=1000)] | None = None


class CareTeamAdd(BaseModel):
    """A referral or handover to a colleague, by a clinician whose own care relationship
    lasts; the reason is stored, audited and shown on the care team."""

    model_config = _STRICT
    user_id: Annotated[int, Field(ge=1, le=2**63 - 1)]
    role: Annotated[RequiredLine, Field(max_length=32)] = "nurse"
    reason: Annotated[
        RequiredPara,
        Field(min_length=10, max_length=1000, description="Why the colleague joins the care team"),
    ]


class CareTeamMemberRead(BaseModel):
    patient_id: int
    user_id: int
    username: str | None = None
    full_name: str | None = None
    role: str
    source: str = Field(
        description="encounter, handover, manual (seeded) or self_declared "
        "(written before 0040; not a basis of access)"
    )
    added_at: datetime
    reason: str | None = None
    added_by_user_id: int | None = None


class MyPatientRead(PatientHeader):
    """A patient you may see now and why: ``clinic`` (the clinic you work today, its
    checked-in patients), ``queue`` (your own queue today) or ``care_team``."""

    relationship: Literal["clinic", "queue", "care_team"]
    queue_entry_id: int | None = None
    token: int | None = None
    queue_status: str | None = None
    checked_in_at: datetime | None = None
    doctor_name: str | None = None
    department_id: int | None = Field(default=None, description="The clinic's department")
