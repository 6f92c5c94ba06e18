"""A day at the clinic, through the real server over HTTP, as each person would do it:
reception registers and books, the patient checks in, the doctor sees them, records an
allergy, prescribes (and is stopped by the safety check), and the record is readable over
FHIR by an integration. Uses only the public contracts."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from tests.conftest import totp_now
from tests.server.scheduling_factories import make_doctor


def _session(url: str, made: tuple) -> httpx.Client:
    username, password, *secret = made
    body = {"username": username, "password": password}
    if secret:
        body["totp"] = totp_now(secret[0])
    token = httpx.post(f"{url}/api/v1/auth/login", json=body).json()["access_token"]
    return httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}", "X-Workstation": "e2e"}
    )


def test_register_book_check_in_consult_prescribe_and_read_over_fhir(
    live_server, make_user, db, settings
):
    doctor_row = make_doctor(db.owner_session_factory(), settings)
    reception = _session(live_server.url, make_user("receptionist"))
    doctor = _session(live_server.url, (doctor_row.username, "Quiet-Lantern-Harbor-77"))

    # Reception registers a new patient ...
    registered = reception.post(
        "/api/v1/patients",
        json={
            "given_name": "Amaka",
            "family_name": "Obi-Lindqvist",
            "date_of_birth": "1984-07-21",
            "sex": "female",
            "phone": "+234 803 555 0199",
        },
    )
    assert registered.status_code == 201, registered.text
    patient = registered.json()
    assert patient["mrn"] and patient["version"] >= 1
    # ... finds her again by a fragment of her name ...
    found = reception.get("/api/v1/patients", params={"q": "lindq"}).json()
    assert patient["id"] in [p["id"] for p in found["items"]]
    # ... and books the doctor's first free slot tomorrow.
    doctors = reception.get("/api/v1/doctors").json()
    assert doctor_row.id in [d["id"] for d in doctors["items"]]
    day = (date.today() + timedelta(days=1)).isoformat()
    slots = reception.get("/api/v1/slots", params={"doctor_id": doctor_row.id, "date": day}).json()[
        "items"
    ]
    free = next(s for s in slots if s["available"])
    booked = reception.post(
        "/api/v1/appointments",
        json={"patient_id": patient["id"], "doctor_id": doctor_row.id, "start": free["start"]},
    )
    assert booked.status_code == 201, booked.text
    # The same slot cannot be booked twice.
    other = reception.post(
        "/api/v1/patients",
        json={
            "given_name": "Tomasz",
            "family_name": "Wiśniewski",
            "date_of_birth": "1990-01-02",
            "sex": "male",
            "phone": "+48 601 000 111",
        },
    ).json()
    clash = reception.post(
        "/api/v1/appointments",
        json={"patient_id": other["id"], "doctor_id": doctor_row.id, "start": free["start"]},
    )
    assert clash.status_code == 409 and clash.json()["code"] == "slot_taken"
    checked_in = reception.post(f"/api/v1/appointments/{booked.json()['id']}/check-in")
    assert checked_in.status_code in (200, 201), checked_in.text

    # The doctor records a penicillin allergy ...
    allergy = doctor.post(
        f"/api/v1/patients/{patient['id']}/allergies",
        json={"substance": "penicillin", "reaction": "hives", "severity": "severe"},
    )
    assert allergy.status_code == 201, allergy.text
    # ... and the server stops amoxicillin, naming the conflict ...
    drug = doctor.get("/api/v1/formulary", params={"q": "amoxicillin"}).json()["items"][0]
    item = {
        "drug_id": drug["id"],
        "dose": 500,
        "unit": "mg",
        "route": "oral",
        "frequency": "three times daily",
        "duration_days": 7,
        "quantity": 21,
    }
    refused = doctor.post(
        "/api/v1/prescriptions", json={"patient_id": patient["id"], "items": [item]}
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "allergy_conflict"
    assert refused.json()["conflicts"]
    # ... unless the doctor overrides it with a reason, which is audited.
    overridden = doctor.post(
        "/api/v1/prescriptions",
        json={
            "patient_id": patient["id"],
            "items": [item],
            "override_reason": "Tolerated amoxicillin in 2024 under observation",
        },
    )
    assert overridden.status_code == 201

    # Reception may not read the clinical record.
    assert reception.get(f"/api/v1/patients/{patient['id']}/chart").status_code == 403

    # An integration reads the patient over FHIR.
    fhir_patient = doctor.get(f"/fhir/Patient/{patient['id']}")
    assert fhir_patient.status_code == 200
    assert fhir_patient.json()["resourceType"] == "Patient"
    bundle = doctor.get("/fhir/Patient", params={"name": "Obi-Lindqvist"}).json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    assert bundle["total"] >= 1
    allergies = doctor.get("/fhir/AllergyIntolerance", params={"patient": patient["id"]}).json()
    assert allergies["total"] == 1
