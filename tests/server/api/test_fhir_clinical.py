"""FHIR clinical resources: every emitted resource validates against the R4B models; search
by patient; the care relationship applies; reads are audited."""

from __future__ import annotations

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
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

TYPES = ("Encounter", "Observation", "Condition", "AllergyIntolerance", "MedicationRequest")


def validate(resource: dict) -> None:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@pytest.fixture(scope="module")
def charted(client, make_user, login, headers_for) -> tuple[Clinician, int]:
    """A patient with one of everything, and the doctor caring for them."""
    doctor = new_clinician(client, make_user, login)
    pid = new_patient(client, headers_for)["id"]
    book_with(client, headers_for, doctor, pid)
    enc = open_encounter(client, doctor, pid, reason="Chest pain")
    h = doctor.headers
    base = f"/api/v1/patients/{pid}"
    assert (
        client.post(
            f"{base}/vitals",
            headers=h,
            json={
                "encounter_id": enc["id"],
                "systolic_mmhg": 182,
                "diastolic_mmhg": 96,
                "heart_rate_bpm": 104,
                "respiratory_rate": 18,
                "temperature_c": 37.2,
                "spo2_pct": 93,
                "weight_kg": 92.5,
                "height_cm": 178,
            },
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"{base}/allergies",
            headers=h,
            json={"substance": "Penicillin", "reaction": "Urticaria", "severity": "severe"},
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"{base}/allergies",
            headers=h,
            json={"substance": "Peanut", "category": "food", "severity": "mild"},
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"{base}/problems", headers=h, json={"icd10_code": "I10", "onset_date": "2020-03-01"}
        ).status_code
        == 201
    )
    order = client.post(f"{base}/lab-orders", headers=h, json={"test_code": "TROP"}).json()
    assert (
        client.post(
            f"{base}/lab-orders/{order['id']}/result", headers=h, json={"value_numeric": 52}
        ).status_code
        == 201
    )
    malaria = client.post(f"{base}/lab-orders", headers=h, json={"test_code": "MAL"}).json()
    assert (
        client.post(
            f"{base}/lab-orders/{malaria['id']}/result",
            headers=h,
            json={"value_text": "No parasites seen"},
        ).status_code
        == 201
    )
    items = [
        rx_item(drug_id(client, h, "atorvastatin"), duration_days=None),
        rx_item(drug_id(client, h, "glyceryl trinitrate"), instructions="As needed"),
    ]
    assert (
        client.post(
            "/api/v1/prescriptions",
            headers=h,
            json={"patient_id": pid, "encounter_id": enc["id"], "items": items},
        ).status_code
        == 201
    )
    client.post(f"/api/v1/encounters/{enc['id']}/close", headers=h)
    return doctor, pid


