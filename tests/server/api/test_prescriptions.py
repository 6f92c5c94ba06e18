"""Prescribing through the API: formulary search, safety conflicts (409) and overrides."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from tests.server.api.clinical_factories import (
    Clinician,
    book_with,
    drug_id,
    new_clinician,
    new_patient,
    open_encounter,
    rx_item,
)


@pytest.fixture
def doctor(client, make_user, login) -> Clinician:
    return new_clinician(client, make_user, login)


@pytest.fixture
def patient_id(client, headers_for, doctor) -> int:
    pid = new_patient(client, headers_for)["id"]
    book_with(client, headers_for, doctor, pid)
    open_encounter(client, doctor, pid)
    return pid


def prescribe(client, doctor, patient_id, *drugs, **extra):
    return client.post(
        "/api/v1/prescriptions",
        headers=doctor.headers,
        json={"patient_id": patient_id, "items": [rx_item(d) for d in drugs], **extra},
    )


def test_formulary_search_contract(client, headers_for):
    for role in ("doctor", "nurse", "pharmacist"):
        response = client.get("/api/v1/formulary", params={"q": "amox"}, headers=headers_for(role))
        assert response.status_code == 200
    body = response.json()
    assert body["total"] >= 2
    first = body["items"][0]
    assert first["generic_name"].lower().startswith("amoxicillin")
    assert {"id", "generic_name", "ingredients", "form", "strength", "route"} <= set(first)
    everything = client.get(
        "/api/v1/formulary", params={"limit": 1}, headers=headers_for("doctor")
    ).json()
    assert everything["total"] >= 150
    by_ingredient = client.get(
        "/api/v1/formulary", params={"q": "clavulanic"}, headers=headers_for("doctor")
    ).json()
    assert by_ingredient["items"][0]["generic_name"] == "Amoxicillin + clavulanic acid"
    assert client.get(
        "/api/v1/formulary", params={"q": "zzzz-nothing"}, headers=headers_for("doctor")
    ).json() == {"items": [], "total": 0}


def test_a_clean_prescription_is_201_with_a_number(client, doctor, patient_id):
    para = drug_id(client, doctor.headers, "paracetamol")
    response = prescribe(client, doctor, patient_id, para, notes="For fever")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] and body["number"].startswith("RX") and body["status"] == "active"
    assert body["items"][0]["generic_name"] == "Paracetamol"
    assert body["patient"]["id"] == patient_id and body["overrides"] == []
    fetched = client.get(f"/api/v1/prescriptions/{body['id']}", headers=doctor.headers)
    assert fetched.status_code == 200 and fetched.json()["number"] == body["number"]


def test_allergy_conflict_is_409_and_override_is_201_and_audited(client, db, doctor, patient_id):
    client.post(
        f"/api/v1/patients/{patient_id}/allergies",
        headers=doctor.headers,
        json={"substance": "penicillin", "reaction": "anaphylaxis", "severity": "severe"},
    )
    amox = drug_id(client, doctor.headers, "amoxicillin")
    refused = prescribe(client, doctor, patient_id, amox)
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "allergy_conflict"
    assert problem["conflicts"][0]["type"] == "allergy_conflict"
    assert problem["conflicts"][0]["drug_ids"] == [amox]
    assert problem["conflicts"][0]["severity"] == "contraindicated"

    reason = f"Desensitised under supervision {uuid.uuid4().hex[:6]}"
    allowed = prescribe(client, doctor, patient_id, amox, override_reason=reason)
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["overrides"][0]["reason"] == reason
    with db.owner_engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT user_id, detail FROM audit_log WHERE patient_id = :p "
                "AND action = 'prescription.override'"
            ),
            {"p": patient_id},
        ).one()
    assert row.user_id == doctor.user_id and row.detail["override_reason"] == reason
    assert row.detail["conflicts"][0]["type"] == "allergy_conflict"


def test_interaction_with_an_active_prescription_is_found(client, doctor, patient_id):
    warfarin = drug_id(client, doctor.headers, "warfarin")
    ibuprofen = drug_id(client, doctor.headers, "ibuprofen")
    assert prescribe(client, doctor, patient_id, warfarin).status_code == 201
    refused = prescribe(client, doctor, patient_id, ibuprofen)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "interaction"
    assert set(body["conflicts"][0]["drug_ids"]) == {warfarin, ibuprofen}
    assert "bleeding" in body["conflicts"][0]["reason"]


def test_interaction_within_one_prescription(client, doctor, patient_id):
    sildenafil = drug_id(client, doctor.headers, "sildenafil")
    nitrate = drug_id(client, doctor.headers, "isosorbide mononitrate")
    refused = prescribe(client, doctor, patient_id, sildenafil, nitrate)
    assert refused.status_code == 409 and refused.json()["code"] == "interaction"
    assert refused.json()["conflicts"][0]["severity"] == "contraindicated"


def test_duplicate_therapy_same_class(client, doctor, patient_id):
    ibuprofen = drug_id(client, doctor.headers, "ibuprofen")
    naproxen = drug_id(client, doctor.headers, "naproxen")
    assert prescribe(client, doctor, patient_id, ibuprofen).status_code == 201
    refused = prescribe(client, doctor, patient_id, naproxen)
    assert refused.status_code == 409 and refused.json()["code"] == "duplicate_therapy"


def test_several_conflicts_report_the_most_severe_and_list_all(client, doctor, patient_id):
    client.post(
        f"/api/v1/patients/{patient_id}/allergies",
        headers=doctor.headers,
        json={"substance": "naproxen", "severity": "mild"},
    )
    warfarin = drug_id(client, doctor.headers, "warfarin")
    naproxen = drug_id(client, doctor.headers, "naproxen")
    ibuprofen = drug_id(client, doctor.headers, "ibuprofen")
    refused = prescribe(client, doctor, patient_id, warfarin, naproxen, ibuprofen)
    assert refused.status_code == 409
    body = refused.json()
    types = {c["type"] for c in body["conflicts"]}
    assert types == {"allergy_conflict", "interaction", "duplicate_therapy"}
    assert body["code"] == "interaction"  # major interaction outranks a mild allergy


def test_cancelled_prescriptions_no_longer_interact(client, doctor, patient_id):
    warfarin = drug_id(client, doctor.headers, "warfarin")
    first = prescribe(client, doctor, patient_id, warfarin).json()
    cancelled = client.post(
        f"/api/v1/prescriptions/{first['id']}/cancel",
        headers=doctor.headers,
        json={"version": 1, "reason": "Stopped"},
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    ibuprofen = drug_id(client, doctor.headers, "ibuprofen")
    assert prescribe(client, doctor, patient_id, ibuprofen).status_code == 201
    meds = client.get(f"/api/v1/patients/{patient_id}/medications", headers=doctor.headers).json()
    assert [m["generic_name"] for m in meds["items"]] == ["Ibuprofen"]


def test_safety_check_dry_run(client, doctor, patient_id):
    warfarin = drug_id(client, doctor.headers, "warfarin")
    aspirin = drug_id(client, doctor.headers, "acetylsalicylic acid")
    checked = client.post(
        "/api/v1/prescriptions/check",
        headers=doctor.headers,
        json={"patient_id": patient_id, "drug_ids": [warfarin, aspirin]},
    )
    assert checked.status_code == 200
    assert not checked.json()["ok"] and checked.json()["conflicts"][0]["type"] == "interaction"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.update(items=[]),
        lambda b: b["items"][0].update(dose=0),
        lambda b: b["items"][0].update(quantity=-1),
        lambda b: b["items"][0].update(drug_id=99_999_999),
        lambda b: b["items"][0].pop("frequency"),
        lambda b: b["items"][0].update(duration_days="a week"),
        lambda b: b.update(patient_id="abc"),
        lambda b: b["items"][0].update(unit="\x00"),
    ],
)
def test_bad_prescriptions_are_422_listing_fields(client, doctor, patient_id, mutate):
    body = {
        "patient_id": patient_id,
        "items": [rx_item(drug_id(client, doctor.headers, "paracetamol"))],
    }
    mutate(body)
    response = client.post("/api/v1/prescriptions", headers=doctor.headers, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"]


def test_unknown_patient_is_404(client, doctor):
    para = drug_id(client, doctor.headers, "paracetamol")
    response = prescribe(client, doctor, 987_654_321, para)
    assert response.status_code == 404


def test_idempotency_key_gives_one_prescription(client, doctor, patient_id):
    para = drug_id(client, doctor.headers, "paracetamol")
    headers = {**doctor.headers, "Idempotency-Key": uuid.uuid4().hex}
    body = {"patient_id": patient_id, "items": [rx_item(para)]}
    first = client.post("/api/v1/prescriptions", headers=headers, json=body)
    second = client.post("/api/v1/prescriptions", headers=headers, json=body)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    listed = client.get(
        f"/api/v1/patients/{patient_id}/prescriptions", headers=doctor.headers
    ).json()
    assert listed["total"] == 1


def test_nurse_cannot_prescribe(client, headers_for, patient_id):
    response = client.post(
        "/api/v1/prescriptions",
        headers=headers_for("nurse"),
        json={"patient_id": patient_id, "items": [rx_item(1)]},
    )
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
