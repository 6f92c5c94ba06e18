"""Management reports: activity, clinic flow, inpatient occupancy, revenue and pharmacy.

Each use case checks the period, asks ``ReportQueries`` for the aggregates (computed by
PostgreSQL), shapes them like ``hms_contract.reports`` and records in the audit trail that
the report was run (name and period only: reports hold no patient identities, so there is
no per-patient audit). The answers are dicts the routers validate into the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hms_contract.reports import MAX_PERIOD_DAYS
from hms_server.adapters.queries.reports import ReportQueries, Row, Window
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ValidationFailedError

CATEGORY = "reports"
GROUPINGS = ("day", "week", "month")
AGEING_BUCKETS = ("0-30", "31-60", "61-90", "90+")
TOP_ITEMS = 20
_TENTH = Decimal("0.1")


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message, "type": "value_error"}


def check_period(start: date, end: date, grouping: str) -> None:
    """A period runs forwards and covers at most two years; the grouping is known."""
    errors = []
    if end < start:
        errors.append(_problem("end", "must be on or after start"))
    elif (end - start).days + 1 > MAX_PERIOD_DAYS:
        errors.append(_problem("end", f"a report covers at most {MAX_PERIOD_DAYS} days"))
    if grouping not in GROUPINGS:
        errors.append(_problem("grouping", "must be day, week or month"))
    if errors:
        raise ValidationFailedError(
            "The report period is not valid: " + "; ".join(e["message"] for e in errors) + ".",
            extra={"errors": errors},
        )


def _window(uow: UnitOfWork, start: date, end: date, grouping: str) -> Window:
    h = uow.hospital
    return Window(
        start=start,
        end=end,
        lo=h.day_bounds(start)[0],
        hi=h.day_bounds(end)[1],
        now=h.now(),
        tz=h.timezone,
        grouping=grouping,
    )


def _period(uow: UnitOfWork, w: Window) -> dict[str, Any]:
    return {
        "start": w.start,
        "end": w.end,
        "grouping": w.grouping,
        "timezone": uow.hospital.timezone,
        "generated_at": uow.hospital.now(),
    }


def _tenth(value: Any) -> Decimal | None:
    """A figure to one decimal place (half up), or ``None`` when there is nothing to show."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(_TENTH, rounding=ROUND_HALF_UP)


def _percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return _tenth(Decimal(part) * 100 / Decimal(whole))


def _run(
    uow: UnitOfWork,
    name: str,
    start: date,
    end: date,
    grouping: str,
    output: str,
    build: Callable[[ReportQueries, Window], dict[str, Any]],
) -> dict[str, Any]:
    check_period(start, end, grouping)
    with uow:
        w = _window(uow, start, end, grouping)
        with uow.read_only(ReportQueries) as queries:  # the replica, when there is one
            report = {"period": _period(uow, w), **build(queries, w)}
        uow.audit(
            CATEGORY,
            "report.run",
            detail={
                "name": name,
                "from": start.isoformat(),
                "to": end.isoformat(),
                "grouping": grouping,
                "output": output,
            },
        )
        uow.commit()
        return report


# --- activity ------------------------------------------------------------------------------


def _with_rate(row: Row) -> Row:
    return {**row, "no_show_rate": _percent(row["no_show"], row["completed"] + row["no_show"])}


def activity(
    uow: UnitOfWork, *, start: date, end: date, grouping: str, output: str = "json"
) -> dict[str, Any]:
    """Registrations and appointments due in the period (booked, completed, cancelled,
    no-show, no-show rate): totals, a series, by department and by doctor."""

    def build(q: ReportQueries, w: Window) -> dict[str, Any]:
        series = [_with_rate(r) for r in q.activity_series(w)]
        grouped = q.activity_by_doctor(w)
        totals = {
            key: sum(r[key] for r in series)
            for key in ("registrations", "booked", "completed", "cancelled", "no_show")
        }
        return {
            "totals": _with_rate(totals),
            "series": series,
            "by_department": [_with_rate(r) for r in grouped if r["department_total"]],
            "by_doctor": [_with_rate(r) for r in grouped if not r["department_total"]],
        }

    return _run(uow, "activity", start, end, grouping, output, build)


