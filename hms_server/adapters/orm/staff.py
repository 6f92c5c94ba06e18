"""Staff and HR: staff records, duty shifts, leave requests, payroll and performance reviews.

The database enforces what must hold under concurrency (see migration 0070):
- ``ex_staff_shifts_no_overlap``: one person never holds two overlapping shifts;
- ``uq_pay_runs_period``: one pay run per month;
- triggers ``pay_runs_final_is_final`` / ``payslips_final_is_final``: a finalised pay run and
  its payslips are never changed or deleted;
- ``ck_leave_requests_not_self_decided``: nobody decides their own leave request.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base

EMPLOYMENT_TYPES = ("full_time", "part_time", "contract", "locum")
SHIFT_KINDS = ("day", "evening", "night", "on_call")
LEAVE_KINDS = ("annual", "sick", "unpaid", "maternity", "paternity", "study", "compassionate")
LEAVE_STATUSES = ("pending", "approved", "declined", "cancelled")
SHIFT_OVERLAP = "ex_staff_shifts_no_overlap"


def _in(values: tuple[str, ...]) -> str:
    return ",".join(f"'{v}'" for v in values)


class StaffMember(Base):
    """One employee. ``user_id`` links the sign-in (at most one record per user)."""

    __tablename__ = "staff_members"
    __table_args__ = (
        CheckConstraint(f"employment_type IN ({_in(EMPLOYMENT_TYPES)})", name="employment_type"),
        CheckConstraint("end_date IS NULL OR end_date >= hire_date", name="date_order"),
        CheckConstraint("base_monthly_salary >= 0", name="salary_not_negative"),
        CheckConstraint("length(btrim(full_name)) > 0", name="name_present"),
        Index("ix_staff_members_full_name_lower", func.lower(text("full_name"))),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    employee_number: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)
    job_title: Mapped[str] = mapped_column(String(120), nullable=False)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id"), nullable=False, index=True
    )
    employment_type: Mapped[str] = mapped_column(String(16), nullable=False)
    grade: Mapped[str | None] = mapped_column(String(40))
    hire_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date)
    base_monthly_salary: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class StaffShift(Base):
    """A rostered duty on one ward or in one department."""

    __tablename__ = "staff_shifts"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(SHIFT_KINDS)})", name="kind_code"),
        CheckConstraint("starts_at < ends_at", name="time_order"),
        CheckConstraint("ends_at - starts_at <= interval '24 hours'", name="at_most_a_day"),
        CheckConstraint("num_nonnulls(ward_id, department_id) = 1", name="one_place"),
        ExcludeConstraint(
            ("staff_id", "="),
            (func.tstzrange(text("starts_at"), text("ends_at"), "[)"), "&&"),
            name=SHIFT_OVERLAP,
            using="gist",
        ),
        Index("ix_staff_shifts_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_members.id"), nullable=False, index=True
    )
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(nullable=False)
    ends_at: Mapped[datetime] = mapped_column(nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    note: Mapped[str | None] = mapped_column(String(300))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())


class LeaveRequest(Base):
    """Leave from ``starts_on`` to ``ends_on`` (whole days, inclusive)."""

    __tablename__ = "leave_requests"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(LEAVE_KINDS)})", name="kind_code"),
        CheckConstraint(f"status IN ({_in(LEAVE_STATUSES)})", name="status_code"),
        CheckConstraint("starts_on <= ends_on", name="date_order"),
        CheckConstraint(
            "decided_by_user_id IS NULL OR decided_by_user_id IS DISTINCT FROM staff_user_id",
            name="not_self_decided",
        ),
        CheckConstraint(
            "(status IN ('pending','cancelled')) = (decided_at IS NULL)", name="decision_recorded"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_members.id"), nullable=False, index=True
    )
    #: The employee's sign-in when the request was made: the one user who may not decide it.
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending")
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class PayrollSettingsRow(Base):
    """The one row of payroll rates (``id`` is always 1)."""

    __tablename__ = "payroll_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("night_shift_allowance >= 0", name="allowance_not_negative"),
        CheckConstraint("income_tax_percent BETWEEN 0 AND 100", name="tax_range"),
        CheckConstraint("pension_percent BETWEEN 0 AND 100", name="pension_range"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    night_shift_allowance: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    income_tax_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    pension_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class PayRun(Base):
    """Payroll for one calendar month (``period`` is its first day): draft, then final."""

    __tablename__ = "pay_runs"
    __table_args__ = (
        CheckConstraint("extract(day from period) = 1", name="first_of_month"),
        CheckConstraint("status IN ('draft','final')", name="status_code"),
        CheckConstraint("(status = 'final') = (finalised_at IS NOT NULL)", name="final_stamped"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    period: Mapped[date] = mapped_column(Date, nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="draft")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    finalised_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    finalised_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class Payslip(Base):
    """One employee's pay for one run. Name, title, department and rates are copied in, so a
    finalised payslip reads the same after the staff record or the settings change."""

    __tablename__ = "payslips"
    __table_args__ = (
        UniqueConstraint("pay_run_id", "staff_id", name="uq_payslips_run_staff"),
        CheckConstraint("days_paid BETWEEN 0 AND days_in_period", name="days_range"),
        CheckConstraint("gross_pay = base_pay + night_allowance", name="gross_adds_up"),
        CheckConstraint("net_pay = gross_pay - income_tax - pension", name="net_adds_up"),
        CheckConstraint("night_shifts >= 0", name="night_shifts_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    pay_run_id: Mapped[int] = mapped_column(ForeignKey("pay_runs.id"), nullable=False)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_members.id"), nullable=False, index=True
    )
    employee_number: Mapped[str] = mapped_column(String(20), nullable=False)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)
    job_title: Mapped[str] = mapped_column(String(120), nullable=False)
    department_name: Mapped[str] = mapped_column(String(100), nullable=False)
    grade: Mapped[str | None] = mapped_column(String(40))
    days_paid: Mapped[int] = mapped_column(Integer, nullable=False)
    days_in_period: Mapped[int] = mapped_column(Integer, nullable=False)
    monthly_salary: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    base_pay: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    night_shifts: Mapped[int] = mapped_column(Integer, nullable=False)
    night_shift_rate: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    night_allowance: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    gross_pay: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    income_tax_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    income_tax: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    pension_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    pension: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    net_pay: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)


class PerformanceReview(Base):
    """A review of one employee for one period; the employee sees it once final."""

    __tablename__ = "performance_reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("period_start <= period_end", name="period_order"),
        CheckConstraint("status IN ('draft','final')", name="status_code"),
        CheckConstraint("(status = 'final') = (finalised_at IS NOT NULL)", name="final_stamped"),
        UniqueConstraint(
            "staff_id", "period_start", "period_end", name="uq_performance_reviews_period"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    rating: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    strengths: Mapped[str] = mapped_column(String(2000), nullable=False)
    goals: Mapped[str] = mapped_column(String(2000), nullable=False)
    reviewer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="draft")
    finalised_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
