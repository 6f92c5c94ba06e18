"""Beds and ADT through the API: the bed board, admit, transfer, discharge, mark clean,
cancel, and the refusals (occupied, blocked, being cleaned, already admitted, discharged)."""

from __future__ import annotations

from tests.server.api.ward_factories import (
    admit,
    new_clinician,
    new_patient,
    new_ward,
    ward_nurse,
)


def _beds(client, headers, ward_id):
    r = client.get("/api/v1/beds", params={"ward_id": ward_id}, headers=headers)
    assert r.status_code == 200, r.text
    return {b["id"]: b for b in r.json()["items"]}


def test_bed_board_lists_the_beds_of_a_ward_with_status_and_patient(client, headers_for):
    ward = new_ward(client, headers_for, beds=3)
    patient = new_patient(client, headers_for)
    doctor = headers_for("doctor")
    admit(client, doctor, patient["id"], ward.bed_ids[0])

    r = client.get("/api/v1/beds", params={"ward_id": ward.id}, headers=doctor)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 3
    assert {"id", "ward_id", "label", "status", "patient_id"} <= set(body["items"][0])
    by_id = {b["id"]: b for b in body["items"]}
    assert by_id[ward.bed_ids[0]]["status"] == "occupied"
    assert by_id[ward.bed_ids[0]]["patient_id"] == patient["id"]
    assert by_id[ward.bed_ids[0]]["days_in"] == 1
    assert by_id[ward.bed_ids[1]] | {} and by_id[ward.bed_ids[1]]["status"] == "free"
    assert by_id[ward.bed_ids[1]]["patient_id"] is None

    wards = client.get("/api/v1/wards", headers=doctor).json()
    mine = next(w for w in wards["items"] if w["id"] == ward.id)
    assert (mine["bed_count"], mine["occupied_beds"], mine["free_beds"]) == (3, 1, 2)
    assert mine["ward_class"] == "general"


def test_admit_returns_201_and_the_bed_becomes_occupied(client, headers_for):
    ward = new_ward(client, headers_for, beds=2)
    patient = new_patient(client, headers_for)
    r = client.post(
        "/api/v1/admissions",
        json={
            "patient_id": patient["id"],
            "bed_id": ward.bed_ids[0],
            "reason": "Fractured neck of femur",
        },
        headers=headers_for("doctor"),
    )
    assert r.status_code == 201, r.text
    admission = r.json()
    assert admission["status"] == "admitted"
    assert admission["bed_id"] == ward.bed_ids[0]
    assert admission["ward_id"] == ward.id
    assert admission["encounter_id"] is not None  # the admitting doctor attends
    assert r.headers["Location"] == f"/api/v1/admissions/{admission['id']}"


def test_second_admission_to_an_occupied_bed_is_refused(client, headers_for):
    ward = new_ward(client, headers_for, beds=1)
    first, second = new_patient(client, headers_for), new_patient(client, headers_for)
    doctor = headers_for("doctor")
    admit(client, doctor, first["id"], ward.bed_ids[0])
    r = client.post(
        "/api/v1/admissions",
        json={"patient_id": second["id"], "bed_id": ward.bed_ids[0], "reason": "x"},
        headers=doctor,
    )
    assert r.status_code == 409
    assert r.json()["code"] == "bed_occupied"
    assert r.headers["content-type"].startswith("application/problem+json")
    listed = client.get(
        "/api/v1/admissions", params={"patient_id": second["id"]}, headers=doctor
    ).json()
    assert listed["total"] == 0  # nothing half-written


def test_admitting_an_admitted_patient_again_is_refused(client, headers_for):
    ward = new_ward(client, headers_for, beds=2)
    patient = new_patient(client, headers_for)
    doctor = headers_for("doctor")
    first = admit(client, doctor, patient["id"], ward.bed_ids[0])
    r = client.post(
        "/api/v1/admissions",
        json={"patient_id": patient["id"], "bed_id": ward.bed_ids[1], "reason": "x"},
        headers=doctor,
    )
    assert r.status_code == 409
    assert r.json()["code"] == "already_admitted"
    assert r.json()["admission_id"] == first["id"]
    assert _beds(client, doctor, ward.id)[ward.bed_ids[1]]["status"] == "free"


