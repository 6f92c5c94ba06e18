"""Booking lifecycle through the HTTP API: slots, book, refuse, reschedule, cancel, no-show,
idempotency, waitlist offers, and the read endpoints of the contract."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from hms_server.adapters.orm.infra import AuditEntry
from hms_server.domain.events import AppointmentChanged
from tests.server.scheduling_factories import make_doctor, make_patient, tomorrow_at


@pytest.fixture(scope="module")
def factory(db):  # type: ignore[no-untyped-def]
    return db.owner_session_factory()


@pytest.fixture
def doctor(factory, settings):  # type: ignore[no-untyped-def]
    return make_doctor(factory, settings, overbook_places=1)


@pytest.fixture
def patient(factory, settings):  # type: ignore[no-untyped-def]
    return make_patient(factory, settings)


@pytest.fixture(scope="module")
def reception(make_user, login):  # type: ignore[no-untyped-def]
    # A user of our own: the shared ``headers_for`` sessions can be ended by other tests.
    return login(*make_user("receptionist"))


def _book(client, headers, **body):  # type: ignore[no-untyped-def]
    for key in ("start", "end"):
        if isinstance(body.get(key), datetime):
            body[key] = body[key].isoformat()
    return client.post("/api/v1/appointments", json=body, headers=headers)


def test_doctors_and_departments_lists_follow_the_contract(client, reception, doctor):
    doctors = client.get(
        "/api/v1/doctors", params={"department_id": doctor.department_id}, headers=reception
    )
    assert doctors.status_code == 200
    body = doctors.json()
    assert body["total"] == 1
    item = body["items"][0]
    assert {"id", "full_name", "department", "specialty"} <= item.keys()
    assert item["id"] == doctor.id
    departments = client.get("/api/v1/departments", headers=reception).json()
    assert doctor.department_id in {d["id"] for d in departments["items"]}
    assert departments["total"] == len(departments["items"])


def test_slots_list_the_day_with_offsets_and_availability(client, reception, doctor, patient):
    start = tomorrow_at(client.app.state.settings, 9)
    assert (
        _book(client, reception, patient_id=patient, doctor_id=doctor.id, start=start).status_code
        == 201
    )
    response = client.get(
        "/api/v1/slots",
        params={"doctor_id": doctor.id, "date": start.date().isoformat()},
        headers=reception,
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 40  # 08:00-18:00 in 15-minute slots
    by_start = {datetime.fromisoformat(i["start"]): i for i in items}
    assert all(datetime.fromisoformat(i["start"]).utcoffset() is not None for i in items)
    assert by_start[start]["available"] is False
    assert by_start[start]["overbook_available"] == 1
    assert by_start[start + timedelta(minutes=15)]["available"] is True


def test_booking_returns_201_and_the_same_slot_again_is_slot_taken(
    client, reception, doctor, factory, settings
):
    start = tomorrow_at(settings, 10)
    first = _book(
        client,
        reception,
        patient_id=make_patient(factory, settings),
        doctor_id=doctor.id,
        start=start,
        reason="cough",
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "booked" and body["version"] == 1 and body["id"] >= 1
    assert datetime.fromisoformat(body["end"]) - datetime.fromisoformat(body["start"]) == timedelta(
        minutes=15
    )
    second = _book(
        client,
        reception,
        patient_id=make_patient(factory, settings),
        doctor_id=doctor.id,
        start=start,
    )
    assert second.status_code == 409
    problem = second.json()
    assert problem["code"] == "slot_taken"
    assert second.headers["content-type"].startswith("application/problem+json")
    suggestions = problem["suggestions"]
    assert suggestions and all(datetime.fromisoformat(s["start"]) > start for s in suggestions)


def test_a_patient_cannot_hold_two_overlapping_appointments(
    client, reception, factory, settings, patient
):
    one = make_doctor(factory, settings)
    other = make_doctor(factory, settings)
    start = tomorrow_at(settings, 11)
    assert (
        _book(client, reception, patient_id=patient, doctor_id=one.id, start=start).status_code
        == 201
    )
    clash = _book(client, reception, patient_id=patient, doctor_id=other.id, start=start)
    assert clash.status_code == 409
    assert clash.json()["code"] == "patient_busy"


def test_procedure_type_occupies_two_slots(client, reception, doctor, patient, settings):
    start = tomorrow_at(settings, 13)
    response = _book(
        client, reception, patient_id=patient, doctor_id=doctor.id, start=start, type="procedure"
    )
    assert response.status_code == 201
    assert datetime.fromisoformat(response.json()["end"]) == start + timedelta(minutes=30)


@pytest.mark.parametrize(
    "case,expected_status,code",
    [
        ("past", 422, "in_past"),
        ("outside", 422, "outside_schedule"),
        ("misaligned", 422, "outside_schedule"),
        ("no_doctor", 422, "validation_error"),
        ("no_patient", 422, "validation_error"),
        ("bad_type", 422, "validation_error"),
    ],
)
def test_bad_bookings_get_clear_problems(
    client, reception, doctor, patient, settings, case, expected_status, code
):
    body = {"patient_id": patient, "doctor_id": doctor.id, "start": tomorrow_at(settings, 9, 30)}
    if case == "past":
        body["start"] = tomorrow_at(settings, 9, days=-2)
    elif case == "outside":
        body["start"] = tomorrow_at(settings, 20)
    elif case == "misaligned":
        body["start"] = tomorrow_at(settings, 9, 7)
    elif case == "no_doctor":
        body["doctor_id"] = 2**40
    elif case == "no_patient":
        body["patient_id"] = 2**40
    elif case == "bad_type":
        body["type"] = "massage"
    response = _book(client, reception, **body)
    assert response.status_code == expected_status, response.text
    assert response.json()["code"] == code


def test_missing_fields_are_listed(client, reception):
    response = client.post("/api/v1/appointments", json={"start": "soon"}, headers=reception)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"body.patient_id", "body.doctor_id", "body.start"} <= fields


def test_same_idempotency_key_twice_books_once(client, reception, doctor, patient, settings):
    key = str(uuid.uuid4())
    body = {
        "patient_id": patient,
        "doctor_id": doctor.id,
        "start": tomorrow_at(settings, 14).isoformat(),
    }
    headers = {**reception, "Idempotency-Key": key}
    first = client.post("/api/v1/appointments", json=body, headers=headers)
    again = client.post("/api/v1/appointments", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    listed = client.get(
        "/api/v1/appointments", params={"patient_id": patient}, headers=reception
    ).json()
    assert listed["total"] == 1


def test_overbook_uses_an_extra_place_once(client, reception, doctor, factory, settings):
    start = tomorrow_at(settings, 15)
    for overbook in (False, True):
        response = _book(
            client,
            reception,
            patient_id=make_patient(factory, settings),
            doctor_id=doctor.id,
            start=start,
            overbook=overbook,
        )
        assert response.status_code == 201
    full = _book(
        client,
        reception,
        patient_id=make_patient(factory, settings),
        doctor_id=doctor.id,
        start=start,
        overbook=True,
    )
    assert full.status_code == 409
    assert full.json()["code"] == "overbook_full"


def test_reschedule_moves_and_checks_version(client, reception, doctor, patient, settings):
    booked = _book(
        client, reception, patient_id=patient, doctor_id=doctor.id, start=tomorrow_at(settings, 16)
    ).json()
    new_start = tomorrow_at(settings, 16, 30)
    moved = client.post(
        f"/api/v1/appointments/{booked['id']}/reschedule",
        json={"start": new_start.isoformat(), "version": booked["version"]},
        headers=reception,
    )
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["start"]) == new_start
    assert moved.json()["version"] == booked["version"] + 1
    stale = client.post(
        f"/api/v1/appointments/{booked['id']}/reschedule",
        json={"start": tomorrow_at(settings, 17).isoformat(), "version": booked["version"]},
        headers=reception,
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"


def test_cancel_frees_the_slot_and_records_the_reason(client, reception, doctor, factory, settings):
    start = tomorrow_at(settings, 12)
    booked = _book(
        client,
        reception,
        patient_id=make_patient(factory, settings),
        doctor_id=doctor.id,
        start=start,
    ).json()
    no_reason = client.post(
        f"/api/v1/appointments/{booked['id']}/cancel", json={}, headers=reception
    )
    assert no_reason.status_code == 422
    cancelled = client.post(
        f"/api/v1/appointments/{booked['id']}/cancel",
        json={"reason": "patient travelling"},
        headers=reception,
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "patient travelling"
    again = _book(
        client,
        reception,
        patient_id=make_patient(factory, settings),
        doctor_id=doctor.id,
        start=start,
    )
    assert again.status_code == 201
    twice = client.post(
        f"/api/v1/appointments/{booked['id']}/cancel", json={"reason": "again"}, headers=reception
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "invalid_status"


def test_no_show_frees_the_slot(client, reception, doctor, factory, settings):
    start = tomorrow_at(settings, 8, 15)
    booked = _book(
        client,
        reception,
        patient_id=make_patient(factory, settings),
        doctor_id=doctor.id,
        start=start,
    ).json()
    marked = client.post(f"/api/v1/appointments/{booked['id']}/no-show", headers=reception)
    assert marked.status_code == 200
    assert marked.json()["status"] == "no_show"
    assert (
        _book(
            client,
            reception,
            patient_id=make_patient(factory, settings),
            doctor_id=doctor.id,
            start=start,
        ).status_code
        == 201
    )


def test_get_and_list_appointments(client, reception, doctor, patient, settings, factory):
    start = tomorrow_at(settings, 9, 45)
    booked = _book(client, reception, patient_id=patient, doctor_id=doctor.id, start=start).json()
    one = client.get(f"/api/v1/appointments/{booked['id']}", headers=reception)
    assert one.status_code == 200
    assert one.json()["patient_name"] and one.json()["booking_reference"]
    with factory() as session:
        audited = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "appointment.read", AuditEntry.patient_id == patient
            )
        ).all()
    assert audited
    listed = client.get(
        "/api/v1/appointments",
        params={"date": start.date().isoformat(), "doctor_id": doctor.id, "status": "booked"},
        headers=reception,
    ).json()
    assert booked["id"] in {a["id"] for a in listed["items"]}
    assert client.get("/api/v1/appointments/999999999", headers=reception).status_code == 404


def test_manager_reads_without_patient_names_and_cannot_book(
    client, make_user, login, doctor, patient, settings, reception
):
    booked = _book(
        client,
        reception,
        patient_id=patient,
        doctor_id=doctor.id,
        start=tomorrow_at(settings, 10, 30),
    ).json()
    manager = login(*make_user("manager"))
    seen = client.get(f"/api/v1/appointments/{booked['id']}", headers=manager).json()
    assert seen["patient_name"] is None
    refused = _book(
        client,
        manager,
        patient_id=patient,
        doctor_id=doctor.id,
        start=tomorrow_at(settings, 11, 30),
    )
    assert refused.status_code == 403


def test_next_available_across_a_department(client, reception, factory, settings):
    first = make_doctor(
        factory,
        settings,
        start=tomorrow_at(settings, 9).time(),
        end=tomorrow_at(settings, 10).time(),
    )
    make_doctor(factory, settings, department_id=first.department_id)
    response = client.get(
        "/api/v1/slots/next-available",
        params={
            "department_id": first.department_id,
            "limit": 5,
            "from": tomorrow_at(settings, 9).isoformat(),
        },
        headers=reception,
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 5
    starts = [datetime.fromisoformat(i["start"]) for i in items]
    assert starts == sorted(starts)
    assert starts[0] == tomorrow_at(settings, 9)
    by_specialty = client.get(
        "/api/v1/slots/next-available",
        params={"specialty": "general medicine", "limit": 3},
        headers=reception,
    )
    assert by_specialty.status_code == 200
    neither = client.get("/api/v1/slots/next-available", headers=reception)
    assert neither.status_code == 422
    from_a_date = client.get(
        "/api/v1/slots/next-available",
        headers=reception,
        params={
            "department_id": first.department_id,
            "from": tomorrow_at(settings, 9).date().isoformat(),
            "limit": 1,
        },
    )
    assert from_a_date.status_code == 200
    assert datetime.fromisoformat(from_a_date.json()["items"][0]["start"]) == tomorrow_at(
        settings, 8
    )  # the second doctor starts at 08:00
    utc_z = client.post(
        "/api/v1/appointments",
        headers=reception,
        json={
            "patient_id": make_patient(factory, settings),
            "doctor_id": first.id,
            "start": tomorrow_at(settings, 9).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
    assert utc_z.status_code == 201, utc_z.text


def test_cancellation_offers_the_slot_to_the_waitlist(client, reception, doctor, factory, settings):
    start = tomorrow_at(settings, 17, 30)
    booked = _book(
        client,
        reception,
        patient_id=make_patient(factory, settings),
        doctor_id=doctor.id,
        start=start,
    ).json()
    waiting_patient = make_patient(factory, settings)
    day = start.date().isoformat()
    entry = client.post(
        "/api/v1/waitlist",
        json={
            "patient_id": waiting_patient,
            "doctor_id": doctor.id,
            "earliest_date": day,
            "latest_date": day,
        },
        headers=reception,
    )
    assert entry.status_code == 201, entry.text
    assert entry.json()["status"] == "waiting"
    client.post(
        f"/api/v1/appointments/{booked['id']}/cancel", json={"reason": "ill"}, headers=reception
    )
    listed = client.get(
        "/api/v1/waitlist", params={"doctor_id": doctor.id}, headers=reception
    ).json()
    offered = next(e for e in listed["items"] if e["id"] == entry.json()["id"])
    assert offered["status"] == "offered"
    assert datetime.fromisoformat(offered["offered_start"]) == start
    accepted = client.post(f"/api/v1/waitlist/{offered['id']}/accept", headers=reception)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["patient_id"] == waiting_patient


def test_appointment_events_are_handled_inside_the_booking_transaction(
    client, reception, doctor, patient, settings
):
    seen: list[tuple[str, int]] = []

    def handler(uow, event):  # type: ignore[no-untyped-def]
        assert uow.session is not None
        seen.append((event.change, event.appointment_id))

    events = client.app.state.runtime.events
    events.subscribe(AppointmentChanged, handler)
    try:
        booked = _book(
            client,
            reception,
            patient_id=patient,
            doctor_id=doctor.id,
            start=tomorrow_at(settings, 8, 45),
        ).json()
        client.post(
            f"/api/v1/appointments/{booked['id']}/cancel", json={"reason": "x"}, headers=reception
        )
    finally:
        events.unsubscribe(AppointmentChanged, handler)
    assert seen == [("booked", booked["id"]), ("cancelled", booked["id"])]


def test_managers_see_schedules_and_counts_but_not_reasons(
    client, reception, factory, settings, headers_for
):
    """Issue 8: a manager read any patient's appointment reasons with
    GET /appointments?patient_id=; reasons are for those who book or treat."""
    doctor = make_doctor(factory, settings)
    patient = make_patient(factory, settings)
    booked = client.post(
        "/api/v1/appointments",
        headers=reception,
        json={
            "patient_id": patient,
            "doctor_id": doctor.id,
            "reason": "Suspected relapse",
            "notes": "Prefers a female nurse",
            "start": tomorrow_at(settings, 11).isoformat(),
        },
    )
    assert booked.status_code == 201, booked.text
    waiting = client.post(
        "/api/v1/waitlist",
        headers=reception,
        json={
            "patient_id": patient,
            "doctor_id": doctor.id,
            "reason": "Earlier if possible",
            "earliest_date": tomorrow_at(settings, 9).date().isoformat(),
            "latest_date": tomorrow_at(settings, 9, days=5).date().isoformat(),
        },
    )
    assert waiting.status_code == 201, waiting.text
    for role, sees in (
        ("manager", False),
        ("admin", False),
        ("receptionist", True),
        ("doctor", True),
    ):
        listed = client.get(
            "/api/v1/appointments", params={"patient_id": patient}, headers=headers_for(role)
        )
        assert listed.status_code == 200 and listed.json()["total"] == 1, role
        item = listed.json()["items"][0]
        assert item["start"] and item["status"] == "booked"  # the schedule is visible
        assert (item["reason"], item["notes"]) == (
            ("Suspected relapse", "Prefers a female nurse") if sees else (None, None)
        ), role
        one = client.get(
            f"/api/v1/appointments/{booked.json()['id']}", headers=headers_for(role)
        ).json()
        assert (one["reason"] is not None) is sees, role
        queue = client.get(
            "/api/v1/waitlist", params={"patient_id": patient}, headers=headers_for(role)
        ).json()["items"]
        assert (queue[0]["reason"] is not None) is sees, role
