"""The pharmacy contract the acceptance checks use, end to end through the API: catalogue,
locations, goods receipts, stock by batch, dispensing with picked batches and safety stops,
adjustments, and who may do what."""

from __future__ import annotations

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


@pytest.fixture
def doctor(client, make_user, login):
    return new_clinician(client, make_user, login)


def test_default_locations_exist_and_ward_staff_may_list_them(client, headers_for):
    for role in ("pharmacist", "nurse", "doctor", "manager"):
        response = client.get("/api/v1/locations", headers=headers_for(role))
        assert response.status_code == 200, (role, response.text)
    body = response.json()
    codes = {loc["code"]: loc for loc in body["items"]}
    assert {"CENTRAL", "PHARMACY", "THEATRE"} <= set(codes)
    assert codes["PHARMACY"]["kind"] == "pharmacy" and codes["PHARMACY"]["dispensing"]
    assert body["total"] == len(body["items"])
    for role in ("receptionist", "billing_clerk", "hr_officer"):
        assert client.get("/api/v1/locations", headers=headers_for(role)).status_code == 403


def test_a_medicine_item_carries_its_drug_and_is_searchable(client, pharmacy):
    amox = drug_id(client, pharmacy.headers, "amoxicillin")
    item = pharmacy.item(
        amox, packs=[{"name": "strip", "base_quantity": 10}, {"name": "box", "base_quantity": 100}]
    )
    assert item["drug_id"] == amox and item["kind"] == "medicine"
    assert item["drug_name"].lower().startswith("amoxicillin")
    assert [p["base_quantity"] for p in item["packs"]] == ["10", "100"]
    found = client.get(
        "/api/v1/stock-items", headers=pharmacy.headers, params={"q": item["code"]}
    ).json()
    assert found["total"] == 1 and found["items"][0]["id"] == item["id"]
    by_drug = client.get(
        "/api/v1/stock-items", headers=pharmacy.headers, params={"drug_id": amox}
    ).json()
    assert item["id"] in [i["id"] for i in by_drug["items"]]


def test_a_medicine_without_drug_and_a_bad_gtin_are_refused(client, pharmacy):
    response = client.post(
        "/api/v1/stock-items",
        headers=pharmacy.headers,
        json={
            "code": "NODRUG1",
            "name": "Mystery tablets",
            "kind": "medicine",
            "base_unit": "tablet",
        },
    )
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["field"].removeprefix("body.") == "drug_id"
    bad_gtin = client.post(
        "/api/v1/stock-items",
        headers=pharmacy.headers,
        json={
            "code": "BADGTIN1",
            "name": "Gauze",
            "kind": "consumable",
            "base_unit": "piece",
            "packs": [{"name": "box", "base_quantity": 10, "gtin": "4006381333932"}],
        },
    )
    assert bad_gtin.status_code == 422, bad_gtin.text
    assert bad_gtin.json()["errors"][0]["field"].removeprefix("body.") == "packs.0.gtin"


def test_goods_receipt_then_stock_by_batch(client, pharmacy):
    para = drug_id(client, pharmacy.headers, "paracetamol")
    item = pharmacy.item(para)
    receipt = client.post(
        "/api/v1/goods-receipts",
        headers=pharmacy.headers,
        json={
            "location_id": pharmacy.location_id,
            "lines": [
                {
                    "item_id": item["id"],
                    "lot": "PCM-A1",
                    "expiry": in_days(300),
                    "quantity": 50,
                    "unit_cost": "0.12",
                },
                {
                    "item_id": item["id"],
                    "lot": "PCM-B2",
                    "expiry": in_days(100),
                    "quantity": "20",
                    "unit_cost": "0.10",
                },
            ],
        },
    )
    assert receipt.status_code == 201, receipt.text
    body = receipt.json()
    assert body["number"].startswith("GRN") and body["purchase_order_id"] is None
    assert body["total"] == "8.00"
    stock = client.get(
        "/api/v1/stock",
        headers=pharmacy.headers,
        params={"item_id": item["id"], "location_id": pharmacy.location_id},
    )
    assert stock.status_code == 200
    page = stock.json()
    assert page["total"] == 2
    first, second = page["items"]
    # First expiry first.
    assert (first["lot"], first["quantity"], first["status"]) == ("PCM-B2", "20", "available")
    assert (second["lot"], second["quantity"]) == ("PCM-A1", "50")
    assert first["expiry"] == in_days(100)
    assert first["item_id"] == item["id"] and first["location_id"] == pharmacy.location_id


