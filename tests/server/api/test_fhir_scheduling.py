"""FHIR Appointment: booked through the scheduling API, read back over HTTP, validated with
the R4B model; search by patient, practitioner, date and status with paging; who may read;
bad parameters are 400 OperationOutcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import text

from hms_server.adapters.orm.scheduling import APPOINTMENT_STATUSES
from hms_server.fhir.scheduling import STATUS
from tests.server.api.clinical_factories import give_clinic, new_clinician, new_patient

FHIR_JSON = "application/fhir+json"


def _day(days: int) -> datetime:
    """10:00 UTC (the test hospital's zone) ``days`` from today."""
    today = datetime.now(UTC).date()
    return datetime(today.year, today.month, today.day, 10, tzinfo=UTC) + timedelta(days=days)


@pytest.fixture(scope="module")
def booked(client, make_user, login, headers_for):
    """A doctor of their own, a patient and three appointments on three days: one booked
    (with a reason), one cancelled, one marked no-show."""
    doctor = new_clinician(client, make_user, login)
    doctor_id = give_clinic(client, headers_for, doctor)
    pid = new_patient(client, headers_for)["id"]
    reception = headers_for("receptionist")
    made = []
    for n, kind in enumerate(("new", "follow_up", "procedure")):
        r = client.post(
            "/api/v1/appointments",
            headers=reception,
            json={
                "patient_id": pid,
                "doctor_id": doctor_id,
                "start": _day(n + 2).isoformat(),
                "type": kind,
                "reason": f"Reason {n}",
            },
        )
        assert r.status_code == 201, r.text
        made.append(r.json())
    r = client.post(
        f"/api/v1/appointments/{made[1]['id']}/cancel",
        headers=reception,
        json={"reason": "Patient is travelling"},
    )
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/appointments/{made[2]['id']}/no-show", headers=reception)
    assert r.status_code == 200, r.text
    return {"doctor": doctor, "doctor_id": doctor_id, "patient_id": pid, "appointments": made}


def _get(client, path, headers, **params):
    return client.get(path, params=params, headers=headers)


def test_status_mapping_covers_every_hms_status():
    assert set(STATUS) == set(APPOINTMENT_STATUSES)
    assert STATUS == {
        "booked": "booked",
        "checked_in": "arrived",
        "in_consultation": "arrived",
        "completed": "fulfilled",
        "cancelled": "cancelled",
        "no_show": "noshow",
    }


def test_read_maps_the_appointment(client, headers_for, booked):
    first = booked["appointments"][0]
    api = client.get(f"/api/v1/appointments/{first['id']}", headers=headers_for("receptionist"))
    assert api.json()["doctor_name"] == "Test Doctor"
    response = _get(client, f"/fhir/Appointment/{first['id']}", headers_for("receptionist"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body = response.json()
    Appointment.model_validate(body)
    assert body["id"] == str(first["id"])
    assert body["status"] == "booked"
    assert body["identifier"] == [
        {"system": "urn:hms:booking-reference", "value": first["booking_reference"]}
    ]
    assert body["appointmentType"] == {
        "coding": [
            {
                "system": "urn:hms:appointment-type",
                "code": "new",
                "display": "New patient consultation",
            }
        ],
        "text": "New patient consultation",
    }
    assert datetime.fromisoformat(body["start"]) == _day(2)
    assert datetime.fromisoformat(body["end"]) == _day(2) + timedelta(minutes=15)
    assert body["minutesDuration"] == 15
    assert body["participant"] == [
        {
            "actor": {"reference": f"Patient/{booked['patient_id']}"},
            "required": "required",
            "status": "accepted",
        },
        {
            "actor": {
                "type": "Practitioner",
                "identifier": {"system": "urn:hms:user", "value": str(booked["doctor"].user_id)},
                "display": "Test Doctor",
            },
            "required": "required",
            "status": "accepted",
        },
    ]
    assert body["specialty"] == [{"text": "General Medicine"}]
    assert body["reasonCode"] == [{"text": "Reason 0"}]


def test_search_by_patient_status_and_date_with_paging(client, headers_for, booked):
    h = headers_for("receptionist")
    pid = booked["patient_id"]
    ids = [str(a["id"]) for a in booked["appointments"]]
    bundle = _get(client, "/fhir/Appointment", h, patient=f"Patient/{pid}").json()
    Bundle.model_validate(bundle)
    assert bundle["total"] == 3
    assert [e["resource"]["id"] for e in bundle["entry"]] == ids  # by start
    assert [e["resource"]["status"] for e in bundle["entry"]] == ["booked", "cancelled", "noshow"]
    for entry in bundle["entry"]:
        Appointment.model_validate(entry["resource"])
        read = _get(client, f"/fhir/Appointment/{entry['resource']['id']}", h)
        assert read.json() == entry["resource"]
    cancelled = _get(client, "/fhir/Appointment", h, patient=pid, status="cancelled").json()
    assert cancelled["total"] == 1
    assert cancelled["entry"][0]["resource"]["cancelationReason"] == {
        "text": "Patient is travelling"
    }
    both = _get(client, "/fhir/Appointment", h, patient=pid, status="booked,noshow").json()
    assert [e["resource"]["id"] for e in both["entry"]] == [ids[0], ids[2]]
    day3 = _day(3).date().isoformat()
    assert _get(client, "/fhir/Appointment", h, patient=pid, date=day3).json()["total"] == 1
    later = client.get(
        "/fhir/Appointment",
        params=[("patient", pid), ("date", f"ge{day3}")],
        headers=h,
    ).json()
    assert [e["resource"]["id"] for e in later["entry"]] == ids[1:]
    window = client.get(
        "/fhir/Appointment",
        params=[
            ("patient", pid),
            ("date", f"gt{_day(2).isoformat().replace('+00:00', 'Z')}"),
            ("date", f"le{day3}"),
        ],
        headers=h,
    ).json()
    assert [e["resource"]["id"] for e in window["entry"]] == [ids[1]]
    page = _get(client, "/fhir/Appointment", h, patient=pid, _count=2).json()
    assert page["total"] == 3 and len(page["entry"]) == 2
    assert any(link["relation"] == "next" for link in page["link"])
    rest = _get(client, "/fhir/Appointment", h, patient=pid, _count=2, _offset=2).json()
    assert rest["total"] == 3 and [e["resource"]["id"] for e in rest["entry"]] == [ids[2]]
    assert not any(link["relation"] == "next" for link in rest["link"])


def test_search_by_practitioner(client, make_user, login, headers_for, booked):
    h = headers_for("doctor")
    doctor = booked["doctor"]
    mine = _get(client, "/fhir/Appointment", h, practitioner=f"Practitioner/{doctor.user_id}")
    assert mine.json()["total"] == 3
    actor = _get(client, "/fhir/Appointment", h, actor=f"Practitioner/{doctor.user_id}")
    assert actor.json()["total"] == 3
    booked_only = _get(
        client, "/fhir/Appointment", h, practitioner=doctor.user_id, status="booked"
    ).json()
    assert [e["resource"]["id"] for e in booked_only["entry"]] == [
        str(booked["appointments"][0]["id"])
    ]
    nurse = new_clinician(client, make_user, login, "nurse")  # not a bookable doctor
    none = _get(client, "/fhir/Appointment", h, practitioner=nurse.user_id).json()
    assert none["total"] == 0 and "entry" not in none


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"patient": "Patient/abc"},
        {"practitioner": "Practitioner/x"},
        {"actor": "Location/1"},
        {"patient": "1", "date": "2026-13-01"},
        {"patient": "1", "date": "yesterday"},
        {"patient": "1", "date": "ne2026-01-01"},
        {"patient": "1", "date": "2026-01-01T25:00:00Z"},
        {"patient": "1", "_count": "-1"},
    ],
)
def test_bad_search_parameters_are_400_operation_outcomes(client, headers_for, params):
    response = _get(client, "/fhir/Appointment", headers_for("receptionist"), **params)
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("rid", ["999999999", "abc", "adm-1", "1.5"])
def test_unknown_ids_are_404_operation_outcomes(client, headers_for, rid):
    response = _get(client, f"/fhir/Appointment/{rid}", headers_for("receptionist"))
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("role", ["billing_clerk", "pharmacist"])
def test_roles_without_schedule_read_are_refused(client, headers_for, booked, role):
    """They may read patients but not the schedule: 403 OperationOutcome, as
    ``GET /api/v1/appointments`` refuses them."""
    pid = booked["patient_id"]
    h = headers_for(role)
    assert _get(client, "/fhir/Appointment", h, patient=pid).status_code == 403
    response = _get(client, f"/fhir/Appointment/{booked['appointments'][0]['id']}", h)
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"
    assert (
        client.get("/api/v1/appointments", params={"patient_id": pid}, headers=h).status_code == 403
    )


