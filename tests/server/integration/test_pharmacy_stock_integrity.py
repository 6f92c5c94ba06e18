"""Stock can never go negative and on-hand always equals the ledger — enforced by PostgreSQL,
proven under concurrency through the real server (uvicorn over HTTP)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from hms_server.adapters.repositories.pharmacy import Posting, StockRepository
from hms_server.adapters.uow import Actor
from hms_server.domain.pharmacy import InsufficientStockError
from tests.server.api.pharmacy_factories import (
    drug_id,
    new_clinician,
    new_pharmacy,
    patient_with_doctor,
    prescribe,
)
from tests.wiring import wired_uow

pytestmark = pytest.mark.slow


@pytest.fixture
def pharmacy(client, make_user, login):
    return new_pharmacy(client, make_user, login)


@pytest.fixture
def doctor(client, make_user, login):
    return new_clinician(client, make_user, login)


def _reconciled(db) -> list[tuple]:
    with db.owner_engine.connect() as conn:
        return conn.execute(
            text("""
            WITH ledger AS (SELECT location_id, batch_id, sum(quantity_delta) q
                            FROM stock_movements GROUP BY 1, 2)
            SELECT b.location_id, b.batch_id, b.quantity, l.q
            FROM stock_balances b FULL JOIN ledger l USING (location_id, batch_id)
            WHERE coalesce(b.quantity, 0) <> coalesce(l.q, 0)""")
        ).all()


def test_100_concurrent_dispenses_against_50_units_give_exactly_50(
    client, db, live_server, headers_for, pharmacy, doctor
):
    drug = drug_id(client, doctor.headers, "cetirizine")
    item = pharmacy.item(drug)
    pharmacy.receive(item["id"], 50, lot="RACE1")
    pid = patient_with_doctor(client, headers_for, doctor)
    prescriptions = [
        prescribe(
            client,
            doctor,
            pid,
            drug,
            quantity=1,
            override_reason="Race test: separate scripts on purpose",
        )
        for _ in range(100)
    ]

    def dispense(rx):
        with httpx.Client(base_url=live_server.url, timeout=60) as http:
            response = http.post(
                "/api/v1/dispenses",
                headers=pharmacy.headers,
                json={
                    "prescription_id": rx["id"],
                    "location_id": pharmacy.location_id,
                    "override_reason": "Race test",
                    "lines": [{"prescription_item_id": rx["items"][0]["id"], "quantity": 1}],
                },
            )
            return response.status_code, response.json().get("code")

    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(dispense, prescriptions))
    statuses = [s for s, _ in results]
    assert statuses.count(201) == 50, results
    assert [c for s, c in results if s != 201] == ["insufficient_stock"] * 50
    assert not [s for s in statuses if s >= 500]
    assert pharmacy.stock(item["id"], include_empty=True)["items"][0]["quantity"] == "0"
    assert _reconciled(db) == []
    check = client.get("/api/v1/stock/reconciliation", headers=pharmacy.headers).json()
    assert check["mismatches"] == [] and check["balances_checked"] > 0


def test_two_pharmacists_dispensing_one_prescription_at_once(
    client, live_server, make_user, login, headers_for, pharmacy, doctor
):
    drug = drug_id(client, doctor.headers, "loratadine")
    item = pharmacy.item(drug)
    pharmacy.receive(item["id"], 100)
    rx = prescribe(
        client, doctor, patient_with_doctor(client, headers_for, doctor), drug, quantity=10
    )
    other = login(*make_user("pharmacist")[:2])
    body = {
        "prescription_id": rx["id"],
        "location_id": pharmacy.location_id,
        "lines": [{"prescription_item_id": rx["items"][0]["id"], "quantity": 10}],
    }

    def dispense(headers):
        with httpx.Client(base_url=live_server.url, timeout=60) as http:
            response = http.post("/api/v1/dispenses", headers=headers, json=body)
            return response.status_code, response.json().get("code")

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(dispense, [pharmacy.headers, other]))
    assert results == [(201, None), (409, "nothing_owed")]
    assert pharmacy.on_hand(item["id"]) == 90


def test_the_database_refuses_negative_stock_and_ledger_edits(client, db, settings, pharmacy):
    item = pharmacy.item(None, kind="consumable", unit="piece")
    pharmacy.receive(item["id"], 5, lot="DBG1")
    row = pharmacy.stock(item["id"])["items"][0]
    factory = db.owner_session_factory()
    # Through the repository: a movement that would go negative is refused by the CHECK.
    uow = wired_uow(factory, Actor.system("tests"))
    with uow, pytest.raises(InsufficientStockError):
        uow.repo(StockRepository).post_movements(
            [
                Posting(
                    "adjustment",
                    item["id"],
                    row["batch_id"],
                    pharmacy.location_id,
                    Decimal(-6),
                    Decimal(0),
                    None,
                    reason="test",
                )
            ]
        )
    ids = {"i": item["id"], "b": row["batch_id"], "l": pharmacy.location_id}
    # Directly in SQL, even as the owner: every way around the ledger is refused.
    for sql, error, message in (
        (
            "UPDATE stock_balances SET quantity = 100 WHERE batch_id = :b",
            DBAPIError,
            "changes only through stock_movements",
        ),
        ("DELETE FROM stock_movements WHERE batch_id = :b", DBAPIError, "append-only"),
        (
            "INSERT INTO stock_movements (kind, item_id, batch_id, location_id, "
            "quantity_delta, unit_cost, reason) VALUES ('adjustment', :i, :b, :l, -6, 0, 'x')",
            IntegrityError,
            "quantity_not_negative",
        ),
        (
            "INSERT INTO stock_movements (kind, item_id, batch_id, location_id, "
            "quantity_delta, unit_cost) VALUES ('receipt', :i + 100000, :b, :l, 1, 0)",
            IntegrityError,
            "batch_item",
        ),
    ):
        with db.owner_engine.begin() as conn, pytest.raises(error, match=message):
            conn.execute(text(sql), ids)
    assert pharmacy.on_hand(item["id"]) == 5
    # A status change is still allowed (it does not touch the quantity).
    status = client.post(
        f"/api/v1/batches/{row['batch_id']}/status",
        headers=pharmacy.headers,
        json={
            "location_id": pharmacy.location_id,
            "status": "quarantined",
            "reason": "Packaging check",
        },
    )
    assert status.status_code == 200 and status.json()["status"] == "quarantined"


def test_expired_stock_is_never_picked_and_the_sweep_quarantines_it(
    client, db, headers_for, pharmacy, doctor
):
    drug = drug_id(client, doctor.headers, "metformin")
    item = pharmacy.item(drug)
    pharmacy.receive(item["id"], 10, lot="OLDLOT", expiry_days=1)
    pharmacy.receive(item["id"], 10, lot="NEWLOT", expiry_days=300)
    with db.owner_engine.begin() as conn:  # time passes: the first lot expired yesterday
        conn.execute(
            text(
                "UPDATE stock_batches SET expiry = current_date - 1 "
                "WHERE item_id = :i AND lot = 'OLDLOT'"
            ),
            {"i": item["id"]},
        )
    rx = prescribe(
        client, doctor, patient_with_doctor(client, headers_for, doctor), drug, quantity=12
    )
    before_sweep = pharmacy.dispense(rx, 12)
    assert before_sweep.status_code == 409 and before_sweep.json()["available"] == "10"
    picked = pharmacy.dispense(rx, 4).json()["lines"]
    assert [ln["lot"] for ln in picked] == ["NEWLOT"]
    swept = client.post("/api/v1/stock/expiry-sweep", headers=pharmacy.headers)
    assert swept.status_code == 200 and swept.json()["balances_expired"] >= 1
    old = pharmacy.stock(item["id"], lot="OLDLOT")["items"][0]
    assert old["status"] == "expired" and old["quantity"] == "10"
    alerts = client.get(
        "/api/v1/stock-alerts",
        headers=pharmacy.headers,
        params={"location_id": pharmacy.location_id},
    ).json()
    assert "OLDLOT" in [a["lot"] for a in alerts["expired"]]
    release = client.post(
        f"/api/v1/batches/{old['batch_id']}/status",
        headers=pharmacy.headers,
        json={"location_id": pharmacy.location_id, "status": "available", "reason": "try"},
    )
    assert release.status_code == 409 and release.json()["code"] == "stock_not_available"
    write_off = client.post(
        "/api/v1/stock-write-offs",
        headers=pharmacy.headers,
        json={
            "item_id": item["id"],
            "location_id": pharmacy.location_id,
            "lot": "OLDLOT",
            "quantity": 10,
            "reason_code": "expired",
            "reason": "Expired on shelf",
        },
    )
    assert write_off.status_code == 201
    waste = client.get(
        "/api/v1/reports/waste",
        headers=pharmacy.headers,
        params={"location_id": pharmacy.location_id},
    ).json()
    assert [(w["reason_code"], w["quantity"], w["value"]) for w in waste] == [
        ("expired", "10", "2.50")
    ]