def test_bad_receipts_leave_the_ledger_untouched(client, pharmacy):
    item = pharmacy.item(drug_id(client, pharmacy.headers, "paracetamol"))
    good = {
        "item_id": item["id"],
        "lot": "OK1",
        "expiry": in_days(200),
        "quantity": 5,
        "unit_cost": "1.00",
    }

    def receive(*bad_lines):
        return client.post(
            "/api/v1/goods-receipts",
            headers=pharmacy.headers,
            json={"location_id": pharmacy.location_id, "lines": [good, *bad_lines]},
        )

    expired = receive({**good, "lot": "OLD", "expiry": in_days(-1)})
    assert expired.status_code == 422 and expired.json()["code"] == "expired_lot"
    assert expired.json()["errors"][0]["field"].removeprefix("body.") == "lines.1.expiry"
    far = receive({**good, "lot": "FAR", "expiry": in_days(365 * 30)})
    assert far.status_code == 422 and far.json()["code"] == "implausible_expiry"
    fraction = receive({**good, "lot": "HALF", "quantity": "2.5"})
    assert fraction.status_code == 422 and fraction.json()["code"] == "indivisible_unit"
    negative = receive({**good, "lot": "NEG", "quantity": -3})
    assert negative.status_code == 422 and negative.json()["code"] == "validation_error"
    float_cost = receive({**good, "lot": "FLT", "unit_cost": 0.1})
    assert float_cost.status_code == 422
    unknown_item = receive({**good, "item_id": 2_000_000_000})
    assert unknown_item.status_code == 422
    mismatch_first = receive()
    assert mismatch_first.status_code == 201
    mismatch = receive({**good, "expiry": in_days(201)})
    assert mismatch.status_code == 422 and mismatch.json()["code"] == "lot_expiry_mismatch"
    # Only the one good receipt reached the ledger.
    assert pharmacy.on_hand(item["id"]) == 5


def test_adjustments_need_a_reason_and_never_go_negative(client, pharmacy):
    item = pharmacy.item(drug_id(client, pharmacy.headers, "ibuprofen"))
    pharmacy.receive(item["id"], 30, lot="ADJ1")
    body = {
        "item_id": item["id"],
        "location_id": pharmacy.location_id,
        "lot": "ADJ1",
        "quantity_delta": -10,
        "reason": "Broken blister found",
    }
    down = client.post("/api/v1/stock-adjustments", headers=pharmacy.headers, json=body)
    assert down.status_code == 201, down.text
    assert down.json()["kind"] == "adjustment" and down.json()["quantity_delta"] == "-10"
    assert pharmacy.on_hand(item["id"]) == 20
    too_far = client.post(
        "/api/v1/stock-adjustments", headers=pharmacy.headers, json={**body, "quantity_delta": -21}
    )
    assert too_far.status_code == 409 and too_far.json()["code"] == "insufficient_stock"
    no_reason = client.post(
        "/api/v1/stock-adjustments", headers=pharmacy.headers, json={**body, "reason": "  "}
    )
    assert no_reason.status_code == 422
    unknown_lot = client.post(
        "/api/v1/stock-adjustments", headers=pharmacy.headers, json={**body, "lot": "NOPE"}
    )
    assert unknown_lot.status_code == 404 and unknown_lot.json()["code"] == "unknown_lot"
    up = client.post(
        "/api/v1/stock-adjustments",
        headers=pharmacy.headers,
        json={**body, "quantity_delta": 5, "reason": "Found on shelf"},
    )
    assert up.status_code == 201
    assert pharmacy.on_hand(item["id"]) == 25


def test_dispense_picks_first_expiry_and_leaves_the_rest_owed(
    client, headers_for, pharmacy, doctor
):
    para = drug_id(client, doctor.headers, "paracetamol")
    item = pharmacy.item(para)
    pharmacy.receive(item["id"], 10, lot="LATE", expiry_days=500)
    pharmacy.receive(item["id"], 4, lot="SOON", expiry_days=60)
    pharmacy.receive(item["id"], 100, lot="GONE", expiry_days=10)
    client.post(
        f"/api/v1/batches/{pharmacy.stock(item['id'], lot='GONE')['items'][0]['batch_id']}/status",
        headers=pharmacy.headers,
        json={
            "location_id": pharmacy.location_id,
            "status": "quarantined",
            "reason": "Damp carton",
        },
    )
    pid = patient_with_doctor(client, headers_for, doctor)
    rx = prescribe(client, doctor, pid, para, quantity=20)
    response = pharmacy.dispense(rx, 6)
    assert response.status_code == 201, response.text
    body = response.json()
    assert [(ln["lot"], ln["quantity"]) for ln in body["lines"]] == [("SOON", "4"), ("LATE", "2")]
    assert body["owed"][0]["owed"] == "14" and body["owed"][0]["dispensed"] == "6"
    assert body["lines"][0]["label_code"].startswith("HMSDL")
    assert pharmacy.on_hand(item["id"]) == 108  # 8 LATE + 100 quarantined GONE
    queue = client.get(
        "/api/v1/dispensing-queue", headers=pharmacy.headers, params={"q": rx["number"]}
    ).json()
    assert queue["total"] == 1
    assert queue["items"][0]["status"] == "partly_dispensed"
    assert queue["items"][0]["items"][0]["owed"] == "14"
    more = pharmacy.dispense(rx, 15)
    assert more.status_code == 409 and more.json()["code"] == "exceeds_owed"
    short = pharmacy.dispense(rx, 9)
    assert short.status_code == 409 and short.json()["code"] == "insufficient_stock"
    assert short.json()["available"] == "8"
    assert pharmacy.on_hand(item["id"]) == 108


