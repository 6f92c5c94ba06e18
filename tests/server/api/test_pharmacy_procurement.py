"""Procurement through the API: suppliers and price history, reorder suggestions from
consumption, one-step purchase orders, the order life cycle and partial deliveries."""

from __future__ import annotations

import uuid

import pytest

from tests.server.api.pharmacy_factories import (
    Pharmacy,
    drug_id,
    in_days,
    new_clinician,
    new_pharmacy,
    patient_with_doctor,
    prescribe,
)


@pytest.fixture
def pharmacy(client, make_user, login) -> Pharmacy:
    return new_pharmacy(client, make_user, login)


def _supplier(client, pharmacy, lead_time_days=5):
    code = "S" + uuid.uuid4().hex[:8].upper()
    response = client.post(
        "/api/v1/suppliers",
        headers=pharmacy.headers,
        json={
            "code": code,
            "name": f"Supplier {code}",
            "email": "orders@example.org",
            "lead_time_days": lead_time_days,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _order(client, pharmacy, supplier, item, quantity=100, cost="0.20"):
    response = client.post(
        "/api/v1/purchase-orders",
        headers=pharmacy.headers,
        json={
            "supplier_id": supplier["id"],
            "location_id": pharmacy.location_id,
            "lines": [{"item_id": item["id"], "quantity": quantity, "unit_cost": cost}],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _step(client, headers, order, step):
    return client.post(
        f"/api/v1/purchase-orders/{order['id']}/{step}",
        headers=headers,
        json={"version": order["version"]},
    )


def test_order_life_cycle_with_partial_deliveries(client, headers_for, pharmacy):
    supplier = _supplier(client, pharmacy)
    item = pharmacy.item(None, kind="consumable", unit="piece")
    order = _order(client, pharmacy, supplier, item, 100)
    assert order["status"] == "draft" and order["total"] == "20.00"
    early = client.post(
        "/api/v1/goods-receipts",
        headers=pharmacy.headers,
        json={
            "location_id": pharmacy.location_id,
            "purchase_order_id": order["id"],
            "lines": [
                {
                    "item_id": item["id"],
                    "lot": "G1",
                    "expiry": in_days(700),
                    "quantity": 10,
                    "unit_cost": "0.20",
                }
            ],
        },
    )
    assert early.status_code == 409 and early.json()["code"] == "invalid_state"
    # A nurse or a billing clerk cannot approve; a manager can.
    assert _step(client, headers_for("nurse"), order, "approve").status_code == 403
    approved = _step(client, headers_for("manager"), order, "approve")
    assert approved.status_code == 200, approved.text
    sent = _step(client, pharmacy.headers, approved.json(), "send").json()
    assert sent["status"] == "sent" and sent["sent_at"]

    def deliver(quantity, lot):
        return client.post(
            "/api/v1/goods-receipts",
            headers=pharmacy.headers,
            json={
                "location_id": pharmacy.location_id,
                "purchase_order_id": order["id"],
                "delivery_note": "DN-1",
                "lines": [
                    {
                        "item_id": item["id"],
                        "lot": lot,
                        "expiry": in_days(700),
                        "quantity": quantity,
                        "unit_cost": "0.22",
                    }
                ],
            },
        )

    first = deliver(60, "G1")
    assert first.status_code == 201 and first.json()["purchase_order_status"] == "partly_received"
    over = deliver(41, "G2")
    assert over.status_code == 422 and over.json()["code"] == "over_receipt"
    rest = deliver(40, "G2")
    assert rest.json()["purchase_order_status"] == "closed"
    final = client.get(f"/api/v1/purchase-orders/{order['id']}", headers=pharmacy.headers)
    assert final.json()["lines"][0]["outstanding"] == "0"
    assert pharmacy.on_hand(item["id"]) == 100
    prices = client.get(
        "/api/v1/supplier-prices", headers=pharmacy.headers, params={"item_id": item["id"]}
    ).json()
    assert [p["source"] for p in prices][:3] == ["receipt", "receipt", "order"]
    closed_again = _step(client, pharmacy.headers, final.json(), "cancel")
    assert closed_again.status_code == 409


def test_suggestions_come_from_consumption_and_become_orders_in_one_step(
    client, make_user, login, headers_for, pharmacy
):
    doctor = new_clinician(client, make_user, login)
    supplier = _supplier(client, pharmacy, lead_time_days=10)
    drug = drug_id(client, doctor.headers, "atorvastatin")
    item = pharmacy.item(
        drug, preferred_supplier_id=supplier["id"], packs=[{"name": "box", "base_quantity": 28}]
    )
    pharmacy.receive(item["id"], 60, unit_cost="0.05")
    client.post(
        f"/api/v1/suppliers/{supplier['id']}/prices",
        headers=pharmacy.headers,
        json={"item_id": item["id"], "unit_cost": "0.04"},
    )
    for _ in range(2):  # this week's consumption: 56 tablets
        rx = prescribe(
            client, doctor, patient_with_doctor(client, headers_for, doctor), drug, quantity=28
        )
        assert pharmacy.dispense(rx, 28).status_code == 201
    page = client.get(
        "/api/v1/reorder-suggestions",
        headers=pharmacy.headers,
        params={"location_id": pharmacy.location_id},
    ).json()
    mine = next(s for s in page["items"] if s["item_id"] == item["id"])
    assert mine["on_hand"] == "4" and mine["on_order"] == "0"
    assert float(mine["weekly_demand"]) > 0 and mine["days_of_stock"] is not None
    assert int(mine["suggested_quantity"]) % 28 == 0 and int(mine["suggested_quantity"]) > 0
    assert mine["supplier_id"] == supplier["id"] and mine["lead_time_days"] == 10
    assert mine["last_unit_cost"] == "0.0400"
    orders = client.post(
        "/api/v1/purchase-orders/from-suggestions",
        headers=pharmacy.headers,
        json={"location_id": pharmacy.location_id, "items": [{"item_id": item["id"]}]},
    )
    assert orders.status_code == 201, orders.text
    [order] = orders.json()
    assert order["status"] == "draft" and order["supplier_id"] == supplier["id"]
    assert order["lines"][0]["quantity"] == mine["suggested_quantity"]
    assert order["lines"][0]["unit_cost"] == "0.0400"
    # Now on order: no longer suggested.
    again = client.get(
        "/api/v1/reorder-suggestions",
        headers=pharmacy.headers,
        params={"location_id": pharmacy.location_id},
    ).json()
    assert item["id"] not in [s["item_id"] for s in again["items"]]


def test_reorder_level_alone_triggers_a_suggestion_up_to_par(client, pharmacy):
    item = pharmacy.item(None, kind="supply", unit="piece")
    pharmacy.receive(item["id"], 3)
    level = client.put(
        f"/api/v1/stock-items/{item['id']}/levels/{pharmacy.location_id}",
        headers=pharmacy.headers,
        json={"reorder_level": 5, "par_level": 20, "safety_stock": 2},
    )
    assert level.status_code == 200
    bad = client.put(
        f"/api/v1/stock-items/{item['id']}/levels/{pharmacy.location_id}",
        headers=pharmacy.headers,
        json={"reorder_level": 9, "par_level": 2},
    )
    assert bad.status_code == 422
    page = client.get(
        "/api/v1/reorder-suggestions",
        headers=pharmacy.headers,
        params={"location_id": pharmacy.location_id},
    ).json()
    mine = next(s for s in page["items"] if s["item_id"] == item["id"])
    assert mine["suggested_quantity"] == "17" and mine["days_of_stock"] is None
    alerts = client.get(
        "/api/v1/stock-alerts",
        headers=pharmacy.headers,
        params={"location_id": pharmacy.location_id},
    ).json()
    assert item["id"] in [a["item_id"] for a in alerts["low_stock"]]
    no_supplier = client.post(
        "/api/v1/purchase-orders/from-suggestions",
        headers=pharmacy.headers,
        json={"location_id": pharmacy.location_id, "items": [{"item_id": item["id"]}]},
    )
    assert no_supplier.status_code == 422
