"""Billing figures against a real server process (``hms-server run``) and an embedded
PostgreSQL:

1. 50 concurrent ``POST /invoices/{id}/finalize`` (one HTTP connection each) → 50 unique,
   gapless numbers (the script exits non-zero otherwise). Target: all succeed, no gap.
2. Invoice PDF render (the desktop's reportlab renderer, a typical 6-line insured
   invoice) over a batch of 1,000. Target ≤ 15 ms each.
3. A 500-line invoice opened in the desktop: ``GET /invoices/{id}`` through the typed API
   client and shown in the invoice tab's Qt model (offscreen). Target ≤ 300 ms.
4. Receivables ageing (``GET /billing/ar-ageing``) over N invoices (default 1,000,000:
   85 % paid, 15 % open, issued over 400 days), through HTTP and as raw SQL. Target ≤ 200 ms.

Run: .venv/bin/python bench/billing.py [--invoices 1000000] [--renders 1000]
     [--concurrent 50] [--lines 500] [--keep-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (
    BENCH_PASSWORD,
    create_user,
    embedded_database,
    running_server,
    summary,
)


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def setup(url: str, drafts: int, lines: int) -> tuple[list[int], int, int]:
    """``drafts`` one-line drafts (one patient each) and one draft of ``lines`` lines, made
    through the services. Returns the draft ids, the big draft's id and a patient id."""
    from sqlalchemy.orm import sessionmaker

    from hms_server.adapters.db import make_engine
    from hms_server.adapters.uow import Actor
    from hms_server.bootstrap import wired_uow
    from hms_server.services.billing import charges, invoices, prices
    from hms_server.services.patients import register_patient

    engine = make_engine(url, pool_size=2)
    factory = sessionmaker(engine, expire_on_commit=False)

    def uow():  # type: ignore[no-untyped-def]
        return wired_uow(factory, Actor.system("bench"))

    for code, price in (("BENCH-VISIT", "45.00"), ("BENCH-TAB", "0.35")):
        prices.create_price_item(
            uow(),
            code=code,
            name=f"Bench {code}",
            category="service",
            unit_price=Decimal(price),
            tax_rate=Decimal(0),
            tax_category=None,
            effective_from=None,
            effective_to=None,
        )
    ids, patient_id = [], 0
    for n in range(drafts + 1):
        patient_id = register_patient(
            uow(),
            mrn_prefix="BEN",
            given_name="Bench",
            family_name=f"Patient{chr(65 + n % 26)}{n}",
            sex="female",
            date_of_birth=date(1970, 1, 1),
            confirm_new=True,
        ).id
        count = lines if n == drafts else 1
        for _ in range(count):
            charges.add_manual_charge(
                uow(),
                patient_id=patient_id,
                price_item_code="BENCH-TAB" if count > 1 else "BENCH-VISIT",
                price_item_id=None,
                quantity=Decimal(1),
                reason="bench",
                encounter_id=None,
                service_date=None,
            )
        ids.append(
            invoices.create_invoice(
                uow(),
                patient_id=patient_id,
                charge_ids=None,
                encounter_id=None,
                admission_id=None,
                notes=None,
            ).id
        )
    engine.dispose()
    return ids[:-1], ids[-1], patient_id


async def finalize_all(
    url: str, headers: dict[str, str], ids: list[int]
) -> tuple[list[float], list[httpx.Response], float]:
    clients = [httpx.AsyncClient(base_url=url, headers=headers, timeout=60) for _ in ids]
    try:

        async def one(client: httpx.AsyncClient, invoice_id: int) -> tuple[float, httpx.Response]:
            started = time.perf_counter()
            response = await client.post(f"/api/v1/invoices/{invoice_id}/finalize")
            return (time.perf_counter() - started) * 1000, response

        started = time.perf_counter()
        results = await asyncio.gather(*[one(c, i) for c, i in zip(clients, ids, strict=True)])
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*[c.aclose() for c in clients])
    return [r[0] for r in results], [r[1] for r in results], elapsed


