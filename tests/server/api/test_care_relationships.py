"""Care relationships come from the hospital's own facts (issue 8, "any clinician can grant
themselves access to any chart"): a write is not a way in, a dry run never changes access,
the outpatient nurse works her clinic's checked-in patients of the day, a handover needs a
lasting relationship and a reason, and break-the-glass does not turn into lasting access."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from hms_server.adapters.uow import Actor
from hms_server.services import appointments, queue
from tests.server.api.clinical_factories import (
    Clinician,
    book_with,
    drug_id,
    give_clinic,
    new_clinician,
    new_patient,
    open_encounter,
)
from tests.wiring import wired_uow

REASON = "Covering the ward round while Dr A is on leave"


@pytest.fixture
def outsider(client, make_user, login) -> Clinician:
    return new_clinician(client, make_user, login)


@pytest.fixture
def patient_id(client, headers_for) -> int:
    return new_patient(client, headers_for)["id"]


def _chart(client, who: Clinician, patient_id: int) -> int:
    return client.get(f"/api/v1/patients/{patient_id}/chart", headers=who.headers).status_code


def _care_team_rows(db, patient_id: int, user_id: int) -> int:
    with db.owner_engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM care_team_members WHERE patient_id = :p AND user_id = :u"),
            {"p": patient_id, "u": user_id},
        ).scalar_one()


# ------------------------------------------------------------------ the attacks of issue 8


def test_a_dry_run_safety_check_does_not_grant_access(client, db, outsider, patient_id):
    para = drug_id(client, outsider.headers, "paracetamol")
    assert _chart(client, outsider, patient_id) == 403
    check = client.post(
        "/api/v1/prescriptions/check",
        headers=outsider.headers,
        json={"patient_id": patient_id, "drug_ids": [para]},
    )
    assert check.status_code == 403
    assert check.json()["code"] == "care_relationship_required"
    assert _chart(client, outsider, patient_id) == 403
    assert _care_team_rows(db, patient_id, outsider.user_id) == 0


def test_recording_vitals_does_not_grant_access(client, db, make_user, login, patient_id):
    nurse = new_clinician(client, make_user, login, role="nurse")
    url = f"/api/v1/patients/{patient_id}/vitals"
    recorded = client.post(url, headers=nurse.headers, json={"heart_rate_bpm": 80})
    assert recorded.status_code == 403
    assert recorded.json()["code"] == "care_relationship_required"
    assert client.get(url, headers=nurse.headers).status_code == 403
    assert _chart(client, nurse, patient_id) == 403
    assert _care_team_rows(db, patient_id, nurse.user_id) == 0


def test_opening_an_encounter_does_not_grant_access(client, db, outsider, patient_id):
    opened = client.post(
        f"/api/v1/patients/{patient_id}/encounters",
        headers=outsider.headers,
        json={"reason": "Just looking"},
    )
    assert opened.status_code == 403
    assert opened.json()["code"] == "care_relationship_required"
    assert _chart(client, outsider, patient_id) == 403
    assert _care_team_rows(db, patient_id, outsider.user_id) == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/patients/{p}/notes", {"body": "Seen in the corridor."}),
        ("/api/v1/patients/{p}/allergies", {"substance": "latex", "severity": "mild"}),
        ("/api/v1/patients/{p}/problems", {"icd10_code": "J06.9"}),
    ],
)
def test_no_chart_write_is_a_way_in(client, db, outsider, patient_id, path, body):
    response = client.post(path.format(p=patient_id), headers=outsider.headers, json=body)
    assert response.status_code == 403
    assert _chart(client, outsider, patient_id) == 403
    assert _care_team_rows(db, patient_id, outsider.user_id) == 0


def test_care_team_rows_written_by_the_old_loophole_give_no_access(
    client, db, outsider, patient_id
):
    """Rows a write added before the fix ("self_declared") are kept for review but are not
    a basis of access."""
    with db.owner_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO care_team_members (patient_id, user_id, role, source, "
                "added_by_user_id) VALUES (:p, :u, 'clinician', 'self_declared', :u)"
            ),
            {"p": patient_id, "u": outsider.user_id},
        )
    assert _chart(client, outsider, patient_id) == 403
    mine = client.get("/api/v1/my-patients", headers=outsider.headers).json()
    assert patient_id not in [p["id"] for p in mine["items"]]


# ------------------------------------------------------------------ the hospital's facts


def test_an_appointment_with_the_doctor_is_a_care_relationship(
    client, headers_for, outsider, patient_id
):
    assert _chart(client, outsider, patient_id) == 403
    book_with(client, headers_for, outsider, patient_id)
    chart = client.get(f"/api/v1/patients/{patient_id}/chart", headers=outsider.headers)
    assert chart.status_code == 200 and chart.json()["access"] == "appointment"
    # The encounter opened on that basis makes the doctor a lasting care-team member.
    open_encounter(client, outsider, patient_id)
    team = client.get(f"/api/v1/patients/{patient_id}/care-team", headers=outsider.headers)
    assert [(m["user_id"], m["source"]) for m in team.json()["items"]] == [
        (outsider.user_id, "encounter")
    ]


def test_break_glass_does_not_turn_into_lasting_access(client, db, outsider, patient_id):
    granted = client.post(
        f"/api/v1/patients/{patient_id}/break-glass",
        headers=outsider.headers,
        json={"reason": "Collapsed in the waiting room, unresponsive"},
    )
    assert granted.status_code == 201
    assert open_encounter(client, outsider, patient_id, kind="emergency")["id"]
    note = client.post(
        f"/api/v1/patients/{patient_id}/notes",
        headers=outsider.headers,
        json={"body": "Resuscitated, transferred to ED."},
    )
    assert note.status_code == 201
    assert _care_team_rows(db, patient_id, outsider.user_id) == 0
    handover = client.post(
        f"/api/v1/patients/{patient_id}/care-team",
        headers=outsider.headers,
        json={"user_id": outsider.user_id, "reason": REASON},
    )
    assert handover.status_code == 403
    with db.owner_engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE break_glass_grants SET granted_at = now() - interval '2 h', "
                "expires_at = now() - interval '1 h' WHERE id = :g"
            ),
            {"g": granted.json()["id"]},
        )
    assert _chart(client, outsider, patient_id) == 403


def test_a_handover_needs_a_reason_and_a_lasting_relationship(
    client, db, headers_for, make_user, login, outsider, patient_id
):
    nurse = new_clinician(client, make_user, login, role="nurse")
    url = f"/api/v1/patients/{patient_id}/care-team"
    book_with(client, headers_for, outsider, patient_id)
    no_reason = client.post(url, headers=outsider.headers, json={"user_id": nurse.user_id})
    assert no_reason.status_code == 422
    clerk = client.get("/api/v1/me", headers=headers_for("billing_clerk")).json()["id"]
    not_clinical = client.post(
        url, headers=outsider.headers, json={"user_id": clerk, "reason": REASON}
    )
    assert not_clinical.status_code == 403
    added = client.post(
        url,
        headers=outsider.headers,
        json={"user_id": nurse.user_id, "role": "ward nurse", "reason": REASON},
    )
    assert added.status_code == 201, added.text
    assert added.json()["source"] == "handover" and added.json()["reason"] == REASON
    assert _chart(client, nurse, patient_id) == 200
    with db.owner_engine.connect() as conn:
        audited = conn.execute(
            text(
                "SELECT detail FROM audit_log WHERE patient_id = :p AND user_id = :u "
                "AND action = 'care_team.add'"
            ),
            {"p": patient_id, "u": outsider.user_id},
        ).all()
    assert [a.detail["reason"] for a in audited if a.detail["source"] == "handover"] == [REASON]


# ------------------------------------------------------------------ the outpatient nurse


def _checked_in_today(db, settings, doctor: Clinician, patient_id: int) -> int:
    """Reception's morning: the patient booked for early today and checked in (services,
    with the clock set to the start of the hospital's day)."""
    tz = ZoneInfo(settings.hospital_timezone)
    morning = datetime.combine(datetime.now(tz).date(), time(0, 0), tzinfo=tz)
    factory = db.owner_session_factory()
    booked = appointments.book_appointment(
        wired_uow(factory, Actor.system("tests")),
        patient_id=patient_id,
        doctor_id=doctor.doctor_id,
        start=morning + timedelta(minutes=15),
        now=morning,
    )
    entry = queue.check_in(wired_uow(factory, Actor.system("tests")), booked.id, now=morning)
    return entry.id


