"""Waitlist: when a slot is offered, the waiting patient is told through the messaging
outbox, in the same transaction; the list names the patient for reception (not for roles
that may not read demographics)."""

from __future__ import annotations

from sqlalchemy import select

from hms_server.adapters.orm.messaging import Message
from hms_server.adapters.uow import Actor
from hms_server.services.patients import register_patient
from tests.server.scheduling_factories import make_doctor, make_patient, tomorrow_at
from tests.wiring import wired_uow


def test_an_offered_slot_is_sent_to_the_waiting_patient(client, headers_for, db, settings):
    factory = db.owner_session_factory()
    reception = headers_for("receptionist")
    doctor = make_doctor(factory, settings)
    start = tomorrow_at(settings, 16, 45)
    booked = client.post(
        "/api/v1/appointments",
        headers=reception,
        json={
            "patient_id": make_patient(factory, settings),
            "doctor_id": doctor.id,
            "start": start.isoformat(),
        },
    ).json()
    waiting = register_patient(
        wired_uow(factory, Actor.system("tests"), settings=settings),
        mrn_prefix=settings.mrn_prefix,
        given_name="Wanda",
        family_name="Waitinglist",
        sex="female",
        date_of_birth=start.date().replace(year=1970),
        phone="+44 7700 900777",
        email="wanda@example.org",
        confirm_new=True,
    )
    day = start.date().isoformat()
    entry = client.post(
        "/api/v1/waitlist",
        headers=reception,
        json={
            "patient_id": waiting.id,
            "doctor_id": doctor.id,
            "earliest_date": day,
            "latest_date": day,
        },
    ).json()
    cancelled = client.post(
        f"/api/v1/appointments/{booked['id']}/cancel", json={"reason": "ill"}, headers=reception
    )
    assert cancelled.status_code == 200, cancelled.text

    with factory() as session:
        sent = session.scalars(select(Message).where(Message.patient_id == waiting.id)).all()
    assert {m.channel for m in sent} == {"sms", "email"}
    assert {m.template for m in sent} == {"waitlist_offer"}
    message = next(m for m in sent if m.channel == "sms")
    assert message.status == "queued" and message.appointment_id is None
    assert f"{start:%H:%M}" in message.body and "hold it for you until" in message.body
    assert "Wanda" not in message.body and "Waitinglist" not in message.body  # no identity
    assert message.expires_at is not None and message.expires_at <= start

    listed = client.get(
        "/api/v1/waitlist", params={"doctor_id": doctor.id}, headers=reception
    ).json()["items"]
    row = next(e for e in listed if e["id"] == entry["id"])
    assert row["status"] == "offered"
    assert (row["patient_mrn"], row["patient_name"]) == (waiting.mrn, "Waitinglist, Wanda")
    assert row["doctor_name"] and row["offered_doctor_name"] == row["doctor_name"]
    # A manager sees the schedule but not who is on it.
    managed = client.get(
        "/api/v1/waitlist", params={"doctor_id": doctor.id}, headers=headers_for("manager")
    ).json()["items"]
    hidden = next(e for e in managed if e["id"] == entry["id"])
    assert hidden["patient_mrn"] is None and hidden["patient_name"] is None
