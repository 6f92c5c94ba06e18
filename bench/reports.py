"""Management reports on a large hospital: how long each report takes over HTTP.

Generates, set-based (``INSERT … SELECT generate_series``) in a throw-away embedded
PostgreSQL, two years of a hospital's history ending today:

- patients (the patient-search generator), registered evenly over the two years;
- 10 departments, 50 doctors, and ``--appointments`` appointments in 15-minute slots
  (08:00–18:00, every day, no overlaps per doctor or per patient), 80 % completed,
  8 % no-show, 7 % cancelled, the rest still booked;
- a queue entry for every completed appointment (check-in, call, start, completion with
  varied waits and consultation times);
- 8 wards of 25 beds with back-to-back stays of 1–6 nights (an admission per stay);
- a finalised invoice with two lines for ``--invoice-share`` of the completed appointments,
  most of them paid (cash, card, bank transfer) a few days later.

Loading uses ``session_replication_role = replica`` (as a bulk load would: the rows are
consistent by construction) and ANALYZE afterwards. Then, against a real ``hms-server run``
(one worker) as a signed-in manager, every report is asked ``--runs`` times for three
periods — the last 30 days by day, the last year by month and the full two years by week —
and its CSV once per period. The pharmacy report is timed too but this generator writes no
dispensing history (its reads then come from empty tables plus the stock valuation).

``.venv/bin/python bench/reports.py [--patients 100000] [--appointments 1000000]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH_PASSWORD,
    create_user,
    embedded_database,
    percentile,
    running_server,
)
from patients_search import generate as generate_patients
from patients_search import libpq

DOCTORS = 50
SLOTS_PER_DAY = 40  # 08:00–18:00 in 15-minute slots
WARDS, BEDS_PER_WARD = 8, 25
REPORTS = ("activity", "clinic-flow", "inpatient", "revenue", "pharmacy")

STAFF_SQL = """
INSERT INTO departments (name, location, active)
SELECT 'Department ' || d, 'Block ' || d, true FROM generate_series(1, 10) d;
INSERT INTO users (username, full_name, password_hash, roles, active, failed_logins,
                   lock_count, password_changed_at, created_at, version)
SELECT 'bench_doc_' || g, 'Dr Bench ' || g, 'x', ARRAY['doctor'], true, 0, 0, now(), now(), 1
  FROM generate_series(1, %(doctors)s) g;
INSERT INTO doctors (user_id, department_id, specialty, display_name, active, version)
SELECT u.id, (SELECT min(id) FROM departments) + (g - 1) %% 10, 'General', u.full_name, true, 1
  FROM generate_series(1, %(doctors)s) g JOIN users u ON u.username = 'bench_doc_' || g;
UPDATE patients SET created_at = %(start)s + (random() * interval '730 days');
"""

# Appointment g: doctor (g mod D), slot (g div D) → day and time. Patients rotate by a
# stride coprime with their count, so no patient holds two appointments at one time.
APPOINTMENTS_SQL = """
INSERT INTO appointments (patient_id, doctor_id, starts_at, ends_at, overbook_slot, status,
                          type_code, source, booking_reference, created_at, updated_at, version)
SELECT p.first + (g * 7919) %% p.n, d.first + g %% %(doctors)s, t.starts,
       t.starts + interval '15 minutes', 0,
       CASE WHEN t.starts > now() THEN 'booked'
            WHEN r < 0.80 THEN 'completed' WHEN r < 0.88 THEN 'no_show'
            WHEN r < 0.95 THEN 'cancelled' ELSE 'booked' END,
       'new', 'staff', 'B' || lpad(to_hex(g), 12, '0'), t.starts - interval '7 days',
       t.starts, 1
  FROM generate_series(CAST(0 AS bigint), %(n)s - 1) g
  CROSS JOIN (SELECT min(id) AS first, count(*) AS n FROM patients) p
  CROSS JOIN (SELECT min(id) AS first FROM doctors) d
  CROSS JOIN LATERAL (SELECT %(start)s::timestamptz
                             + ((g / %(doctors)s) / %(slots)s) * interval '1 day'
                             + interval '8 hours'
                             + ((g / %(doctors)s) %% %(slots)s) * interval '15 minutes'
                             AS starts, random() AS r) t
"""

QUEUE_SQL = """
INSERT INTO queue_entries (appointment_id, patient_id, doctor_id, queue_date, token, status,
                           checked_in_at, called_at, started_at, completed_at, version)
SELECT a.id, a.patient_id, a.doctor_id, CAST(a.starts_at AT TIME ZONE 'UTC' AS date),
       1 + (EXTRACT(EPOCH FROM a.starts_at - date_trunc('day', a.starts_at)) / 900)::int,
       'done', a.starts_at - w.early, a.starts_at - w.early + w.wait,
       a.starts_at - w.early + w.wait + interval '1 minute',
       a.starts_at - w.early + w.wait + interval '1 minute' + w.consult, 1
  FROM appointments a
  CROSS JOIN LATERAL (SELECT (random() * 20) * interval '1 minute' AS early,
                             (2 + power(random(), 2) * 55) * interval '1 minute' AS wait,
                             (5 + random() * 20) * interval '1 minute' AS consult) w
 WHERE a.status = 'completed'
