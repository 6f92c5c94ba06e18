"""FHIR MedicationDispense: dispensed through the pharmacy API (a FEFO pick over two
batches, then a return), read back over HTTP, validated with the R4B model; pharmacy
permission only; audited; bad parameters are 400, unknown ids 404."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationdispense import MedicationDispense
from sqlalchemy import text

from tests.server.api.clinical_factories import drug_id, new_clinician, open_encounter
from tests.server.api.pharmacy_factories import new_pharmacy, patient_with_doctor, prescribe

FHIR_JSON = "application/fhir+json"


@pytest.fixture(scope="module")
def dispensed(client, make_user, login, headers_for):
    """Paracetamol 14 tablets dispensed from two lots (8 from the sooner-expiring one, 6
    from the later), 2 of the second line returned."""
    pharmacy = new_pharmacy(client, make_user, login)
    doctor = new_clinician(client, make_user, login)
    para = drug_id(client, doctor.headers, "paracetamol")
    item = pharmacy.item(para)
    soon, late = "SOON" + uuid.uuid4().hex[:6].upper(), "LATE" + uuid.uuid4().hex[:6].upper()
    pharmacy.receive(item["id"], 8, lot=soon, expiry_days=90)
    pharmacy.receive(item["id"], 30, lot=late, expiry_days=400)
    pid = patient_with_doctor(client, headers_for, doctor)
    encounter = open_encounter(client, doctor, pid)
    rx = prescribe(client, doctor, pid, para, quantity=14, encounter_id=encounter["id"])
    response = pharmacy.dispense(rx, 14)
    assert response.status_code == 201, response.text
    dispense = response.json()
    assert [line["lot"] for line in dispense["lines"]] == [soon, late]
    back = client.post(
        f"/api/v1/dispenses/{dispense['id']}/returns",
        headers=pharmacy.headers,
        json={
            "reason": "Patient did not collect",
            "lines": [{"dispense_line_id": dispense["lines"][1]["id"], "quantity": 2}],
        },
    )
    assert back.status_code == 201, back.text
    formulary = client.get(f"/api/v1/formulary/{para}", headers=doctor.headers)
    assert formulary.status_code == 200, formulary.text
    me = client.get("/api/v1/me", headers=pharmacy.headers).json()
    return {
        "pharmacy": pharmacy,
        "pharmacist_id": me["id"],
        "doctor": doctor,
        "patient_id": pid,
        "encounter_id": encounter["id"],
        "rx": rx,
        "item": item,
        "drug": formulary.json(),
        "dispense": dispense,
    }


def test_search_maps_each_dispensed_batch(client, dispensed):
    d = dispensed
    h = d["pharmacy"].headers
    response = client.get(
        "/fhir/MedicationDispense", params={"patient": d["patient_id"]}, headers=h
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    bundle = response.json()
    Bundle.model_validate(bundle)
    assert bundle["total"] == 2
    drug = d["drug"]
    label = " ".join(x for x in (drug["generic_name"], drug["strength"], drug["form"]) if x)
    code = {"text": label}
    if drug.get("atc_code"):
        code["coding"] = [
            {
                "system": "http://www.whocc.no/atc",
                "code": drug["atc_code"],
                "display": drug["generic_name"],
            }
        ]
    resources = [e["resource"] for e in bundle["entry"]]
    for resource, line in zip(resources, d["dispense"]["lines"], strict=True):
        MedicationDispense.model_validate(resource)
        assert resource["id"] == str(line["id"])
        assert resource["status"] == "completed"
        assert resource["identifier"] == [
            {"system": "urn:hms:dispense", "value": d["dispense"]["number"]}
        ]
        assert resource["contained"] == [
            {
                "resourceType": "Medication",
                "id": "med",
                "code": code,
                "batch": {"lotNumber": line["lot"], "expirationDate": line["expiry"]},
            }
        ]
        assert resource["medicationReference"] == {"reference": "#med", "display": label}
        assert resource["subject"] == {"reference": f"Patient/{d['patient_id']}"}
        assert resource["context"] == {"reference": f"Encounter/{d['encounter_id']}"}
        assert resource["authorizingPrescription"] == [
            {"reference": f"MedicationRequest/{d['rx']['items'][0]['id']}"}
        ]
        assert resource["performer"] == [
            {
                "actor": {
                    "type": "Practitioner",
                    "identifier": {"system": "urn:hms:user", "value": str(d["pharmacist_id"])},
                    "display": "Test Pharmacist",
                }
            }
        ]
        assert datetime.fromisoformat(resource["whenHandedOver"]) == datetime.fromisoformat(
            d["dispense"]["dispensed_at"]
        )
        read = client.get(f"/fhir/MedicationDispense/{resource['id']}", headers=h)
        assert read.status_code == 200 and read.json() == resource
    assert [r["quantity"] for r in resources] == [
        {"value": 8, "unit": "tablet"},
        {"value": 6, "unit": "tablet"},
    ]
    assert "note" not in resources[0]
    assert resources[1]["note"] == [{"text": "2 tablet returned to the pharmacy"}]


def test_the_authorizing_prescription_is_the_served_medication_request(client, dispensed):
    d = dispensed
    dispense = client.get(
        f"/fhir/MedicationDispense/{d['dispense']['lines'][0]['id']}",
        headers=d["pharmacy"].headers,
    ).json()
    reference = dispense["authorizingPrescription"][0]["reference"]
    request = client.get(f"/fhir/{reference}", headers=d["doctor"].headers)
    assert request.status_code == 200
    assert request.json()["groupIdentifier"]["value"] == d["rx"]["number"]


def test_status_filter_and_paging(client, dispensed):
    d = dispensed
    h = d["pharmacy"].headers
    pid = d["patient_id"]
    done = client.get(
        "/fhir/MedicationDispense", params={"patient": pid, "status": "completed"}, headers=h
    ).json()
    assert done["total"] == 2
    other = client.get(
        "/fhir/MedicationDispense", params={"patient": pid, "status": "cancelled"}, headers=h
    ).json()
    assert other["total"] == 0 and "entry" not in other
    first = client.get(
        "/fhir/MedicationDispense", params={"patient": pid, "_count": 1}, headers=h
    ).json()
    assert first["total"] == 2 and len(first["entry"]) == 1
    second = client.get(
        "/fhir/MedicationDispense", params={"patient": pid, "_count": 1, "_offset": 1}, headers=h
    ).json()
    assert [e["resource"]["id"] for e in first["entry"] + second["entry"]] == [
        str(line["id"]) for line in d["dispense"]["lines"]
    ]


@pytest.mark.parametrize("role", ["doctor", "nurse", "receptionist", "billing_clerk"])
def test_only_the_pharmacy_reads_dispensing_records(client, headers_for, dispensed, role):
    """As ``GET /api/v1/dispenses/{id}``: pharmacy.dispense, whatever the care relationship."""
    pid = dispensed["patient_id"]
    h = headers_for(role)
    line = dispensed["dispense"]["lines"][0]["id"]
    assert (
        client.get(f"/api/v1/dispenses/{dispensed['dispense']['id']}", headers=h).status_code == 403
    )
    for path, params in (
        ("/fhir/MedicationDispense", {"patient": pid}),
        (f"/fhir/MedicationDispense/{line}", {}),
    ):
        response = client.get(path, params=params, headers=h)
        assert response.status_code == 403, (role, path)
        assert response.json()["resourceType"] == "OperationOutcome"


def test_the_prescriber_with_a_care_relationship_is_refused_too(client, dispensed):
    d = dispensed
    assert (
        client.get(
            "/fhir/MedicationRequest",
            params={"patient": d["patient_id"]},
            headers=d["doctor"].headers,
        ).status_code
        == 200
    )
    response = client.get(
        "/fhir/MedicationDispense", params={"patient": d["patient_id"]}, headers=d["doctor"].headers
    )
    assert response.status_code == 403


def test_bad_parameters_and_unknown_ids(client, dispensed):
    h = dispensed["pharmacy"].headers
    for params in ({}, {"patient": "Patient/x"}, {"patient": "1", "_offset": "abc"}):
        response = client.get("/fhir/MedicationDispense", params=params, headers=h)
        assert response.status_code == 400, params
        assert response.json()["resourceType"] == "OperationOutcome"
    unknown_patient = client.get(
        "/fhir/MedicationDispense", params={"patient": "999999999"}, headers=h
    )
    assert unknown_patient.status_code == 404
    for rid in ("999999999", "abc", "adm-1"):
        response = client.get(f"/fhir/MedicationDispense/{rid}", headers=h)
        assert response.status_code == 404, rid
        assert response.json()["resourceType"] == "OperationOutcome"


def test_reads_are_audited_in_the_pharmacy_category(client, db, dispensed):
    d = dispensed
    pid = d["patient_id"]

    def count(action: str) -> int:
        with db.owner_engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM audit_log WHERE patient_id = :p AND "
                        "category = 'pharmacy' AND action = :a"
                    ),
                    {"p": pid, "a": action},
                ).scalar_one()
            )

    reads, lists = count("dispense.read"), count("dispense.list")
    h = d["pharmacy"].headers
    line = d["dispense"]["lines"][0]["id"]
    assert client.get(f"/fhir/MedicationDispense/{line}", headers=h).status_code == 200
    assert (
        client.get("/fhir/MedicationDispense", params={"patient": pid}, headers=h).status_code
        == 200
    )
    assert count("dispense.read") == reads + 1
    assert count("dispense.list") == lists + 1


def test_capability_statement_lists_medication_dispense(client):
    statement = client.get("/fhir/metadata").json()
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {p["name"] for p in served["MedicationDispense"]["searchParam"]} == {"patient", "status"}
