"""What each report shows: its headline figures (KPIs), its tables (the same tables the
server exports as CSV, so "Export CSV" saves what is on screen) and its trend chart.

Built by ``report_views()`` when the workspace opens, so the texts are translated with the
language in force. Pure data and formatting: no widgets, no network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from hms_desktop.models.reports import ReportColumn, count_text, figure_text, money_text
from hms_desktop.qt import translate


def _t(text: str) -> str:
    return translate("Reports", text)


@dataclass(frozen=True)
class Kpi:
    """A headline figure: what it is, its value as text, and a hint saying how it is
    counted (shown as the tooltip)."""

    label: str
    value: str
    hint: str = ""


@dataclass(frozen=True)
class TableSpec:
    key: str  # the server's CSV table name
    title: str
    rows: Callable[[Any], list[Any]]
    columns: list[ReportColumn]


@dataclass(frozen=True)
class ChartSeries:
    name: str
    points: list[tuple[date, float]]


@dataclass(frozen=True)
class ChartSpec:
    title: str
    unit: str
    series: list[ChartSeries] = field(default_factory=list)


@dataclass(frozen=True)
class ReportView:
    key: str  # the server's report name
    title: str
    description: str
    tables: list[TableSpec]
    kpis: Callable[[Any, int], list[Kpi]]
    chart: Callable[[Any], ChartSpec]


def _col(header: str, attr: str, kind: str = "text", suffix: str = "") -> ReportColumn:
    return ReportColumn(header, lambda row, a=attr: getattr(row, a), kind, suffix)


def _bucket() -> ReportColumn:
    return _col(_t("Period"), "bucket_start", "bucket")


def _counts() -> list[ReportColumn]:
    return [
        _col(_t("Booked"), "booked", "count"),
        _col(_t("Completed"), "completed", "count"),
        _col(_t("Cancelled"), "cancelled", "count"),
        _col(_t("No-show"), "no_show", "count"),
        _col(_t("No-show rate"), "no_show_rate", "figure", " %"),
    ]


def _flow() -> list[ReportColumn]:
    return [
        _col(_t("Patients"), "patients", "count"),
        _col(_t("Wait median"), "wait_median_min", "figure", " min"),
        _col(_t("Wait p90"), "wait_p90_min", "figure", " min"),
        _col(_t("Consultation median"), "consult_median_min", "figure", " min"),
        _col(_t("Consultation p90"), "consult_p90_min", "figure", " min"),
    ]


def _occupancy() -> list[ReportColumn]:
    return [
        _col(_t("Beds"), "beds", "count"),
        _col(_t("Bed-nights"), "bed_nights", "count"),
        _col(_t("Occupied"), "occupied_midnights", "count"),
        _col(_t("Occupancy"), "occupancy_pct", "figure", " %"),
    ]


def _points(rows: list[Any], attr: str) -> list[tuple[date, float]]:
    return [
        (row.bucket_start, float(getattr(row, attr)))
        for row in rows
        if getattr(row, attr) is not None
    ]


def _top_series(rows: list[Any], group: str, name: str, attr: str, top: int = 4) -> list[Any]:
    """One chart line per group (department, ward), the ``top`` busiest groups."""
    weight: dict[Any, float] = {}
    names: dict[Any, str] = {}
    for row in rows:
        key = getattr(row, group)
        weight[key] = weight.get(key, 0.0) + float(getattr(row, attr) or 0)
        names[key] = getattr(row, name)
    chosen = sorted(weight, key=lambda k: (-weight[k], names[k]))[:top]
    return [(names[k], [r for r in rows if getattr(r, group) == k]) for k in chosen]


# --- the five reports ----------------------------------------------------------------------


def _activity() -> ReportView:
    def kpis(r: Any, _minor: int) -> list[Kpi]:
        t = r.totals
        return [
            Kpi(_t("Registrations"), count_text(t.registrations), _t("New patient records")),
            Kpi(_t("Appointments"), count_text(t.booked), _t("Appointments due in the period")),
            Kpi(_t("Completed"), count_text(t.completed)),
            Kpi(_t("Cancelled"), count_text(t.cancelled)),
            Kpi(
                _t("No-show rate"),
                figure_text(t.no_show_rate, " %"),
                _t("No-shows among appointments kept or missed"),
            ),
        ]

    def chart(r: Any) -> ChartSpec:
        return ChartSpec(
            _t("Appointments"),
            "",
            [
                ChartSeries(_t("Booked"), _points(r.series, "booked")),
                ChartSeries(_t("Completed"), _points(r.series, "completed")),
                ChartSeries(_t("No-show"), _points(r.series, "no_show")),
            ],
        )

    return ReportView(
        "activity",
        _t("Activity"),
        _t("Registrations and appointments by department and doctor"),
        [
            TableSpec(
                "by_doctor",
                _t("By doctor"),
                lambda r: r.by_doctor,
                [
                    _col(_t("Department"), "department_name"),
                    _col(_t("Doctor"), "doctor_name"),
                    *_counts(),
                ],
            ),
            TableSpec(
                "by_department",
                _t("By department"),
                lambda r: r.by_department,
                [_col(_t("Department"), "department_name"), *_counts()],
            ),
            TableSpec(
                "series",
                _t("Over time"),
                lambda r: r.series,
                [_bucket(), _col(_t("Registrations"), "registrations", "count"), *_counts()],
            ),
        ],
        kpis,
        chart,
    )


def _clinic_flow() -> ReportView:
    def kpis(r: Any, _minor: int) -> list[Kpi]:
        t = r.totals
        return [
            Kpi(_t("Patients checked in"), count_text(t.patients)),
            Kpi(
                _t("Median wait"),
                figure_text(t.wait_median_min, " min"),
                _t("Check-in to called (or to the start when never called)"),
            ),
            Kpi(_t("Wait, 90th percentile"), figure_text(t.wait_p90_min, " min")),
            Kpi(
                _t("Median consultation"),
                figure_text(t.consult_median_min, " min"),
                _t("Start to completion of the consultation"),
            ),
            Kpi(_t("Consultation, 90th percentile"), figure_text(t.consult_p90_min, " min")),
        ]

    def chart(r: Any) -> ChartSpec:
        lines = _top_series(r.series, "department_id", "department_name", "patients")
        return ChartSpec(
            _t("Median wait by department"),
            "min",
            [ChartSeries(name, _points(rows, "wait_median_min")) for name, rows in lines],
        )

    dept = _col(_t("Department"), "department_name")
    return ReportView(
        "clinic-flow",
        _t("Clinic flow"),
        _t("Queue waiting and consultation times by department"),
        [
            TableSpec(
                "by_department", _t("By department"), lambda r: r.by_department, [dept, *_flow()]
            ),
            TableSpec("series", _t("Over time"), lambda r: r.series, [_bucket(), dept, *_flow()]),
        ],
        kpis,
        chart,
    )


def _inpatient() -> ReportView:
    def kpis(r: Any, _minor: int) -> list[Kpi]:
        t = r.totals
        return [
            Kpi(
                _t("Bed occupancy"),
                figure_text(t.occupancy_pct, " %"),
                _t("Occupied midnights ÷ bed-nights available"),
            ),
            Kpi(_t("Occupied bed-nights"), count_text(t.occupied_midnights)),
            Kpi(_t("Admissions"), count_text(t.admissions)),
            Kpi(_t("Discharges"), count_text(t.discharges)),
            Kpi(
                _t("Average length of stay"),
                figure_text(t.average_los_days, " " + _t("days")),
                _t("Over the period's discharges"),
            ),
        ]

    def chart(r: Any) -> ChartSpec:
        lines = _top_series(r.series, "ward_id", "ward_code", "occupied_midnights")
        return ChartSpec(
            _t("Occupancy by ward"),
            "%",
            [ChartSeries(name, _points(rows, "occupancy_pct")) for name, rows in lines],
        )

    ward = [_col(_t("Ward"), "ward_code"), _col(_t("Name"), "ward_name")]
    return ReportView(
        "inpatient",
        _t("Inpatients"),
        _t("Bed occupancy, admissions, discharges and length of stay by ward"),
        [
            TableSpec(
                "by_ward",
                _t("By ward"),
                lambda r: r.by_ward,
                ward
                + _occupancy()
                + [
                    _col(_t("Admissions"), "admissions", "count"),
                    _col(_t("Discharges"), "discharges", "count"),
                    _col(_t("Avg length of stay"), "average_los_days", "figure", " d"),
                ],
            ),
            TableSpec(
                "series", _t("Over time"), lambda r: r.series, [_bucket(), *ward, *_occupancy()]
            ),
        ],
        kpis,
        chart,
    )


def _revenue() -> ReportView:
    def kpis(r: Any, minor: int) -> list[Kpi]:
        t = r.totals
        return [
            Kpi(
                _t("Invoiced") + f" ({r.currency})",
                money_text(t.invoiced, minor),
                _t("{n} invoices issued in the period").format(n=t.invoices),
            ),
            Kpi(
                _t("Collected") + f" ({r.currency})",
                money_text(t.collected, minor),
                _t("Payments less refunds"),
            ),
            Kpi(
                _t("Outstanding") + f" ({r.currency})",
                money_text(t.outstanding, minor),
                _t("Open receivables on {day}").format(day=r.ageing_as_of.strftime("%d %b %Y")),
            ),
            Kpi(
                _t("Over 90 days") + f" ({r.currency})",
                money_text(
                    next((a.total for a in r.ageing if a.bucket == "90+"), Decimal(0)), minor
                ),
            ),
        ]

    def chart(r: Any) -> ChartSpec:
        return ChartSpec(
            _t("Invoiced and collected"),
            r.currency,
            [
                ChartSeries(_t("Invoiced"), _points(r.series, "invoiced")),
                ChartSeries(_t("Collected"), _points(r.series, "collected")),
            ],
        )

    return ReportView(
        "revenue",
        _t("Revenue"),
        _t("Invoiced, collected and outstanding money"),
        [
            TableSpec(
                "by_category",
                _t("By category"),
                lambda r: r.by_category,
                [
                    _col(_t("Category"), "category"),
                    _col(_t("Lines"), "lines", "count"),
                    _col(_t("Invoiced"), "invoiced", "money"),
                ],
            ),
            TableSpec(
                "by_department",
                _t("By department"),
                lambda r: r.by_department,
                [
                    _col(_t("Department"), "department_name"),
                    _col(_t("Lines"), "lines", "count"),
                    _col(_t("Invoiced"), "invoiced", "money"),
                ],
            ),
            TableSpec(
                "by_method",
                _t("Collected by method"),
                lambda r: r.by_method,
                [
                    _col(_t("Method"), "method"),
                    _col(_t("Receipts"), "receipts", "count"),
                    _col(_t("Received"), "received", "money"),
                    _col(_t("Refunded"), "refunded", "money"),
                    _col(_t("Net"), "net", "money"),
                ],
            ),
            TableSpec(
                "ageing",
                _t("Receivables ageing"),
                lambda r: r.ageing,
                [
                    _col(_t("Days"), "bucket"),
                    _col(_t("Invoices"), "invoices", "count"),
                    _col(_t("Patients owe"), "patient", "money"),
                    _col(_t("Payers owe"), "payer", "money"),
                    _col(_t("Total"), "total", "money"),
                ],
            ),
            TableSpec(
                "series",
                _t("Over time"),
                lambda r: r.series,
                [
                    _bucket(),
                    _col(_t("Invoiced"), "invoiced", "money"),
                    _col(_t("Collected"), "collected", "money"),
                ],
            ),
        ],
        kpis,
        chart,
    )


def _pharmacy() -> ReportView:
    def kpis(r: Any, minor: int) -> list[Kpi]:
        t = r.totals
        return [
            Kpi(_t("Dispenses"), count_text(t.dispenses)),
            Kpi(_t("Lines dispensed"), count_text(t.lines)),
            Kpi(
                _t("Dispensed value") + f" ({r.currency})",
                money_text(t.dispensed_value, minor),
                _t("At cost, net of returns"),
            ),
            Kpi(
                _t("Waste and expiry") + f" ({r.currency})",
                money_text(t.waste_value, minor),
                _t("Written off and recalled stock, at cost"),
            ),
            Kpi(
                _t("Stock value today") + f" ({r.currency})",
                money_text(t.stock_value, minor),
                _t("At cost"),
            ),
        ]

    def chart(r: Any) -> ChartSpec:
        return ChartSpec(
            _t("Dispensed value"),
            r.currency,
            [ChartSeries(_t("Dispensed"), _points(r.series, "value"))],
        )

    return ReportView(
        "pharmacy",
        _t("Pharmacy"),
        _t("Dispensing, waste and stock value"),
        [
            TableSpec(
                "top_items",
                _t("Top items"),
                lambda r: r.top_items,
                [
                    _col(_t("Item"), "item_name"),
                    _col(_t("Lines"), "lines", "count"),
                    _col(_t("Quantity"), "quantity", "count"),
                    _col(_t("Value"), "value", "money"),
                ],
            ),
            TableSpec(
                "waste",
                _t("Waste"),
                lambda r: r.waste,
                [
                    _col(_t("Month"), "month"),
                    _col(_t("Reason"), "reason_code"),
                    _col(_t("Quantity"), "quantity", "count"),
                    _col(_t("Value"), "value", "money"),
                ],
            ),
            TableSpec(
                "stock_value",
                _t("Stock value"),
                lambda r: r.stock_value,
                [
                    _col(_t("Location"), "location_code"),
                    _col(_t("Name"), "location_name"),
                    _col(_t("Items"), "items", "count"),
                    _col(_t("Value"), "value", "money"),
                ],
            ),
            TableSpec(
                "series",
                _t("Over time"),
                lambda r: r.series,
                [
                    _bucket(),
                    _col(_t("Dispenses"), "dispenses", "count"),
                    _col(_t("Lines"), "lines", "count"),
                    _col(_t("Value"), "value", "money"),
                ],
            ),
        ],
        kpis,
        chart,
    )


def report_views() -> list[ReportView]:
    """The reports in the order the workspace lists them."""
    return [_activity(), _clinic_flow(), _inpatient(), _revenue(), _pharmacy()]
