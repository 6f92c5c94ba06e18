"""Report use cases without a database: period rules, how figures are derived from the
aggregates the queries return (rates, rounding, totals), and the audit of a run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, get_args

import pytest

from hms_contract.reports import (
    ActivityReport,
    ClinicFlowReport,
    InpatientReport,
    PharmacyReport,
    RevenueReport,
)
from hms_server.adapters.queries.reports import ReportQueries, Window
from hms_server.api.routers.reports import TABLES
from hms_server.domain.errors import ValidationFailedError
from hms_server.services import reports
from tests.server.unit.fake_uow import FakeUnitOfWork


class FakeReportQueries:
    """Canned aggregates, shaped like ``ReportQueries``' rows; remembers the window."""

    def __init__(self) -> None:
        self.windows: list[Window] = []

    def activity_series(self, w: Window) -> list[dict[str, Any]]:
        self.windows.append(w)
        return [
            {"bucket_start": date(2026, 3, 2), "registrations": 4, "booked": 10,
             "completed": 6, "cancelled": 2, "no_show": 2},
            {"bucket_start": date(2026, 3, 9), "registrations": 1, "booked": 3,
             "completed": 0, "cancelled": 3, "no_show": 0},
        ]  # fmt: skip

    def activity_by_doctor(self, w: Window) -> list[dict[str, Any]]:
        base = {"department_id": 1, "department_name": "Cardiology"}
        return [
            {**base, "doctor_id": None, "doctor_name": None, "department_total": 1,
             "booked": 13, "completed": 6, "cancelled": 5, "no_show": 2},
            {**base, "doctor_id": 7, "doctor_name": "Dr A", "department_total": 0,
             "booked": 13, "completed": 6, "cancelled": 5, "no_show": 2},
        ]  # fmt: skip

    def receivables_ageing(self, as_of: date) -> dict[str, tuple[Decimal, Decimal, int]]:
        return {"31-60": (Decimal("10.005"), Decimal("5"), 2)}

    def revenue_series(self, w: Window) -> list[dict[str, Any]]:
        return []

    def invoice_totals(self, w: Window) -> dict[str, Any]:
        return {"invoices": 0, "invoiced": Decimal(0)}

    def revenue_by_line(self, w: Window) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        department = {"department_id": None, "department_name": None, "lines": 1,
                      "invoiced": Decimal("12.345")}  # fmt: skip
        return [], [department]

    def collected_by_method(self, w: Window) -> list[dict[str, Any]]:
        return [{"method": "cash", "receipts": 2, "received": Decimal("30"),
                 "refunded": Decimal("5")}]  # fmt: skip


def _uow() -> tuple[FakeUnitOfWork, FakeReportQueries]:
    queries = FakeReportQueries()
    return FakeUnitOfWork({ReportQueries: queries}), queries


@pytest.mark.parametrize(
    ("start", "end", "grouping", "field"),
    [
        (date(2026, 3, 2), date(2026, 3, 1), "day", "end"),
        (date(2024, 1, 1), date(2026, 1, 1), "day", "end"),  # 732 days
        (date(2026, 3, 1), date(2026, 3, 2), "quarter", "grouping"),
    ],
)
def test_a_bad_period_is_refused_before_anything_is_read(start, end, grouping, field):
    uow, queries = _uow()
    with pytest.raises(ValidationFailedError) as refused:
        reports.activity(uow, start=start, end=end, grouping=grouping)
    assert [e["field"] for e in refused.value.extra["errors"]] == [field]
    assert queries.windows == [] and uow.audited == [] and uow.commits == 0


def test_two_years_with_a_leap_day_is_allowed():
    reports.check_period(date(2024, 1, 1), date(2025, 12, 31), "week")


def test_activity_totals_and_no_show_rate_come_from_the_aggregates():
    uow, queries = _uow()
    report = reports.activity(uow, start=date(2026, 3, 2), end=date(2026, 3, 15), grouping="week")
    assert report["totals"] == {
        "registrations": 5,
        "booked": 13,
        "completed": 6,
        "cancelled": 5,
        "no_show": 2,
        "no_show_rate": Decimal("25.0"),  # 2 of 8 kept or missed
    }
    assert [r["no_show_rate"] for r in report["series"]] == [Decimal("25.0"), None]
    assert [r["doctor_id"] for r in report["by_doctor"]] == [7]
    assert [r["department_id"] for r in report["by_department"]] == [1]
    window = queries.windows[0]
    assert window.lo == uow.hospital.day_bounds(date(2026, 3, 2))[0]
    assert window.hi == uow.hospital.day_bounds(date(2026, 3, 15))[1]
    assert uow.audited == [
        (
            "reports",
            "report.run",
            {
                "detail": {
                    "name": "activity",
                    "from": "2026-03-02",
                    "to": "2026-03-15",
                    "grouping": "week",
                    "output": "json",
                }
            },
        )
    ]


def test_revenue_rounds_money_once_and_names_the_unassigned_department():
    uow, _queries = _uow()
    report = reports.revenue(uow, start=date(2026, 3, 1), end=date(2026, 3, 31), grouping="day")
    assert report["by_department"][0]["department_name"] == "(no department)"
    assert report["by_department"][0]["invoiced"] == Decimal("12.35")  # half up
    assert report["by_method"][0]["net"] == Decimal("25.00")
    assert report["totals"]["collected"] == Decimal("25.00")
    assert [a["bucket"] for a in report["ageing"]] == ["0-30", "31-60", "61-90", "90+"]
    assert report["ageing"][1]["total"] == Decimal("15.01")
    assert report["totals"]["outstanding"] == Decimal("15.01")
    assert report["ageing_as_of"] == date(2026, 3, 31)


REPORT_MODELS = {
    "activity": ActivityReport,
    "clinic-flow": ClinicFlowReport,
    "inpatient": InpatientReport,
    "revenue": RevenueReport,
    "pharmacy": PharmacyReport,
}


@pytest.mark.parametrize(
    ("name", "table"),
    [(name, table) for name, tables in TABLES.items() for table in tables],
)
def test_every_csv_column_is_a_field_of_its_contract_row(name, table):
    attribute, columns = TABLES[name][table]
    report_model = REPORT_MODELS[name]
    annotation = report_model.model_fields[attribute].annotation
    row_model = get_args(annotation)[0]  # list[Row] -> Row
    assert [field for _, field in columns if field not in row_model.model_fields] == []
    assert len({header for header, _ in columns}) == len(columns)  # headers are unique
