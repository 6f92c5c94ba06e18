"""Check-in, tokens, the queue board and the doctor's call → start → complete, which opens
and closes the patient's encounter."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hms_server.adapters.orm.clinical import Encounter
from tests.server.scheduling_factories import PASSWORD, make_doctor, make_patient, tomorrow_at


@pytest.fixture(scope="module")
def factory(db):  # type: ignore[no-untyped-def]
    return db.owner_session_factory()


@pytest.fixture(scope="module")
def reception(make_user, login):  # type: ignore[no-untyped-def]
    # A user of our own: the shared ``headers_for`` sessions can be ended by other tests.
    return login(*make_user("receptionist"))


def _booked(client, headers, factory, settings, doctor, hour, minute=0):  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/appointments",
        headers=headers,
        json={
            "patient_id": make_patient(factory, settings),
            "doctor_id": doctor.id,
            "start": tomorrow_at(settings, hour, minute).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_check_in_gives_increasing_tokens_per_doctor_and_day(client, reception, factory, settings):
    doctor = make_doctor(factory, settings)
    first = _booked(client, reception, factory, settings, doctor, 9)
    second = _booked(client, reception, factory, settings, doctor, 9, 15)
    one = client.post(f"/api/v1/appointments/{first['id']}/check-in", headers=reception)
    two = client.post(f"/api/v1/appointments/{second['id']}/check-in", headers=reception)
    assert one.status_code == two.status_code == 200, one.text
    assert (one.json()["token"], two.json()["token"]) == (1, 2)
    assert one.json()["status"] == "waiting"
    again = client.post(f"/api/v1/appointments/{first['id']}/check-in", headers=reception)
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_status"
    appointment = client.get(f"/api/v1/appointments/{first['id']}", headers=reception).json()
    assert appointment["status"] == "checked_in"
    other = make_doctor(factory, settings)
    third = _booked(client, reception, factory, settings, other, 9)
    assert (
        client.post(f"/api/v1/appointments/{third['id']}/check-in", headers=reception).json()[
            "token"
        ]
        == 1
    )


def test_board_lists_tokens_with_waiting_times_and_summary(client, reception, factory, settings):
    doctor = make_doctor(factory, settings)
    for minute in (0, 15, 30):
        booked = _booked(client, reception, factory, settings, doctor, 10, minute)
        client.post(f"/api/v1/appointments/{booked['id']}/check-in", headers=reception)
    day = tomorrow_at(settings, 10).date().isoformat()
    board = client.get(
        "/api/v1/queue", params={"doctor_id": doctor.id, "date": day}, headers=reception
    )
    assert board.status_code == 200, board.text
    body = board.json()
    assert [e["token"] for e in body["items"]] == [1, 2, 3]
    assert body["summary"]["waiting"] == 3
    assert all(e["waiting_minutes"] >= 0 and e["patient_name"] for e in body["items"])
    by_department = client.get(
        "/api/v1/queue",
        params={"department_id": doctor.department_id, "date": day},
        headers=reception,
    ).json()
    assert by_department["total"] == 3


def test_doctor_calls_starts_and_completes_opening_and_closing_the_encounter(
    client, reception, factory, settings, login
):
    doctor = make_doctor(factory, settings)
    doctor_headers = login(doctor.username, PASSWORD)
    booked = _booked(client, reception, factory, settings, doctor, 11)
    entry = client.post(f"/api/v1/appointments/{booked['id']}/check-in", headers=reception).json()
    called = client.post(f"/api/v1/queue/{entry['id']}/call", headers=doctor_headers)
    assert called.status_code == 200, called.text
    assert called.json()["status"] == "called" and called.json()["called_at"]
    started = client.post(f"/api/v1/queue/{entry['id']}/start", headers=doctor_headers)
    assert started.status_code == 200, started.text
    encounter_id = started.json()["encounter_id"]
    assert encounter_id
    with factory() as session:
        encounter = session.get(Encounter, encounter_id)
        assert encounter is not None
        assert encounter.status == "in_progress"
        assert encounter.patient_id == booked["patient_id"]
        assert encounter.clinician_user_id == doctor.user_id
    appointment = client.get(f"/api/v1/appointments/{booked['id']}", headers=reception).json()
    assert appointment["status"] == "in_consultation"
    assert appointment["encounter_id"] == encounter_id
    done = client.post(f"/api/v1/queue/{entry['id']}/complete", headers=doctor_headers)
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    with factory() as session:
        status = session.scalar(select(Encounter.status).where(Encounter.id == encounter_id))
    assert status == "finished"
    appointment = client.get(f"/api/v1/appointments/{booked['id']}", headers=reception).json()
    assert appointment["status"] == "completed"
    assert (
        client.post(f"/api/v1/queue/{entry['id']}/start", headers=doctor_headers).json()["code"]
        == "invalid_status"
    )


def test_a_doctor_cannot_work_another_doctors_queue(client, reception, factory, settings, login):
    mine = make_doctor(factory, settings)
    theirs = make_doctor(factory, settings)
    booked = _booked(client, reception, factory, settings, theirs, 12)
    entry = client.post(f"/api/v1/appointments/{booked['id']}/check-in", headers=reception).json()
    refused = client.post(
        f"/api/v1/queue/{entry['id']}/call", headers=login(mine.username, PASSWORD)
    )
    assert refused.status_code == 403


def test_cancelling_a_checked_in_appointment_takes_it_off_the_queue(
    client, reception, factory, settings
):
    doctor = make_doctor(factory, settings)
    booked = _booked(client, reception, factory, settings, doctor, 13)
    entry = client.post(f"/api/v1/appointments/{booked['id']}/check-in", headers=reception).json()
    client.post(
        f"/api/v1/appointments/{booked['id']}/cancel", json={"reason": "left"}, headers=reception
    )
    board = client.get(
        "/api/v1/queue",
        params={"doctor_id": doctor.id, "date": entry["queue_date"]},
        headers=reception,
    ).json()
    assert board["items"][0]["status"] == "left"
    assert board["summary"]["left"] == 1


def test_unknown_queue_entry_is_404(client, make_user, login):
    response = client.post("/api/v1/queue/987654321/call", headers=login(*make_user("doctor")))
    assert response.status_code == 404