def test_blocked_bed_refuses_admission_until_unblocked(client, headers_for):
    ward = new_ward(client, headers_for, beds=1)
    nurse = headers_for("nurse")
    bed = ward.bed_ids[0]
    r = client.post(f"/api/v1/beds/{bed}/status", json={"status": "blocked"}, headers=nurse)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"  # reason required
    r = client.post(
        f"/api/v1/beds/{bed}/status",
        json={"status": "blocked", "reason": "Broken bed rail"},
        headers=nurse,
    )
    assert r.status_code == 200 and r.json()["status"] == "blocked"
    assert r.json()["blocked_reason"] == "Broken bed rail"
    patient = new_patient(client, headers_for)
    r = client.post(
        "/api/v1/admissions",
        json={"patient_id": patient["id"], "bed_id": bed, "reason": "x"},
        headers=headers_for("doctor"),
    )
    assert r.status_code == 409 and r.json()["code"] == "bed_blocked"
    r = client.post(f"/api/v1/beds/{bed}/status", json={"status": "free"}, headers=nurse)
    assert r.status_code == 200 and r.json()["status"] == "free"
    admit(client, headers_for("doctor"), patient["id"], bed)


def test_transfer_moves_the_patient_and_sends_the_old_bed_to_cleaning(client, headers_for):
    ward_a = new_ward(client, headers_for, beds=2)
    ward_b = new_ward(client, headers_for, beds=1, ward_class="icu")
    patient = new_patient(client, headers_for)
    doctor = headers_for("doctor")
    admission = admit(client, doctor, patient["id"], ward_a.bed_ids[0])

    r = client.post(
        f"/api/v1/admissions/{admission['id']}/transfer",
        json={"bed_id": ward_b.bed_ids[0]},
        headers=headers_for("nurse"),
    )
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["bed_id"] == ward_b.bed_ids[0] and moved["ward_class"] == "icu"
    assert [s["ward_id"] for s in moved["stays"]] == [ward_a.id, ward_b.id]
    assert moved["stays"][0]["ended_at"] is not None and moved["stays"][1]["ended_at"] is None
    assert _beds(client, doctor, ward_a.id)[ward_a.bed_ids[0]]["status"] == "cleaning"
    assert _beds(client, doctor, ward_b.id)[ward_b.bed_ids[0]]["status"] == "occupied"

    # A bed being cleaned takes nobody until it is marked clean.
    other = new_patient(client, headers_for)
    r = client.post(
        "/api/v1/admissions",
        json={"patient_id": other["id"], "bed_id": ward_a.bed_ids[0], "reason": "x"},
        headers=doctor,
    )
    assert r.status_code == 409 and r.json()["code"] == "bed_being_cleaned"
    r = client.post(f"/api/v1/beds/{ward_a.bed_ids[0]}/clean", headers=headers_for("nurse"))
    assert r.status_code == 200 and r.json()["status"] == "free"
    admit(client, doctor, other["id"], ward_a.bed_ids[0])


def test_transfer_to_an_occupied_bed_or_the_same_bed_is_refused(client, headers_for):
    ward = new_ward(client, headers_for, beds=2)
    doctor = headers_for("doctor")
    one = admit(client, doctor, new_patient(client, headers_for)["id"], ward.bed_ids[0])
    admit(client, doctor, new_patient(client, headers_for)["id"], ward.bed_ids[1])
    r = client.post(
        f"/api/v1/admissions/{one['id']}/transfer", json={"bed_id": ward.bed_ids[1]}, headers=doctor
    )
    assert r.status_code == 409 and r.json()["code"] == "bed_occupied"
    r = client.post(
        f"/api/v1/admissions/{one['id']}/transfer", json={"bed_id": ward.bed_ids[0]}, headers=doctor
    )
    assert r.status_code == 409 and r.json()["code"] == "same_bed"
    r = client.post(
        f"/api/v1/admissions/{one['id']}/transfer", json={"bed_id": 987654321}, headers=doctor
    )
    assert r.status_code == 422


