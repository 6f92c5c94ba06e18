"""Payroll over HTTP: a month's run pro-rates salaries, pays night shifts at the configured
rate, deducts tax and pension (half up to cents), freezes when final (PostgreSQL refuses
later changes), one run per month; payslips reach HR, managers and their own employee only."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.server.api.staff_factories import new_department, new_employee, new_staff

_USED: set[tuple[int, int]] = set()


def _past_month() -> date:
    """A month no other test pays (pay runs are one per month in the shared database)."""
    while True:
        pick = (random.randint(1960, 2015), random.randint(1, 12))
        if pick not in _USED:
            _USED.add(pick)
            return date(pick[0], pick[1], 1)


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _night(client: Any, hr: dict[str, str], staff_id: int, dept: int, day: date) -> None:
    start = datetime(day.year, day.month, day.day, 20, tzinfo=UTC)
    r = client.post(
        "/api/v1/shifts",
        json={
            "staff_id": staff_id,
            "department_id": dept,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=10)).isoformat(),
            "kind": "night",
        },
        headers=hr,
    )
    assert r.status_code == 201, r.text


def test_a_pay_run_prorates_pays_nights_and_deducts(client: Any, headers_for: Any) -> None:
    month = date(random.choice(range(1960, 2015)), 4, 1)  # April: 30 days
    while month in {date(y, m, 1) for y, m in _USED}:
        month = month.replace(year=month.year + 1)
    _USED.add((month.year, month.month))
    hr = headers_for("hr_officer")
    rates = client.get("/api/v1/payroll/settings", headers=hr).json()
    dept = new_department(client, headers_for)
    # Hired on the 16th of a 30-day month: 15 days paid.
    joiner = new_staff(client, headers_for, dept, salary="3000.00", hire_date=f"{month:%Y-%m}-16")
    # Whole month, two night shifts.
    full = new_staff(client, headers_for, dept, salary="2345.67", hire_date="1950-01-01")
    _night(client, hr, full["id"], dept, month.replace(day=3))
    _night(client, hr, full["id"], dept, month.replace(day=30))  # starts in the month: counts
    # Left before the month: not paid.
    gone = new_staff(
        client, headers_for, dept, hire_date="1950-01-01", end_date=f"{month.year - 1}-12-31"
    )
    run = client.post("/api/v1/pay-runs", json={"period": f"{month:%Y-%m}"}, headers=hr)
    assert run.status_code == 201, run.text
    assert run.json()["status"] == "draft"
    slips = {
        s["staff_id"]: s
        for s in client.get(f"/api/v1/pay-runs/{run.json()['id']}/payslips", headers=hr).json()
    }
    assert gone["id"] not in slips
    tax = Decimal(rates["income_tax_percent"])
    pension = Decimal(rates["pension_percent"])
    night = Decimal(rates["night_shift_allowance"])

    j = slips[joiner["id"]]
    assert (j["days_paid"], j["days_in_period"]) == (15, 30)
    assert Decimal(j["base_pay"]) == Decimal("1500.00")
    assert Decimal(j["income_tax"]) == _cents(Decimal("1500.00") * tax / 100)

    f = slips[full["id"]]
    assert f["night_shifts"] == 2
    gross = Decimal("2345.67") + 2 * night
    assert Decimal(f["gross_pay"]) == gross
    assert Decimal(f["income_tax"]) == _cents(gross * tax / 100)
    assert Decimal(f["pension"]) == _cents(gross * pension / 100)
    assert Decimal(f["net_pay"]) == gross - Decimal(f["income_tax"]) - Decimal(f["pension"])
    assert f["net_pay"].count(".") == 1 and len(f["net_pay"].split(".")[1]) == 2


def test_a_final_run_is_frozen_and_a_month_has_one_run(
    client: Any, headers_for: Any, db: Any
) -> None:
    month = _past_month()
    hr = headers_for("hr_officer")
    dept = new_department(client, headers_for)
    new_staff(client, headers_for, dept, hire_date=f"{month:%Y-%m}-01")
    run = client.post("/api/v1/pay-runs", json={"period": f"{month:%Y-%m}"}, headers=hr).json()
    second = client.post("/api/v1/pay-runs", json={"period": f"{month:%Y-%m}"}, headers=hr)
    assert second.status_code == 409
    assert second.json()["code"] == "pay_run_exists"
    manager = headers_for("manager")
    assert (
        client.post(
            f"/api/v1/pay-runs/{run['id']}/finalise",
            json={"version": run["version"]},
            headers=manager,
        ).status_code
        == 403
    )
    final = client.post(
        f"/api/v1/pay-runs/{run['id']}/finalise", json={"version": run["version"]}, headers=hr
    )
    assert final.status_code == 200, final.text
    assert final.json()["status"] == "final"
    again = client.post(
        f"/api/v1/pay-runs/{run['id']}/recalculate",
        json={"version": final.json()["version"]},
        headers=hr,
    )
    assert again.status_code == 409
    assert again.json()["code"] == "pay_run_final"
    # Not even the database owner changes a final payslip.
    with pytest.raises(DBAPIError, match="pay run is final"), db.owner_engine.begin() as conn:
        conn.execute(
            text("UPDATE payslips SET full_name = 'x' WHERE pay_run_id = :id"), {"id": run["id"]}
        )


def test_draft_recalculation_picks_up_changes(client: Any, headers_for: Any) -> None:
    month = _past_month()
    hr = headers_for("hr_officer")
    dept = new_department(client, headers_for)
    person = new_staff(client, headers_for, dept, salary="1000.00", hire_date=f"{month:%Y-%m}-01")
    run = client.post("/api/v1/pay-runs", json={"period": f"{month:%Y-%m}"}, headers=hr).json()
    r = client.patch(
        f"/api/v1/staff/{person['id']}",
        json={"version": person["version"], "base_monthly_salary": "1200.00"},
        headers=hr,
    )
    assert r.status_code == 200, r.text
    again = client.post(
        f"/api/v1/pay-runs/{run['id']}/recalculate", json={"version": run["version"]}, headers=hr
    )
    assert again.status_code == 200, again.text
    slips = client.get(f"/api/v1/pay-runs/{run['id']}/payslips", headers=hr).json()
    mine = next(s for s in slips if s["staff_id"] == person["id"])
    assert mine["monthly_salary"] == "1200.00"


def test_payslips_reach_only_hr_managers_and_their_employee(
    client: Any, headers_for: Any, make_user: Any, login: Any
) -> None:
    month = _past_month()
    hr = headers_for("hr_officer")
    dept = new_department(client, headers_for)
    nurse = new_employee(client, headers_for, make_user, login, dept, hire_date="1950-01-01")
    colleague = new_employee(client, headers_for, make_user, login, dept, hire_date="1950-01-01")
    run = client.post("/api/v1/pay-runs", json={"period": f"{month:%Y-%m}"}, headers=hr).json()
    slips = {
        s["staff_id"]: s
        for s in client.get(f"/api/v1/pay-runs/{run['id']}/payslips", headers=hr).json()
    }
    own, theirs = slips[nurse.staff_id]["id"], slips[colleague.staff_id]["id"]
    # Drafts are not pay yet: the employee does not see them.
    assert client.get(f"/api/v1/me/payslips/{own}", headers=nurse.headers).status_code == 404
    client.post(
        f"/api/v1/pay-runs/{run['id']}/finalise", json={"version": run["version"]}, headers=hr
    )
    assert client.get(f"/api/v1/me/payslips/{own}", headers=nurse.headers).status_code == 200
    assert own in [s["id"] for s in client.get("/api/v1/me/payslips", headers=nurse.headers).json()]
    other = client.get(f"/api/v1/me/payslips/{theirs}", headers=nurse.headers)
    assert other.status_code == 404
    assert other.json()["code"] == "payslip_not_found"
    assert client.get(f"/api/v1/payslips/{theirs}", headers=nurse.headers).status_code == 403
    assert (
        client.get(f"/api/v1/payslips/{theirs}", headers=headers_for("manager")).status_code == 200
    )
    # A print is recorded (audited) by those who may read the payslip, and only by them.
    assert client.post(f"/api/v1/payslips/{theirs}/prints", headers=hr).status_code == 204
    assert (
        client.post(f"/api/v1/payslips/{theirs}/prints", headers=nurse.headers).status_code == 403
    )


def test_settings_are_versioned_and_validated(client: Any, headers_for: Any) -> None:
    hr = headers_for("hr_officer")
    current = client.get("/api/v1/payroll/settings", headers=hr).json()
    bad = client.put(
        "/api/v1/payroll/settings",
        json={**current, "income_tax_percent": "101"},
        headers=hr,
    )
    assert bad.status_code == 422
    same = {
        k: current[k] for k in ("night_shift_allowance", "income_tax_percent", "pension_percent")
    }
    ok = client.put(
        "/api/v1/payroll/settings", json={**same, "version": current["version"]}, headers=hr
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == current["version"] + 1
    stale = client.put(
        "/api/v1/payroll/settings", json={**same, "version": current["version"]}, headers=hr
    )
    assert stale.status_code == 409
    assert (
        client.put(
            "/api/v1/payroll/settings",
            json={**same, "version": ok.json()["version"]},
            headers=headers_for("manager"),
        ).status_code
        == 403
    )


def test_a_bad_period_is_refused(client: Any, headers_for: Any) -> None:
    hr = headers_for("hr_officer")
    for period in ("2026-13", "26-01", "2026-1", "2999-01"):
        r = client.post("/api/v1/pay-runs", json={"period": period}, headers=hr)
        assert r.status_code == 422, (period, r.text)
