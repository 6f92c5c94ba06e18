"""Wards: the bed board of a whole hospital through the API and in the desktop, concurrent
admissions to one bed, and the bedside-monitor listener's throughput.

Sets up an embedded PostgreSQL with 30 wards × 30 beds (900 beds), ~70 % occupied by
generated patients (allergies for a third, three scheduled doses and two vitals each), a
real ``hms-server run`` and a real ``hms-server hl7-listen``.

Measures:
1. ``GET /api/v1/beds`` (all 900 beds) as a nurse (with the clinical alerts) and as a
   receptionist (no alerts), and one ward's board. Target ≤ 200 ms for the 900.
2. The desktop bed board (real ``BedBoardModel`` + ``BedBoardView``, offscreen): model
   reset + layout + paint of the 900 tiles (the whole grid in one widget) and of a
   1280 × 800 window. Target ≤ 300 ms.
3. 20 concurrent ``POST /api/v1/admissions`` to one bed (20 patients, one connection each),
   5 rounds → exactly one 201 and 19 ``409 bed_occupied`` per round, no 5xx.
4. The ORU listener: 10 monitor processes' worth of streams (the monitor simulator, one
   MLLP connection per monitor) at 10 messages/s each for ``--seconds``; then the database
   is checked: every AA-acknowledged control id stored once, each reading on the patient of
   its monitor's bed. Also the saturation rate (monitors sending as fast as acknowledged).

Run: .venv/bin/python bench/wards.py [--seconds 30] [--requests 50] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from common import (  # noqa: E402
    HMS,
    create_user,
    embedded_database,
    free_port,
    running_server,
    summary,
)
from patients_search import generate, libpq  # noqa: E402

WARDS, BEDS = 30, 30
CLASSES = ("general", "semi_private", "private", "icu")

BUILD_SQL = """
INSERT INTO wards (code, name, ward_class, gender_policy, mar_window_minutes, active, version)
SELECT 'W' || lpad(w::text, 2, '0'), 'Ward ' || w, (ARRAY['general','semi_private','private',
       'icu'])[1 + w %% 4], 'mixed', 60, true, 1 FROM generate_series(1, %(wards)s) w;
INSERT INTO rooms (ward_id, label, gender_policy)
SELECT id, 'Bay ' || r, 'mixed' FROM wards, generate_series(1, 5) r;
INSERT INTO beds (ward_id, room_id, label, bed_type, status, version)
SELECT r.ward_id, r.id, lpad(((substr(r.label, 5)::int - 1) * (%(beds)s / 5) + b)::text, 2, '0'),
       'standard', 'free', 1
FROM rooms r, generate_series(1, %(beds)s / 5) b;
"""

OCCUPY_SQL = """
WITH chosen AS (
    SELECT b.id AS bed_id, b.ward_id, w.ward_class,
           row_number() OVER (ORDER BY b.id) AS n
    FROM beds b JOIN wards w ON w.id = b.ward_id WHERE random() < 0.7),
patients AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM patients),
made AS (
    INSERT INTO admissions (patient_id, status, source, reason, admitted_by_user_id,
                            current_bed_id, admitted_at, version)
    SELECT p.id, 'admitted', 'clinic', 'Bench admission', %(user)s, c.bed_id,
           now() - (random() * interval '5 days'), 1
    FROM chosen c JOIN patients p ON p.n = c.n
    RETURNING id, patient_id, current_bed_id, admitted_at)
INSERT INTO bed_stays (admission_id, patient_id, bed_id, ward_id, ward_class, started_at)
SELECT m.id, m.patient_id, m.current_bed_id, c.ward_id, c.ward_class, m.admitted_at
FROM made m JOIN chosen c ON c.bed_id = m.current_bed_id;
UPDATE beds SET status = 'occupied' WHERE id IN (SELECT current_bed_id FROM admissions
                                                 WHERE status = 'admitted');
"""

DETAIL_SQL = """
INSERT INTO allergies (patient_id, substance, category, kind, severity, status,
                       recorded_by_user_id, recorded_at, updated_at, version)
SELECT patient_id, 'Penicillin', 'medication', 'allergy', 'severe', 'active', %(user)s, now(),
       now(), 1 FROM admissions WHERE id %% 3 = 0;
INSERT INTO vital_signs (patient_id, recorded_by_user_id, recorded_at, systolic_mmhg,
                         diastolic_mmhg, heart_rate_bpm, respiratory_rate, spo2_pct, flags,
                         source)
SELECT a.patient_id, %(user)s, now() - (k * interval '4 hours'), 110 + (a.id %% 40),
       70 + (a.id %% 15), 60 + (a.id %% 50), 12 + (a.id %% 12), 92 + (a.id %% 8), '{}',
       'manual'
FROM admissions a, generate_series(0, 1) k;
"""

ORDERS_SQL = """
INSERT INTO prescriptions (number, patient_id, prescriber_user_id, status, created_at, version)
SELECT 'RXB' || a.id, a.patient_id, %(user)s, 'active', a.admitted_at, 1 FROM admissions a;
INSERT INTO prescription_items (prescription_id, line_no, drug_id, dose, unit, route, frequency,
                                duration_days, quantity)
