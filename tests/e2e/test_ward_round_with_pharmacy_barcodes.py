"""A ward round across three areas, through the real API and the real wiring: the pharmacy's
catalogue answers the ward's medication scans (the ``MedicationCodeResolver`` port plugged in
by ``hms_server.bootstrap``), so a nurse at the bedside is told right away when the pack in
her hand is not the ordered drug, and a pack the pharmacy labelled for the patient is taken.

Story: a doctor admits a patient and orders spironolactone twice daily; the pharmacy stocks
it with a GS1 barcode on the box and dispenses the order with a labelled bag; the nurse scans
the wristband and a box of the wrong drug (refused), then the right box (recorded); at the
next dose she scans the pharmacy's dispensing label (recorded).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.server.api.clinical_factories import book_with, drug_id, new_clinician, rx_item
from tests.server.api.pharmacy_factories import gs1, gtin13, new_pharmacy
from tests.server.api.ward_factories import admit, new_patient, new_ward, ward_nurse


def _mar(client: Any, headers: dict[str, str], admission_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/admissions/{admission_id}/mar", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _dose_due_soon(
    client: Any, headers: dict[str, str], admission_id: int, minutes_from_now: int
) -> dict[str, Any]:
    """Move the order's clock times so that one dose falls due in a few minutes (the test
    hospital runs on UTC), and return that dose."""
    order = _mar(client, headers, admission_id)["orders"][0]
    at = datetime.now(UTC) + timedelta(minutes=minutes_from_now)
    moved = client.patch(
        f"/api/v1/medication-orders/{order['id']}",
        headers=headers,
        json={"version": order["version"], "schedule_times": [at.strftime("%H:%M")]},
    )
    assert moved.status_code == 200, moved.text
    due = [
        d
        for d in _mar(client, headers, admission_id)["items"]
        if d["order_id"] == order["id"] and d["status"] == "scheduled"
    ]
    return due[0]


def _give(client: Any, nurse: dict[str, str], dose_id: int, mrn: str, code: str) -> Any:
    return client.post(
        "/api/v1/medication-administrations",
        headers=nurse,
        json={
            "dose_id": dose_id,
            "patient_barcode": mrn,
            "medication_barcode": code,
            "status": "given",
        },
    )


def test_ward_round_scans_are_checked_against_the_pharmacy_catalogue(
    client, headers_for, make_user, login
):
    ward = new_ward(client, headers_for, beds=2)
    nurse = ward_nurse(client, make_user, login, headers_for, ward).headers
    doctor = new_clinician(client, make_user, login)
    patient = new_patient(client, headers_for)
    book_with(client, headers_for, doctor, patient["id"])
    admission = admit(client, doctor.headers, patient["id"], ward.bed_ids[0])

    spironolactone = drug_id(client, doctor.headers, "Spironolactone")
    amoxicillin = drug_id(client, doctor.headers, "Amoxicillin")
    pharmacy = new_pharmacy(client, make_user, login)
    right_box, wrong_box = gtin13(), gtin13()
    right_item = pharmacy.item(
        spironolactone, packs=[{"name": "box", "base_quantity": "28", "gtin": right_box}]
    )
    pharmacy.item(amoxicillin, packs=[{"name": "box", "base_quantity": "21", "gtin": wrong_box}])
    pharmacy.receive(right_item["id"], 56)

    prescription = client.post(
        "/api/v1/prescriptions",
        headers=doctor.headers,
        json={
            "patient_id": patient["id"],
            "items": [
                rx_item(
                    spironolactone,
                    dose=25,
                    unit="mg",
                    frequency="twice daily",
                    duration_days=3,
                    quantity=6,
                )
            ],
        },
    )
    assert prescription.status_code == 201, prescription.text

    # The pharmacy dispenses the inpatient order and labels the bag.
    dispensed = pharmacy.dispense(prescription.json(), 6)
    assert dispensed.status_code == 201, dispensed.text
    label_code = dispensed.json()["lines"][0]["label_code"]

    dose = _dose_due_soon(client, doctor.headers, admission["id"], minutes_from_now=5)
    wrong = _give(client, nurse, dose["id"], patient["mrn"], gs1(wrong_box))
    assert wrong.status_code == 409, wrong.text
    assert wrong.json()["code"] == "wrong_drug"
    right = _give(client, nurse, dose["id"], patient["mrn"], gs1(right_box))
    assert right.status_code == 201, right.text
    assert right.json()["status"] == "given"

    # Next dose: the nurse scans the pharmacy's label on the patient's bag.
    later = _dose_due_soon(client, doctor.headers, admission["id"], minutes_from_now=20)
    labelled = _give(client, nurse, later["id"], patient["mrn"], label_code)
    assert labelled.status_code == 201, labelled.text

    statuses = {d["id"]: d["status"] for d in _mar(client, nurse, admission["id"])["items"]}
    assert statuses[dose["id"]] == "given" and statuses[later["id"]] == "given"
