"""The doctor's appointment list, one client: latency, SQL statements and plans per request.

Run: .venv/bin/python bench/doctor_list.py [--requests 300] [--patients 2000] [--doctors 20]
     [--history-days 365] [--keep-dir DIR] [--explain]

Why: in the 200-user morning (``load_morning.py``) the doctor's list was the one read over
its goal (p95 160 ms against 150 ms). The simulated doctor asks
``GET /api/v1/appointments?doctor_id=…&date=today&date_to=today+20&limit=200``; this script
sends exactly that request, sequentially, so the figure does not depend on what else the
shared machine runs as much as a 200-user run does.

What it sets up: an embedded PostgreSQL with ``seed-demo --patients N``, the load test's
staff (``bench/load/prepare.py``: doctors bookable 08:00–18:00 every day), then, set-based,
every doctor's day (the demo's and the load test's, 31 with the defaults) filled with
15-minute appointments from ``--history-days`` ago to four weeks ahead (40 a day; past ones
mostly completed, some no-show or cancelled), so the measured doctor's 21-day window holds
840 appointments and the request returns a full page of 200 from a table of ~490,000 rows.

What it measures:
1. ``hms-server run`` (one worker): p50/p95 of the request over ``--requests`` runs as the
   doctor, the response size, and the CPU one request costs the server worker and the
   PostgreSQL cluster (the figure a busy shared machine moves least).
2. In-process (the same app over the same database): the SQL statements one request
   executes (a listener on the engine), and the time spent in them.
3. With ``--explain``: ``EXPLAIN (ANALYZE, BUFFERS)`` of each SELECT that request issued.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import HMS, embedded_database, percentile, running_server
from load.prepare import PASSWORD, prepare_staff
from load_morning import CpuMeter, tree_cpu_seconds

from hms_server.config import Settings

SLOTS_PER_DAY = 40  # 08:00-18:00, 15 minutes

# Appointment g: doctor (g mod D), slot (g div D) → local day and time. Patients rotate by a
# stride, so no patient is booked twice at one time; a clash with a booking made through the
# services earlier (the load test's staff) is skipped by ON CONFLICT DO NOTHING.
FILL_SQL = """
INSERT INTO appointments (patient_id, doctor_id, starts_at, ends_at, overbook_slot, status,
                          type_code, source, location, booking_reference, created_at,
                          updated_at, version)
SELECT p.ids[1 + (g * 7919) %% cardinality(p.ids)], d.ids[1 + g %% cardinality(d.ids)],
       t.starts, t.starts + interval '15 minutes', 0,
       CASE WHEN t.starts > now() THEN 'booked'
            WHEN t.r < 0.85 THEN 'completed' WHEN t.r < 0.93 THEN 'no_show'
            ELSE 'cancelled' END,
       'new', 'staff', 'Room 1', 'L' || lpad(to_hex(g), 12, '0'), t.starts - interval '7 days',
       t.starts, 1
  FROM (SELECT array_agg(id ORDER BY id) AS ids FROM patients) p
  CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM doctors) d
  CROSS JOIN generate_series(CAST(0 AS bigint),
                             cardinality(d.ids) * %(slots)s * %(days)s - 1) g
  CROSS JOIN LATERAL (
      SELECT (CAST(%(first)s AS date) + CAST((g / cardinality(d.ids)) / %(slots)s AS int)
              + time '08:00' + ((g / cardinality(d.ids)) %% %(slots)s) * interval '15 minutes')
             AT TIME ZONE %(zone)s AS starts,
             random() AS r) t