def test_the_outpatient_nurse_works_her_clinics_checked_in_patients_today(
    client, db, settings, headers_for, make_user, login
):
    doctor = new_clinician(client, make_user, login)
    give_clinic(client, headers_for, doctor)
    other_doctor = new_clinician(client, make_user, login)
    give_clinic(client, headers_for, other_doctor)
    nurse = new_clinician(client, make_user, login, role="nurse")
    mine = new_patient(client, headers_for)["id"]
    elsewhere = new_patient(client, headers_for)["id"]
    booked_only = new_patient(client, headers_for)["id"]
    entry_id = _checked_in_today(db, settings, doctor, mine)
    _checked_in_today(db, settings, other_doctor, elsewhere)
    book_with(client, headers_for, doctor, booked_only)  # booked, not yet arrived

    assert _chart(client, nurse, mine) == 403  # no clinic yet
    admin = headers_for("admin")
    assigned = client.post(
        "/api/v1/clinic-assignments",
        headers=admin,
        json={"user_id": nurse.user_id, "department_id": doctor.department_id},
    )
    assert assigned.status_code == 201, assigned.text
    assert (
        client.post(
            "/api/v1/clinic-assignments",
            headers=admin,
            json={"user_id": nurse.user_id, "department_id": doctor.department_id},
        ).status_code
        == 409
    )

    chart = client.get(f"/api/v1/patients/{mine}/chart", headers=nurse.headers)
    assert chart.status_code == 200 and chart.json()["access"] == "clinic"
    triage = client.post(
        f"/api/v1/patients/{mine}/vitals",
        headers=nurse.headers,
        json={"heart_rate_bpm": 88, "spo2_pct": 97, "temperature_c": 37.9},
    )
    assert triage.status_code == 201, triage.text
    allergy = client.post(
        f"/api/v1/patients/{mine}/allergies",
        headers=nurse.headers,
        json={"substance": "Penicillin", "severity": "severe"},
    )
    assert allergy.status_code == 201, allergy.text
    assert _chart(client, nurse, elsewhere) == 403  # another department's clinic
    assert _chart(client, nurse, booked_only) == 403  # not checked in

    listed = client.get("/api/v1/my-patients", headers=nurse.headers)
    assert listed.status_code == 200
    rows = {p["id"]: p for p in listed.json()["items"]}
    assert set(rows) == {mine}
    assert rows[mine]["relationship"] == "clinic" and rows[mine]["queue_entry_id"] == entry_id
    assert rows[mine]["token"] == 1 and rows[mine]["queue_status"] == "waiting"

    # The day's clinic cannot be passed on, and it ends with the day.
    handover = client.post(
        f"/api/v1/patients/{mine}/care-team",
        headers=nurse.headers,
        json={"user_id": nurse.user_id, "reason": REASON},
    )
    assert handover.status_code == 403
    with db.owner_engine.begin() as conn:
        conn.execute(
            text("UPDATE queue_entries SET queue_date = queue_date - 1 WHERE id = :e"),
            {"e": entry_id},
        )
    assert _chart(client, nurse, mine) == 403
    assert client.get("/api/v1/my-patients", headers=nurse.headers).json()["total"] == 0