"""

WARDS_SQL = """
INSERT INTO wards (code, name, ward_class, gender_policy, mar_window_minutes, active,
                   created_at, version)
SELECT 'BW' || w, 'Bench ward ' || w, 'general', 'mixed', 60, true, now(), 1
  FROM generate_series(1, %(wards)s) w;
INSERT INTO rooms (ward_id, label, gender_policy)
SELECT id, 'R1', 'mixed' FROM wards WHERE code LIKE 'BW%%';
INSERT INTO beds (ward_id, room_id, label, bed_type, status, status_changed_at, version)
SELECT r.ward_id, r.id, lpad(b::text, 2, '0'), 'standard', 'free', now(), 1
  FROM rooms r JOIN wards w ON w.id = r.ward_id AND w.code LIKE 'BW%%'
 CROSS JOIN generate_series(1, %(beds)s) b;
"""

# Stay i of a bed starts 7 days after stay i-1 and lasts 1–6 nights: never overlapping.
ADMISSIONS_SQL = """
CREATE TEMP TABLE stays AS
SELECT b.id AS bed_id, b.ward_id, i,
       %(start)s::timestamptz + i * interval '7 days' + (b.id %% 12) * interval '1 hour'
           AS admitted_at,
       1 + (i * 7 + b.id) %% 6 AS nights
  FROM beds b CROSS JOIN generate_series(0, 103) i
 WHERE b.ward_id IN (SELECT id FROM wards WHERE code LIKE 'BW%%');
INSERT INTO admissions (patient_id, status, source, reason, admitted_by_user_id, admitted_at,
                        discharged_at, version)
SELECT p.first + (s.bed_id * 104 + s.i) %% p.n, 'discharged', 'clinic',
       'Bench stay ' || s.bed_id || '/' || s.i,
       (SELECT min(user_id) FROM doctors), s.admitted_at,
       s.admitted_at + s.nights * interval '1 day', 1
  FROM stays s CROSS JOIN (SELECT min(id) AS first, count(*) AS n FROM patients) p
 WHERE s.admitted_at + s.nights * interval '1 day' < now()
 ORDER BY s.bed_id, s.i;
INSERT INTO bed_stays (admission_id, patient_id, bed_id, ward_id, ward_class, started_at,
                       ended_at)
SELECT a.id, a.patient_id, s.bed_id, s.ward_id, 'general', a.admitted_at, a.discharged_at
  FROM admissions a JOIN stays s ON a.reason = 'Bench stay ' || s.bed_id || '/' || s.i;
"""

INVOICES_SQL = """
CREATE TEMP TABLE billed AS
SELECT a.id AS appointment_id, a.patient_id, CAST(a.starts_at AT TIME ZONE 'UTC' AS date) AS day,
       row_number() OVER (ORDER BY a.id) AS n,
       (40 + (a.id %% 5) * 10)::numeric AS consult, (15 + (a.id %% 7) * 5)::numeric AS lab,
       random() AS r
  FROM appointments a WHERE a.status = 'completed' AND random() < %(share)s;
INSERT INTO invoices (patient_id, series, year, sequence, number, status, currency, issued_on,
                      due_on, finalised_at, subtotal, discount_total, tax_total, total,
                      payer_due, patient_due, copay, deductible, patient_paid, payer_paid,
                      credited, written_off, created_at, updated_at, version)
SELECT patient_id, 'BINV', extract(year FROM day)::int, n, 'BINV-' || n,
       CASE WHEN r < 0.85 THEN 'paid' ELSE 'finalised' END, 'EUR', day, day + 30,
       day + interval '17 hours', consult + lab, 0, 0, consult + lab, 0, consult + lab, 0, 0,
       CASE WHEN r < 0.85 THEN consult + lab ELSE 0 END, 0, 0, 0, day, day, 1
  FROM billed;
INSERT INTO invoice_lines (invoice_id, line_no, code, description, category, service_date,
                           quantity, unit_price, gross, discount, net, tax_category, tax_rate,
                           tax, total, payer_share, patient_share)
SELECT i.id, l.no, l.code, l.description, l.category, b.day, 1, l.amount, l.amount, 0,
       l.amount, 'exempt', 0, 0, l.amount, 0, l.amount
  FROM billed b JOIN invoices i ON i.number = 'BINV-' || b.n
 CROSS JOIN LATERAL (VALUES (1, 'CONS', 'Consultation', 'consultation', b.consult),
                            (2, 'LAB', 'Laboratory', 'lab', b.lab))
       AS l(no, code, description, category, amount);
INSERT INTO payments (series, year, sequence, receipt_number, kind, patient_id, invoice_id,
                      method, amount, applied, to_credit, refunded, received_at, version)
