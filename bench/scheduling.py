"""Scheduling figures against a real server process (uvicorn via ``hms-server run``):

1. next-available for a 20-doctor department over 4 weeks, with the first three weeks fully
   booked and the fourth half booked (the search has to walk the whole window);
2. 200 concurrent booking attempts on one slot over HTTP → exactly 1 success, 199 clean
   409 ``slot_taken``, no 5xx;
3. booking throughput and p95 latency with 50 concurrent clients booking distinct slots.

Run: .venv/bin/python bench/scheduling.py [--workers 2] [--load-bookings 1000]
The embedded PostgreSQL allows 100 connections: each worker's pool is 10 + 10 overflow.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (
    BENCH_PASSWORD,
    create_user,
    embedded_database,
    percentile,
    running_server,
    summary,
)

DOCTORS = 20
UTC = ZoneInfo("UTC")


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def setup(url: str) -> tuple[int, list[int], date]:
    """A department of 20 doctors (Mon–Fri 08:00–17:00, 15-minute slots), patients, and
    appointments filling weeks 1–3 completely and week 4 by half. Returns the department
    id, doctor ids and the first day of the window."""
    from sqlalchemy.orm import sessionmaker

    from hms_server.adapters.db import make_engine
    from hms_server.adapters.uow import Actor, UnitOfWork
    from hms_server.bootstrap import wired_uow
    from hms_server.config import Settings
    from hms_server.domain.scheduling import SessionTemplate
    from hms_server.services import scheduling
    from hms_server.services.users import create_user as create_staff

    engine = make_engine(url, pool_size=2)
    factory = sessionmaker(engine, expire_on_commit=False)
    settings = Settings(database_url=url, jwt_secret="x" * 40)

    def uow() -> UnitOfWork:
        return wired_uow(factory, Actor.system("bench"))

    department = scheduling.create_department(uow(), name="Bench Medicine").id
    doctors = []
    for i in range(DOCTORS):
        user = create_staff(
            uow(),
            settings,
            username=f"bench_doc{i}",
            full_name=f"Dr Bench {i}",
            roles=["doctor"],
            password=BENCH_PASSWORD,
        ).user
        doctor = scheduling.create_doctor(
            uow(), user_id=user.id, department_id=department, specialty="General Medicine"
        ).id
        scheduling.replace_templates(
            uow(), doctor, [SessionTemplate(d, dtime(8), dtime(17), 15) for d in range(5)]
        )
        doctors.append(doctor)
    engine.dispose()
    first = datetime.now(UTC).date() + timedelta(days=1)
    with psycopg.connect(libpq(url)) as conn:
        # One patient per appointment (plus spares), so no patient overlaps.
        conn.execute("""
            INSERT INTO patients (mrn, given_name, family_name, date_of_birth,
                                  birth_date_estimated, sex, version)
            SELECT 'BENCH' || g, 'Given' || g, 'Family' || g, DATE '1970-01-01' + g % 15000,
                   false, CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END, 1
            FROM generate_series(1, 30000) AS g""")
        # Weeks 1-3 full, week 4 every other slot; weekdays only, 36 slots a day.
        conn.execute(
            """
            WITH slots AS (
                SELECT d.id AS doctor_id, day::date AS day, s AS n,
                       day + TIME '08:00' + s * INTERVAL '15 minutes' AS starts_at
                FROM unnest(%(doctors)s::bigint[]) AS d(id),
                     generate_series(%(first)s::date, %(first)s::date + 27,
                                     INTERVAL '1 day') AS day,
                     generate_series(0, 35) AS s
                WHERE extract(isodow FROM day) < 6
                  AND (day < %(first)s::date + 21 OR s %% 2 = 0)
            ), numbered AS (
                SELECT *, row_number() OVER () AS rn FROM slots
            )
            INSERT INTO appointments (patient_id, doctor_id, starts_at, ends_at, overbook_slot,
                                      status, type_code, source, booking_reference, version)
            SELECT p.id, n.doctor_id, n.starts_at AT TIME ZONE 'UTC',
                   (n.starts_at + INTERVAL '15 minutes') AT TIME ZONE 'UTC', 0, 'booked', 'new',
                   'staff', 'B' || n.rn, 1
            FROM numbered n JOIN patients p ON p.mrn = 'BENCH' || n.rn""",
            {"doctors": doctors, "first": first},
        )
        conn.execute("ANALYZE")
    return department, doctors, first


def bench_next_available(
    server_url: str, headers: dict[str, str], url: str, department: int, first: date, runs: int
) -> tuple[list[float], list[float], int]:
    from sqlalchemy.orm import sessionmaker

    from hms_server.adapters.db import make_engine
    from hms_server.adapters.uow import Actor
    from hms_server.bootstrap import wired_uow
    from hms_server.services import scheduling

    engine = make_engine(url, pool_size=1)
    factory = sessionmaker(engine, expire_on_commit=False)
    after = datetime.combine(first, dtime.min, tzinfo=UTC)
    service_ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        found = scheduling.next_available(
            wired_uow(factory, Actor.system("bench")),
            department_id=department,
            after=after,
            limit=10,
            days=28,
        )
        service_ms.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    assert found and found[0].start.date() >= first + timedelta(days=21), found[:1]
    http_ms = []
    with httpx.Client(base_url=server_url, headers=headers, timeout=30) as client:
        for _ in range(runs):
            t0 = time.perf_counter()
            r = client.get(
                "/api/v1/slots/next-available",
                params={
                    "department_id": department,
                    "from": first.isoformat(),
                    "limit": 10,
                    "days": 28,
                },
            )
            http_ms.append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()
    return service_ms, http_ms, len(found)


async def _post(client: httpx.AsyncClient, body: dict) -> tuple[int, str | None, float]:
    t0 = time.perf_counter()
    try:
        r = await client.post("/api/v1/appointments", json=body)
    except httpx.HTTPError as exc:
        return -1, type(exc).__name__, (time.perf_counter() - t0) * 1000
    code = r.json().get("code") if r.status_code >= 400 else None
    return r.status_code, code, (time.perf_counter() - t0) * 1000


async def bench_one_slot(
    server_url: str, headers: dict[str, str], doctor: int, start: datetime, patients: list[int]
) -> Counter[str]:
    limits = httpx.Limits(max_connections=len(patients), max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=server_url, headers=headers, timeout=120, limits=limits
    ) as client:
        results = await asyncio.gather(
            *[
                _post(client, {"patient_id": p, "doctor_id": doctor, "start": start.isoformat()})
                for p in patients
            ]
        )
    return Counter(f"{status} {code or ''}".strip() for status, code, _ in results)


async def bench_load(
    server_url: str,
    headers: dict[str, str],
    targets: list[tuple[int, datetime]],
    patients: list[int],
    clients: int,
) -> tuple[list[float], float, Counter[str]]:
    work: asyncio.Queue[tuple[int, datetime, int]] = asyncio.Queue()
    for (doctor, start), patient in zip(targets, patients, strict=False):
        work.put_nowait((doctor, start, patient))
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(
        base_url=server_url, headers=headers, timeout=120, limits=limits
    ) as client:

        async def worker() -> None:
            while not work.empty():
                doctor, start, patient = work.get_nowait()
                status, code, ms = await _post(
                    client, {"patient_id": patient, "doctor_id": doctor, "start": start.isoformat()}
                )
                latencies.append(ms)
                outcomes[f"{status} {code or ''}".strip()] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(clients)])
        elapsed = time.perf_counter() - t0
    return latencies, elapsed, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--contenders", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--load-bookings", type=int, default=1000)
    args = parser.parse_args()
    with embedded_database() as url:
        t0 = time.perf_counter()
        department, doctors, first = setup(url)
        setup_s = time.perf_counter() - t0
        create_user(url, "bench_reception", "receptionist")
        with psycopg.connect(libpq(url)) as conn:
            spare = [
                r[0]
                for r in conn.execute(
                    "SELECT p.id FROM patients p WHERE NOT EXISTS "
                    "(SELECT 1 FROM appointments a WHERE a.patient_id = p.id) ORDER BY p.id"
                )
            ]
        with running_server(url, workers=args.workers) as server:
            headers = server.login("bench_reception")
            service_ms, http_ms, _found = bench_next_available(
                server.url, headers, url, department, first, args.runs
            )
            # One slot in week 5 (beyond the pre-filled window), many contenders.
            week5 = first + timedelta(days=28)
            while week5.weekday() >= 5:
                week5 += timedelta(days=1)
            slot = datetime.combine(week5, dtime(9), tzinfo=UTC)
            contenders = spare[: args.contenders]
            race = asyncio.run(bench_one_slot(server.url, headers, doctors[0], slot, contenders))
            # Distinct free slots in weeks 5–6 for the load test.
            targets = []
            day = week5
            while len(targets) < args.load_bookings:
                if day.weekday() < 5:
                    for n in range(36):
                        for doctor in doctors[1:]:
                            start = datetime.combine(day, dtime(8), tzinfo=UTC) + timedelta(
                                minutes=15 * n
                            )
                            targets.append((doctor, start))
                day += timedelta(days=1)
            targets = targets[: args.load_bookings]
            load_patients = spare[args.contenders : args.contenders + len(targets)]
            latencies, elapsed, outcomes = asyncio.run(
                bench_load(server.url, headers, targets, load_patients, args.clients)
            )
    print("scheduling")
    print(
        f"  setup: {DOCTORS} doctors, 4 weeks, weeks 1-3 full + week 4 half booked "
        f"({setup_s:.1f} s)"
    )
    print(f"  next-available (service, 20 doctors × 28 days)  {summary(service_ms)}")
    print(f"  next-available (HTTP round trip)                {summary(http_ms)}")
    print(f"  {args.contenders} concurrent bookings of one slot → {dict(race)}")
    ok = race.get("201", 0) == 1 and race.get("409 slot_taken", 0) == args.contenders - 1
    print(f"    exactly one success, the rest slot_taken, no 5xx: {'yes' if ok else 'NO'}")
    print(
        f"  load: {args.clients} clients, {len(latencies)} bookings in {elapsed:.1f} s → "
        f"{len(latencies) / elapsed:.0f} bookings/s; outcomes {dict(outcomes)}"
    )
    print(f"    latency {summary(latencies)}  mean {statistics.mean(latencies):.1f} ms")
    print(f"    p99 {percentile(latencies, 99):.1f} ms; workers={args.workers}")
    if not ok or any(k.startswith(("5", "-1")) for k in race | outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()