# --- clinic flow ---------------------------------------------------------------------------


def _flow(row: Row) -> Row:
    return {
        **row,
        **{
            key: _tenth(row[key])
            for key in ("wait_median_min", "wait_p90_min", "consult_median_min", "consult_p90_min")
        },
    }


_NO_FLOW = {
    "patients": 0,
    "wait_median_min": None,
    "wait_p90_min": None,
    "consult_median_min": None,
    "consult_p90_min": None,
}


def clinic_flow(
    uow: UnitOfWork, *, start: date, end: date, grouping: str, output: str = "json"
) -> dict[str, Any]:
    """Queue waiting and consultation times (median, 90th percentile) per department, per
    department and bucket, and over the whole clinic."""

    def build(q: ReportQueries, w: Window) -> dict[str, Any]:
        rows = [_flow(r) for r in q.clinic_flow(w)]
        totals = next((r for r in rows if r["is_total"]), _NO_FLOW)
        return {
            "totals": totals,
            "by_department": [r for r in rows if not r["is_total"] and r["is_department"]],
            "series": [r for r in rows if not r["is_total"] and not r["is_department"]],
        }

    return _run(uow, "clinic-flow", start, end, grouping, output, build)


# --- inpatient -----------------------------------------------------------------------------


def _occupancy(row: Row) -> Row:
    return {
        **row,
        "beds": int(row["beds"]),
        "bed_nights": int(row["bed_nights"]),
        "occupied_midnights": int(row["occupied_midnights"]),
        "occupancy_pct": _percent(row["occupied_midnights"], row["bed_nights"]),
    }


def inpatient(
    uow: UnitOfWork, *, start: date, end: date, grouping: str, output: str = "json"
) -> dict[str, Any]:
    """Bed occupancy (occupied midnights / bed-nights) per ward and bucket, admissions,
    discharges and average length of stay per ward and overall."""

    def build(q: ReportQueries, w: Window) -> dict[str, Any]:
        occupancy = [_occupancy(r) for r in q.occupancy(w)]
        movements = q.admission_movements(w)
        moves = {r["ward_id"]: r for r in movements if not r["is_total"]}
        overall = next(
            (r for r in movements if r["is_total"]),
            {"admissions": 0, "discharges": 0, "average_los_days": None},
        )

        def movement(row: Row | None) -> Row:
            row = row or {"admissions": 0, "discharges": 0, "average_los_days": None}
            return {
                "admissions": int(row["admissions"] or 0),
                "discharges": int(row["discharges"] or 0),
                "average_los_days": _tenth(row["average_los_days"]),
            }

        no_beds = {"beds": 0, "bed_nights": 0, "occupied_midnights": 0, "occupancy_pct": None}
        totals = next((r for r in occupancy if r["is_total"]), no_beds)
        return {
            "totals": {**totals, **movement(overall)},
            "by_ward": [
                {**r, **movement(moves.get(r["ward_id"]))}
                for r in occupancy
                if not r["is_total"] and r["is_ward"]
            ],
            "series": [r for r in occupancy if not r["is_total"] and not r["is_ward"]],
        }

    return _run(uow, "inpatient", start, end, grouping, output, build)


# --- revenue -------------------------------------------------------------------------------


