"""The management reports as the fake server answers them: contract models built for the
requested period (a bucket per day/week/month, figures that follow from the day), so the
reports workspace has something true-to-shape to show against the fake."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from hms_contract.reports import (
    ActivityReport,
    ClinicFlowReport,
    InpatientReport,
    PharmacyReport,
    RevenueReport,
)

GENERATED_AT = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def _period(request: httpx.Request) -> tuple[date, date, str]:
    params = request.url.params
    return (
        date.fromisoformat(params["start"]),
        date.fromisoformat(params["end"]),
        params.get("grouping", "day"),
    )


def _buckets(start: date, end: date, grouping: str) -> list[date]:
    found: list[date] = []
    day = start
    while day <= end:
        if grouping == "month":
            bucket = day.replace(day=1)
        elif grouping == "week":
            bucket = day - timedelta(days=day.weekday())
        else:
            bucket = day
        bucket = max(bucket, start)
        if bucket not in found:
            found.append(bucket)
        day += timedelta(days=1)
    return found


def _head(request: httpx.Request) -> tuple[dict[str, Any], list[date]]:
    start, end, grouping = _period(request)
    period = {
        "start": start,
        "end": end,
        "grouping": grouping,
        "timezone": "UTC",
        "generated_at": GENERATED_AT,
    }
    return period, _buckets(start, end, grouping)


def _rate(no_show: int, completed: int) -> Decimal | None:
    if not no_show + completed:
        return None
    return (Decimal(no_show * 100) / (no_show + completed)).quantize(Decimal("0.1"))


def _counts(booked: int) -> dict[str, Any]:
    completed, cancelled, no_show = booked * 7 // 10, booked // 10, booked // 8
    return {
        "booked": booked,
        "completed": completed,
        "cancelled": cancelled,
        "no_show": no_show,
        "no_show_rate": _rate(no_show, completed),
    }


def activity(request: httpx.Request) -> ActivityReport:
    period, buckets = _head(request)
    series = [
        {"bucket_start": b, "registrations": 3 + b.day % 4, **_counts(20 + b.toordinal() % 9)}
        for b in buckets
    ]
    booked = sum(s["booked"] for s in series)
    return ActivityReport.model_validate(
        {
            "period": period,
            "totals": {"registrations": sum(s["registrations"] for s in series), **_counts(booked)},
            "series": series,
            "by_department": [
                {"department_id": 1, "department_name": "General Medicine", **_counts(booked)}
            ],
            "by_doctor": [
                {
                    "department_id": 1,
                    "department_name": "General Medicine",
                    "doctor_id": 1,
                    "doctor_name": "Dr Grace Okafor",
                    **_counts(booked),
                }
            ],
        }
    )


def clinic_flow(request: httpx.Request) -> ClinicFlowReport:
    period, buckets = _head(request)
    figures = {
        "patients": 12,
        "wait_median_min": Decimal("14.0"),
        "wait_p90_min": Decimal("31.5"),
        "consult_median_min": Decimal("11.0"),
        "consult_p90_min": Decimal("19.0"),
    }
    dept = {"department_id": 1, "department_name": "General Medicine"}
    return ClinicFlowReport.model_validate(
        {
            "period": period,
            "totals": figures,
            "by_department": [{**dept, **figures}],
            "series": [{**dept, **figures, "bucket_start": b} for b in buckets],
        }
    )


def inpatient(request: httpx.Request) -> InpatientReport:
    period, buckets = _head(request)
    occupancy = {
        "beds": 10,
        "bed_nights": 10 * len(buckets),
        "occupied_midnights": 8 * len(buckets),
        "occupancy_pct": Decimal("80.0"),
    }
    ward = {"ward_id": 1, "ward_code": "MED-A", "ward_name": "Medical A"}
    moves = {"admissions": 5, "discharges": 4, "average_los_days": Decimal("4.5")}
    return InpatientReport.model_validate(
        {
            "period": period,
            "totals": {**occupancy, **moves},
            "by_ward": [{**ward, **occupancy, **moves}],
            "series": [
                {
                    **ward,
                    "bucket_start": b,
                    "beds": 10,
                    "bed_nights": 10,
                    "occupied_midnights": 8,
                    "occupancy_pct": Decimal("80.0"),
                }
                for b in buckets
            ],
        }
    )


def revenue(request: httpx.Request) -> RevenueReport:
    period, buckets = _head(request)
    series = [
        {"bucket_start": b, "invoiced": Decimal("1250.00"), "collected": Decimal("980.50")}
        for b in buckets
    ]
    invoiced = sum((s["invoiced"] for s in series), Decimal(0))
    collected = sum((s["collected"] for s in series), Decimal(0))
    return RevenueReport.model_validate(
        {
            "period": period,
            "currency": "EUR",
            "ageing_as_of": period["end"],
            "totals": {
                "invoices": 10 * len(series),
                "invoiced": invoiced,
                "collected": collected,
                "outstanding": Decimal("2310.00"),
            },
            "series": series,
            "by_category": [{"category": "consultation", "lines": 10, "invoiced": invoiced}],
            "by_department": [
                {
                    "department_id": 1,
                    "department_name": "General Medicine",
                    "lines": 10,
                    "invoiced": invoiced,
                }
            ],
            "by_method": [
                {
                    "method": "cash",
                    "receipts": 4,
                    "received": collected,
                    "refunded": Decimal(0),
                    "net": collected,
                }
            ],
            "ageing": [
                {
                    "bucket": b,
                    "invoices": 1,
                    "patient": Decimal("577.50"),
                    "payer": Decimal(0),
                    "total": Decimal("577.50"),
                }
                for b in ("0-30", "31-60", "61-90", "90+")
            ],
        }
    )


def pharmacy(request: httpx.Request) -> PharmacyReport:
    period, buckets = _head(request)
    return PharmacyReport.model_validate(
        {
            "period": period,
            "currency": "EUR",
            "totals": {
                "dispenses": 4 * len(buckets),
                "lines": 6 * len(buckets),
                "dispensed_value": Decimal("12.40") * len(buckets),
                "waste_value": Decimal("3.10"),
                "stock_value": Decimal("4520.75"),
            },
            "series": [
                {"bucket_start": b, "dispenses": 4, "lines": 6, "value": Decimal("12.40")}
                for b in buckets
            ],
            "top_items": [
                {
                    "item_id": 1,
                    "item_name": "Paracetamol 500 mg tablet",
                    "lines": 6,
                    "quantity": Decimal(120),
                    "value": Decimal("12.40"),
                }
            ],
            "waste": [
                {
                    "month": period["start"].strftime("%Y-%m"),
                    "reason_code": "expired",
                    "quantity": Decimal(10),
                    "value": Decimal("3.10"),
                }
            ],
            "stock_value": [
                {
                    "location_id": 1,
                    "location_code": "PHARM",
                    "location_name": "Main pharmacy",
                    "items": 42,
                    "value": Decimal("4520.75"),
                }
            ],
        }
    )


def csv_table(request: httpx.Request, name: str) -> httpx.Response:
    start, end, _grouping = _period(request)
    table = request.url.params.get("table", "main")
    return httpx.Response(
        200,
        content=f"\ufeffreport,table\r\n{name},{table}\r\n".encode(),
        headers={
            "content-type": "text/csv; charset=utf-8",
            "content-disposition": f'attachment; filename="{name}_{start}_{end}_{table}.csv"',
        },
    )


REPORTS = {
    "activity": (activity, ActivityReport),
    "clinic-flow": (clinic_flow, ClinicFlowReport),
    "inpatient": (inpatient, InpatientReport),
    "revenue": (revenue, RevenueReport),
    "pharmacy": (pharmacy, PharmacyReport),
}
