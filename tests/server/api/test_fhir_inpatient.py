"""FHIR for inpatient care: admissions as Encounters (class IMP, ward/bed locations,
hospitalization; ``adm-<id>`` while an admission has no attending doctor) and
MedicationAdministration from the MAR. The facts are made through the real API: admit,
transfer, prescribe, dispense, scan the dispensing label at the bedside, hold a dose,
discharge. Every resource is validated with the R4B models; the care relationship applies;
reads are audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from sqlalchemy import text

from tests.server.api.clinical_factories import drug_id, new_clinician, rx_item
from tests.server.api.pharmacy_factories import new_pharmacy
from tests.server.api.ward_factories import admit, new_patient, new_ward, ward_nurse

FHIR_JSON = "application/fhir+json"
ATC = "http://www.whocc.no/atc"


def _ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def _mar(client, headers, admission_id):
    return _ok(client.get(f"/api/v1/admissions/{admission_id}/mar", headers=headers))


def _due_now(client, doctor, admission_id, order):
    """Reschedule the order to a clock time just ahead, so a dose is inside its window
    (the test hospital is UTC)."""
    at = datetime.now(UTC) + timedelta(minutes=10)
    _ok(
        client.patch(
            f"/api/v1/medication-orders/{order['id']}",
            json={"version": order["version"], "schedule_times": [at.strftime("%H:%M")]},
            headers=doctor,
        )
    )
    return next(
        d
        for d in _mar(client, doctor, admission_id)["items"]
        if d["order_id"] == order["id"] and d["status"] == "scheduled"
    )


def _concept(drug: dict) -> dict:
    label = " ".join(x for x in (drug["generic_name"], drug["strength"], drug["form"]) if x)
    concept: dict = {"text": label}
    if drug.get("atc_code"):
        concept["coding"] = [
            {"system": ATC, "code": drug["atc_code"], "display": drug["generic_name"]}
        ]
    return concept


@pytest.fixture(scope="module")
def stay(client, make_user, login, headers_for):
    """A patient admitted from the emergency department by their attending doctor, moved
    from bed 01 to bed 02; two orders: spironolactone given after scanning the pharmacy's
    dispensing label, atorvastatin held with a reason."""
    ward = new_ward(client, headers_for, beds=4)
    nurse = ward_nurse(client, make_user, login, headers_for, ward)
    doctor = new_clinician(client, make_user, login)
    patient = new_patient(client, headers_for)
    admission = admit(client, doctor.headers, patient["id"], ward.bed_ids[0], source="emergency")
    assert admission["encounter_id"]
    _ok(
        client.post(
            f"/api/v1/admissions/{admission['id']}/transfer",
            json={"bed_id": ward.bed_ids[1]},
            headers=nurse.headers,
        )
    )
    spiro = drug_id(client, doctor.headers, "Spironolactone")
    statin = drug_id(client, doctor.headers, "atorvastatin")
    rx = _ok(
        client.post(
            "/api/v1/prescriptions",
            json={
                "patient_id": patient["id"],
                "items": [
                    rx_item(spiro, dose=25, unit="mg", duration_days=3, quantity=6),
                    rx_item(statin, dose=20, unit="mg", duration_days=3, quantity=6),
                ],
            },
            headers=doctor.headers,
        ),
        201,
    )
    orders = {
        o["prescription_item_id"]: o
        for o in _mar(client, doctor.headers, admission["id"])["orders"]
    }
    spiro_order, statin_order = orders[rx["items"][0]["id"]], orders[rx["items"][1]["id"]]
    spiro_dose = _due_now(client, doctor.headers, admission["id"], spiro_order)
    statin_dose = _due_now(client, doctor.headers, admission["id"], statin_order)
    pharmacy = new_pharmacy(client, make_user, login)
    item = pharmacy.item(spiro)
    pharmacy.receive(item["id"], 20, lot="L" + uuid.uuid4().hex[:6].upper())
    dispensed = pharmacy.dispense(rx, 6)
    assert dispensed.status_code == 201, dispensed.text
    label = dispensed.json()["lines"][0]["label_code"]
    given = _ok(
        client.post(
            "/api/v1/medication-administrations",
            json={
                "dose_id": spiro_dose["id"],
                "patient_barcode": patient["mrn"],
                "medication_barcode": label,
                "status": "given",
            },
            headers=nurse.headers,
        ),
        201,
    )
    held = _ok(
        client.post(
            "/api/v1/medication-administrations",
            json={
                "dose_id": statin_dose["id"],
                "patient_barcode": patient["mrn"],
                "status": "held",
                "reason": "Nil by mouth before endoscopy",
            },
            headers=nurse.headers,
        ),
        201,
    )
    drugs = {
        d: _ok(client.get(f"/api/v1/formulary/{d}", headers=doctor.headers))
        for d in (spiro, statin)
    }
    return {
        "ward": ward,
        "nurse": nurse,
        "doctor": doctor,
        "patient_id": patient["id"],
        "admission": _ok(
            client.get(f"/api/v1/admissions/{admission['id']}", headers=nurse.headers)
        ),
        "rx": rx,
        "given": given,
        "held": held,
        "drugs": [drugs[spiro], drugs[statin]],
    }


# ---------------------------------------------------------------- Encounter


def test_the_inpatient_encounter_carries_the_admission(client, stay):
    s = stay
    admission = s["admission"]
    bundle = _ok(
        client.get(
            "/fhir/Encounter", params={"patient": s["patient_id"]}, headers=s["doctor"].headers
        )
    )
    Bundle.model_validate(bundle)
    assert bundle["total"] == 1
    encounter = bundle["entry"][0]["resource"]
    Encounter.model_validate(encounter)
    assert encounter["id"] == str(admission["encounter_id"])
    assert encounter["status"] == "in-progress"
    assert encounter["class"]["code"] == "IMP"
    assert encounter["identifier"] == [
        {"system": "urn:hms:admission", "value": str(admission["id"])}
    ]
    assert encounter["reasonCode"] == [{"text": "Community-acquired pneumonia"}]
    assert encounter["hospitalization"] == {
        "admitSource": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/admit-source",
                    "code": "emd",
                    "display": "From accident/emergency department",
                }
            ],
            "text": "emergency",
        }
    }
    code = s["ward"].code
    bed = {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                "code": "bd",
                "display": "Bed",
            }
        ]
    }
    stays = admission["stays"]
    assert [(x["bed_label"], x["ended_at"] is None) for x in stays] == [("01", False), ("02", True)]
    assert encounter["location"] == [
        {
            "location": {"display": f"Ward {code}, bed 01"},
            "status": "completed",
            "physicalType": bed,
            "period": {
                "start": encounter["location"][0]["period"]["start"],
                "end": encounter["location"][0]["period"]["end"],
            },
        },
        {
            "location": {"display": f"Ward {code}, bed 02"},
            "status": "active",
            "physicalType": bed,
            "period": {"start": encounter["location"][1]["period"]["start"]},
        },
    ]
    for stay_row, location in zip(stays, encounter["location"], strict=True):
        assert datetime.fromisoformat(location["period"]["start"]) == datetime.fromisoformat(
            stay_row["started_at"]
        )
    read = _ok(client.get(f"/fhir/Encounter/{encounter['id']}", headers=s["nurse"].headers))
    assert read == encounter


def test_an_admission_without_an_attending_doctor_is_served_as_adm(
    client, make_user, login, headers_for, stay
):
    s = stay
    patient = new_patient(client, headers_for)
    admission = admit(client, headers_for("receptionist"), patient["id"], s["ward"].bed_ids[2])
    assert admission["encounter_id"] is None
    nurse = s["nurse"]  # the ward's nurse: the ward is her care relationship
    bundle = _ok(
        client.get("/fhir/Encounter", params={"patient": patient["id"]}, headers=nurse.headers)
    )
    assert bundle["total"] == 1
    encounter = bundle["entry"][0]["resource"]
    Encounter.model_validate(encounter)
    assert encounter["id"] == f"adm-{admission['id']}"
    assert encounter["status"] == "in-progress" and encounter["class"]["code"] == "IMP"
    assert encounter["subject"] == {"reference": f"Patient/{patient['id']}"}
    assert encounter["identifier"] == [
        {"system": "urn:hms:admission", "value": str(admission["id"])}
    ]
    assert [x["location"]["display"] for x in encounter["location"]] == [
        f"Ward {s['ward'].code}, bed 03"
    ]
    assert "participant" not in encounter
    assert (
        _ok(client.get(f"/fhir/Encounter/adm-{admission['id']}", headers=nurse.headers))
        == encounter
    )
    # No care relationship: the search is refused, the read answers as if there were none.
    stranger = new_clinician(client, make_user, login)
    refused = client.get(
        "/fhir/Encounter", params={"patient": patient["id"]}, headers=stranger.headers
    )
    assert refused.status_code == 403
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert (
        client.get(f"/fhir/Encounter/adm-{admission['id']}", headers=stranger.headers).status_code
        == 404
    )
    # Once a doctor is named, the admission's own encounter takes over.
    _ok(
        client.post(
            f"/api/v1/admissions/{admission['id']}/attending",
            json={"doctor_user_id": s["doctor"].user_id},
            headers=headers_for("receptionist"),
        )
    )
    now = _ok(client.get(f"/api/v1/admissions/{admission['id']}", headers=nurse.headers))
    gone = client.get(f"/fhir/Encounter/adm-{admission['id']}", headers=nurse.headers)
    assert gone.status_code == 404
    assert f"Encounter/{now['encounter_id']}" in gone.json()["issue"][0]["diagnostics"]
    after = _ok(
        client.get("/fhir/Encounter", params={"patient": patient["id"]}, headers=nurse.headers)
    )
    assert [e["resource"]["id"] for e in after["entry"]] == [str(now["encounter_id"])]
    assert after["entry"][0]["resource"]["identifier"] == encounter["identifier"]


def test_a_discharged_admission_is_a_finished_encounter(
    client, make_user, login, headers_for, stay
):
    doctor = new_clinician(client, make_user, login)
    patient = new_patient(client, headers_for)
    admission = admit(client, doctor.headers, patient["id"], stay["ward"].bed_ids[3])
    _ok(
        client.post(
            f"/api/v1/admissions/{admission['id']}/discharge",
            json={"summary": "Recovered.", "disposition": "transfer_out"},
            headers=doctor.headers,
        )
    )
    encounter = _ok(
        client.get(f"/fhir/Encounter/{admission['encounter_id']}", headers=doctor.headers)
    )
    Encounter.model_validate(encounter)
    assert encounter["status"] == "finished"
    assert encounter["period"]["end"]
    assert encounter["hospitalization"]["dischargeDisposition"] == {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/discharge-disposition",
                "code": "other-hcf",
                "display": "Other healthcare facility",
            }
        ],
        "text": "transfer_out",
    }
    assert [x["status"] for x in encounter["location"]] == ["completed"]
    finished = _ok(
        client.get(
            "/fhir/Encounter",
            params={"patient": patient["id"], "status": "finished"},
            headers=doctor.headers,
        )
    )
    assert finished["total"] == 1
    in_progress = _ok(
        client.get(
            "/fhir/Encounter",
            params={"patient": patient["id"], "status": "in-progress"},
            headers=doctor.headers,
        )
    )
    assert in_progress["total"] == 0


@pytest.mark.parametrize("rid", ["adm-999999999", "adm-x", "adm-", "999999999"])
def test_unknown_encounter_ids_are_404(client, stay, rid):
    response = client.get(f"/fhir/Encounter/{rid}", headers=stay["doctor"].headers)
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


# ---------------------------------------------------------------- MedicationAdministration


def test_administrations_map_the_mar(client, stay):
    s = stay
    h = s["doctor"].headers
    response = client.get(
        "/fhir/MedicationAdministration", params={"patient": s["patient_id"]}, headers=h
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    bundle = response.json()
    Bundle.model_validate(bundle)
    assert bundle["total"] == 2
    by_id = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    given, held = by_id[str(s["given"]["id"])], by_id[str(s["held"]["id"])]
    encounter = {"reference": f"Encounter/{s['admission']['encounter_id']}"}
    performer = [
        {
            "actor": {
                "type": "Practitioner",
                "identifier": {"system": "urn:hms:user", "value": str(s["nurse"].user_id)},
                "display": "Test Nurse",
            }
        }
    ]
    for resource in (given, held):
        MedicationAdministration.model_validate(resource)
        read = client.get(f"/fhir/MedicationAdministration/{resource['id']}", headers=h)
        assert read.status_code == 200 and read.json() == resource
    assert given == {
        "resourceType": "MedicationAdministration",
        "id": str(s["given"]["id"]),
        "status": "completed",
        "medicationCodeableConcept": _concept(s["drugs"][0]),
        "subject": {"reference": f"Patient/{s['patient_id']}"},
        "context": encounter,
        "effectiveDateTime": given["effectiveDateTime"],
        "performer": performer,
        "request": {"reference": f"MedicationRequest/{s['rx']['items'][0]['id']}"},
        "dosage": {
            "text": "25 mg oral",
            "route": {"text": "oral"},
            "dose": {"value": 25, "unit": "mg"},
        },
    }
    assert datetime.fromisoformat(given["effectiveDateTime"]) == datetime.fromisoformat(
        s["given"]["administered_at"]
    )
    assert held["status"] == "not-done"
    assert held["statusReason"] == [
        {
            "coding": [{"system": "urn:hms:mar-status", "code": "held", "display": "Held"}],
            "text": "Nil by mouth before endoscopy",
        }
    ]
    assert held["request"] == {"reference": f"MedicationRequest/{s['rx']['items'][1]['id']}"}
    assert held["dosage"]["dose"] == {"value": 20, "unit": "mg"}
    assert held["medicationCodeableConcept"] == _concept(s["drugs"][1])
    # The request is the MedicationRequest the clinical module serves for that item.
    request = _ok(client.get(f"/fhir/{given['request']['reference']}", headers=h))
    assert request["medicationCodeableConcept"] == given["medicationCodeableConcept"]


def test_administration_search_by_status_time_and_paging(client, stay):
    s = stay
    h = s["nurse"].headers
    pid = s["patient_id"]

    def ids(**params):
        bundle = _ok(
            client.get(
                "/fhir/MedicationAdministration", params={"patient": pid, **params}, headers=h
            )
        )
        return bundle["total"], [e["resource"]["id"] for e in bundle.get("entry", [])]

    assert ids(status="completed") == (1, [str(s["given"]["id"])])
    assert ids(status="not-done") == (1, [str(s["held"]["id"])])
    given_at = datetime.fromisoformat(s["given"]["administered_at"]).astimezone(UTC)
    stamp = given_at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    assert ids(**{"effective-time": f"ge{stamp}", "status": "completed"}) == (
        1,
        [str(s["given"]["id"])],
    )
    assert ids(**{"effective-time": f"gt{stamp}", "status": "completed"})[0] == 0
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    assert ids(**{"effective-time": f"ge{tomorrow}"})[0] == 0
    assert ids(**{"effective-time": f"lt{tomorrow}"})[0] == 2
    total, first = ids(_count=1)
    _, second = ids(_count=1, _offset=1)
    assert total == 2 and len(first) == len(second) == 1 and first != second


def test_administrations_follow_the_care_relationship(client, make_user, login, headers_for, stay):
    s = stay
    pid = s["patient_id"]
    stranger = new_clinician(client, make_user, login)
    refused = client.get(
        "/fhir/MedicationAdministration", params={"patient": pid}, headers=stranger.headers
    )
    assert refused.status_code == 403
    assert refused.json()["resourceType"] == "OperationOutcome"
    # the same answer the existing FHIR resources give that doctor
    assert (
        client.get(
            "/fhir/MedicationRequest", params={"patient": pid}, headers=stranger.headers
        ).status_code
        == 403
    )
    read = client.get(
        f"/fhir/MedicationAdministration/{s['given']['id']}", headers=stranger.headers
    )
    assert read.status_code == 404
    other_nurse = new_clinician(client, make_user, login, "nurse")  # not on this ward
    assert (
        client.get(
            "/fhir/MedicationAdministration", params={"patient": pid}, headers=other_nurse.headers
        ).status_code
        == 403
    )


@pytest.mark.parametrize("role", ["receptionist", "pharmacist", "billing_clerk"])
def test_roles_without_clinical_read_are_refused(client, headers_for, stay, role):
    h = headers_for(role)
    for path, params in (
        ("/fhir/MedicationAdministration", {"patient": stay["patient_id"]}),
        (f"/fhir/MedicationAdministration/{stay['given']['id']}", {}),
        ("/fhir/Encounter", {"patient": stay["patient_id"]}),
    ):
        response = client.get(path, params=params, headers=h)
        assert response.status_code == 403, (role, path)
        assert response.json()["resourceType"] == "OperationOutcome"


def test_bad_parameters_and_unknown_ids(client, stay):
    h = stay["doctor"].headers
    pid = stay["patient_id"]
    for params in (
        {},
        {"patient": "Patient/abc"},
        {"patient": pid, "effective-time": "2026-02-30"},
        {"patient": pid, "effective-time": "soon"},
        {"patient": pid, "effective-time": "ap2026"},
    ):
        response = client.get("/fhir/MedicationAdministration", params=params, headers=h)
        assert response.status_code == 400, params
        assert response.json()["resourceType"] == "OperationOutcome"
    assert (
        client.get(
            "/fhir/MedicationAdministration", params={"patient": "999999999"}, headers=h
        ).status_code
        == 404
    )
    for rid in ("999999999", "abc", "adm-1"):
        response = client.get(f"/fhir/MedicationAdministration/{rid}", headers=h)
        assert response.status_code == 404, rid


def test_reads_are_audited(client, db, stay):
    s = stay
    pid = s["patient_id"]

    def count(category: str) -> int:
        with db.owner_engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM audit_log WHERE patient_id = :p AND "
                        "category = :c AND action = 'read'"
                    ),
                    {"p": pid, "c": category},
                ).scalar_one()
            )

    mar, admissions, encounters = (
        count("medication_administration"),
        count("admissions"),
        count("encounters"),
    )
    h = s["doctor"].headers
    _ok(client.get("/fhir/MedicationAdministration", params={"patient": pid}, headers=h))
    _ok(client.get(f"/fhir/MedicationAdministration/{s['given']['id']}", headers=h))
    _ok(client.get("/fhir/Encounter", params={"patient": pid}, headers=h))
    assert count("medication_administration") == mar + 2
    assert count("encounters") == encounters + 1
    assert count("admissions") == admissions + 1


def test_capability_statement_lists_medication_administration(client):
    statement = _ok(client.get("/fhir/metadata"))
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {p["name"] for p in served["MedicationAdministration"]["searchParam"]} == {
        "patient",
        "status",
        "effective-time",
    }