def revenue(
    uow: UnitOfWork, *, start: date, end: date, grouping: str, output: str = "json"
) -> dict[str, Any]:
    """Invoiced (by charge category and department) and collected (by payment method) in
    the period; receivables still open, by age, as of the period's end."""
    rm = uow.hospital.round_money

    def build(q: ReportQueries, w: Window) -> dict[str, Any]:
        as_of = min(w.end, uow.hospital.today())
        found = q.receivables_ageing(as_of)
        ageing: list[dict[str, Any]] = []
        for bucket in AGEING_BUCKETS:
            patient, payer, count = found.get(bucket, (Decimal(0), Decimal(0), 0))
            ageing.append(
                {
                    "bucket": bucket,
                    "invoices": count,
                    "patient": rm(patient),
                    "payer": rm(payer),
                    "total": rm(patient + payer),
                }
            )
        series = [
            {**r, "invoiced": rm(r["invoiced"]), "collected": rm(r["collected"])}
            for r in q.revenue_series(w)
        ]
        by_method = [
            {
                **r,
                "received": rm(r["received"]),
                "refunded": rm(r["refunded"]),
                "net": rm(r["received"] - r["refunded"]),
            }
            for r in q.collected_by_method(w)
        ]
        invoices = q.invoice_totals(w)
        categories, departments = q.revenue_by_line(w)
        return {
            "currency": uow.hospital.currency,
            "ageing_as_of": as_of,
            "totals": {
                "invoices": invoices["invoices"],
                "invoiced": rm(invoices["invoiced"]),
                "collected": rm(sum((m["net"] for m in by_method), Decimal(0))),
                "outstanding": rm(sum((a["total"] for a in ageing), Decimal(0))),
            },
            "series": series,
            "by_category": [{**r, "invoiced": rm(r["invoiced"])} for r in categories],
            "by_department": [
                {
                    **r,
                    "department_name": r["department_name"] or "(no department)",
                    "invoiced": rm(r["invoiced"]),
                }
                for r in departments
            ],
            "by_method": by_method,
            "ageing": ageing,
        }

    return _run(uow, "revenue", start, end, grouping, output, build)


# --- pharmacy ------------------------------------------------------------------------------


def pharmacy(
    uow: UnitOfWork, *, start: date, end: date, grouping: str, output: str = "json"
) -> dict[str, Any]:
    """Dispensing (dispenses, lines, value at cost net of returns) in the period and its top
    items; waste and expiry write-offs by month and reason; stock value today by location."""
    rm = uow.hospital.round_money

    def build(q: ReportQueries, w: Window) -> dict[str, Any]:
        waste = [{**r, "value": rm(r["value"])} for r in q.waste(w)]
        by_location: dict[int, dict[str, Any]] = {}
        for r in q.stock_valuation():  # a few rows: location × balance status
            entry = by_location.setdefault(
                r["location_id"],
                {
                    "location_id": r["location_id"],
                    "location_code": r["location_code"],
                    "location_name": r["location_name"],
                    "items": 0,
                    "value": Decimal(0),
                },
            )
            entry["items"] += r["items"]
            entry["value"] += r["value"] or Decimal(0)
        stock_value = [{**e, "value": rm(e["value"])} for e in by_location.values()]
        dispensed = q.dispensing_totals(w)
        return {
            "currency": uow.hospital.currency,
            "totals": {
                "dispenses": dispensed["dispenses"],
                "lines": dispensed["lines"],
                "dispensed_value": rm(dispensed["value"]),
                "waste_value": rm(sum((r["value"] for r in waste), Decimal(0))),
                "stock_value": rm(sum((e["value"] for e in stock_value), Decimal(0))),
            },
            "series": [{**r, "value": rm(r["value"])} for r in q.dispensing_series(w)],
            "top_items": [{**r, "value": rm(r["value"])} for r in q.top_items(w, TOP_ITEMS)],
            "waste": waste,
            "stock_value": stock_value,
        }

    return _run(uow, "pharmacy", start, end, grouping, output, build)


REPORTS: dict[str, Callable[..., dict[str, Any]]] = {
    "activity": activity,
    "clinic-flow": clinic_flow,
    "inpatient": inpatient,
    "revenue": revenue,
    "pharmacy": pharmacy,
}
