"""Nursing on the ward through the API: assessments scored by the server, vitals with
NEWS2, fluid balance per shift, care tasks, nursing notes, the due list and the handover;
and who may do it (the ward's nurses; others break the glass)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.server.api.clinical_factories import new_clinician
from tests.server.api.ward_factories import admit, new_patient, new_ward, ward_nurse


@pytest.fixture
def inpatient(client, make_user, login, headers_for):
    ward = new_ward(client, headers_for, beds=2)
    nurse = ward_nurse(client, make_user, login, headers_for, ward)
    patient = new_patient(client, headers_for)
    doctor = headers_for("doctor")
    admission = admit(
        client, doctor, patient["id"], ward.bed_ids[0], diagnosis="Cellulitis left leg"
    )
    return {
        "ward": ward,
        "nurse": nurse,
        "patient": patient,
        "admission": admission,
        "doctor": doctor,
    }


def _vitals(client, nurse, admission_id, **values):
    r = client.post(f"/api/v1/admissions/{admission_id}/vitals", json=values, headers=nurse.headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_news2_is_scored_from_the_newest_vitals(client, inpatient):
    a, nurse = inpatient["admission"], inpatient["nurse"]
    _vitals(
        client,
        nurse,
        a["id"],
        respiratory_rate=24,
        spo2_pct=92,
        systolic_mmhg=98,
        diastolic_mmhg=60,
        heart_rate_bpm=118,
        temperature_c="39.2",
    )
    r = client.post(
        f"/api/v1/admissions/{a['id']}/assessments",
        json={"kind": "news2", "answers": {"consciousness": "alert", "on_oxygen": True}},
        headers=nurse.headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["total"], body["risk"]) == (12, "high")
    assert body["vitals_id"] is not None and body["assessed_by_name"]
    grid = client.get(f"/api/v1/admissions/{a['id']}/vitals-grid", headers=nurse.headers)
    assert grid.status_code == 200
    row = grid.json()["items"][0]
    assert (row["news2"], row["news2_complete"], row["source"]) == (12, True, "manual")
    assert grid.json()["observe_every_minutes"] == 15
    board = client.get(
        "/api/v1/beds", params={"ward_id": inpatient["ward"].id}, headers=nurse.headers
    ).json()
    bed = next(b for b in board["items"] if b["id"] == inpatient["ward"].bed_ids[0])
    assert bed["alerts"]["news2"] == 12 and bed["alerts"]["news2_risk"] == "high"


def test_falls_and_pressure_assessments_and_bad_answers(client, inpatient):
    a, nurse = inpatient["admission"], inpatient["nurse"]
    r = client.post(
        f"/api/v1/admissions/{a['id']}/assessments",
        json={
            "kind": "morse_falls",
            "answers": {
                "history_of_falling": "yes",
                "secondary_diagnosis": "no",
                "ambulatory_aid": "none",
                "iv_or_heparin_lock": "yes",
                "gait": "weak",
                "mental_status": "oriented",
            },
        },
        headers=nurse.headers,
    )
    assert r.status_code == 201 and (r.json()["total"], r.json()["risk"]) == (55, "high")
    r = client.post(
        f"/api/v1/admissions/{a['id']}/assessments",
        json={
            "kind": "braden",
            "answers": {
                "sensory_perception": 4,
                "moisture": 3,
                "activity": 3,
                "mobility": 3,
                "nutrition": 3,
                "friction_shear": 2,
            },
        },
        headers=nurse.headers,
    )
    assert r.status_code == 201 and r.json()["risk"] == "mild"
    r = client.post(
        f"/api/v1/admissions/{a['id']}/assessments",
        json={"kind": "braden", "answers": {"moisture": 9}},
        headers=nurse.headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "assessment_input"
    listed = client.get(
        f"/api/v1/admissions/{a['id']}/assessments",
        params={"kind": "morse_falls"},
        headers=nurse.headers,
    ).json()
    assert listed["total"] == 1


def test_fluid_balance_is_summed_per_shift(client, inpatient):
    a, nurse = inpatient["admission"], inpatient["nurse"]
    now = datetime.now(UTC)
    for kind, route, ml in (
        ("intake", "oral", 400),
        ("intake", "intravenous", 1000),
        ("output", "urine", 650),
    ):
        r = client.post(
            f"/api/v1/admissions/{a['id']}/fluids",
            json={"kind": kind, "route": route, "volume_ml": ml, "recorded_at": now.isoformat()},
            headers=nurse.headers,
        )
        assert r.status_code == 201, r.text
    r = client.post(
        f"/api/v1/admissions/{a['id']}/fluids",
        json={"kind": "output", "route": "oral", "volume_ml": 5},
        headers=nurse.headers,
    )
    assert r.status_code == 422  # oral is not an output route
    day = (now - timedelta(hours=7)).date() if now.hour < 7 else now.date()
    r = client.get(
        f"/api/v1/admissions/{a['id']}/fluid-balance",
        params={"day": day.isoformat()},
        headers=nurse.headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["intake_ml"], body["output_ml"], body["balance_ml"]) == (1400, 650, 750)
    assert [s["shift"] for s in body["shifts"]] == ["early", "late", "night"]
    assert sum(s["balance_ml"] for s in body["shifts"]) == 750
    assert len(body["entries"]) == 3


def test_repeating_care_task_comes_back_when_done(client, inpatient):
    a, nurse = inpatient["admission"], inpatient["nurse"]
    due = datetime.now(UTC) - timedelta(minutes=30)
    r = client.post(
        f"/api/v1/admissions/{a['id']}/tasks",
        json={
            "kind": "turn",
            "title": "Turn patient (pressure areas)",
            "due_at": due.isoformat(),
            "repeat_every_minutes": 120,
        },
        headers=nurse.headers,
    )
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["overdue"] is True
    due_list = client.get(f"/api/v1/wards/{inpatient['ward'].id}/due", headers=nurse.headers).json()
    kinds = {(i["kind"], i["overdue"]) for i in due_list["items"]}
    assert ("task", True) in kinds and ("vitals", True) in kinds
    r = client.post(
        f"/api/v1/care-tasks/{task['id']}/complete",
        json={"version": task["version"]},
        headers=nurse.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "done"
    r = client.post(
        f"/api/v1/care-tasks/{task['id']}/complete",
        json={"version": task["version"]},
        headers=nurse.headers,
    )
    assert r.status_code == 409
    open_tasks = client.get(
        f"/api/v1/admissions/{a['id']}/tasks", params={"status": "open"}, headers=nurse.headers
    ).json()["items"]
    assert len(open_tasks) == 1
    next_due = datetime.fromisoformat(open_tasks[0]["due_at"])
    assert next_due == datetime.fromisoformat(task["due_at"]) + timedelta(minutes=120)


def test_nursing_notes_and_the_handover_report(client, inpatient, headers_for):
    a, nurse = inpatient["admission"], inpatient["nurse"]
    r = client.post(
        f"/api/v1/admissions/{a['id']}/nursing-notes",
        json={"text": "Leg elevated; redness receding from the marked line."},
        headers=nurse.headers,
    )
    assert r.status_code == 201, r.text
    notes = client.get(f"/api/v1/admissions/{a['id']}/nursing-notes", headers=nurse.headers).json()
    assert notes["items"][0]["text"].startswith("Leg elevated")
    _vitals(client, nurse, a["id"], heart_rate_bpm=88, systolic_mmhg=130, diastolic_mmhg=80)
    r = client.get(f"/api/v1/wards/{inpatient['ward'].id}/handover", headers=nurse.headers)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["occupied"] == 1 and report["free"] == 1
    entry = report["patients"][0]
    assert entry["patient_id"] == inpatient["patient"]["id"]
    assert entry["diagnosis"] == "Cellulitis left leg"
    assert "BP 130/80" in entry["latest_vitals"]
    assert "Leg elevated" in entry["recent_notes"][0]


def test_a_nurse_of_another_ward_is_refused_unless_she_breaks_the_glass(
    client, make_user, login, headers_for, inpatient
):
    other_ward = new_ward(client, headers_for, beds=1)
    outsider = ward_nurse(client, make_user, login, headers_for, other_ward)
    a, pid = inpatient["admission"], inpatient["patient"]["id"]
    r = client.get(f"/api/v1/patients/{pid}/chart", headers=outsider.headers)
    assert r.status_code == 403 and r.json()["code"] == "care_relationship_required"
    r = client.get(f"/api/v1/admissions/{a['id']}/mar", headers=outsider.headers)
    assert r.status_code == 403 and r.json()["code"] == "care_relationship_required"
    r = client.post(
        f"/api/v1/admissions/{a['id']}/vitals",
        json={"heart_rate_bpm": 80},
        headers=outsider.headers,
    )
    assert r.status_code == 403 and r.json()["code"] == "not_on_ward"
    r = client.get(f"/api/v1/wards/{inpatient['ward'].id}/handover", headers=outsider.headers)
    assert r.status_code == 403 and r.json()["code"] == "not_on_ward"
    r = client.post(
        f"/api/v1/patients/{pid}/break-glass",
        json={"reason": "Covering the ward during a cardiac arrest"},
        headers=outsider.headers,
    )
    assert r.status_code in (200, 201), r.text
    assert client.get(f"/api/v1/patients/{pid}/chart", headers=outsider.headers).status_code == 200
    r = client.post(
        f"/api/v1/admissions/{a['id']}/vitals",
        json={"heart_rate_bpm": 80},
        headers=outsider.headers,
    )
    assert r.status_code == 201


def test_a_nurse_assigned_after_admission_sees_the_wards_patients(
    client, make_user, login, headers_for, inpatient
):
    late = new_clinician(client, make_user, login, "nurse")
    pid = inpatient["patient"]["id"]
    assert client.get(f"/api/v1/patients/{pid}/chart", headers=late.headers).status_code == 403
    r = client.put(
        f"/api/v1/wards/{inpatient['ward'].id}/nurses/{late.user_id}",
        headers=headers_for("manager"),
    )
    assert r.status_code == 200
    assert client.get(f"/api/v1/patients/{pid}/chart", headers=late.headers).status_code == 200


def test_nursing_records_close_with_the_admission(client, inpatient):
    a, nurse, doctor = inpatient["admission"], inpatient["nurse"], inpatient["doctor"]
    due = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    task = client.post(
        f"/api/v1/admissions/{a['id']}/tasks",
        json={"kind": "dressing", "title": "Dressing change", "due_at": due},
        headers=nurse.headers,
    ).json()
    client.post(
        f"/api/v1/admissions/{a['id']}/discharge", json={"summary": "Home."}, headers=doctor
    )
    tasks = client.get(f"/api/v1/admissions/{a['id']}/tasks", headers=nurse.headers).json()
    assert [t["status"] for t in tasks["items"] if t["id"] == task["id"]] == ["cancelled"]
    r = client.post(
        f"/api/v1/admissions/{a['id']}/fluids",
        json={"kind": "intake", "route": "oral", "volume_ml": 100},
        headers=nurse.headers,
    )
    assert r.status_code == 409
