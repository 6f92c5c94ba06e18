"""Patient search at hospital scale: API p50/p95 over HTTP beside the raw SQL of the same
queries.

Generates N patients with one set-based INSERT ... SELECT generate_series (indexes dropped
during the load and rebuilt after), starts the real server (``hms-server run``), signs in as
a receptionist and times ``GET /api/v1/patients?q=...`` for common and rare name fragments,
MRN, phone, birth date and a 2-character prefix. The SQL the service issued for each query
(its ``SET LOCAL``s and SELECTs, without the audit write) is captured and replayed on a plain
psycopg connection three ways:

- ``sql``: exactly what the service runs (psycopg default ``prepare_threshold=5`` with
  ``SET LOCAL plan_cache_mode = force_custom_plan``);
- ``nopre``: the same with ``prepare_threshold=None`` (never prepared);
- ``auto``: prepared, without the ``plan_cache_mode`` setting (PostgreSQL's default ``auto``
  may switch to a generic plan after 5 runs) — what the service would get without it.

Run: .venv/bin/python bench/patients_search.py [--patients 1000000] [--requests 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from common import (  # noqa: E402
    BENCH_PASSWORD,
    create_user,
    embedded_database,
    percentile,
    running_server,
)

GIVEN = [
    "María",
    "José",
    "Zoë",
    "Jürgen",
    "Chinedu",
    "Ngozi",
    "Priya",
    "Arjun",
    "Wei",
    "Mei",
    "Fatima",
    "Ahmed",
    "Siobhán",
    "Seán",
    "Łukasz",
    "Zofia",
    "Minh",
    "Thu",
    "Haruto",
    "Sakura",
    "John",
    "Mary",
    "James",
    "Anna",
    "Mohammed",
    "Olga",
    "Ivan",
    "Ana",
    "Luis",
    "Sofía",
    "Noah",
    "Emma",
    "Liam",
    "Olivia",
    "Amir",
    "Leila",
    "Kwame",
    "Ama",
    "Björn",
    "Ingrid",
    "Mateo",
    "Camila",
    "Hiroshi",
    "Yuki",
    "Rahul",
    "Deepa",
    "Tomás",
    "Inês",
    "Marco",
    "Giulia",
    "Martin",
    "Marta",
    "Mario",
    "Marie",
    "Omar",
    "Aisha",
    "Chen",
    "Hana",
    "Pablo",
    "Nadia",
]
FAMILY = [
    "García",
    "Müller",
    "Smith",
    "Nguyễn",
    "Okafor",
    "Sharma",
    "Wang",
    "Haddad",
    "O'Brien",
    "Nowak",
    "Satō",
    "Fernández",
    "Schröder",
    "Johnson",
    "Adeyemi",
    "Patel",
    "Li",
    "Khalil",
    "Murphy",
    "Kowalczyk",
    "Tanaka",
    "Núñez",
    "Weiß",
    "Brown",
    "Eze",
    "Iyer",
    "Zhang",
    "Mansour",
    "Kelly",
    "Wiśniewski",
    "Suzuki",
    "Muñoz",
    "Köhler",
    "Williams",
    "Balogun",
    "Reddy",
    "Chen",
    "Nasser",
    "Ångström",
    "Zieliński",
    "Itō",
    "Peña",
    "Martin",
    "Martínez",
    "Rossi",
    "Silva",
    "Santos",
    "Kim",
    "Park",
    "Ivanov",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "tu",
    "ne",
    "so",
    "vi",
    "de",
    "ba",
    "go",
    "ri",
    "pe",
    "zu",
    "fa",
    "ho",
    "ji",
    "ku",
    "ma",
    "no",
    "pa",
    "se",
    "ta",
    "wo",
    "yu",
]

LUHN_SQL = """
CREATE FUNCTION pg_temp.luhn(d text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT ((10 - sum(CASE WHEN (length(d) - i) % 2 = 0
                         THEN (substr(d, i, 1)::int * 2) % 10 + (substr(d, i, 1)::int * 2) / 10
                         ELSE substr(d, i, 1)::int END) % 10) % 10)::int
  FROM generate_series(1, length(d)) AS i $$
"""

# Rows: 70 % of family names from FAMILY (skewed: the first ones are much more common),
# 30 % made of three syllables (~15k rare names), and every 40,000th is "Xylander".
GENERATE_SQL = """
INSERT INTO patients (mrn, given_name, family_name, date_of_birth, birth_date_estimated, sex,
                      phone, national_id, next_of_kin, insurance, created_at, updated_at,
                      version)
SELECT 'HMS' || lpad(s::text, 8, '0') || pg_temp.luhn(lpad(s::text, 8, '0')),
       (%(given)s::text[])[1 + floor(random() * cardinality(%(given)s::text[]))::int],
       CASE WHEN g %% 40000 = 0 THEN 'Xylander'
            WHEN random() < 0.7
              THEN (%(family)s::text[])[1 + floor(power(random(), 2)
                                                  * cardinality(%(family)s::text[]))::int]
            ELSE initcap((%(syl)s::text[])[1 + floor(random() * 25)::int]
                         || (%(syl)s::text[])[1 + floor(random() * 25)::int]
                         || (%(syl)s::text[])[1 + floor(random() * 25)::int]) END,
       date '1925-01-01' + floor(random() * 36500)::int,
       random() < 0.03,
       (ARRAY['female', 'male', 'other', 'unknown'])[1 + floor(power(random(), 6) * 4)::int],
       '+1 555 ' || lpad(floor(random() * 10000000)::int::text, 7, '0'),
       CASE WHEN random() < 0.4 THEN 'NI' || lpad(g::text, 9, '0') END,
       '[]'::jsonb, '[]'::jsonb, now(), now(), 1
FROM (SELECT g, nextval('patient_mrn_seq') AS s FROM generate_series(1, %(n)s) AS g) AS t
"""


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def generate(url: str, n: int) -> float:
    """Load ``n`` patients; returns seconds. Indexes are dropped and rebuilt around the load."""
    started = time.perf_counter()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        conn.execute("SELECT setseed(0.42)")
        conn.execute(LUHN_SQL)
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'patients' "
            "AND indexname NOT IN ('pk_patients', 'uq_patients_mrn')"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        done = 0
        while done < n:  # batches keep one transaction from holding all the WAL
            batch = min(250_000, n - done)
            conn.execute(
                GENERATE_SQL, {"given": GIVEN, "family": FAMILY, "syl": SYLLABLES, "n": batch}
            )
            done += batch
            print(f"  loaded {done:,} patients ({time.perf_counter() - started:.0f} s)", flush=True)
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE patients")
    return time.perf_counter() - started


def capture_statements(url: str, q: str) -> list[tuple[str, Any]]:
    """The SET LOCALs and SELECTs on ``patients`` that ``search_patients`` issues for ``q``."""
    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    from hms_server.adapters.db import make_engine
    from hms_server.adapters.uow import Actor
    from hms_server.bootstrap import wired_uow
    from hms_server.services.patients import search_patients

    engine = make_engine(url, pool_size=1)
    seen: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        head = statement.lstrip().upper()
        if head.startswith("SET LOCAL") or (
            "FROM patients" in statement and head.startswith("SELECT")
        ):
            seen.append((statement, parameters))

    search_patients(
        wired_uow(sessionmaker(engine), Actor.system("bench")),
        q=q,
        limit=50,
        offset=0,
        mrn_prefix="HMS",
    )
    engine.dispose()
    return seen


def time_sql(
    url: str, statements: list[tuple[str, Any]], runs: int, mode: str, budget_s: float = 15.0
) -> list[float]:
    """Replay ``statements`` ``runs`` times (at least 15 — enough for PostgreSQL to try a
    generic plan — and then until ``budget_s`` is spent)."""
    prepare = {"prepare_threshold": None} if mode == "nopre" else {}
    samples: list[float] = []
    began = time.perf_counter()
    with psycopg.connect(libpq(url), **prepare) as conn:
        for _ in range(runs):
            with conn.transaction():
                started = time.perf_counter()
                for sql, params in statements:
                    if mode == "auto" and "plan_cache_mode" in sql:
                        continue
                    cursor = conn.execute(sql, params)
                    if cursor.description:
                        cursor.fetchall()
                samples.append((time.perf_counter() - started) * 1000)
                if time.perf_counter() - began > budget_s and len(samples) >= 15:
                    break
    return samples


def time_api(client: httpx.Client, queries: list[str], runs: int) -> tuple[list[float], int]:
    samples, total = [], 0
    for i in range(runs):
        q = queries[i % len(queries)]
        started = time.perf_counter()
        response = client.get("/api/v1/patients", params={"q": q, "limit": 50})
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        total = response.json()["total"]
    return samples, total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep-dir", help="keep the database here (reused if present)")
    args = parser.parse_args()
    with embedded_database(args.keep_dir) as url:
        with psycopg.connect(libpq(url)) as conn:
            have = conn.execute("SELECT count(*) FROM patients").fetchone()[0]
        if have < args.patients:
            print(f"generating {args.patients - have:,} patients ...", flush=True)
            print(f"  done in {generate(url, args.patients - have):.0f} s", flush=True)
        with psycopg.connect(libpq(url)) as conn:
            n = conn.execute("SELECT count(*) FROM patients").fetchone()[0]
            mrns = [
                r[0]
                for r in conn.execute("SELECT mrn FROM patients TABLESAMPLE SYSTEM (1) LIMIT 500")
            ]
            phone = conn.execute("SELECT phone FROM patients LIMIT 1").fetchone()[0]
        username = f"bench_rec_{uuid.uuid4().hex[:8]}"
        create_user(url, username, "receptionist")
        cases: list[tuple[str, list[str]]] = [
            ("name 3 chars, common ('mar')", ["mar"]),
            ("name 3 chars, rare ('xyl')", ["xyl"]),
            ("name word, common ('müller')", ["müller"]),
            ("name word, rare ('xylander')", ["xylander"]),
            ("given + family ('jose garc')", ["jose garc"]),
            ("name 2 chars prefix ('ng')", ["ng"]),
            ("MRN exact (varied)", mrns),
            ("MRN, no check digit", [m[:-1] for m in mrns]),
            ("phone last 7 digits", [phone[-8:].replace(" ", "")]),
            ("date of birth", ["1980-05-17"]),
        ]
        with running_server(url) as server:
            headers = server.login(username, BENCH_PASSWORD)
            rows = []
            with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
                for label, queries in cases:
                    time_api(client, queries, 10)  # warm up
                    api, total = time_api(client, queries, args.requests)
                    statements = capture_statements(url, queries[0])
                    raw = {
                        m: time_sql(url, statements, max(20, args.requests // 2), m)
                        for m in ("sql", "nopre", "auto")
                    }
                    rows.append((label, total, api, raw))
                    print(f"  {label}: done", flush=True)
        print(
            f"\nPatient search, {n:,} patients, {args.requests} API requests per row "
            "(sequential, one client, one server worker)\n"
        )
        head = (
            f"{'query':34} {'hits':>8} {'API p50':>8} {'API p95':>8} {'sql p50':>8} "
            f"{'sql p95':>8} {'nopre p95':>9} {'auto p95':>9}"
        )
        print(head)
        print("-" * len(head))
        for label, total, api, raw in rows:
            print(
                f"{label:34} {total:>8} {statistics.median(api):8.2f} "
                f"{percentile(api, 95):8.2f} {statistics.median(raw['sql']):8.2f} "
                f"{percentile(raw['sql'], 95):8.2f} {percentile(raw['nopre'], 95):9.2f} "
                f"{percentile(raw['auto'], 95):9.2f}"
            )
        print(
            "\n(ms; hits = total of the last API answer; sql = the SELECTs the service ran, "
            "replayed on psycopg; nopre = prepare_threshold=None; auto = prepared, "
            "plan_cache_mode=auto)"
        )


if __name__ == "__main__":
    main()
