"""Management reports (``reports.read``: managers and administrators).

``GET /reports/<name>`` answers the report as JSON; ``GET /reports/<name>.csv`` answers one
of its tables (``?table=``, each report has a sensible default) as a CSV download. Both
take the period as ``start`` and ``end`` (hospital-calendar days, both included, at most two
years) and a ``grouping`` (day, week or month) for the series.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from hms_contract.common import SaneDate
from hms_contract.reports import (
    ActivityReport,
    ClinicFlowReport,
    Grouping,
    InpatientReport,
    PharmacyReport,
    RevenueReport,
)
from hms_server.api.csv_export import csv_response
from hms_server.api.deps import RequestContext, requirement
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.errors import ValidationFailedError
from hms_server.domain.permissions import Perm
from hms_server.services import reports

router = APIRouter(prefix="/reports", tags=["reports"], responses=PROBLEM_RESPONSES)

ReportReader = requirement(Perm.REPORTS_READ)
Start = Annotated[SaneDate, Query(description="First day of the period (hospital calendar)")]
End = Annotated[SaneDate, Query(description="Last day of the period, included")]
GroupBy = Annotated[Grouping, Query(description="Bucket of the series")]
Table = Annotated[
    str | None,
    Query(max_length=40, description="Which table of the report (default: its main one)"),
]

Columns = list[tuple[str, str]]
_COUNTS: Columns = [
    ("booked", "booked"),
    ("completed", "completed"),
    ("cancelled", "cancelled"),
    ("no_show", "no_show"),
    ("no_show_rate_pct", "no_show_rate"),
]
_FLOW: Columns = [
    ("patients", "patients"),
    ("wait_median_min", "wait_median_min"),
    ("wait_p90_min", "wait_p90_min"),
    ("consult_median_min", "consult_median_min"),
    ("consult_p90_min", "consult_p90_min"),
]
_OCCUPANCY: Columns = [
    ("beds", "beds"),
    ("bed_nights", "bed_nights"),
    ("occupied_midnights", "occupied_midnights"),
    ("occupancy_pct", "occupancy_pct"),
]
_DEPARTMENT: Columns = [("department_id", "department_id"), ("department", "department_name")]
_WARD: Columns = [("ward_id", "ward_id"), ("ward_code", "ward_code"), ("ward", "ward_name")]
_BUCKET: Columns = [("bucket_start", "bucket_start")]

#: report → table → (attribute of the report, CSV columns as (header, field)); the first
#: table of each report is its default.
TABLES: dict[str, dict[str, tuple[str, Columns]]] = {
    "activity": {
        "by_doctor": (
            "by_doctor",
            [*_DEPARTMENT, ("doctor_id", "doctor_id"), ("doctor", "doctor_name"), *_COUNTS],
        ),
        "by_department": ("by_department", _DEPARTMENT + _COUNTS),
        "series": ("series", [*_BUCKET, ("registrations", "registrations"), *_COUNTS]),
    },
    "clinic-flow": {
        "by_department": ("by_department", _DEPARTMENT + _FLOW),
        "series": ("series", _BUCKET + _DEPARTMENT + _FLOW),
    },
    "inpatient": {
        "by_ward": (
            "by_ward",
            _WARD
            + _OCCUPANCY
            + [
                ("admissions", "admissions"),
                ("discharges", "discharges"),
                ("average_los_days", "average_los_days"),
            ],
        ),
        "series": ("series", _BUCKET + _WARD + _OCCUPANCY),
    },
    "revenue": {
        "by_category": (
            "by_category",
            [("category", "category"), ("lines", "lines"), ("invoiced", "invoiced")],
        ),
        "by_department": (
            "by_department",
            [*_DEPARTMENT, ("lines", "lines"), ("invoiced", "invoiced")],
        ),
        "by_method": (
            "by_method",
            [
                ("method", "method"),
                ("receipts", "receipts"),
                ("received", "received"),
                ("refunded", "refunded"),
                ("net", "net"),
            ],
        ),
        "series": ("series", [*_BUCKET, ("invoiced", "invoiced"), ("collected", "collected")]),
        "ageing": (
            "ageing",
            [
                ("bucket_days", "bucket"),
                ("invoices", "invoices"),
                ("patient", "patient"),
                ("payer", "payer"),
                ("total", "total"),
            ],
        ),
    },
    "pharmacy": {
        "top_items": (
            "top_items",
            [
                ("item_id", "item_id"),
                ("item", "item_name"),
                ("lines", "lines"),
                ("quantity", "quantity"),
                ("value", "value"),
            ],
        ),
        "series": (
            "series",
            [*_BUCKET, ("dispenses", "dispenses"), ("lines", "lines"), ("value", "value")],
        ),
        "waste": (
            "waste",
            [
                ("month", "month"),
                ("reason", "reason_code"),
                ("quantity", "quantity"),
                ("value", "value"),
            ],
        ),
        "stock_value": (
            "stock_value",
            [
                ("location_id", "location_id"),
                ("location_code", "location_code"),
                ("location", "location_name"),
                ("items", "items"),
                ("value", "value"),
            ],
        ),
    },
}


def _csv(
    ctx: RequestContext,
    name: str,
    model: type[BaseModel],
    start: date,
    end: date,
    grouping: str,
    table: str | None,
) -> Response:
    tables = TABLES[name]
    chosen = table or next(iter(tables))
    if chosen not in tables:
        raise ValidationFailedError(
            f"The {name} report has no table {chosen!r}.",
            extra={
                "errors": [
                    {
                        "field": "table",
                        "message": "must be one of " + ", ".join(tables),
                        "type": "value_error",
                    }
                ]
            },
        )
    report = model.model_validate(
        reports.REPORTS[name](ctx.uow(), start=start, end=end, grouping=grouping, output="csv")
    )
    attribute, columns = tables[chosen]
    rows: list[Any] = getattr(report, attribute)
    return csv_response(
        f"{name}_{start.isoformat()}_{end.isoformat()}_{chosen}.csv",
        [header for header, _ in columns],
        ([getattr(row, field) for _, field in columns] for row in rows),
    )


_CSV_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The table as CSV"}
}


def _json(ctx: RequestContext, name: str, start: date, end: date, grouping: str) -> dict[str, Any]:
    run: Callable[..., dict[str, Any]] = reports.REPORTS[name]
    return run(ctx.uow(), start=start, end=end, grouping=grouping)


@router.get("/activity", operation_id="activity_report")
def activity_report(
    ctx: ReportReader, start: Start, end: End, grouping: GroupBy = "day"
) -> ActivityReport:
    """Registrations and appointments (booked, completed, cancelled, no-show, no-show rate)
    by day/week/month, department and doctor."""
    return ActivityReport.model_validate(_json(ctx, "activity", start, end, grouping))


@router.get(
    "/activity.csv",
    operation_id="activity_report_csv",
    response_class=Response,
    responses=_CSV_DOC,
)
def activity_report_csv(
    ctx: ReportReader, start: Start, end: End, grouping: GroupBy = "day", table: Table = None
) -> Response:
    """One table of the activity report (by_doctor, by_department, series) as CSV."""
    return _csv(ctx, "activity", ActivityReport, start, end, grouping, table)


@router.get("/clinic-flow", operation_id="clinic_flow_report")
def clinic_flow_report(
    ctx: ReportReader, start: Start, end: End, grouping: GroupBy = "day"
) -> ClinicFlowReport:
    """Queue waiting time and consultation time (median, p90) per department per bucket."""
    return ClinicFlowReport.model_validate(_json(ctx, "clinic-flow", start, end, grouping))


@router.get(
    "/clinic-flow.csv",
    operation_id="clinic_flow_report_csv",
    response_class=Response,
    responses=_CSV_DOC,
)
def clinic_flow_report_csv(
    ctx: ReportReader, start: Start, end: End, grouping: GroupBy = "day", table: Table = None
) -> Response:
    """One table of the clinic-flow report (by_department, series) as CSV."""
    return _csv(ctx, "clinic-flow", ClinicFlowReport, start, end, grouping, table)


@router.get("/inpatient", operation_id="inpatient_report")
def inpatient_report(
    ctx: ReportReader, start: Start, end: End, grouping: GroupBy = "day"
) -> InpatientReport:
    """Bed occupancy per ward (occupied midnights / bed-nights), admissions, discharges and
    average length of stay."""
    return InpatientReport.model_validate(_json(ctx, "inpatient", start, end, grouping))


@router.get(
    "/inpatient.csv",
    operation_id="inpatient_report_csv",
    response_class=Response,
    responses=_CSV_DOC,
)
def inpatient_report_csv(
    ctx: ReportReader, start: Start, end: End, grouping: GroupBy = "day", table: Table = None
) -> Response:
    """One table of the inpatient report (by_ward, series) as CSV."""
    return _csv(ctx, "inpatient", InpatientReport, start, end, grouping, table)


@router.get("/revenue", operation_id="revenue_report")
def revenue_report(
    ctx: ReportReader, start: Start, end: End, grouping: GroupBy = "day"
) -> RevenueReport:
    """Invoiced by charge category and department, collected by method, outstanding
    receivables by age."""
    return RevenueReport.model_validate(_json(ctx, "revenue", start, end, grouping))


@router.get(
    "/revenue.csv",
    operation_id="revenue_report_csv",
    response_class=Response,
    responses=_CSV_DOC,
)
def revenue_report_csv(
    ctx: ReportReader, start: Start, end: End, grouping: GroupBy = "day", table: Table = None
) -> Response:
    """One table of the revenue report (by_category, by_department, by_method, series,
    ageing) as CSV."""
    return _csv(ctx, "revenue", RevenueReport, start, end, grouping, table)


@router.get("/pharmacy", operation_id="pharmacy_report")
def pharmacy_report(
    ctx: ReportReader, start: Start, end: End, grouping: GroupBy = "day"
) -> PharmacyReport:
    """Dispensing (lines, value, top items), waste and expiry write-offs, stock value."""
    return PharmacyReport.model_validate(_json(ctx, "pharmacy", start, end, grouping))


@router.get(
    "/pharmacy.csv",
    operation_id="pharmacy_report_csv",
    response_class=Response,
    responses=_CSV_DOC,
)
def pharmacy_report_csv(
    ctx: ReportReader, start: Start, end: End, grouping: GroupBy = "day", table: Table = None
) -> Response:
    """One table of the pharmacy report (top_items, series, waste, stock_value) as CSV."""
    return _csv(ctx, "pharmacy", PharmacyReport, start, end, grouping, table)
