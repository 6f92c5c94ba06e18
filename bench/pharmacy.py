"""Pharmacy figures against a real server process (uvicorn via ``hms-server run``):

1. stock look-up through the API with 20,000 items × 5 locations × 3 batches
   (300,000 balances, every one created by a ledger receipt): target p95 ≤ 50 ms;
2. reorder suggestions for 20,000 items over a year of ledger (one consumption row per
   item per week at the pharmacy, ≈ 1.04 M rows): target ≤ 2 s;
3. 100 concurrent dispenses of one unit against a batch of 50 (100 patients, one
   prescription each) → exactly 50 × 201 and 50 × 409 ``insufficient_stock``, no 5xx, no
   negative balance; the script exits non-zero otherwise;
4. the ledger-versus-balance reconciliation after the load: every balance equals the sum
   of its ledger rows (exits non-zero otherwise).

Run: .venv/bin/python bench/pharmacy.py [--items 20000] [--weeks 52] [--requests 300]
     [--workers 1] [--keep-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import create_user, embedded_database, percentile, running_server, summary

LOCATIONS = ("CENTRAL", "PHARMACY", "THEATRE", "BWARD1", "BWARD2")
RACE_STOCK = 50
RACE_DISPENSES = 100


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def load(url: str, items: int, weeks: int) -> dict[str, int]:
    """Bulk load through the ledger: receipts (the trigger creates every balance), then a
    year of weekly consumption at the pharmacy. Returns location ids by code."""
    started = time.perf_counter()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for code in LOCATIONS[3:]:
            conn.execute(
                "INSERT INTO stock_locations (code, name, kind, ward_code, "
                "dispensing, active, version) VALUES (%s, %s, 'ward_store', %s, "
                "false, true, 1)",
                (code, f"Bench {code}", code),
            )
        ids = dict(conn.execute("SELECT code, id FROM stock_locations").fetchall())
        drugs = conn.execute("SELECT count(*) FROM drugs").fetchone()[0]
        # Items map onto drugs 2..N, so drug 1 (the race's) has one stock item only.
        conn.execute(
            """
            INSERT INTO stock_items (code, name, kind, drug_id, base_unit, divisible,
                                     item_class, active, version)
            SELECT 'B' || lpad(g::text, 6, '0'), 'Bench item ' || g, 'medicine',
                   2 + g %% (%(drugs)s - 1), 'tablet', false, 'C' || g %% 40, true, 1
            FROM generate_series(1, %(items)s) g""",
            {"items": items, "drugs": drugs},
        )
        conn.execute("""
            INSERT INTO stock_batches (item_id, lot, expiry, unit_cost)
            SELECT i.id, 'L' || i.id || '-' || b, current_date + 30 + (i.id * 7 + b * 131) % 900,
                   0.05 + (i.id % 97) / 100.0
            FROM stock_items i CROSS JOIN generate_series(1, 3) b
            WHERE i.code LIKE 'B%'""")
        # One receipt per batch per location; the pharmacy's covers the year's consumption.
        conn.execute(
            """
            INSERT INTO stock_movements (at, kind, item_id, batch_id, location_id,
                                         quantity_delta, unit_cost, reason)
            SELECT now() - make_interval(weeks => %(weeks)s + 1), 'receipt', b.item_id, b.id,
                   l.id, CASE WHEN l.code <> 'PHARMACY' THEN 200
                              WHEN b.lot NOT LIKE '%%-1' THEN
                                   CASE WHEN b.item_id %% 10 = 0 THEN 10 ELSE 200 END
                              WHEN b.item_id %% 10 = 0 THEN 40 * %(weeks)s + 5
                              ELSE 40 * %(weeks)s + 100 END,
                   b.unit_cost, 'bench opening stock'
            FROM stock_batches b CROSS JOIN stock_locations l
            WHERE l.code = ANY(%(codes)s) AND b.lot LIKE 'L%%'
            ORDER BY b.id, l.id""",
            {"weeks": weeks, "codes": list(LOCATIONS)},
        )
        loaded = time.perf_counter()
        # A year of weekly consumption at the pharmacy, from each item's first batch.
        conn.execute(
            """
            INSERT INTO stock_movements (at, kind, item_id, batch_id, location_id,
                                         quantity_delta, unit_cost, reason)
            SELECT now() - make_interval(weeks => w) + make_interval(hours => b.item_id %% 100),
                   'issue', b.item_id, b.id, %(pharmacy)s,
                   CASE WHEN b.item_id %% 10 = 0 THEN -40  -- every tenth item runs low
                        ELSE -(1 + (b.item_id * 13 + w * 7) %% 40) END,
                   b.unit_cost, 'bench consumption'
            FROM stock_batches b CROSS JOIN generate_series(0, %(weeks)s - 1) w
            WHERE b.lot LIKE 'L%%-1'
            ORDER BY w DESC, b.id""",
            {"weeks": weeks, "pharmacy": ids["PHARMACY"]},
        )
        conn.execute("VACUUM ANALYZE")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM stock_balances), (SELECT count(*) FROM stock_movements)"
        ).fetchone()
    print(
        f"loaded {counts[0]:,} balances and {counts[1]:,} ledger rows in "
        f"{time.perf_counter() - started:.0f} s (receipts {loaded - started:.0f} s)"
    )
    return ids


def race_setup(url: str, pharmacy: int, doctor: str) -> list[tuple[int, int]]:
    """One item of drug 1 with a single batch of 50 at the pharmacy, and 100 patients with
    one prescription each for one unit. Returns (prescription_id, item_id) pairs."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        item = conn.execute("""
            INSERT INTO stock_items (code, name, kind, drug_id, base_unit, divisible, active,
                                     version)
            VALUES ('RACE', 'Race item', 'medicine', 1, 'tablet', false, true, 1)
            RETURNING id""").fetchone()[0]
        batch = conn.execute(
            "INSERT INTO stock_batches (item_id, lot, expiry, unit_cost) "
            "VALUES (%s, 'RACE-1', current_date + 365, 0.10) RETURNING id",
            (item,),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO stock_movements (kind, item_id, batch_id, location_id, "
            "quantity_delta, unit_cost, reason) VALUES ('receipt', %s, %s, %s, %s, "
            "0.10, 'race stock')",
            (item, batch, pharmacy, RACE_STOCK),
        )
        prescriber = conn.execute("SELECT id FROM users WHERE username = %s", (doctor,)).fetchone()[
            0
        ]
        pairs = []
        for n in range(RACE_DISPENSES):
            patient = conn.execute(
                """
                INSERT INTO patients (mrn, given_name, family_name, date_of_birth,
                                      birth_date_estimated, sex, version)
                VALUES (%s, 'Race', %s, DATE '1970-01-01' + %s, false, 'female', 1)
                RETURNING id""",
                (f"RACE{n:05d}", f"Patient{n}", n),
            ).fetchone()[0]
            rx = conn.execute(
                """
                INSERT INTO prescriptions (number, patient_id, prescriber_user_id, status,
                                           created_at, version)
                VALUES (%s, %s, %s, 'active', now(), 1) RETURNING id""",
                (f"RXRACE{n:05d}", patient, prescriber),
            ).fetchone()[0]
            line = conn.execute(
                """
                INSERT INTO prescription_items (prescription_id, line_no, drug_id, dose, unit,
                                                route, frequency, duration_days, quantity)
                VALUES (%s, 1, 1, 1, 'tablet', 'oral', 'once daily', 1, 1)
                RETURNING id""",
                (rx,),
            ).fetchone()[0]
            pairs.append((rx, line))
    return pairs


def bench_lookup(
    server_url: str, headers: dict[str, str], ids: dict[str, int], items: int, requests: int
) -> dict[str, list[float]]:
    rng = random.Random(7)
    locations = [ids[c] for c in LOCATIONS]
    results: dict[str, list[float]] = {
        "item + location": [],
        "item, all locations": [],
        "lot": [],
        "location, first page": [],
    }
    with httpx.Client(base_url=server_url, headers=headers, timeout=30) as http:
        http.get("/api/v1/stock", params={"item_id": 1})  # warm the connection
        for _ in range(requests):
            item = rng.randint(1, items)
            for name, params in (
                ("item + location", {"item_id": item, "location_id": rng.choice(locations)}),
                ("item, all locations", {"item_id": item}),
                ("lot", {"lot": f"L{item}-{rng.randint(1, 3)}"}),
                ("location, first page", {"location_id": rng.choice(locations), "limit": 50}),
            ):
                started = time.perf_counter()
                response = http.get("/api/v1/stock", params=params)
                results[name].append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                if name == "item + location":
                    assert response.json()["total"] == 3, response.text
    return results


def bench_suggestions(
    server_url: str, headers: dict[str, str], pharmacy: int, runs: int, include_all: bool
) -> tuple[list[float], int]:
    """``include_all`` lists every evaluated item; without it only those to order (what the
    desktop asks). Every item's forecast is computed either way."""
    times, total = [], 0
    with httpx.Client(base_url=server_url, headers=headers, timeout=120) as http:
        for _ in range(runs):
            started = time.perf_counter()
            response = http.get(
                "/api/v1/reorder-suggestions",
                params={"location_id": pharmacy, "include_all": include_all, "limit": 100},
            )
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            total = response.json()["total"]
    return times, total


