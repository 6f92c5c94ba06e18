"""Chart summary for a patient with 200 encounters: API p50/p95 over HTTP (real server,
signed-in doctor on the care team) beside the raw SQL of the same reads.

Builds, with set-based SQL, one "heavy" patient (200 encounters, a signed note and a vitals
set per encounter, 100 lab results, 40 prescriptions of which 8 are active, allergies and
problems) among a background of 2,000 other patients with 20 encounters each, so the
indexes have real work to do. Also times the timeline (first page of 50 entries).

Run: .venv/bin/python bench/chart_summary.py [--requests 200] [--background 2000]
Target: chart summary ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from common import create_user, embedded_database, percentile, running_server, summary  # noqa: E402

ENCOUNTERS = 200

BUILD_SQL = """
INSERT INTO patients (mrn, given_name, family_name, date_of_birth, birth_date_estimated, sex,
                      next_of_kin, insurance, created_at, updated_at, version)
SELECT 'BENCH' || lpad(s::text, 9, '0'), 'Given' || s, 'Family' || s,
       date '1950-01-01' + (s %% 20000), false,
       CASE WHEN s %% 2 = 0 THEN 'male' ELSE 'female' END,
       '[]', '[]', now(), now(), 1
FROM generate_series(0, %(background)s) AS s;

-- Every patient: 20 encounters (the heavy one gets 200 below).
INSERT INTO encounters (patient_id, clinician_user_id, kind, status, reason, started_at,
                        ended_at, version)
SELECT p.id, %(doctor)s, 'outpatient', 'finished', 'Follow-up',
       now() - (e * interval '9 days'), now() - (e * interval '9 days') + interval '20 min', 1
FROM patients p CROSS JOIN generate_series(1, CASE WHEN p.mrn = 'BENCH000000000'
                                                   THEN %(encounters)s ELSE 20 END) AS e;

INSERT INTO clinical_notes (patient_id, encounter_id, author_user_id, note_type, title,
                            created_at, current_version)
SELECT patient_id, id, %(doctor)s, 'soap', 'Follow-up', started_at + interval '15 min', 1
FROM encounters;
INSERT INTO clinical_note_versions (note_id, version_no, subjective, assessment, plan,
                                    author_user_id, created_at, signed_at, signed_by_user_id)
SELECT id, 1, 'Feels well', 'Stable', 'Continue', %(doctor)s, created_at, created_at, %(doctor)s
FROM clinical_notes;

INSERT INTO vital_signs (patient_id, encounter_id, recorded_by_user_id, recorded_at,
                         systolic_mmhg, diastolic_mmhg, heart_rate_bpm, respiratory_rate,
                         temperature_c, spo2_pct, weight_kg, height_cm, bmi, flags)
SELECT patient_id, id, %(doctor)s, started_at + interval '5 min', 110 + (id %% 50),
       70 + (id %% 20), 60 + (id %% 40), 14, 36.8, 97, 70 + (id %% 15), 172, 24.5, '{}'
FROM encounters;

INSERT INTO allergies (patient_id, substance, category, kind, reaction, severity, status,
                       recorded_by_user_id, recorded_at, updated_at, version)
SELECT p.id, a, 'medication', 'allergy', 'Rash', 'moderate', 'active', %(doctor)s, now(),
       now(), 1
FROM patients p CROSS JOIN unnest(ARRAY['Penicillin', 'Sulfonamides', 'Latex']) AS a
WHERE p.mrn = 'BENCH000000000' OR p.id %% 5 = 0;

INSERT INTO problems (patient_id, icd10_code, description, status, recorded_by_user_id,
                      recorded_at, updated_at, version)
SELECT p.id, c, 'Problem ' || c, CASE WHEN c = 'J20.9' THEN 'resolved' ELSE 'active' END,
       %(doctor)s, now(), now(), 1
FROM patients p CROSS JOIN unnest(ARRAY['I10', 'E11.9', 'E78.5', 'J45.909', 'J20.9']) AS c
WHERE p.mrn = 'BENCH000000000' OR p.id %% 3 = 0;

INSERT INTO lab_orders (patient_id, test_id, ordered_by_user_id, ordered_at, priority, status,
                        version)
SELECT p.id, 1 + (g %% 30), %(doctor)s, now() - g * interval '3 days', 'routine',
       CASE WHEN g <= 3 THEN 'ordered' ELSE 'resulted' END, 1
FROM patients p CROSS JOIN generate_series(1, 100) AS g WHERE p.mrn = 'BENCH000000000';
INSERT INTO lab_results (order_id, patient_id, test_id, value_numeric, unit, flag,
                         resulted_by_user_id, resulted_at)
SELECT o.id, o.patient_id, o.test_id, 5.5, t.unit, 'N', %(doctor)s, o.ordered_at + interval '4 h'
FROM lab_orders o JOIN lab_tests t ON t.id = o.test_id WHERE o.status = 'resulted';

INSERT INTO prescriptions (number, patient_id, prescriber_user_id, status, created_at, version)
SELECT 'RXB' || lpad(g::text, 7, '0'), p.id, %(doctor)s,
       CASE WHEN g <= 8 THEN 'active' ELSE 'completed' END, now() - g * interval '20 days', 1
FROM patients p CROSS JOIN generate_series(1, 40) AS g WHERE p.mrn = 'BENCH000000000';
INSERT INTO prescription_items (prescription_id, line_no, drug_id, dose, unit, route, frequency,
                                duration_days, quantity)