def bench_render(url: str, headers: dict[str, str], renders: int) -> list[float]:
    from hms_contract.billing import InvoiceRead
    from hms_desktop.printing.billing_common import Letterhead
    from hms_desktop.printing.invoice import render_invoice

    page = httpx.get(
        f"{url}/api/v1/invoices", params={"status": "finalised", "limit": 1}, headers=headers
    ).json()
    invoice = InvoiceRead.model_validate(
        httpx.get(f"{url}/api/v1/invoices/{page['items'][0]['id']}", headers=headers).json()
    )
    line = invoice.lines[0]
    lines = [
        line.model_copy(
            update={
                "line_no": n,
                "code": f"SRV-{n:03d}",
                "description": f"Service number {n} at the clinic",
            }
        )
        for n in range(1, 7)
    ]
    typical = invoice.model_copy(
        update={
            "lines": lines,
            "patient_name": "Zoë Ødegård-Иванова",
            "patient_mrn": "BEN000000042",
        }
    )
    head = Letterhead(
        name="St. Mary's General Hospital",
        address="12 Harbour Road, Vienna",
        phone="+43 1 555 0100",
        tax_id="ATU12345678",
    )
    render_invoice(typical, head)  # fonts registered, caches warm
    samples = []
    for n in range(renders):
        numbered = typical.model_copy(update={"number": f"INV-2026-{n:06d}"})
        started = time.perf_counter()
        render_invoice(numbered, head)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def bench_open(url: str, invoice_id: int, runs: int = 15) -> list[float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from hms_desktop.api.billing import BillingApi
    from hms_desktop.api.client import ApiClient
    from hms_desktop.app import create_application
    from hms_desktop.qt import QApplication
    from hms_desktop.workspaces.billing.invoice_tab import InvoiceTab

    create_application()
    api = ApiClient(url, retry_backoff=0.0)
    api.login("bench_clerk", BENCH_PASSWORD)
    billing = BillingApi(api)
    tab = InvoiceTab(2)
    tab.resize(1200, 700)
    tab.show()
    billing.invoice(invoice_id)  # connection and first parse warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        tab.set_invoice(billing.invoice(invoice_id))
        QApplication.processEvents()
        samples.append((time.perf_counter() - started) * 1000)
    assert tab.lines.rowCount() >= 500
    api.close()
    return samples


AGEING_LOAD = """
INSERT INTO invoices (patient_id, series, year, sequence, number, status, currency,
    issued_on, due_on, finalised_at, subtotal, discount_total, tax_total, total, payer_due,
    patient_due, copay, deductible, patient_paid, payer_paid, credited, written_off,
    created_at, updated_at, version)
SELECT %(patient)s, 'BEN', 2025, g, 'BEN-2025-' || g,
       CASE WHEN g %% 100 < 85 THEN 'paid' WHEN g %% 100 < 95 THEN 'finalised'
            ELSE 'partly_paid' END,
       'EUR', current_date - (g %% 400), current_date - (g %% 400) + 30, now(),
       t, 0, 0, t, y, t - y, 0, 0,
       CASE WHEN g %% 100 < 85 THEN t - y WHEN g %% 100 < 95 THEN 0
            ELSE round((t - y) / 2, 2) END,
       CASE WHEN g %% 100 < 85 THEN y ELSE 0 END, 0, 0, now(), now(), 1
  FROM (SELECT g, (20 + g %% 480)::numeric + 0.50 AS t,
               CASE WHEN g %% 5 < 2 THEN round(((20 + g %% 480)::numeric + 0.50) * 0.7, 2)
                    ELSE 0 END AS y
          FROM generate_series(%(start)s, %(stop)s) AS g) AS rows
"""


def load_invoices(url: str, patient_id: int, count: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM invoices WHERE series = 'BEN'").fetchone()[0]
        batch = 250_000
        for start in range(have + 1, count + 1, batch):
            conn.execute(
                AGEING_LOAD,
                {"patient": patient_id, "start": start, "stop": min(count, start + batch - 1)},
            )
            print(f"  loaded {min(count, start + batch - 1):,} invoices", flush=True)
        conn.execute("VACUUM ANALYZE invoices")
    return time.perf_counter() - started


def bench_ageing(
    url: str, headers: dict[str, str], database_url: str, runs: int = 30
) -> tuple[list[float], list[float], dict]:
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        body = client.get("/api/v1/billing/ar-ageing").json()
        http = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get("/api/v1/billing/ar-ageing")
            http.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    from hms_server.adapters.queries.billing import AGEING_SQL

    sql = []
    with psycopg.connect(libpq(database_url)) as conn:
        text = str(AGEING_SQL).replace(":as_of", "%(as_of)s")
        for _ in range(runs):
            started = time.perf_counter()
            conn.execute(text, {"as_of": date.today()}).fetchall()
            sql.append((time.perf_counter() - started) * 1000)
    return http, sql, body


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--renders", type=int, default=1000)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep-dir", default=None)
    args = parser.parse_args()
    failures = []
    with embedded_database(args.keep_dir) as url:
        create_user(url, "bench_clerk", "billing_clerk")
        print("setting up drafts …", flush=True)
        drafts, big, patient = setup(url, args.concurrent, args.lines)
        with running_server(url, workers=args.workers) as server:
            headers = server.login("bench_clerk")
            latencies, responses, elapsed = asyncio.run(finalize_all(server.url, headers, drafts))
            statuses = sorted({r.status_code for r in responses})
            numbers = [r.json().get("number") for r in responses if r.status_code == 200]
            serials = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
            gapless = (
                serials == list(range(serials[0], serials[0] + len(drafts))) if serials else False
            )
            print(
                f"\n1. {len(drafts)} concurrent finalisations: statuses {statuses}, "
                f"{len(set(numbers))} unique numbers, gapless={gapless}, "
                f"{elapsed * 1000:.0f} ms in all; per request {summary(latencies)}"
            )
            if statuses != [200] or len(set(numbers)) != len(drafts) or not gapless:
                failures.append("finalisation numbers")
            big_final = httpx.post(
                f"{server.url}/api/v1/invoices/{big}/finalize", headers=headers, timeout=60
            )
            big_final.raise_for_status()

            renders = bench_render(server.url, headers, args.renders)
            mean = sum(renders) / len(renders)
            print(
                f"2. invoice PDF render, batch of {len(renders)}: mean {mean:.2f} ms each; "
                f"{summary(renders)}  (target ≤ 15 ms)"
            )

            opened = bench_open(server.url, big)
            print(
                f"3. {args.lines}-line invoice opened in the desktop (GET + parse + Qt "
                f"model): {summary(opened)}  (target ≤ 300 ms)"
            )

            print(f"4. loading {args.invoices:,} invoices …", flush=True)
            seconds = load_invoices(url, patient, args.invoices)
            http, sql, body = bench_ageing(server.url, headers, url)
            open_count = sum(b["invoices"] for b in body["buckets"])
            print(
                f"   loaded in {seconds:.0f} s; {open_count:,} open invoices, total "
                f"{body['total']} {body['currency']}"
            )
            print(f"   ageing over HTTP: {summary(http)}  (target ≤ 200 ms)")
            print(f"   ageing SQL alone: {summary(sql)}")
    if failures:
        sys.exit(f"billing benchmark failed: {', '.join(failures)}")


if __name__ == "__main__":
    main()
