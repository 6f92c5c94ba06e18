"""Stock alerts (stock-outs, low stock, near expiry in configurable windows, expired) and
reports (waste by reason and month, valuation by location, weekly consumption)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hms_server.adapters.queries.pharmacy import StockQueries
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ValidationFailedError
from hms_server.domain.pharmacy import expiry_window, field_problem


def alerts(
    uow: UnitOfWork, *, location_id: int | None, windows: list[int], limit: int
) -> dict[str, Any]:
    """Everything that needs the store keeper's attention, most urgent first."""
    windows = sorted({w for w in windows if w > 0}, reverse=True)
    if not windows:
        raise ValidationFailedError(
            "Give at least one expiry window in days.",
            extra={"errors": [field_problem("windows", "empty")]},
        )
    with uow:
        today = uow.hospital.today()
        levels, expiring = uow.repo(StockQueries).alert_rows(
            location_id=location_id,
            today=today,
            horizon=today + timedelta(days=max(windows)),
            limit=limit,
        )
        out: dict[str, Any] = {
            "windows": windows,
            "stock_outs": [],
            "low_stock": [],
            "near_expiry": [],
            "expired": [],
        }
        for row in levels:
            kind = "stock_out" if row["quantity"] <= 0 else "low_stock"
            out["stock_outs" if kind == "stock_out" else "low_stock"].append({**row, "kind": kind})
        for row in expiring:
            expiry: date = row["expiry"]
            entry = {
                k: row[k]
                for k in (
                    "item_id",
                    "item_name",
                    "location_id",
                    "location_code",
                    "quantity",
                    "batch_id",
                    "lot",
                    "expiry",
                )
            }
            entry["value"] = uow.hospital.round_money(row["value"])
            if expiry < today or row["status"] == "expired":
                out["expired"].append({**entry, "kind": "expired"})
            else:
                out["near_expiry"].append(
                    {
                        **entry,
                        "kind": "near_expiry",
                        "window_days": expiry_window(expiry, today, windows),
                    }
                )
        return out


def waste(
    uow: UnitOfWork, *, start: date | None, end: date | None, location_id: int | None
) -> list[dict[str, Any]]:
    """Written-off and recalled stock (quantity and value at unit cost) per month and
    reason, in the hospital's calendar (default: the last twelve months)."""
    end = end or uow.hospital.today()
    start = start or end - timedelta(days=365)
    if end < start:
        raise ValidationFailedError(
            "The period ends before it starts.",
            extra={"errors": [field_problem("end", "before start")]},
        )
    with uow:
        lo, _ = uow.hospital.day_bounds(start)
        _, hi = uow.hospital.day_bounds(end)
        rows = uow.repo(StockQueries).waste_rows(
            start=lo, end=hi, tz=uow.hospital.timezone, location_id=location_id
        )
        return [{**r, "value": uow.hospital.round_money(r["value"])} for r in rows]


def valuation(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Stock value (quantity × batch unit cost) per location and status."""
    with uow:
        return [
            {**r, "value": uow.hospital.round_money(r["value"])}
            for r in uow.repo(StockQueries).valuation_rows()
        ]


def consumption(
    uow: UnitOfWork, *, item_id: int, location_id: int | None, weeks: int
) -> dict[str, Any]:
    """Weekly consumption (dispensed, issued, transferred out) of an item, zero-filled."""
    with uow:
        today = uow.hospital.today()
        first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
        start, _ = uow.hospital.day_bounds(first)
        found = uow.repo(StockQueries).consumption_rows(
            item_id=item_id, location_id=location_id, start=start, tz=uow.hospital.timezone
        )
        points = [
            {
                "week_start": first + timedelta(weeks=n),
                "quantity": found.get(first + timedelta(weeks=n), Decimal(0)),
            }
            for n in range(weeks)
        ]
        return {"item_id": item_id, "location_id": location_id, "weeks": weeks, "points": points}