SELECT 'BRC', i.year, i.sequence, 'BRC-' || i.sequence, 'payment', i.patient_id, i.id,
       (ARRAY['cash', 'card', 'bank_transfer'])[1 + (i.id %% 3)::int], i.total, i.total, 0, 0,
       i.issued_on + interval '3 days 11 hours', 1
  FROM invoices i WHERE i.series = 'BINV' AND i.status = 'paid';
"""


def generate(url: str, patients: int, appointments: int, share: float) -> dict[str, int]:
    """Load the history (see the module docstring); returns row counts."""
    today = datetime.now(UTC).date()
    start = datetime.combine(today - timedelta(days=730), datetime.min.time(), UTC)
    # Appointments fill the two years; the slots a day has bound how many fit.
    days = max(1, -(-appointments // (DOCTORS * SLOTS_PER_DAY)))
    ahead = min(7, days // 10)  # a week of bookings still to come (less for a small run)
    first_slot = datetime.combine(today - timedelta(days=days - ahead), datetime.min.time(), UTC)
    generate_patients(url, patients)
    steps = [
        ("staff", STAFF_SQL, {"doctors": DOCTORS, "start": start}),
        (
            "appointments",
            APPOINTMENTS_SQL,
            {"n": appointments, "doctors": DOCTORS, "slots": SLOTS_PER_DAY, "start": first_slot},
        ),
        ("queue", QUEUE_SQL, {}),
        ("wards", WARDS_SQL, {"wards": WARDS, "beds": BEDS_PER_WARD}),
        ("admissions", ADMISSIONS_SQL, {"start": start}),
        ("invoices", INVOICES_SQL, {"share": share}),
    ]
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET maintenance_work_mem = '512MB'")
        for name, sql, params in steps:
            began = time.perf_counter()
            with conn.transaction():
                for statement in (s for s in sql.split(";\n") if s.strip()):
                    conn.execute(statement, params or None)  # type: ignore[arg-type]
            print(f"  {name}: {time.perf_counter() - began:.0f} s", flush=True)
        conn.execute("VACUUM ANALYZE")  # the steady state: visibility map set, statistics fresh
        counts = {}
        for table in (
            "patients",
            "appointments",
            "queue_entries",
            "admissions",
            "invoices",
            "invoice_lines",
            "payments",
        ):
            counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]  # noqa: S608
    return counts


def time_report(
    client: httpx.Client, path: str, params: dict[str, str], runs: int
) -> tuple[list[float], int]:
    samples = []
    size = 0
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(path, params=params)
        samples.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
        size = len(response.content)
    return samples, size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--invoice-share", type=float, default=0.5)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--keep-dir", help="keep the database here (reused if loaded)")
    args = parser.parse_args()
    with embedded_database(args.keep_dir) as url:
        with psycopg.connect(libpq(url)) as conn:
            loaded = conn.execute("SELECT count(*) FROM appointments").fetchone()[0]  # type: ignore[index]
        began = time.perf_counter()
        if not loaded:
            print("generating the history ...", flush=True)
            counts = generate(url, args.patients, args.appointments, args.invoice_share)
            print(f"  loaded in {time.perf_counter() - began:.0f} s: {counts}", flush=True)
        username = f"bench_mgr_{uuid.uuid4().hex[:8]}"
        create_user(url, username, "manager")
        today = date.today()
        periods = [
            ("30 days by day", today - timedelta(days=29), today, "day"),
            ("1 year by month", today - timedelta(days=364), today, "month"),
            ("2 years by week", today - timedelta(days=729), today, "week"),
        ]
        rows = []
        with running_server(url) as server:
            headers = server.login(username, BENCH_PASSWORD)
            with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
                for name in REPORTS:
                    for label, start, end, grouping in periods:
                        params = {
                            "start": start.isoformat(),
                            "end": end.isoformat(),
                            "grouping": grouping,
                        }
                        time_report(client, f"/api/v1/reports/{name}", params, 1)  # warm up
                        samples, size = time_report(
                            client, f"/api/v1/reports/{name}", params, args.runs
                        )
                        csv_ms, _ = time_report(client, f"/api/v1/reports/{name}.csv", params, 1)
                        rows.append((name, label, samples, size, csv_ms[0]))
                        print(f"  {name}, {label}: done", flush=True)
        print(
            f"\nReports, {args.patients:,} patients, {args.appointments:,} appointments, "
            f"{args.runs} requests per row (sequential, one client, one server worker)\n"
        )
        head = (
            f"{'report':12} {'period':18} {'p50':>9} {'p95':>9} {'max':>9} {'JSON':>8} {'CSV':>9}"
        )
        print(head)
        print("-" * len(head))
        for name, label, samples, size, csv_ms in rows:
            print(
                f"{name:12} {label:18} {statistics.median(samples):9.1f} "
                f"{percentile(samples, 95):9.1f} {max(samples):9.1f} {size / 1024:7.0f}K "
                f"{csv_ms:9.1f}"
            )
        print("\n(ms per HTTP request, including the audit row each run writes)")


if __name__ == "__main__":
    main()
