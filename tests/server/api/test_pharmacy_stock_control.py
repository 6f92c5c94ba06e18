"""Stock control through the API: cycle counts with variance approval, recall with its
patient trace, transfers, ward requisitions, equipment, alerts and reports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.server.api.pharmacy_factories import (
    Pharmacy,
    drug_id,
    new_clinician,
    new_pharmacy,
    patient_with_doctor,
    prescribe,
)


@pytest.fixture
def pharmacy(client, make_user, login) -> Pharmacy:
    return new_pharmacy(client, make_user, login)


def _ward_store(client, pharmacy):
    code = "WS" + uuid.uuid4().hex[:8].upper()
    response = client.post(
        "/api/v1/locations",
        headers=pharmacy.headers,
        json={"code": code, "name": f"Ward store {code}", "kind": "ward_store", "ward_code": code},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_cycle_count_posts_only_the_variances(client, pharmacy):
    item = pharmacy.item(None, kind="consumable", unit="piece", item_class="dressings")
    other = pharmacy.item(None, kind="consumable", unit="piece", item_class="syringes")
    pharmacy.receive(item["id"], 40, lot="C1", unit_cost="0.50")
    pharmacy.receive(item["id"], 10, lot="C2", unit_cost="0.50")
    pharmacy.receive(other["id"], 7, lot="S1")
    opened = client.post(
        "/api/v1/stock-counts",
        headers=pharmacy.headers,
        json={"location_id": pharmacy.location_id, "item_class": "dressings"},
    )
    assert opened.status_code == 201, opened.text
    count = opened.json()
    assert {ln["lot"]: ln["expected_quantity"] for ln in count["lines"]} == {"C1": "40", "C2": "10"}
    submit_early = client.post(
        f"/api/v1/stock-counts/{count['id']}/submit",
        headers=pharmacy.headers,
        json={"version": count["version"]},
    )
    assert submit_early.status_code == 422
    lines = {ln["lot"]: ln["id"] for ln in count["lines"]}
    entered = client.put(
        f"/api/v1/stock-counts/{count['id']}/entries",
        headers=pharmacy.headers,
        json={
            "version": count["version"],
            "entries": [
                {"line_id": lines["C1"], "counted_quantity": 37},
                {"line_id": lines["C2"], "counted_quantity": 10},
            ],
        },
    )
    assert entered.status_code == 200, entered.text
    review = entered.json()
    assert [ln["variance"] for ln in review["lines"]] == ["-3", "0"]
    assert review["variance_value"] == "-1.50"
    stale = client.put(
        f"/api/v1/stock-counts/{count['id']}/entries",
        headers=pharmacy.headers,
        json={
            "version": count["version"],
            "entries": [{"line_id": lines["C1"], "counted_quantity": 1}],
        },
    )
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    submitted = client.post(
        f"/api/v1/stock-counts/{count['id']}/submit",
        headers=pharmacy.headers,
        json={"version": review["version"]},
    ).json()
    approved = client.post(
        f"/api/v1/stock-counts/{count['id']}/approve",
        headers=pharmacy.headers,
        json={"version": submitted["version"]},
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert pharmacy.on_hand(item["id"]) == 47 and pharmacy.on_hand(other["id"]) == 7
    ledger = client.get(
        "/api/v1/stock-movements",
        headers=pharmacy.headers,
        params={"item_id": item["id"], "kind": "count"},
    ).json()
    assert [m["quantity_delta"] for m in ledger["items"]] == ["-3"]


def test_recall_shows_where_every_unit_is_and_who_received_it(
    client, make_user, login, headers_for, pharmacy
):
    doctor = new_clinician(client, make_user, login)
    drug = drug_id(client, doctor.headers, "omeprazole")
    item = pharmacy.item(drug)
    pharmacy.receive(item["id"], 100, lot="RC1")
    ward = _ward_store(client, pharmacy)
    moved = client.post(
        "/api/v1/stock-transfers",
        headers=pharmacy.headers,
        json={
            "from_location_id": pharmacy.location_id,
            "to_location_id": ward["id"],
            "lines": [{"item_id": item["id"], "quantity": 30}],
        },
    )
    assert moved.status_code == 201, moved.text
    assert [m["quantity_delta"] for m in moved.json()["movements"]] == ["-30", "30"]
    pid = patient_with_doctor(client, headers_for, doctor)
    rx = prescribe(client, doctor, pid, drug)
    pharmacy.dispense(rx, 14)
    batch_id = pharmacy.stock(item["id"])["items"][0]["batch_id"]
    recall = client.post(
        f"/api/v1/batches/{batch_id}/recall",
        headers=pharmacy.headers,
        json={"reason": "Manufacturer recall: dissolution failure"},
    )
    assert recall.status_code == 200, recall.text
    report = recall.json()
    holdings = {h["location_id"]: h for h in report["holdings"]}
    assert holdings[pharmacy.location_id]["quantity"] == "56"
    assert holdings[ward["id"]]["quantity"] == "30"
    assert {h["status"] for h in report["holdings"]} == {"recalled"}
    assert report["on_hand_total"] == "86" and report["dispensed_total"] == "14"
    assert [r["patient_id"] for r in report["recipients"]] == [pid]
    again = client.post(
        f"/api/v1/batches/{batch_id}/recall", headers=pharmacy.headers, json={"reason": "twice"}
    )
    assert again.status_code == 409
    rx2 = prescribe(client, doctor, patient_with_doctor(client, headers_for, doctor), drug)
    blocked = pharmacy.dispense(rx2, 1)
    assert blocked.status_code == 409 and blocked.json()["code"] == "insufficient_stock"
    receive_again = client.post(
        "/api/v1/goods-receipts",
        headers=pharmacy.headers,
        json={
            "location_id": pharmacy.location_id,
            "lines": [
                {
                    "item_id": item["id"],
                    "lot": "RC1",
                    "expiry": pharmacy.stock(item["id"])["items"][0]["expiry"],
                    "quantity": 5,
                    "unit_cost": "0.10",
                }
            ],
        },
    )
    assert receive_again.status_code == 409
    assert receive_again.json()["code"] == "stock_not_available"


def test_ward_requisition_is_approved_issued_as_a_transfer_and_received(
    client, headers_for, pharmacy
):
    item = pharmacy.item(None, kind="consumable", unit="piece")
    pharmacy.receive(item["id"], 50, lot="RQ1", expiry_days=200)
    pharmacy.receive(item["id"], 50, lot="RQ0", expiry_days=100)
    ward = _ward_store(client, pharmacy)
    nurse = headers_for("nurse")
    created = client.post(
        "/api/v1/requisitions",
        headers=nurse,
        json={
            "ward_location_id": ward["id"],
            "source_location_id": pharmacy.location_id,
            "lines": [{"item_id": item["id"], "quantity": 70}],
            "note": "Weekend cover",
        },
    )
    assert created.status_code == 201, created.text
    req = created.json()
    assert req["status"] == "requested" and req["ward_location_name"] == ward["name"]
    assert (
        client.post(
            f"/api/v1/requisitions/{req['id']}/decision",
            headers=nurse,
            json={"version": req["version"]},
        ).status_code
        == 403
    )
    decided = client.post(
        f"/api/v1/requisitions/{req['id']}/decision",
        headers=pharmacy.headers,
        json={
            "version": req["version"],
            "lines": [{"line_id": req["lines"][0]["id"], "quantity": 60}],
        },
    )
    assert decided.status_code == 200 and decided.json()["lines"][0]["approved_quantity"] == "60"
    issued = client.post(
        f"/api/v1/requisitions/{req['id']}/issue",
        headers=pharmacy.headers,
        json={"version": decided.json()["version"]},
    )
    assert issued.status_code == 200, issued.text
    ward_stock = client.get(
        "/api/v1/stock", headers=nurse, params={"location_id": ward["id"], "item_id": item["id"]}
    ).json()
    assert [(r["lot"], r["quantity"]) for r in ward_stock["items"]] == [
        ("RQ0", "50"),
        ("RQ1", "10"),
    ]
    received = client.post(
        f"/api/v1/requisitions/{req['id']}/receive",
        headers=nurse,
        json={"version": issued.json()["version"]},
    )
    assert received.status_code == 200 and received.json()["status"] == "received"
    assert pharmacy.on_hand(item["id"]) == 40
    ledger = client.get(
        "/api/v1/stock-movements",
        headers=pharmacy.headers,
        params={"item_id": item["id"], "kind": "issue"},
    ).json()
    assert ledger["total"] == 4


def test_equipment_register_service_schedule_and_out_of_service_flag(client, headers_for, pharmacy):
    ward = _ward_store(client, pharmacy)
    manager = headers_for("manager")
    tag = "EQ" + uuid.uuid4().hex[:8].upper()
    created = client.post(
        "/api/v1/equipment",
        headers=manager,
        json={
            "asset_tag": tag,
            "name": "Infusion pump",
            "serial_number": "SN-123",
            "model": "Volumat",
            "manufacturer": "Fresenius",
            "location_id": ward["id"],
            "purchased_on": (datetime.now(UTC).date() - timedelta(days=170)).isoformat(),
            "warranty_until": (datetime.now(UTC).date() + timedelta(days=20)).isoformat(),
            "maintenance_interval_days": 180,
            "calibration_interval_days": 365,
        },
    )
    assert created.status_code == 201, created.text
    asset = created.json()
    alerts = client.get(
        "/api/v1/equipment/alerts",
        headers=headers_for("nurse"),
        params={"within_days": 30, "location_id": ward["id"]},
    ).json()
    assert {a["kind"] for a in alerts if a["equipment_id"] == asset["id"]} == {
        "service_due",
        "warranty_ending",
    }
    nurse = headers_for("nurse")
    faulty = client.post(
        f"/api/v1/equipment/{asset['id']}/status",
        headers=nurse,
        json={"version": asset["version"], "status": "out_of_service"},
    )
    assert faulty.status_code == 422
    faulty = client.post(
        f"/api/v1/equipment/{asset['id']}/status",
        headers=nurse,
        json={
            "version": asset["version"],
            "status": "out_of_service",
            "reason": "Occlusion alarm will not clear",
        },
    )
    assert faulty.status_code == 200
    seen = client.get(
        "/api/v1/equipment",
        headers=nurse,
        params={"location_id": ward["id"], "status": "out_of_service"},
    ).json()
    assert [e["asset_tag"] for e in seen["items"]] == [tag]
    use = client.post(
        f"/api/v1/equipment/{asset['id']}/usage",
        headers=nurse,
        json={"started_at": datetime.now(UTC).isoformat()},
    )
    assert use.status_code == 409
    serviced = client.post(
        f"/api/v1/equipment/{asset['id']}/services",
        headers=manager,
        json={
            "kind": "preventive",
            "performed_on": datetime.now(UTC).date().isoformat(),
            "performed_by": "Biomed: J. Osei",
            "notes": "Occlusion sensor replaced",
            "cost": "85.00",
            "return_to_service": True,
        },
    )
    assert serviced.status_code == 201, serviced.text
    after = client.get(f"/api/v1/equipment/{asset['id']}", headers=nurse).json()
    assert after["status"] == "in_service"
    assert after["next_service_due"] == (datetime.now(UTC).date() + timedelta(days=180)).isoformat()
    assert (
        client.post(
            f"/api/v1/equipment/{asset['id']}/usage",
            headers=nurse,
            json={"started_at": datetime.now(UTC).isoformat()},
        ).status_code
        == 201
    )
    history = client.get(f"/api/v1/equipment/{asset['id']}/services", headers=nurse).json()
    assert history[0]["cost"] == "85.00"


def test_valuation_and_consumption_reports(client, db, pharmacy):
    item = pharmacy.item(None, kind="consumable", unit="piece")
    pharmacy.receive(item["id"], 10, unit_cost="1.25")
    ward = _ward_store(client, pharmacy)
    client.post(
        "/api/v1/stock-transfers",
        headers=pharmacy.headers,
        json={
            "from_location_id": pharmacy.location_id,
            "to_location_id": ward["id"],
            "lines": [{"item_id": item["id"], "quantity": 4}],
        },
    )
    valuation = client.get("/api/v1/reports/stock-valuation", headers=pharmacy.headers).json()
    mine = [v for v in valuation if v["location_id"] in (pharmacy.location_id, ward["id"])]
    assert sorted((v["quantity"], v["value"]) for v in mine) == [("4", "5.00"), ("6", "7.50")]
    series = client.get(
        "/api/v1/reports/consumption",
        headers=pharmacy.headers,
        params={"item_id": item["id"], "location_id": pharmacy.location_id, "weeks": 4},
    ).json()
    assert len(series["points"]) == 4 and series["points"][-1]["quantity"] == "4"
    with db.owner_engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM stock_movements WHERE item_id = :i"), {"i": item["id"]}
            ).scalar()
            == 3
        )