def test_manager_without_patients_read_is_refused(client, headers_for, booked):
    response = _get(client, "/fhir/Appointment", headers_for("manager"), patient=1)
    assert response.status_code == 403


def test_a_doctor_without_a_care_relationship_sees_what_the_scheduling_api_shows(
    client, make_user, login, booked
):
    """Appointments are schedule data (schedule.read, no care relationship), exactly as
    ``GET /api/v1/appointments?patient_id=`` answers that doctor; not a chart read."""
    stranger = new_clinician(client, make_user, login)
    pid = booked["patient_id"]
    api = client.get("/api/v1/appointments", params={"patient_id": pid}, headers=stranger.headers)
    assert api.status_code == 200
    fhir = _get(client, "/fhir/Appointment", stranger.headers, patient=pid)
    assert fhir.status_code == 200
    assert fhir.json()["total"] == api.json()["total"] == 3
    # The chart stays closed to the same doctor.
    assert _get(client, "/fhir/Condition", stranger.headers, patient=pid).status_code == 403


def test_reads_and_searches_are_audited(client, db, headers_for, booked):
    first = booked["appointments"][0]["id"]
    pid = booked["patient_id"]

    def count(action: str) -> int:
        with db.owner_engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM audit_log WHERE patient_id = :p AND "
                        "category = 'scheduling' AND action = :a"
                    ),
                    {"p": pid, "a": action},
                ).scalar_one()
            )

    reads, lists = count("appointment.read"), count("appointment.list")
    h = headers_for("receptionist")
    assert _get(client, f"/fhir/Appointment/{first}", h).status_code == 200
    assert _get(client, "/fhir/Appointment", h, patient=pid).status_code == 200
    assert count("appointment.read") == reads + 1
    assert count("appointment.list") == lists + 1


def test_over_real_http(live_server, headers_for, booked):
    first = booked["appointments"][0]["id"]
    response = httpx.get(
        f"{live_server.url}/fhir/Appointment/{first}",
        headers=headers_for("receptionist"),
        timeout=10,
    )
    assert response.status_code == 200
    Appointment.model_validate(response.json())


def test_capability_statement_lists_appointment(client):
    statement = client.get("/fhir/metadata").json()
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {p["name"] for p in served["Appointment"]["searchParam"]} == {
        "patient",
        "practitioner",
        "actor",
        "date",
        "status",
    }