SELECT r.id, 1, 1 + (r.id %% 200), 1, 'tablet', 'oral', 'once daily', 365, 30
FROM prescriptions r;

INSERT INTO care_team_members (patient_id, user_id, role, source, added_at)
SELECT id, %(doctor)s, 'attending', 'encounter', now() FROM patients;
ANALYZE;
"""

# The reads chart_summary() issues (care-team check, patient, allergies, problems, active
# medications, latest vitals, recent encounters with clinician names, counts).
SUMMARY_SQL = [
    "SELECT user_id FROM care_team_members WHERE patient_id = %(p)s AND user_id = %(u)s",
    "SELECT * FROM patients WHERE id = %(p)s",
    "SELECT * FROM allergies WHERE patient_id = %(p)s AND status = 'active' ORDER BY recorded_at",
    "SELECT * FROM problems WHERE patient_id = %(p)s AND status = 'active' ORDER BY recorded_at",
    """SELECT i.*, d.*, r.* FROM prescription_items i
       JOIN prescriptions r ON r.id = i.prescription_id JOIN drugs d ON d.id = i.drug_id
       WHERE r.patient_id = %(p)s AND r.status = 'active'
         AND (i.duration_days IS NULL OR r.created_at + make_interval(0, 0, 0, i.duration_days)
              > now())
       ORDER BY r.created_at DESC, i.line_no""",
    "SELECT * FROM vital_signs WHERE patient_id = %(p)s ORDER BY recorded_at DESC LIMIT 1",
    "SELECT * FROM encounters WHERE patient_id = %(p)s ORDER BY started_at DESC, id DESC LIMIT 10",
    "SELECT id, full_name FROM users WHERE id = ANY(%(ids)s)",
    """SELECT 'encounters', count(*) FROM encounters WHERE patient_id = %(p)s
       UNION ALL SELECT 'notes', count(*) FROM clinical_notes WHERE patient_id = %(p)s
       UNION ALL SELECT 'open_lab_orders', count(*) FROM lab_orders
                 WHERE patient_id = %(p)s AND status = 'ordered'
       UNION ALL SELECT 'documents', count(*) FROM patient_documents WHERE patient_id = %(p)s""",
]


def time_http(client: httpx.Client, url: str, headers: dict[str, str], n: int) -> list[float]:
    for _ in range(10):  # warm-up: connection pool, ICD/JIT caches, prepared statements
        client.get(url, headers=headers).raise_for_status()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


def time_sql(database_url: str, patient_id: int, user_id: int, n: int) -> list[float]:
    samples = []
    with psycopg.connect(database_url) as conn:
        params = {"p": patient_id, "u": user_id, "ids": [user_id]}
        for i in range(n + 10):
            started = time.perf_counter()
            with conn.transaction():
                for sql in SUMMARY_SQL:
                    conn.execute(sql, params).fetchall()  # type: ignore[arg-type]
            if i >= 10:
                samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--background", type=int, default=2000)
    args = parser.parse_args()
    with embedded_database() as url:
        create_user(url, "bench_doctor", "doctor")
        with psycopg.connect(url, autocommit=True) as conn:
            doctor = conn.execute(
                "SELECT id FROM users WHERE username = 'bench_doctor'"
            ).fetchone()[0]  # type: ignore[index]
            started = time.perf_counter()
            params = {"doctor": doctor, "background": args.background, "encounters": ENCOUNTERS}
            for statement in BUILD_SQL.split(";\n"):
                if statement.strip():
                    conn.execute(statement, params)  # type: ignore[arg-type]
            patient = conn.execute(
                "SELECT id FROM patients WHERE mrn = 'BENCH000000000'"
            ).fetchone()[0]  # type: ignore[index]
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM encounters), "
                "(SELECT count(*) FROM encounters WHERE patient_id = %s)",
                (patient,),
            ).fetchone()
        print(
            f"built in {time.perf_counter() - started:.1f} s: {counts[0]:,} encounters, "  # type: ignore[index]
            f"{counts[1]} for the benchmark patient"
        )  # type: ignore[index]
        with running_server(url) as server, httpx.Client(timeout=30) as client:
            headers = server.login("bench_doctor")
            chart = client.get(
                f"{server.url}/api/v1/patients/{patient}/chart", headers=headers
            ).json()
            assert chart["counts"]["encounters"] == ENCOUNTERS, chart["counts"]
            results = {
                "baseline GET /me (auth only)": time_http(
                    client, f"{server.url}/api/v1/me", headers, args.requests
                ),
                "chart summary, API": time_http(
                    client, f"{server.url}/api/v1/patients/{patient}/chart", headers, args.requests
                ),
                "timeline (50 of ~700), API": time_http(
                    client,
                    f"{server.url}/api/v1/patients/{patient}/timeline?limit=50",
                    headers,
                    args.requests,
                ),
            }
        results["chart summary, raw SQL"] = time_sql(url, patient, doctor, args.requests)
    print()
    for name, samples in results.items():
        print(f"{name:<30} {summary(samples)}")
    p95 = percentile(results["chart summary, API"], 95)
    print(
        f"\nchart summary p95 {p95:.1f} ms (target ≤ 100 ms): "
        f"{'OK' if p95 <= 100 else 'OVER TARGET'}; median "
        f"{statistics.median(results['chart summary, API']):.1f} ms"
    )


if __name__ == "__main__":
    main()