SELECT p.id, 1, (SELECT min(id) FROM drugs), 1, 'tablet', 'oral', 'every 8 hours', 5, 15
FROM prescriptions p WHERE p.number LIKE 'RXB%%';
INSERT INTO medication_orders (admission_id, patient_id, prescription_id, prescription_item_id,
    drug_id, dose, unit, route, frequency, schedule_times, every_days, prn, starts_at, status,
    version)
SELECT a.id, a.patient_id, p.id, i.id, i.drug_id, i.dose, i.unit, i.route, i.frequency,
       ARRAY['06:00','14:00','22:00']::time[], 1, false, a.admitted_at, 'active', 1
FROM admissions a JOIN prescriptions p ON p.number = 'RXB' || a.id
JOIN prescription_items i ON i.prescription_id = p.id;
INSERT INTO scheduled_doses (order_id, admission_id, patient_id, due_at, status, version)
SELECT o.id, o.admission_id, o.patient_id, now() + (k * interval '8 hours') - interval '3 hours',
       'scheduled', 1
FROM medication_orders o, generate_series(0, 2) k;
"""


def build_hospital(url: str) -> dict[str, int]:
    generate(url, 1000)
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        user = conn.execute("SELECT id FROM users ORDER BY id LIMIT 1").fetchone()[0]
        params = {"wards": WARDS, "beds": BEDS, "user": user}
        for script in (BUILD_SQL, OCCUPY_SQL, DETAIL_SQL, ORDERS_SQL):
            # One statement per execute: parameters are bound server-side.
            for statement in filter(str.strip, script.split(";")):
                conn.execute(
                    statement, {k: v for k, v in params.items() if f"%({k})s" in statement}
                )
        conn.execute("ANALYZE")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM beds), (SELECT count(*) FROM "
            "admissions WHERE status = 'admitted')"
        ).fetchone()
    return {"beds": counts[0], "admitted": counts[1]}


def assign_nurse_everywhere(url: str, username: str) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO ward_nurse_assignments (ward_id, user_id) SELECT w.id, u.id "
            "FROM wards w, users u WHERE u.username = %s",
            (username,),
        )


def timed_get(
    client: httpx.Client, path: str, headers: dict[str, str], n: int, params: dict | None = None
) -> tuple[list[float], dict]:
    samples, body = [], {}
    client.get(path, headers=headers, params=params)  # warm-up
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path, headers=headers, params=params)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        body = response.json()
    return samples, body


def desktop_render(beds_json: dict) -> dict[str, float]:
    """Model reset + layout + paint of the whole board, and of a window-sized view."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from hms_contract.common import Page
    from hms_contract.wards import BedRead
    from hms_desktop.app import create_application
    from hms_desktop.models.ward import BedBoardModel
    from hms_desktop.qt import QApplication
    from hms_desktop.workspaces.ward.bed_board import TILE, BedBoardView

    create_application()
    started = time.perf_counter()
    beds = Page[BedRead].model_validate(beds_json).items
    parse_ms = (time.perf_counter() - started) * 1000
    results = {"parse_ms": parse_ms}
    for name, size in (
        ("full_grid", (TILE.width() * WARDS + 40, TILE.height() * BEDS + 40)),
        ("window", (1280, 800)),
    ):
        samples = []
        for _ in range(5):
            model = BedBoardModel()
            view = BedBoardView(model)
            view.resize(*size)
            view.show()
            QApplication.processEvents()
            started = time.perf_counter()
            model.set_beds(beds)
            view.doItemsLayout()
            image = view.viewport().grab()
            samples.append((time.perf_counter() - started) * 1000)
            assert not image.isNull()
            view.close()
            view.deleteLater()
            QApplication.processEvents()
        results[name] = min(samples)
        results[name + "_median"] = sorted(samples)[len(samples) // 2]
    return results


async def race_for_bed(
    url: str, headers: dict[str, str], bed_id: int, patient_ids: list[int]
) -> list[int]:
    clients = [httpx.AsyncClient(base_url=url, timeout=60) for _ in patient_ids]
    try:
        responses = await asyncio.gather(
            *(
                c.post(
                    "/api/v1/admissions",
                    headers=headers,
                    json={"patient_id": p, "bed_id": bed_id, "reason": "Race"},
                )
                for c, p in zip(clients, patient_ids, strict=True)
            )
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    codes = [r.json().get("code") for r in responses if r.status_code == 409]
    if any(c != "bed_occupied" for c in codes):
        raise SystemExit(f"unexpected refusal codes: {set(codes)}")
    return [r.status_code for r in responses]


def monitors(url: str, port: int, seconds: float, rate: float) -> dict:
    """Admit ten patients to the ICU beds of ward W01 and stream from ten monitors."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT w.code, r.label, b.label, p.mrn, p.id FROM admissions a "
            "JOIN beds b ON b.id = a.current_bed_id JOIN rooms r ON r.id = b.room_id "
            "JOIN wards w ON w.id = b.ward_id JOIN patients p ON p.id = a.patient_id "
            "WHERE a.status = 'admitted' ORDER BY w.code, b.label LIMIT 10"
        ).fetchall()
        before = conn.execute(
            "SELECT count(*) FROM vital_signs WHERE source = 'device'"
        ).fetchone()[0]
    beds = [f"{w}/{r}/{b}={mrn}" for w, r, b, mrn, _ in rows]
    by_monitor = {f"MON{n + 1:03d}": pid for n, (*_, pid) in enumerate(rows)}
    args = [
        sys.executable,
        "-m",
        "hms_server.adapters.hl7.monitor_simulator",
        "--endpoint",
        f"127.0.0.1:{port}",
        "--rate",
        str(rate),
        "--count",
        str(int(seconds * max(rate, 1) * 10)),
        "--duration",
        str(seconds),
    ]
    for bed in beds:
        args += ["--bed", bed]
    result = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 600)
    stream = json.loads(result.stdout.strip().splitlines()[-1])
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        stored = conn.execute(
            "SELECT v.device_id, v.patient_id FROM vital_signs v WHERE v.source = 'device' "
            "ORDER BY v.id OFFSET %s",
            (before,),
        ).fetchall()
        acked = conn.execute(
            "SELECT count(*) FROM device_messages WHERE status = 'stored' AND control_id = ANY(%s)",
            (stream["accepted"],),
        ).fetchone()[0]
    misattributed = sum(1 for device, pid in stored if by_monitor.get(device) != pid)
    stream.pop("accepted")
    stream.update(stored=len(stored), acked_and_stored=acked, misattributed=misattributed)
    return stream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with embedded_database() as url:
        for username, role in (
            ("bench_nurse", "nurse"),
            ("bench_reception", "receptionist"),
            ("bench_doctor", "doctor"),
        ):
            create_user(url, username, role)
        made = build_hospital(url)
        assign_nurse_everywhere(url, "bench_nurse")
        print(f"hospital: {made['beds']} beds, {made['admitted']} admitted", flush=True)
        with running_server(url, workers=args.workers) as server:
            nurse, reception = server.login("bench_nurse"), server.login("bench_reception")
            doctor = server.login("bench_doctor")
            with httpx.Client(base_url=server.url, timeout=60) as client:
                all_nurse, board = timed_get(client, "/api/v1/beds", nurse, args.requests)
                all_reception, _ = timed_get(client, "/api/v1/beds", reception, args.requests)
                ward_id = board["items"][0]["ward_id"]
                one_ward, _ = timed_get(
                    client, "/api/v1/beds", nurse, args.requests, {"ward_id": ward_id}
                )
            print(f"GET /beds, {board['total']} beds, nurse (alerts)   {summary(all_nurse)}")
            print(f"GET /beds, {board['total']} beds, receptionist     {summary(all_reception)}")
            print(f"GET /beds?ward_id (30 beds), nurse          {summary(one_ward)}")
            render = desktop_render(board)
            print(
                f"desktop: parse {render['parse_ms']:.1f} ms; 900 tiles reset+layout+paint "
                f"best {render['full_grid']:.1f} ms (median {render['full_grid_median']:.1f});"
                f" 1280x800 window best {render['window']:.1f} ms (median "
                f"{render['window_median']:.1f})"
            )
            with psycopg.connect(libpq(url), autocommit=True) as conn:
                free = [
                    r[0]
                    for r in conn.execute(
                        "SELECT id FROM beds WHERE status = 'free' ORDER BY id LIMIT 5"
                    )
                ]
                waiting = [
                    r[0]
                    for r in conn.execute(
                        "SELECT id FROM patients WHERE id NOT IN (SELECT patient_id FROM "
                        "admissions) ORDER BY id LIMIT 100"
                    )
                ]
            for n, bed in enumerate(free):
                statuses = asyncio.run(
                    race_for_bed(server.url, doctor, bed, waiting[n * 20 : (n + 1) * 20])
                )
                ok = sorted(statuses) == [201] + [409] * 19
                print(
                    f"20 concurrent admissions to bed {bed}: {statuses.count(201)} × 201, "
                    f"{statuses.count(409)} × 409 bed_occupied, "
                    f"{sum(s >= 500 for s in statuses)} × 5xx — {'OK' if ok else 'FAIL'}"
                )
                if not ok:
                    raise SystemExit(1)
        port = free_port()
        listener = subprocess.Popen(
            [*HMS, "hl7-listen", "--port", str(port), "--database-url", url],
            env={**os.environ, "HMS_LOG_LEVEL": "WARNING"},
        )
        try:
            time.sleep(3)
            steady = monitors(url, port, args.seconds, 10.0)
            print(
                f"ORU listener, 10 monitors × 10 msg/s for {args.seconds:.0f} s: "
                f"{json.dumps(steady)}"
            )
            burst = monitors(url, port, min(args.seconds, 15.0), 0.0)
            print(f"ORU listener, 10 monitors as fast as acknowledged: {json.dumps(burst)}")
            if steady["misattributed"] or steady["acked_and_stored"] != steady["codes"].get(
                "AA", 0
            ):
                raise SystemExit("ORU readings lost or misattributed")
        finally:
            listener.terminate()
            listener.wait(10)


if __name__ == "__main__":
    main()
