"""Staff and HR schemas: staff records, duty roster, leave, payroll and performance reviews.
Imports only pydantic.

Salary (``base_monthly_salary``) is ``None`` in an answer unless the caller may see it: HR and
managers, or the employee reading their own record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hms_contract.clinical import Line, Para, RequiredLine, RequiredPara
from hms_contract.common import Money, SaneDate, SaneDateTime
from hms_contract.pharmacy import NonNegativeMoney, SmallId

_READ = ConfigDict(from_attributes=True)
_STRICT = ConfigDict(extra="forbid")

EmploymentType = Literal["full_time", "part_time", "contract", "locum"]
ShiftKind = Literal["day", "evening", "night", "on_call"]
LeaveKind = Literal["annual", "sick", "unpaid", "maternity", "paternity", "study", "compassionate"]
LeaveStatus = Literal["pending", "approved", "declined", "cancelled"]
LeaveDecisionKind = Literal["approve", "decline"]
PayRunStatus = Literal["draft", "final"]
ReviewStatus = Literal["draft", "final"]
Version = Annotated[int, Field(ge=1)]
EmployeeNumber = Annotated[
    RequiredLine, Field(max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")
]
Percent = Annotated[Money, Field(ge=0, le=100)]
Phone = Annotated[Line, Field(max_length=40, pattern=r"^[0-9+()./ -]*$")]
Period = Annotated[str, Field(pattern=r"^(19|2[01])\d{2}-(0[1-9]|1[0-2])$", examples=["2026-11"])]


# --- staff records -------------------------------------------------------------------------


class StaffCreate(BaseModel):
    model_config = _STRICT
    employee_number: EmployeeNumber
    full_name: Annotated[RequiredLine, Field(max_length=200)]
    job_title: Annotated[RequiredLine, Field(max_length=120)]
    department_id: SmallId
    employment_type: EmploymentType
    grade: Annotated[Line, Field(max_length=40)] | None = None
    hire_date: SaneDate
    end_date: SaneDate | None = None
    base_monthly_salary: NonNegativeMoney
    phone: Phone | None = None
    user_id: SmallId | None = Field(default=None, description="The staff member's sign-in")


class StaffUpdate(BaseModel):
    model_config = _STRICT
    version: Version
    full_name: Annotated[RequiredLine, Field(max_length=200)] | None = None
    job_title: Annotated[RequiredLine, Field(max_length=120)] | None = None
    department_id: SmallId | None = None
    employment_type: EmploymentType | None = None
    grade: Annotated[Line, Field(max_length=40)] | None = None
    end_date: SaneDate | None = None
    base_monthly_salary: NonNegativeMoney | None = None
    phone: Phone | None = None
    user_id: SmallId | None = None


class StaffRead(BaseModel):
    model_config = _READ
    id: int
    employee_number: str
    full_name: str
    job_title: str
    department_id: int
    department_name: str
    employment_type: EmploymentType
    grade: str | None
    hire_date: date
    end_date: date | None
    base_monthly_salary: Money | None = Field(
        description="Only for HR, managers and the employee themself; otherwise null"
    )
    phone: str | None
    user_id: int | None
    username: str | None
    active: bool
    version: int


class StaffSignIn(BaseModel):
    """A sign-in (user account) HR may link to a staff record, with the record it is linked
    to now, if any. Only what linking needs: no roles, no security settings."""

    model_config = _READ
    user_id: int
    username: str
    full_name: str
    active: bool
    staff_id: int | None = Field(description="The staff record this sign-in is linked to")
    staff_name: str | None


# --- roster --------------------------------------------------------------------------------


class RosterUnit(BaseModel):
    """A place shifts are worked: a ward or a department."""

    model_config = _READ
    kind: Literal["ward", "department"]
    id: int
    name: str


class ShiftCreate(BaseModel):
    model_config = _STRICT
    staff_id: SmallId
    ward_id: SmallId | None = None
    department_id: SmallId | None = None
    starts_at: SaneDateTime
    ends_at: SaneDateTime
    kind: ShiftKind
    note: Annotated[Para, Field(max_length=300)] | None = None


class ShiftRead(BaseModel):
    model_config = _READ
    id: int
    staff_id: int
    staff_name: str
    job_title: str
    ward_id: int | None
    department_id: int | None
    unit_name: str
    starts_at: datetime
    ends_at: datetime
    kind: ShiftKind
    note: str | None


class ShiftClash(BaseModel):
    """A shift that stands in the way (listed in a 409 ``shift_overlap`` / ``leave_clash``)."""

    id: int
    starts_at: datetime
    ends_at: datetime
    kind: ShiftKind
    unit_name: str


# --- leave ---------------------------------------------------------------------------------


class LeaveCreate(BaseModel):
    model_config = _STRICT
    kind: LeaveKind
    starts_on: SaneDate
    ends_on: SaneDate
    reason: Annotated[Para, Field(max_length=500)] | None = None


class LeaveCreateForStaff(LeaveCreate):
    """HR files leave for someone (a phoned-in sick day)."""

    staff_id: SmallId


class LeaveOverlap(BaseModel):
    """A request standing in the way (listed in a 409 ``leave_overlap``)."""

    id: int
    kind: LeaveKind
    starts_on: date
    ends_on: date
    status: LeaveStatus


class LeaveDecision(BaseModel):
    model_config = _STRICT
    version: Version
    decision: LeaveDecisionKind
    note: Annotated[Para, Field(max_length=500)] | None = None


class LeaveRead(BaseModel):
    model_config = _READ
    id: int
    staff_id: int
    staff_name: str
    kind: LeaveKind
    starts_on: date
    ends_on: date
    days: int
    reason: str | None
    status: LeaveStatus
    decided_at: datetime | None
    decision_note: str | None
    created_at: datetime
    version: int


# --- payroll -------------------------------------------------------------------------------


class PayrollSettings(BaseModel):
    model_config = _READ
    night_shift_allowance: Money
    income_tax_percent: Money
    pension_percent: Money
    version: int


class PayrollSettingsUpdate(BaseModel):
    model_config = _STRICT
    version: Version
    night_shift_allowance: NonNegativeMoney
    income_tax_percent: Percent
    pension_percent: Percent


class PayRunCreate(BaseModel):
    model_config = _STRICT
    period: Period


class PayRunFinalise(BaseModel):
    model_config = _STRICT
    version: Version


class PayRunRead(BaseModel):
    model_config = _READ
    id: int
    period: str
    status: PayRunStatus
    payslip_count: int
    total_gross: Money
    total_net: Money
    created_at: datetime
    finalised_at: datetime | None
    version: int


class PayslipRead(BaseModel):
    model_config = _READ
    id: int
    pay_run_id: int
    period: str
    status: PayRunStatus
    staff_id: int
    employee_number: str
    full_name: str
    job_title: str
    department_name: str
    grade: str | None
    days_paid: int
    days_in_period: int
    monthly_salary: Money
    base_pay: Money
    night_shifts: int
    night_shift_rate: Money
    night_allowance: Money
    gross_pay: Money
    income_tax_percent: Money
    income_tax: Money
    pension_percent: Money
    pension: Money
    total_deductions: Money
    net_pay: Money


# --- performance reviews -------------------------------------------------------------------


class ReviewCreate(BaseModel):
    model_config = _STRICT
    staff_id: SmallId
    period_start: SaneDate
    period_end: SaneDate
    rating: Annotated[int, Field(ge=1, le=5)]
    strengths: Annotated[RequiredPara, Field(max_length=2000)]
    goals: Annotated[RequiredPara, Field(max_length=2000)]


class ReviewUpdate(BaseModel):
    model_config = _STRICT
    version: Version
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    strengths: Annotated[RequiredPara, Field(max_length=2000)] | None = None
    goals: Annotated[RequiredPara, Field(max_length=2000)] | None = None


class ReviewFinalise(BaseModel):
    model_config = _STRICT
    version: Version


class ReviewRead(BaseModel):
    model_config = _READ
    id: int
    staff_id: int
    staff_name: str
    period_start: date
    period_end: date
    rating: int
    strengths: str
    goals: str
    reviewer_name: str
    status: ReviewStatus
    finalised_at: datetime | None
    version: int