def test_discharge_signs_the_summary_and_a_discharged_patient_cannot_be_transferred(
    client, headers_for
):
    ward = new_ward(client, headers_for, beds=2)
    patient = new_patient(client, headers_for)
    doctor = headers_for("doctor")
    admission = admit(client, doctor, patient["id"], ward.bed_ids[0], diagnosis="Pneumonia")
    r = client.post(
        f"/api/v1/admissions/{admission['id']}/discharge",
        json={"summary": "Treated with amoxicillin; afebrile 48 h. GP review in one week."},
        headers=doctor,
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "discharged" and done["bed_id"] is None
    assert done["discharged_at"] is not None and done["discharge_note_id"] is not None
    assert _beds(client, doctor, ward.id)[ward.bed_ids[0]]["status"] == "cleaning"

    summary = client.get(f"/api/v1/admissions/{admission['id']}/discharge-summary", headers=doctor)
    assert summary.status_code == 200, summary.text
    assert "afebrile 48 h" in summary.json()["summary"]
    assert summary.json()["signed_by_name"] and summary.json()["signed_at"]

    r = client.post(
        f"/api/v1/admissions/{admission['id']}/transfer",
        json={"bed_id": ward.bed_ids[1]},
        headers=doctor,
    )
    assert r.status_code == 409 and r.json()["code"] == "admission_not_open"
    r = client.post(
        f"/api/v1/admissions/{admission['id']}/discharge", json={"summary": "again"}, headers=doctor
    )
    assert r.status_code == 409 and r.json()["code"] == "admission_not_open"
    # The patient may be admitted again.
    client.post(f"/api/v1/beds/{ward.bed_ids[0]}/clean", headers=doctor)
    admit(client, doctor, patient["id"], ward.bed_ids[0])


def test_cancelling_an_admission_made_in_error_frees_the_bed(client, headers_for):
    ward = new_ward(client, headers_for, beds=1)
    patient = new_patient(client, headers_for)
    reception = headers_for("receptionist")
    admission = admit(client, reception, patient["id"], ward.bed_ids[0])
    r = client.post(
        f"/api/v1/admissions/{admission['id']}/cancel",
        json={"reason": "Wrong patient selected"},
        headers=reception,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert _beds(client, reception, ward.id)[ward.bed_ids[0]]["status"] == "free"


def test_reception_admits_but_sees_no_clinical_detail(client, headers_for):
    ward = new_ward(client, headers_for, beds=1)
    patient = new_patient(client, headers_for)
    reception = headers_for("receptionist")
    r = client.post(
        "/api/v1/admissions",
        json={
            "patient_id": patient["id"],
            "bed_id": ward.bed_ids[0],
            "reason": "Chest pain",
            "diagnosis": "NSTEMI",
            "source": "emergency",
        },
        headers=reception,
    )
    assert r.status_code == 201, r.text
    seen = r.json()
    assert seen["reason"] is None and seen["diagnosis"] is None
    assert seen["patient_name"] and seen["attending_doctor_user_id"] is None
    bed = _beds(client, reception, ward.id)[ward.bed_ids[0]]
    assert bed["patient_id"] == patient["id"] and bed["alerts"] is None
    # The doctor sees it; the MAR is clinical.
    doctor = headers_for("doctor")
    full = client.get(f"/api/v1/admissions/{seen['id']}", headers=doctor).json()
    assert full["diagnosis"] == "NSTEMI" and full["reason"] == "Chest pain"
    r = client.get(f"/api/v1/admissions/{seen['id']}/mar", headers=reception)
    assert r.status_code == 403


def test_a_doctor_named_later_attends_and_joins_the_care_team(
    client, make_user, login, headers_for
):
    ward = new_ward(client, headers_for, beds=1)
    patient = new_patient(client, headers_for)
    admission = admit(client, headers_for("receptionist"), patient["id"], ward.bed_ids[0])
    doctor = new_clinician(client, make_user, login, "doctor")
    assert (
        client.get(f"/api/v1/patients/{patient['id']}/chart", headers=doctor.headers).status_code
        == 403
    )
    r = client.post(
        f"/api/v1/admissions/{admission['id']}/attending",
        json={"doctor_user_id": doctor.user_id},
        headers=headers_for("receptionist"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["attending_doctor_user_id"] == doctor.user_id
    assert r.json()["encounter_id"] is not None
    assert (
        client.get(f"/api/v1/patients/{patient['id']}/chart", headers=doctor.headers).status_code
        == 200
    )


def test_billing_clerk_and_pharmacist_have_no_ward_access(client, headers_for):
    for role in ("billing_clerk", "pharmacist", "hr_officer"):
        assert client.get("/api/v1/beds", headers=headers_for(role)).status_code == 403
        assert client.get("/api/v1/wards", headers=headers_for(role)).status_code == 403


def test_manager_sees_occupancy_but_no_patient_names(client, headers_for):
    ward = new_ward(client, headers_for, beds=1)
    patient = new_patient(client, headers_for)
    admit(client, headers_for("doctor"), patient["id"], ward.bed_ids[0])
    bed = _beds(client, headers_for("manager"), ward.id)[ward.bed_ids[0]]
    assert bed["status"] == "occupied" and bed["patient_name"] is None
    assert bed["patient_mrn"] is None


def test_single_sex_bay_refuses_a_patient_of_the_other_sex(client, headers_for):
    ward = new_ward(client, headers_for, beds=1, gender_policy="female")
    man = new_patient(client, headers_for, sex="male")
    r = client.post(
        "/api/v1/admissions",
        json={"patient_id": man["id"], "bed_id": ward.bed_ids[0], "reason": "x"},
        headers=headers_for("doctor"),
    )
    assert r.status_code == 409 and r.json()["code"] == "bed_gender_policy"


def test_ward_nurses_join_the_care_team_and_see_the_patient(client, make_user, login, headers_for):
    ward = new_ward(client, headers_for, beds=1)
    nurse = ward_nurse(client, make_user, login, headers_for, ward)
    patient = new_patient(client, headers_for)
    admit(client, headers_for("doctor"), patient["id"], ward.bed_ids[0])
    r = client.get(f"/api/v1/patients/{patient['id']}/chart", headers=nurse.headers)
    assert r.status_code == 200, r.text
    mine = client.get(
        "/api/v1/admissions", params={"mine": True, "status": "admitted"}, headers=nurse.headers
    ).json()
    assert [a["patient_id"] for a in mine["items"]] == [patient["id"]]


def test_bad_input_is_a_clear_4xx(client, headers_for):
    doctor = headers_for("doctor")
    for body in (
        {},
        {"patient_id": 1},
        {"patient_id": "x", "bed_id": 1, "reason": "r"},
        {"patient_id": 1, "bed_id": 1, "reason": ""},
        {"patient_id": 1, "bed_id": 1, "reason": "r", "source": "moon"},
        {"patient_id": 1, "bed_id": 1, "reason": "r", "extra": 1},
    ):
        r = client.post("/api/v1/admissions", json=body, headers=doctor)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == "validation_error"
    ward = new_ward(client, headers_for, beds=1)
    r = client.post(
        "/api/v1/admissions",
        json={"patient_id": 987654321, "bed_id": ward.bed_ids[0], "reason": "r"},
        headers=doctor,
    )
    assert r.status_code == 422
    patient = new_patient(client, headers_for)
    r = client.post(
        "/api/v1/admissions",
        json={"patient_id": patient["id"], "bed_id": 987654321, "reason": "r"},
        headers=doctor,
    )
    assert r.status_code == 422
    r = client.post("/api/v1/admissions/987654321/discharge", json={"summary": "s"}, headers=doctor)
    assert r.status_code == 404