async def race(
    server_url: str, headers: dict[str, str], pharmacy: int, pairs: list[tuple[int, int]]
) -> Counter[str]:
    limits = httpx.Limits(max_connections=RACE_DISPENSES)
    async with httpx.AsyncClient(
        base_url=server_url, headers=headers, timeout=120, limits=limits
    ) as http:

        async def one(rx: int, line: int) -> str:
            response = await http.post(
                "/api/v1/dispenses",
                json={
                    "prescription_id": rx,
                    "location_id": pharmacy,
                    "lines": [{"prescription_item_id": line, "quantity": 1}],
                },
            )
            code = response.json().get("code", "") if response.status_code != 201 else ""
            return f"{response.status_code} {code}".strip()

        return Counter(await asyncio.gather(*(one(rx, line) for rx, line in pairs)))


def reconcile(url: str) -> tuple[float, int, int, str]:
    with psycopg.connect(libpq(url)) as conn:
        started = time.perf_counter()
        mismatches = conn.execute("""
            WITH ledger AS (SELECT location_id, batch_id, sum(quantity_delta) q
                            FROM stock_movements GROUP BY 1, 2)
            SELECT count(*) FROM stock_balances b FULL JOIN ledger l USING (location_id, batch_id)
            WHERE coalesce(b.quantity, 0) <> coalesce(l.q, 0)""").fetchone()[0]
        elapsed = (time.perf_counter() - started) * 1000
        balances = conn.execute("SELECT count(*) FROM stock_balances").fetchone()[0]
        lowest = conn.execute("SELECT min(quantity) FROM stock_balances").fetchone()[0]
    return elapsed, mismatches, balances, str(lowest)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--suggestion-runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep-dir", default=None)
    args = parser.parse_args()
    ok = True
    with embedded_database(args.keep_dir) as url:
        create_user(url, "bench_pharm", "pharmacist")
        create_user(url, "bench_doc", "doctor")
        ids = load(url, args.items, args.weeks)
        pairs = race_setup(url, ids["PHARMACY"], "bench_doc")
        with running_server(url, workers=args.workers) as server:
            headers = server.login("bench_pharm")
            print(
                f"\n1. GET /api/v1/stock, {args.items:,} items × 5 locations × 3 batches "
                f"(target p95 ≤ 50 ms)"
            )
            for name, samples in bench_lookup(
                server.url, headers, ids, args.items, args.requests
            ).items():
                print(f"   {name:<22} {summary(samples)}")
                if name != "location, first page" and percentile(samples, 95) > 50:
                    print("   ^ above the 50 ms target")
            print(
                f"\n2. GET /api/v1/reorder-suggestions, {args.weeks} weeks of ledger (target ≤ 2 s)"
            )
            for include_all in (False, True):
                times, total = bench_suggestions(
                    server.url, headers, ids["PHARMACY"], args.suggestion_runs, include_all
                )
                what = "listed (all evaluated)" if include_all else "to order"
                print(f"   {total:>6,} {what:<22} {summary(times)}")
                if percentile(times, 95) > 2000:
                    print("   ^ above the 2 s target")
            print(
                f"\n3. {RACE_DISPENSES} concurrent dispenses of 1 unit against a batch of "
                f"{RACE_STOCK}"
            )
            started = time.perf_counter()
            outcome = asyncio.run(race(server.url, headers, ids["PHARMACY"], pairs))
            print(f"   {dict(outcome)} in {time.perf_counter() - started:.1f} s")
            expected = Counter(
                {"201": RACE_STOCK, "409 insufficient_stock": RACE_DISPENSES - RACE_STOCK}
            )
            if outcome != expected:
                print("   FAILED: expected exactly 50 successes and 50 insufficient_stock")
                ok = False
        elapsed, mismatches, balances, lowest = reconcile(url)
        print(
            f"\n4. reconciliation: {balances:,} balances vs the ledger in {elapsed:.0f} ms: "
            f"{mismatches} mismatch(es); lowest balance {lowest}"
        )
        if mismatches or lowest.startswith("-"):
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