@pytest.mark.parametrize("resource_type", TYPES)
@pytest.mark.parametrize("reference", ["Patient/{p}", "{p}"])
def test_search_by_patient_returns_valid_resources(client, charted, resource_type, reference):
    doctor, pid = charted
    response = client.get(
        f"/fhir/{resource_type}",
        params={"patient": reference.format(p=pid)},
        headers=doctor.headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    Bundle.model_validate(bundle)
    assert bundle["total"] >= 1
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert resource["resourceType"] == resource_type
        validate(resource)
        subject = resource.get("subject") or resource.get("patient")
        assert subject == {"reference": f"Patient/{pid}"}
        # Each search hit can be read back by its id, identical.
        read = client.get(f"/fhir/{resource_type}/{resource['id']}", headers=doctor.headers)
        assert read.status_code == 200 and read.json() == resource


def test_vitals_use_loinc_codes_and_ucum_units(client, charted):
    doctor, pid = charted
    bundle = client.get(
        "/fhir/Observation",
        params={"patient": pid, "category": "vital-signs"},
        headers=doctor.headers,
    ).json()
    by_code = {r["resource"]["code"]["coding"][0]["code"]: r["resource"] for r in bundle["entry"]}
    assert {
        "85354-9",
        "8867-4",
        "9279-1",
        "8310-5",
        "59408-5",
        "29463-7",
        "8302-2",
        "39156-5",
    } <= set(by_code)
    bp = by_code["85354-9"]
    parts = {c["code"]["coding"][0]["code"]: c for c in bp["component"]}
    assert parts["8480-6"]["valueQuantity"]["value"] == 182
    assert parts["8480-6"]["valueQuantity"]["code"] == "mm[Hg]"
    assert parts["8480-6"]["interpretation"][0]["coding"][0]["code"] == "HH"
    assert by_code["8310-5"]["valueQuantity"] == {
        "value": 37.2,
        "unit": "C",
        "system": "http://unitsofmeasure.org",
        "code": "Cel",
    }
    assert {c["code"] for c in by_code["59408-5"]["code"]["coding"]} == {"59408-5", "2708-6"}
    heart = client.get(
        "/fhir/Observation", params={"patient": pid, "code": "8867-4"}, headers=doctor.headers
    ).json()
    assert heart["total"] == 1


def test_lab_observations_carry_loinc_reference_range_and_flag(client, charted):
    doctor, pid = charted
    bundle = client.get(
        "/fhir/Observation",
        params={"patient": pid, "category": "laboratory"},
        headers=doctor.headers,
    ).json()
    labs = {r["resource"]["code"]["text"]: r["resource"] for r in bundle["entry"]}
    troponin = labs["Troponin I, high sensitivity"]
    assert troponin["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "89579-7",
        "display": "Troponin I, high sensitivity",
    }
    assert troponin["interpretation"][0]["coding"][0]["code"] == "H"
    assert troponin["referenceRange"][0]["high"]["value"] == 34
    assert labs["Malaria parasite smear"]["valueString"] == "No parasites seen"


def test_condition_allergy_medication_request_mapping(client, charted):
    doctor, pid = charted
    condition = client.get(
        "/fhir/Condition", params={"patient": pid}, headers=doctor.headers
    ).json()["entry"][0]["resource"]
    assert condition["code"]["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/icd-10-cm",
        "code": "I10",
        "display": "Essential (primary) hypertension",
    }
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    assert condition["onsetDateTime"] == "2020-03-01"
    allergies = client.get(
        "/fhir/AllergyIntolerance", params={"patient": pid}, headers=doctor.headers
    ).json()
    penicillin = next(
        e["resource"] for e in allergies["entry"] if e["resource"]["code"]["text"] == "Penicillin"
    )
    assert penicillin["criticality"] == "high"
    assert penicillin["reaction"][0]["severity"] == "severe"
    meds = client.get(
        "/fhir/MedicationRequest",
        params={"patient": pid, "status": "active"},
        headers=doctor.headers,
    ).json()
    assert meds["total"] == 2
    first = meds["entry"][0]["resource"]
    assert first["intent"] == "order" and first["status"] == "active"
    assert first["medicationCodeableConcept"]["coding"][0]["code"] == "C10AA05"
    encounter = client.get(
        "/fhir/Encounter", params={"patient": pid}, headers=doctor.headers
    ).json()["entry"][0]["resource"]
    assert encounter["status"] == "finished" and encounter["class"]["code"] == "AMB"
    assert encounter["reasonCode"] == [{"text": "Chest pain"}]


@pytest.mark.parametrize("resource_type", TYPES)
def test_search_without_patient_is_a_400_operation_outcome(client, charted, resource_type):
    doctor, _ = charted
    response = client.get(f"/fhir/{resource_type}", headers=doctor.headers)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    bad = client.get(
        f"/fhir/{resource_type}", params={"patient": "Patient/abc"}, headers=doctor.headers
    )
    assert bad.status_code == 400


@pytest.mark.parametrize("resource_type", TYPES)
def test_unknown_ids_are_404(client, charted, resource_type):
    doctor, _ = charted
    for rid in ("999999999", "vs-999999999-heart", "lab-999999999", "nonsense"):
        response = client.get(f"/fhir/{resource_type}/{rid}", headers=doctor.headers)
        assert response.status_code == 404, (resource_type, rid)


def test_care_relationship_applies_to_fhir(client, make_user, login, charted):
    _, pid = charted
    stranger = new_clinician(client, make_user, login)
    response = client.get("/fhir/Condition", params={"patient": pid}, headers=stranger.headers)
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"


def test_front_office_cannot_read_clinical_fhir(client, headers_for, charted):
    _, pid = charted
    for resource_type in TYPES:
        response = client.get(
            f"/fhir/{resource_type}", params={"patient": pid}, headers=headers_for("receptionist")
        )
        assert response.status_code == 403, resource_type


def test_fhir_reads_are_audited(client, db, charted):
    doctor, pid = charted
    with db.owner_engine.connect() as conn:
        count = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE patient_id = :p AND "
                "category = 'allergies' AND action = 'read'"
            ),
            {"p": pid},
        ).scalar_one()
    client.get("/fhir/AllergyIntolerance", params={"patient": pid}, headers=doctor.headers)
    with db.owner_engine.connect() as conn:
        after = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE patient_id = :p AND "
                "category = 'allergies' AND action = 'read'"
            ),
            {"p": pid},
        ).scalar_one()
    assert after == count + 1


def test_capability_statement_lists_the_clinical_types(client):
    statement = client.get("/fhir/metadata").json()
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    for resource_type in TYPES:
        assert "patient" in {p["name"] for p in served[resource_type]["searchParam"]}