ON CONFLICT DO NOTHING
"""


def fill_schedules(url: str, zone: str, history_days: int) -> int:
    first = date.today() - timedelta(days=history_days)
    days = history_days + 28
    with psycopg.connect(url, autocommit=True) as conn:
        began = time.perf_counter()
        conn.execute(
            FILL_SQL,  # type: ignore[arg-type]
            {"slots": SLOTS_PER_DAY, "days": days, "first": first, "zone": zone},
        )
        conn.execute("VACUUM ANALYZE")
        total = conn.execute("SELECT count(*) FROM appointments").fetchone()[0]  # type: ignore[index]
        print(f"appointments: {total:,} ({time.perf_counter() - began:.0f} s)", flush=True)
        return int(total)


def request_params(doctor_id: int) -> dict[str, Any]:
    """Exactly what the simulated doctor asks (bench/load/areas/outpatient.py)."""
    today = date.today()
    return {
        "doctor_id": doctor_id,
        "date": today.isoformat(),
        "date_to": (today + timedelta(days=20)).isoformat(),
        "limit": 200,
    }


def time_http(url: str, username: str, doctor_id: int, requests: int) -> dict[str, Any]:
    """Wall time per request, and the CPU one request costs the server and PostgreSQL (the
    figure a busy shared machine moves least; see ``request_cost.py``)."""
    postgres = CpuMeter.locate_postgres(url)
    with running_server(url, workers=1) as server:
        worker = psutil.Process(server.process.pid)
        token = httpx.post(
            f"{server.url}/api/v1/auth/login",
            json={"username": username, "password": PASSWORD},
            timeout=30,
        ).json()["access_token"]
        with httpx.Client(
            base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            params = request_params(doctor_id)
            for _ in range(20):  # warm caches and prepared statements
                client.get("/api/v1/appointments", params=params).raise_for_status()
            samples = []
            cpu_before = (tree_cpu_seconds(worker), tree_cpu_seconds(postgres))
            for _ in range(requests):
                began = time.perf_counter()
                response = client.get("/api/v1/appointments", params=params)
                samples.append((time.perf_counter() - began) * 1000)
                response.raise_for_status()
            server_cpu = (tree_cpu_seconds(worker) - cpu_before[0]) / requests * 1000
            database_cpu = (tree_cpu_seconds(postgres) - cpu_before[1]) / requests * 1000
            body = response.json()
    return {
        "server_cpu": server_cpu,
        "database_cpu": database_cpu,
        "p50": statistics.median(samples),
        "p95": percentile(samples, 95),
        "max": max(samples),
        "items": len(body["items"]),
        "total": body["total"],
        "bytes": len(response.content),
    }


def statements_per_request(
    url: str, username: str, doctor_id: int, runs: int = 50
) -> tuple[list[tuple[str, Any]], float, float]:
    """One request in-process: the statements it executed (with parameters), the median
    time spent executing them, and the median time of the whole request."""
    from fastapi.testclient import TestClient

    from hms_server.app import create_app

    app = create_app(Settings(database_url=url))
    recorded: list[tuple[str, Any]] = []
    in_sql = [0.0]
    per_statement: dict[int, list[float]] = {}
    started: dict[int, float] = {}

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        recorded.append((statement, parameters))
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        spent = time.perf_counter() - started.pop(id(cursor), time.perf_counter())
        in_sql[0] += spent
        per_statement.setdefault(len(recorded) - 1, []).append(spent * 1000)

    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        params = request_params(doctor_id)
        for _ in range(10):
            client.get("/api/v1/appointments", params=params, headers=headers)
        engine = app.state.engine
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        sql_ms, whole_ms = [], []
        try:
            for _ in range(runs):
                recorded.clear()
                in_sql[0] = 0.0
                began = time.perf_counter()
                client.get("/api/v1/appointments", params=params, headers=headers)
                whole_ms.append((time.perf_counter() - began) * 1000)
                sql_ms.append(in_sql[0] * 1000)
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
    for index, spent in sorted(per_statement.items()):
        print(f"  statement {index}: median {statistics.median(spent):.2f} ms")
    return list(recorded), statistics.median(sql_ms), statistics.median(whole_ms)


def explain(url: str, statements: list[tuple[str, Any]]) -> None:
    with psycopg.connect(url) as conn:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            print("\n--", " ".join(statement.split())[:300])
            rows = conn.execute(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement,  # type: ignore[arg-type]
                parameters,
            ).fetchall()
            print("\n".join(r[0] for r in rows))
        conn.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--doctors", type=int, default=20)
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--keep-dir", default=None, help="keep the database and reuse it")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    state = Path(args.keep_dir) / "state" if args.keep_dir else None
    if state is not None:
        state.mkdir(parents=True, exist_ok=True)  # the audit seal key belongs to the database
    os.environ.setdefault("HMS_STATE_DIR", str(state or tempfile.mkdtemp(prefix="hms-list-")))
    os.environ.setdefault("HMS_JWT_SECRET", secrets.token_urlsafe(48))  # the in-process app
    with embedded_database(args.keep_dir) as url:
        with psycopg.connect(url) as conn:
            prepared = conn.execute(
                "SELECT u.username, d.id FROM doctors d JOIN users u ON u.id = d.user_id "
                "WHERE u.username = 'doc000'"
            ).fetchone()
        if prepared is None:
            subprocess.run(
                [*HMS, "seed-demo", "--patients", str(args.patients), "--database-url", url],
                check=True,
                capture_output=True,
            )
            staff = prepare_staff(url, receptionists=1, doctors=args.doctors)
            from hms_server.bootstrap import build_runtime

            runtime = build_runtime(Settings(database_url=url), as_owner=True, pool_size=1)
            zone = runtime.hospital.timezone
            runtime.close()
            fill_schedules(url, zone, args.history_days)
            doctor = staff["doctors"][0]  # type: ignore[index]
            username, doctor_id = doctor["username"], doctor["doctor_id"]
        else:
            username, doctor_id = prepared
        statements, sql_ms, inproc_ms = statements_per_request(url, username, doctor_id)
        http = time_http(url, username, doctor_id, args.requests)
        if args.explain:
            explain(url, statements)
    load = os.getloadavg()
    print("\nstatements of one request:")
    for statement, _ in statements:
        print("  ", " ".join(statement.split())[:160])
    print(
        f"\nGET /appointments (doctor, 21 days, limit 200): {http['items']} of {http['total']} "
        f"rows, {http['bytes'] / 1024:.0f} KiB\n"
        f"HTTP, 1 worker, {args.requests} sequential: p50 {http['p50']:.1f} ms, "
        f"p95 {http['p95']:.1f} ms, max {http['max']:.1f} ms\n"
        f"CPU per request: server {http['server_cpu']:.1f} ms, "
        f"PostgreSQL {http['database_cpu']:.1f} ms\n"
        f"in-process: {len(statements)} SQL statements per request, {sql_ms:.1f} ms in SQL, "
        f"{inproc_ms:.1f} ms per request (median of 50)\n"
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )


if __name__ == "__main__":
    main()
