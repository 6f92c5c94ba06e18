"""CPU cost of one request, per operation of the outpatient mix: server and PostgreSQL.

Run: .venv/bin/python bench/request_cost.py [--requests 300] [--patients 2000]
     [--database-url URL --data data.json]

Why: on a shared machine the load harness's latencies move with whatever else runs; the CPU
a request costs does not. One signed-in client sends the same request N times in a row to a
real ``hms-server run --workers 1``; the worker process's CPU time and the PostgreSQL
cluster's (postmaster, backends and the backends it reaped) are read around each batch of
100; the median batch gives the cost of one request, which bounds throughput: at 2 cores, a mix
costing C ms of CPU per request cannot go beyond 2000 / C requests/s.

Without ``--database-url`` it sets up an embedded database like ``load_morning.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import HMS, embedded_database, running_server
from load.prepare import prepare_staff
from load_morning import CpuMeter, prepare_data, tree_cpu_seconds


def operations(
    data: dict[str, Any], rec: httpx.Client, doc: httpx.Client
) -> list[tuple[str, Callable[[int], httpx.Response]]]:
    doctor = data["doctors"][0]
    today = date.today()
    listing = doc.get(
        "/api/v1/appointments",
        params={
            "doctor_id": doctor["doctor_id"],
            "date": today.isoformat(),
            "date_to": (today + timedelta(days=20)).isoformat(),
            "limit": 200,
        },
    ).json()
    patient = listing["items"][0]["patient_id"]
    fragments, mrns, phones = data["name_fragments"], data["mrns"], data["phones"]

    def post(client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
        return client.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})

    return [
        (
            "search: name",
            lambda i: rec.get(
                "/api/v1/patients", params={"q": fragments[i % len(fragments)], "limit": 20}
            ),
        ),
        (
            "search: MRN",
            lambda i: rec.get("/api/v1/patients", params={"q": mrns[i % len(mrns)], "limit": 20}),
        ),
        (
            "search: phone",
            lambda i: rec.get(
                "/api/v1/patients", params={"q": phones[i % len(phones)], "limit": 20}
            ),
        ),
        (
            "book: free slots",
            lambda i: rec.get(
                "/api/v1/slots",
                params={
                    "doctor_id": doctor["doctor_id"],
                    "date": (today + timedelta(days=1 + i % 20)).isoformat(),
                },
            ),
        ),
        (
            "doctor: appointment list",
            lambda i: doc.get(
                "/api/v1/appointments",
                params={
                    "doctor_id": doctor["doctor_id"],
                    "date": today.isoformat(),
                    "date_to": (today + timedelta(days=20)).isoformat(),
                    "limit": 200,
                },
            ),
        ),
        ("chart: open", lambda i: doc.get(f"/api/v1/patients/{patient}/chart")),
        ("chart: notes", lambda i: doc.get(f"/api/v1/patients/{patient}/notes")),
        (
            "register patient",
            lambda i: post(
                rec,
                "/api/v1/patients",
                {
                    "given_name": "Cost",
                    "family_name": f"Bench{uuid.uuid4().hex[:8]}x",
                    "date_of_birth": "1970-01-01",
                    "sex": "female",
                    "confirm_new": True,
                },
            ),
        ),
        (
            "chart: record vitals",
            lambda i: post(
                doc,
                f"/api/v1/patients/{patient}/vitals",
                {"systolic_mmhg": 120, "diastolic_mmhg": 80, "heart_rate_bpm": 70, "spo2_pct": 98},
            ),
        ),
        (
            "chart: write note",
            lambda i: post(
                doc,
                f"/api/v1/patients/{patient}/notes",
                {
                    "note_type": "soap",
                    "subjective": "Feeling better.",
                    "assessment": "Stable.",
                    "plan": "Review in four weeks.",
                },
            ),
        ),
    ]


def measure(
    server_pid: int,
    postgres: psutil.Process,
    call: Callable[[int], httpx.Response],
    requests: int,
    batch: int = 100,
) -> tuple[float, float, float, int]:
    """CPU ms per request (server, PostgreSQL): the median over batches of ``batch``
    requests, so a burst of other work on the machine moves one batch, not the figure."""
    worker = psutil.Process(server_pid)
    for i in range(20):  # warm caches and prepared statements
        call(i)
    walls, failures, per_batch = [], 0, []
    for start in range(0, requests, batch):
        size = min(batch, requests - start)
        before = (tree_cpu_seconds(worker), tree_cpu_seconds(postgres))
        for i in range(start, start + size):
            started = time.perf_counter()
            if call(i).status_code >= 400:
                failures += 1
            walls.append(time.perf_counter() - started)
        per_batch.append(
            (
                (tree_cpu_seconds(worker) - before[0]) / size * 1000,
                (tree_cpu_seconds(postgres) - before[1]) / size * 1000,
            )
        )
    server = statistics.median(b[0] for b in per_batch)
    database = statistics.median(b[1] for b in per_batch)
    return server, database, statistics.median(walls) * 1000, failures


def run(url: str, data: dict[str, Any], requests: int, only: set[str]) -> list[str]:
    postgres = CpuMeter.locate_postgres(url)
    rows = [
        "| operation | server CPU ms | PostgreSQL CPU ms | total ms | wall p50 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    totals = []
    with running_server(url, workers=1) as server:

        def client(role: str) -> httpx.Client:
            token = httpx.post(
                f"{server.url}/api/v1/auth/login",
                json={"username": data["accounts"][role][0], "password": data["password"]},
                timeout=30,
            ).json()["access_token"]
            return httpx.Client(
                base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
            )

        with client("receptionist") as rec, client("doctor") as doc:
            for name, call in operations(data, rec, doc):
                if only and name not in only:
                    continue
                cpu, db, wall, failures = measure(server.process.pid, postgres, call, requests)
                if failures:
                    raise SystemExit(f"{name}: {failures} of {requests} requests failed")
                totals.append(cpu + db)
                rows.append(f"| {name} | {cpu:.2f} | {db:.2f} | {cpu + db:.2f} | {wall:.1f} |")
                print(rows[-1], flush=True)
    rows.append(f"| **mean of the operations** | | | **{statistics.fmean(totals):.2f}** | |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--data", default="", help="prepared data (load_morning's data.json)")
    parser.add_argument("--only", default="", help="comma-separated operation names")
    args = parser.parse_args()
    only = {o.strip() for o in args.only.split(",") if o.strip()}
    os.environ.setdefault("HMS_STATE_DIR", tempfile.mkdtemp(prefix="hms-cost-"))
    if args.database_url:
        rows = run(args.database_url, json.loads(Path(args.data).read_text()), args.requests, only)
    else:
        with embedded_database() as url:
            subprocess.run(
                [*HMS, "seed-demo", "--patients", str(args.patients), "--database-url", url],
                check=True,
                capture_output=True,
            )
            staff = prepare_staff(url, receptionists=2, doctors=2)
            data = prepare_data(url, Path(tempfile.mkdtemp()) / "data.json", staff)
            rows = run(url, data, args.requests, only)
    load = os.getloadavg()
    print(
        f"\n{args.requests} sequential requests per operation, 1 worker; load average "
        f"{load[0]:.1f}\n"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
