"""Dispensing beyond the contract: the queue, preview, scan verification, returns,
send-back, labels, the barcode resolver, and idempotent retries."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from tests.server.api.pharmacy_factories import (
    Pharmacy,
    drug_id,
    gs1,
    gtin13,
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


@pytest.fixture
def stocked(client, pharmacy, doctor):
    """Paracetamol with a box GTIN and two lots (SOON picked first, LATE after)."""
    para = drug_id(client, doctor.headers, "paracetamol")
    gtin = gtin13()
    item = pharmacy.item(para, packs=[{"name": "box", "base_quantity": 20, "gtin": gtin}])
    pharmacy.receive(item["id"], 30, lot="SOON" + uuid.uuid4().hex[:4], expiry_days=90)
    pharmacy.receive(item["id"], 30, lot="LATE" + uuid.uuid4().hex[:4], expiry_days=400)
    lots = pharmacy.stock(item["id"])["items"]
    return {"drug": para, "item": item, "gtin": gtin, "soon": lots[0], "late": lots[1]}


def _expiry(row) -> date:
    return date.fromisoformat(row["expiry"])


def test_scan_of_the_picked_batch_is_accepted(client, headers_for, pharmacy, doctor, stocked):
    rx = prescribe(
        client, doctor, patient_with_doctor(client, headers_for, doctor), stocked["drug"]
    )
    code = gs1(stocked["gtin"], stocked["soon"]["lot"], _expiry(stocked["soon"]), "SN1")
    response = pharmacy.dispense(rx, 10, line={"scanned_code": code})
    assert response.status_code == 201, response.text
    assert response.json()["lines"][0]["lot"] == stocked["soon"]["lot"]


def test_wrong_scans_are_refused_with_a_clear_message_and_nothing_moves(
    client, headers_for, pharmacy, doctor, stocked
):
    rx = prescribe(
        client, doctor, patient_with_doctor(client, headers_for, doctor), stocked["drug"]
    )
    before = pharmacy.on_hand(stocked["item"]["id"])
    other = pharmacy.item(
        drug_id(client, doctor.headers, "ibuprofen"),
        packs=[{"name": "box", "base_quantity": 10, "gtin": gtin13()}],
    )
    cases = {
        "wrong_item": gs1(other["packs"][0]["gtin"]),
        "wrong_batch": gs1(stocked["gtin"], stocked["late"]["lot"], _expiry(stocked["late"])),
        "unknown_barcode": gs1(gtin13()),
        "malformed_barcode": "]d2010950110153000999",
    }
    for code, scanned in cases.items():
        response = pharmacy.dispense(rx, 10, line={"scanned_code": scanned})
        assert response.status_code == 422, (code, response.text)
        problem = response.json()
        assert problem["code"] == code, problem
        assert problem["detail"]
    wrong_batch = pharmacy.dispense(rx, 10, line={"scanned_code": cases["wrong_batch"]})
    assert stocked["soon"]["lot"] in wrong_batch.json()["detail"]
    assert pharmacy.on_hand(stocked["item"]["id"]) == before


def test_preview_shows_picks_conflicts_and_scan_verdict_without_dispensing(
    client, headers_for, pharmacy, doctor, stocked
):
    rx = prescribe(
        client,
        doctor,
        patient_with_doctor(client, headers_for, doctor),
        stocked["drug"],
        quantity=40,
    )
    body = {
        "prescription_id": rx["id"],
        "location_id": pharmacy.location_id,
        "lines": [
            {
                "prescription_item_id": rx["items"][0]["id"],
                "quantity": 35,
                "scanned_code": gs1(stocked["gtin"], stocked["soon"]["lot"]),
            }
        ],
    }
    preview = client.post("/api/v1/dispenses/preview", headers=pharmacy.headers, json=body)
    assert preview.status_code == 200, preview.text
    data = preview.json()
    line = data["lines"][0]
    assert data["ready"] and data["conflicts"] == []
    assert [(p["lot"], p["quantity"]) for p in line["picks"]] == [
        (stocked["soon"]["lot"], "30"),
        (stocked["late"]["lot"], "5"),
    ]
    assert line["available"] == "60" and line["owed"] == "40" and line["scan"]["ok"]
    too_much = client.post(
        "/api/v1/dispenses/preview",
        headers=pharmacy.headers,
        json={**body, "lines": [{**body["lines"][0], "quantity": 41}]},
    ).json()
    assert too_much["lines"][0]["problem"] == "exceeds_owed" and not too_much["ready"]
    assert pharmacy.on_hand(stocked["item"]["id"]) == 60


def test_queue_shows_new_prescriptions_and_drops_dispensed_or_sent_back(
    client, headers_for, pharmacy, doctor, stocked
):
    pid = patient_with_doctor(client, headers_for, doctor)
    first = prescribe(client, doctor, pid, stocked["drug"], quantity=2)
    second = prescribe(
        client,
        doctor,
        patient_with_doctor(client, headers_for, doctor),
        drug_id(client, doctor.headers, "amlodipine"),
    )

    def in_queue(rx):
        page = client.get(
            "/api/v1/dispensing-queue", headers=pharmacy.headers, params={"q": rx["number"]}
        ).json()
        return page["items"][0] if page["total"] else None

    entry = in_queue(first)
    assert entry["status"] == "new" and entry["patient"]["id"] == pid
    assert entry["items"][0]["owed"] == "2" and entry["prescriber_name"]
    assert pharmacy.dispense(first, 2).status_code == 201
    assert in_queue(first) is None
    back = client.post(
        f"/api/v1/prescriptions/{second['id']}/send-back",
        headers=pharmacy.headers,
        json={"reason": "Dose unclear: please confirm strength"},
    )
    assert back.status_code == 201
    assert in_queue(second) is None
    refused = pharmacy.dispense(second, 1)
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_state"


def test_returns_go_back_to_stock_or_to_waste_and_cannot_exceed_what_was_dispensed(
    client, headers_for, pharmacy, doctor, stocked
):
    rx = prescribe(
        client,
        doctor,
        patient_with_doctor(client, headers_for, doctor),
        stocked["drug"],
        quantity=20,
    )
    dispensed = pharmacy.dispense(rx, 20).json()
    line_id = dispensed["lines"][0]["id"]
    assert pharmacy.on_hand(stocked["item"]["id"]) == 40
    url = f"/api/v1/dispenses/{dispensed['id']}/returns"
    back = client.post(
        url,
        headers=pharmacy.headers,
        json={
            "reason": "Patient did not collect",
            "lines": [
                {"dispense_line_id": line_id, "quantity": 5},
            ],
        },
    )
    assert back.status_code == 201, back.text
    assert back.json()["lines"][0]["returned_quantity"] == "5"
    assert pharmacy.on_hand(stocked["item"]["id"]) == 45
    waste = client.post(
        url,
        headers=pharmacy.headers,
        json={
            "reason": "Opened blister returned",
            "lines": [{"dispense_line_id": line_id, "quantity": 3, "restock": False}],
        },
    )
    assert waste.status_code == 201
    assert pharmacy.on_hand(stocked["item"]["id"]) == 45
    too_many = client.post(
        url,
        headers=pharmacy.headers,
        json={"reason": "again", "lines": [{"dispense_line_id": line_id, "quantity": 13}]},
    )
    assert too_many.status_code == 422
    assert too_many.json()["code"] == "return_exceeds_dispensed"
    # A return does not make the prescription owed again.
    assert (
        client.get(f"/api/v1/dispenses/{dispensed['id']}", headers=pharmacy.headers).json()["owed"][
            0
        ]["owed"]
        == "0"
    )


def test_label_data_has_plain_instructions_and_a_scannable_code(
    client, headers_for, pharmacy, doctor, stocked
):
    pid = patient_with_doctor(client, headers_for, doctor)
    rx = prescribe(client, doctor, pid, stocked["drug"])
    line = pharmacy.dispense(rx, 14).json()["lines"][0]
    label = client.get(f"/api/v1/dispense-lines/{line['id']}/label", headers=pharmacy.headers)
    assert label.status_code == 200
    body = label.json()
    assert body["barcode"] == line["label_code"]
    assert body["instructions"] == "Take 1 tablet by mouth twice a day for 7 days."
    assert body["lot"] == stocked["soon"]["lot"] and body["quantity"] == "14"
    assert body["mrn"] and body["patient_name"].split(",")[0].isupper()
    resolved = client.post(
        "/api/v1/barcodes/resolve", headers=headers_for("nurse"), json={"code": body["barcode"]}
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["kind"] == "dispense_label"
    assert resolved.json()["dispense_line_id"] == line["id"]
    assert resolved.json()["drug_id"] == stocked["drug"]


def test_barcode_resolver_reads_gs1_pack_codes(client, headers_for, stocked):
    nurse = headers_for("nurse")
    expiry = date.today() + timedelta(days=100)
    for code in (
        gs1(stocked["gtin"], "LOT9", expiry, "S1"),
        f"(01){stocked['gtin'].zfill(14)}(17){expiry:%y%m%d}(10)LOT9",
    ):
        found = client.post("/api/v1/barcodes/resolve", headers=nurse, json={"code": code})
        assert found.status_code == 200, found.text
        body = found.json()
        assert body["stock_item_id"] == stocked["item"]["id"]
        assert body["gtin"] == stocked["gtin"].zfill(14) and body["lot"] == "LOT9"
        assert body["expiry"] == expiry.isoformat() and body["pack_quantity"] == "20"
    unknown = client.post("/api/v1/barcodes/resolve", headers=nurse, json={"code": gtin13()})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_barcode"
    bad = client.post("/api/v1/barcodes/resolve", headers=nurse, json={"code": "hello"})
    assert bad.status_code == 422 and bad.json()["code"] == "malformed_barcode"


def test_retried_dispense_with_the_same_key_dispenses_once(
    client, db, headers_for, pharmacy, doctor, stocked
):
    rx = prescribe(
        client, doctor, patient_with_doctor(client, headers_for, doctor), stocked["drug"]
    )
    body = {
        "prescription_id": rx["id"],
        "location_id": pharmacy.location_id,
        "lines": [{"prescription_item_id": rx["items"][0]["id"], "quantity": 4}],
    }
    headers = {**pharmacy.headers, "Idempotency-Key": uuid.uuid4().hex}
    first = client.post("/api/v1/dispenses", headers=headers, json=body)
    again = client.post("/api/v1/dispenses", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["id"] == again.json()["id"]
    with db.owner_engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM dispenses WHERE prescription_id = :p"), {"p": rx["id"]}
        ).scalar()
    assert count == 1
    assert pharmacy.on_hand(stocked["item"]["id"]) == 56


def test_each_dispensed_batch_emits_one_billing_event_and_a_return_reverses_it(
    app, client, headers_for, pharmacy, doctor, stocked
):
    from hms_server.domain.events import MedicationDispensed, MedicationReturned

    seen: list[object] = []

    def record(_uow, event):
        seen.append(event)

    events = app.state.runtime.events
    events.subscribe(MedicationDispensed, record)
    events.subscribe(MedicationReturned, record)
    try:
        rx = prescribe(
            client,
            doctor,
            patient_with_doctor(client, headers_for, doctor),
            stocked["drug"],
            quantity=40,
        )
        body = pharmacy.dispense(rx, 40).json()
        refused = pharmacy.dispense(rx, 1)  # nothing owed: no event
        assert refused.status_code == 409
        dispensed = [e for e in seen if isinstance(e, MedicationDispensed)]
        assert sorted((e.dispense_line_id, e.quantity) for e in dispensed) == sorted(
            (ln["id"], int(ln["quantity"])) for ln in body["lines"]
        )
        assert {e.patient_id for e in dispensed} == {rx["patient_id"]}
        assert {e.drug_id for e in dispensed} == {stocked["drug"]}
        client.post(
            f"/api/v1/dispenses/{body['id']}/returns",
            headers=pharmacy.headers,
            json={
                "reason": "Not collected",
                "lines": [{"dispense_line_id": body["lines"][0]["id"], "quantity": 2}],
            },
        )
        returned = [e for e in seen if isinstance(e, MedicationReturned)]
        assert [(e.dispense_line_id, e.quantity) for e in returned] == [(body["lines"][0]["id"], 2)]
    finally:
        events.unsubscribe(MedicationDispensed, record)
        events.unsubscribe(MedicationReturned, record)


def test_a_dispense_is_charged_once_by_billing_and_a_return_reduces_the_charge(
    client, headers_for, pharmacy, doctor
):
    """Through billing's own capture (it subscribes to ``MedicationDispensed``): one charge
    per dispensed line, never twice for a retried request; a partial return reduces it."""
    drug = drug_id(client, doctor.headers, "prednisolone")
    clerk = headers_for("billing_clerk")
    price = client.post(
        "/api/v1/price-items",
        headers=clerk,
        json={
            "code": "PH" + uuid.uuid4().hex[:8].upper(),
            "name": "Prednisolone 5 mg tablet",
            "category": "medicine",
            "unit_price": "0.40",
            "drug_id": drug,
        },
    )
    assert price.status_code in (201, 409), price.text
    item = pharmacy.item(drug)
    pharmacy.receive(item["id"], 40)
    pid = patient_with_doctor(client, headers_for, doctor)
    rx = prescribe(client, doctor, pid, drug, quantity=20)
    body = {
        "prescription_id": rx["id"],
        "location_id": pharmacy.location_id,
        "lines": [{"prescription_item_id": rx["items"][0]["id"], "quantity": 20}],
    }
    headers = {**pharmacy.headers, "Idempotency-Key": uuid.uuid4().hex}
    first = client.post("/api/v1/dispenses", headers=headers, json=body)
    again = client.post("/api/v1/dispenses", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    line = first.json()["lines"][0]

    def charges():
        page = client.get(f"/api/v1/patients/{pid}/charges", headers=clerk)
        assert page.status_code == 200, page.text
        return [c for c in page.json()["items"] if c["source_type"] == "dispense"]

    [charge] = charges()
    assert charge["source_id"] == line["id"] and charge["quantity"] == "20"
    assert charge["status"] == "unbilled"
    client.post(
        f"/api/v1/dispenses/{first.json()['id']}/returns",
        headers=pharmacy.headers,
        json={
            "reason": "Patient stopped after 5 days",
            "lines": [{"dispense_line_id": line["id"], "quantity": 8}],
        },
    )
    [reduced] = charges()
    assert reduced["quantity"] == "12"