def test_a_day_assignment_counts_only_on_its_day(
    client, db, settings, headers_for, make_user, login
):
    doctor = new_clinician(client, make_user, login)
    give_clinic(client, headers_for, doctor)
    nurse = new_clinician(client, make_user, login, role="nurse")
    patient = new_patient(client, headers_for)["id"]
    _checked_in_today(db, settings, doctor, patient)
    admin = headers_for("admin")
    today = datetime.now(ZoneInfo(settings.hospital_timezone)).date()
    tomorrow = client.post(
        "/api/v1/clinic-assignments",
        headers=admin,
        json={
            "user_id": nurse.user_id,
            "department_id": doctor.department_id,
            "on_date": (today + timedelta(days=1)).isoformat(),
        },
    )
    assert tomorrow.status_code == 201
    assert _chart(client, nurse, patient) == 403
    assert (
        client.post(
            "/api/v1/clinic-assignments",
            headers=admin,
            json={
                "user_id": nurse.user_id,
                "department_id": doctor.department_id,
                "on_date": today.isoformat(),
            },
        ).status_code
        == 201
    )
    assert _chart(client, nurse, patient) == 200
    listed = client.get(
        "/api/v1/clinic-assignments",
        headers=admin,
        params={"user_id": nurse.user_id, "date": today.isoformat()},
    )
    assert [a["on_date"] for a in listed.json()["items"]] == [today.isoformat()]
    removed = client.delete(
        f"/api/v1/clinic-assignments/{listed.json()['items'][0]['id']}", headers=admin
    )
    assert removed.status_code == 204
    assert _chart(client, nurse, patient) == 403


def test_only_clinicians_work_in_a_clinic_and_only_admins_assign(
    client, headers_for, make_user, login
):
    doctor = new_clinician(client, make_user, login)
    give_clinic(client, headers_for, doctor)
    clerk = client.get("/api/v1/me", headers=headers_for("billing_clerk")).json()["id"]
    refused = client.post(
        "/api/v1/clinic-assignments",
        headers=headers_for("admin"),
        json={"user_id": clerk, "department_id": doctor.department_id},
    )
    assert refused.status_code == 422
    nurse = new_clinician(client, make_user, login, role="nurse")
    for role in ("nurse", "doctor", "manager", "receptionist"):
        response = client.post(
            "/api/v1/clinic-assignments",
            headers=headers_for(role),
            json={"user_id": nurse.user_id, "department_id": doctor.department_id},
        )
        assert response.status_code == 403, role