def test_allergy_added_after_prescribing_stops_dispensing_until_overridden(
    client, db, headers_for, pharmacy, doctor
):
    amox = drug_id(client, doctor.headers, "amoxicillin")
    item = pharmacy.item(amox)
    pharmacy.receive(item["id"], 50)
    pid = patient_with_doctor(client, headers_for, doctor)
    rx = prescribe(client, doctor, pid, amox)
    allergy = client.post(
        f"/api/v1/patients/{pid}/allergies",
        headers=doctor.headers,
        json={"substance": "penicillin", "reaction": "hives", "severity": "severe"},
    )
    assert allergy.status_code == 201
    refused = pharmacy.dispense(rx, 14)
    assert refused.status_code == 409
    assert refused.json()["code"] == "allergy_conflict"
    assert refused.json()["conflicts"][0]["type"] == "allergy_conflict"
    assert pharmacy.on_hand(item["id"]) == 50
    overridden = pharmacy.dispense(
        rx, 14, override_reason="Confirmed with patient: intolerance, not allergy"
    )
    assert overridden.status_code == 201, overridden.text
    assert overridden.json()["override_reason"].startswith("Confirmed")
    assert overridden.json()["conflicts"][0]["type"] == "allergy_conflict"
    from sqlalchemy import text

    with db.owner_engine.connect() as conn:
        action = conn.execute(
            text(
                "SELECT action FROM audit_log "
                "WHERE patient_id = :p AND action = 'dispense.override'"
            ),
            {"p": pid},
        ).scalar()
    assert action == "dispense.override"


def test_interaction_and_duplicate_therapy_are_checked_again(client, headers_for, pharmacy, doctor):
    cipro = drug_id(client, doctor.headers, "ciprofloxacin")
    warfarin = drug_id(client, doctor.headers, "warfarin")
    omeprazole = drug_id(client, doctor.headers, "omeprazole")
    for drug in (cipro, omeprazole):
        pharmacy.receive(pharmacy.item(drug)["id"], 50)
    pid = patient_with_doctor(client, headers_for, doctor)
    first = prescribe(client, doctor, pid, cipro, omeprazole)
    prescribe(
        client,
        doctor,
        pid,
        warfarin,
        omeprazole,
        override_reason="Anticoagulation clinic aware; second PPI script replaces first",
    )
    interaction = pharmacy.dispense(first, 1)
    assert interaction.status_code == 409 and interaction.json()["code"] == "interaction"
    duplicate = pharmacy.dispense(first, 1, item_index=1)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_therapy"


def test_cancelled_prescription_cannot_be_dispensed(client, headers_for, pharmacy, doctor):
    para = drug_id(client, doctor.headers, "paracetamol")
    item = pharmacy.item(para)
    pharmacy.receive(item["id"], 20)
    pid = patient_with_doctor(client, headers_for, doctor)
    rx = prescribe(client, doctor, pid, para)
    cancel = client.post(
        f"/api/v1/prescriptions/{rx['id']}/cancel",
        headers=doctor.headers,
        json={"version": rx["version"], "reason": "Wrong patient"},
    )
    assert cancel.status_code == 200
    refused = pharmacy.dispense(rx, 1)
    assert refused.status_code == 409 and refused.json()["code"] == "prescription_cancelled"
    assert pharmacy.on_hand(item["id"]) == 20


@pytest.mark.parametrize("role", ["receptionist", "billing_clerk", "nurse"])
def test_only_pharmacists_dispense_and_adjust(client, headers_for, role):
    headers = headers_for(role)
    dispense = client.post(
        "/api/v1/dispenses",
        headers=headers,
        json={
            "prescription_id": 1,
            "location_id": 1,
            "lines": [{"prescription_item_id": 1, "quantity": 1}],
        },
    )
    adjust = client.post(
        "/api/v1/stock-adjustments",
        headers=headers,
        json={"item_id": 1, "location_id": 1, "lot": "X", "quantity_delta": 1, "reason": "test"},
    )
    assert dispense.status_code == 403 and adjust.status_code == 403


def test_ward_staff_see_ward_store_stock_only(client, headers_for, pharmacy):
    ward = client.post(
        "/api/v1/locations",
        headers=pharmacy.headers,
        json={
            "code": "W"
            + pharmacy.headers["Authorization"][-6:].upper().replace("-", "X").replace("_", "Y"),
            "name": "Ward 3 store",
            "kind": "ward_store",
            "ward_code": "W3",
        },
    )
    assert ward.status_code == 201, ward.text
    nurse = headers_for("nurse")
    ok = client.get("/api/v1/stock", headers=nurse, params={"location_id": ward.json()["id"]})
    assert ok.status_code == 200
    refused = client.get(
        "/api/v1/stock", headers=nurse, params={"location_id": pharmacy.location_id}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "ward_stock_only"
    everything = client.get("/api/v1/stock", headers=nurse)
    assert everything.status_code == 403 and everything.json()["code"] == "ward_stock_only"
