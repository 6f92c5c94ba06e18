"""Staff and HR: a month's payroll for a large hospital, the roster week view, concurrent
overlapping shifts for one person, and the payslip PDF.

Sets up an embedded PostgreSQL with ``--staff`` records (default 2,000) in 10 departments
(some hired or leaving inside the month, so pay is pro-rated) and a four-week roster: every
person a shift a day, every fourth one a night (about 56,000 shifts for 2,000 staff), a real
``hms-server run`` and an HR officer.

Measures:
1. ``POST /api/v1/pay-runs`` for the month (every payslip calculated and written in one
   request), then ``POST /pay-runs/{id}/recalculate`` ``--rounds`` times. Target ≤ 5 s for
   2,000 staff.
2. ``GET /api/v1/pay-runs/{id}/payslips`` (all of them).
3. ``GET /api/v1/shifts`` — the week grid of one department (~200 people).
4. 20 concurrent ``POST /api/v1/shifts`` overlapping for one person (one connection each),
   5 rounds → exactly one 201 and 19 ``409 shift_overlap`` per round, no 5xx.
5. ``render_payslip`` in-process (the desktop renders on a worker thread).

Run: .venv/bin/python bench/staff.py [--staff 2000] [--rounds 5] [--requests 30]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from common import create_user, embedded_database, running_server, summary  # noqa: E402

MONTH = date(2026, 10, 1)

SETUP_SQL = """
INSERT INTO departments (name, location, active)
SELECT 'Bench dept ' || d, 'Block ' || d, true FROM generate_series(1, 10) d;
INSERT INTO staff_members (employee_number, full_name, job_title, department_id,
                           employment_type, grade, hire_date, end_date, base_monthly_salary,
                           version)
SELECT 'B' || lpad(n::text, 6, '0'), 'Bench Person ' || n, 'Staff Nurse',
       (SELECT id FROM departments WHERE name = 'Bench dept ' || (1 + n %% 10)),
       'full_time', 'N5',
       CASE WHEN n %% 50 = 0 THEN %(month)s::date + 9 ELSE date '2015-01-01' END,
       CASE WHEN n %% 77 = 0 THEN %(month)s::date + 20 END,
       2000 + (n %% 17) * 123.45, 1
FROM generate_series(1, %(staff)s) n;
INSERT INTO staff_shifts (staff_id, department_id, starts_at, ends_at, kind)
SELECT s.id, s.department_id, t, t + interval '8 hours',
       CASE WHEN (s.id + day) %% 4 = 0 THEN 'night' ELSE 'day' END
FROM staff_members s, generate_series(0, 27) day,
     LATERAL (SELECT (%(month)s::date + day)::timestamptz
                     + CASE WHEN (s.id + day) %% 4 = 0 THEN interval '23 hours'
                            ELSE interval '7 hours' END AS t) x
WHERE s.hire_date <= %(month)s::date + day
  AND (s.end_date IS NULL OR s.end_date >= %(month)s::date + day + 1);
"""


def timed(call) -> tuple[float, httpx.Response]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    response = call()
    return (time.perf_counter() - start) * 1000, response


async def overlap_round(
    url: str, headers: dict[str, str], staff_id: int, department_id: int, day: date
) -> list[int]:
    start = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    clients = [httpx.AsyncClient(base_url=url, headers=headers, timeout=60) for _ in range(20)]
    try:
        bodies = [
            {
                "staff_id": staff_id,
                "department_id": department_id,
                "starts_at": (start + timedelta(minutes=10 * i)).isoformat(),
                "ends_at": (start + timedelta(hours=4, minutes=10 * i)).isoformat(),
                "kind": "day",
            }
            for i in range(20)
        ]
        return [
            r.status_code
            for r in await asyncio.gather(
                *(c.post("/api/v1/shifts", json=b) for c, b in zip(clients, bodies, strict=True))
            )
        ]
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--staff", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    ok = True
    with embedded_database() as url:
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in SETUP_SQL.split(";"):
                if statement.strip():
                    conn.execute(statement, {"staff": args.staff, "month": MONTH})  # type: ignore[arg-type]
            shifts = conn.execute("SELECT count(*) FROM staff_shifts").fetchone()[0]  # type: ignore[index]
            dept, dept_id = conn.execute(
                "SELECT count(*), min(department_id) FROM staff_members"
                " WHERE department_id = (SELECT min(id) FROM departments"
                " WHERE name LIKE 'Bench dept%%')"
            ).fetchone()  # type: ignore[misc]
        print(
            f"setup: {args.staff} staff, {shifts} shifts in {time.perf_counter() - started:.1f} s"
        )
        create_user(url, "bench_hr", "hr_officer")
        with running_server(url) as server:
            hr = server.login("bench_hr")
            with httpx.Client(base_url=server.url, headers=hr, timeout=600) as http:
                ms, run = timed(
                    lambda: http.post("/api/v1/pay-runs", json={"period": f"{MONTH:%Y-%m}"})
                )
                assert run.status_code == 201, run.text
                body = run.json()
                print(f"1. pay run, {body['payslip_count']} payslips: first run {ms:.0f} ms")
                samples = []
                for _ in range(args.rounds):
                    path = f"/api/v1/pay-runs/{body['id']}/recalculate"
                    version = {"version": body["version"]}
                    ms, again = timed(lambda p=path, v=version: http.post(p, json=v))
                    assert again.status_code == 200, again.text
                    body = again.json()
                    samples.append(ms)
                print(f"   recalculate: {summary(samples)}")
                samples = []
                for _ in range(args.requests):
                    ms, slips = timed(lambda: http.get(f"/api/v1/pay-runs/{body['id']}/payslips"))
                    assert slips.status_code == 200
                    samples.append(ms)
                payslips = slips.json()
                print(f"2. list {len(payslips)} payslips: {summary(samples)}")
                samples = []
                for _ in range(args.requests):
                    ms, week = timed(
                        lambda: http.get(
                            "/api/v1/shifts",
                            params={"start": "2026-10-05", "days": 7, "department_id": dept_id},
                        )
                    )
                    assert week.status_code == 200
                    samples.append(ms)
                print(
                    f"3. week grid of one department ({dept} people, {len(week.json())} shifts):"
                    f" {summary(samples)}"
                )
            staff_id = payslips[0]["staff_id"]
            outcomes: dict[int, int] = {}
            for round_ in range(5):
                day = MONTH + timedelta(days=40 + round_)
                statuses = asyncio.run(overlap_round(server.url, hr, staff_id, dept_id, day))
                for status in statuses:
                    outcomes[status] = outcomes.get(status, 0) + 1
                if sorted(statuses) != [201] + [409] * 19:
                    ok = False
            print(
                f"4. 5 rounds × 20 concurrent overlapping shifts: {dict(sorted(outcomes.items()))}"
            )
    from hms_contract.staff import PayslipRead
    from hms_desktop.printing.billing_common import Letterhead
    from hms_desktop.printing.payslip import render_payslip

    slip = PayslipRead.model_validate(payslips[0])
    head = Letterhead(name="Bench Hospital", address="1 Bench Road", currency="EUR")
    render_payslip(slip, head)  # fonts registered once
    samples = []
    for _ in range(50):
        start = time.perf_counter()
        render_payslip(slip, head)
        samples.append((time.perf_counter() - start) * 1000)
    print(f"5. payslip PDF render: {summary(samples)}")
    assert Decimal(slip.net_pay) == slip.gross_pay - slip.income_tax - slip.pension
    if not ok:
        print("FAILED: a concurrent round did not end in exactly one 201")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
