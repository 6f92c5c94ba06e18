"""Management reports: activity, clinic flow, inpatient occupancy, revenue and pharmacy.

Every report covers a period of hospital-calendar days (``start``..``end``, both included)
and answers aggregates only — counts, sums, medians — never a patient's identity. Figures
that are not whole counts (rates, minutes, days, money) travel as decimal strings.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, PlainSerializer, WithJsonSchema

from hms_contract.common import Money, Quantity

Grouping = Literal["day", "week", "month"]
"""How the series of a report is bucketed (weeks start on Monday)."""

ReportName = Literal["activity", "clinic-flow", "inpatient", "revenue", "pharmacy"]

MAX_PERIOD_DAYS = 731
"""The longest period a report covers (two years, a leap day included)."""

Figure = Annotated[
    Decimal,
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["12.5"]}),
    PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json"),
]
"""A measured figure (a percentage, minutes, days) as a decimal string, e.g. ``"12.5"``."""


class ReportPeriod(BaseModel):
    """The days a report covers, in the hospital's time zone, and how its series is bucketed."""

    start: date
    end: date
    grouping: Grouping
    timezone: str
    generated_at: datetime


# --- activity ------------------------------------------------------------------------------


class ActivityCounts(BaseModel):
    """Appointments due in the period by what became of them. ``no_show_rate`` is the share
    (percent) of kept-or-missed appointments that were missed: no_show / (completed +
    no_show); ``None`` when there were none."""

    booked: int
    completed: int
    cancelled: int
    no_show: int
    no_show_rate: Figure | None


class ActivityTotals(ActivityCounts):
    registrations: int


class ActivityBucket(ActivityCounts):
    bucket_start: date
    registrations: int


class DepartmentActivity(ActivityCounts):
    department_id: int
    department_name: str


class DoctorActivity(ActivityCounts):
    department_id: int
    department_name: str
    doctor_id: int
    doctor_name: str


class ActivityReport(BaseModel):
    """Registrations and appointments (by the day they were due): totals, a series, and
    the same counts by department and by doctor."""

    period: ReportPeriod
    totals: ActivityTotals
    series: list[ActivityBucket]
    by_department: list[DepartmentActivity]
    by_doctor: list[DoctorActivity]


# --- clinic flow ---------------------------------------------------------------------------


class FlowFigures(BaseModel):
    """Queue waiting time (check-in → called, or started when never called) and consultation
    time (started → completed), in minutes: median and 90th percentile."""

    patients: int
    wait_median_min: Figure | None
    wait_p90_min: Figure | None
    consult_median_min: Figure | None
    consult_p90_min: Figure | None


class DepartmentFlow(FlowFigures):
    department_id: int
    department_name: str


class DepartmentFlowBucket(DepartmentFlow):
    bucket_start: date


class ClinicFlowReport(BaseModel):
    period: ReportPeriod
    totals: FlowFigures
    by_department: list[DepartmentFlow]
    series: list[DepartmentFlowBucket]


# --- inpatient -----------------------------------------------------------------------------


class OccupancyFigures(BaseModel):
    """Occupied midnights against bed-nights available (beds × midnights counted; midnights
    still in the future are not counted). ``occupancy_pct`` is ``None`` without beds."""

    beds: int
    bed_nights: int
    occupied_midnights: int
    occupancy_pct: Figure | None


class WardOccupancyBucket(OccupancyFigures):
    ward_id: int
    ward_code: str
    ward_name: str
    bucket_start: date


class WardInpatient(OccupancyFigures):
    """One ward over the whole period. An admission counts for the ward of its first bed,
    a discharge for the ward of its last; ``average_los_days`` is over the period's
    discharges (local days from admission to discharge; same day = 0)."""

    ward_id: int
    ward_code: str
    ward_name: str
    admissions: int
    discharges: int
    average_los_days: Figure | None


class InpatientTotals(OccupancyFigures):
    admissions: int
    discharges: int
    average_los_days: Figure | None


class InpatientReport(BaseModel):
    period: ReportPeriod
    totals: InpatientTotals
    by_ward: list[WardInpatient]
    series: list[WardOccupancyBucket]


# --- revenue -------------------------------------------------------------------------------


class RevenueBucket(BaseModel):
    bucket_start: date
    invoiced: Money
    collected: Money


class CategoryRevenue(BaseModel):
    """Invoiced (issued in the period, not void) by charge category."""

    category: str
    lines: int
    invoiced: Money


class DepartmentRevenue(BaseModel):
    """Invoiced by the department of the price-list item charged (``None``: no department)."""

    department_id: int | None
    department_name: str
    lines: int
    invoiced: Money


class MethodCollection(BaseModel):
    """Money received in the period by method: payments and deposits less refunds."""

    method: str
    receipts: int
    received: Money
    refunded: Money
    net: Money


class ReceivablesAgeingBucket(BaseModel):
    bucket: str
    invoices: int
    patient: Money
    payer: Money
    total: Money


class RevenueTotals(BaseModel):
    invoices: int
    invoiced: Money
    collected: Money
    outstanding: Money


class RevenueReport(BaseModel):
    """Invoiced and collected money in the period; outstanding receivables and their ageing
    as of the period's end (or today, when the period runs on past today)."""

    period: ReportPeriod
    currency: str
    ageing_as_of: date
    totals: RevenueTotals
    series: list[RevenueBucket]
    by_category: list[CategoryRevenue]
    by_department: list[DepartmentRevenue]
    by_method: list[MethodCollection]
    ageing: list[ReceivablesAgeingBucket]


# --- pharmacy ------------------------------------------------------------------------------


class DispensingBucket(BaseModel):
    bucket_start: date
    dispenses: int
    lines: int
    value: Money


class ItemDispensed(BaseModel):
    """Net of returns, valued at the batch's unit cost."""

    item_id: int
    item_name: str
    lines: int
    quantity: Quantity
    value: Money


class WasteFigure(BaseModel):
    month: str
    reason_code: str
    quantity: Quantity
    value: Money


class LocationStockValue(BaseModel):
    location_id: int
    location_code: str
    location_name: str
    items: int
    value: Money


class PharmacyTotals(BaseModel):
    dispenses: int
    lines: int
    dispensed_value: Money
    waste_value: Money
    stock_value: Money


class PharmacyReport(BaseModel):
    """Dispensing in the period, waste and expiry write-offs (by month and reason), and the
    stock value today (available stock, by location)."""

    period: ReportPeriod
    currency: str
    totals: PharmacyTotals
    series: list[DispensingBucket]
    top_items: list[ItemDispensed]
    waste: list[WasteFigure]
    stock_value: list[LocationStockValue]
