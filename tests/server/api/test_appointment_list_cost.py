"""The appointment list's cost does not grow with its rows (the doctor's list was the one read
over its goal in the 200-user morning; see ``bench/doctor_list.py``), and the leaner query
keeps what each reader sees and what the audit trail records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from hms_server.adapters.orm.infra import AuditEntry
from hms_server.adapters.uow import Actor
from hms_server.bootstrap import wired_uow
from hms_server.services.appointments import book_appointment
from tests.server.scheduling_factories import make_doctor, make_patient, tomorrow_at

BOOKED = 50


@pytest.fixture(scope="module")
def factory(db):  # type: ignore[no-untyped-def]
    return db.owner_session_factory()


@pytest.fixture(scope="module")
def day_of_fifty(factory, settings):  # type: ignore[no-untyped-def]
    """A doctor with 50 appointments tomorrow and the day after, each with another patient."""
    doctor = make_doctor(factory, settings)
    patients = []
    for i in range(BOOKED):
        patient = make_patient(factory, settings)
        start = tomorrow_at(settings, 8 + (i % 40) // 4, 15 * (i % 4), days=1 + i // 40)
        book_appointment(
            wired_uow(factory, Actor.system("tests")),
            patient_id=patient,
            doctor_id=doctor.id,
            start=start,
            reason=f"reason {i}",
        )
        patients.append(patient)
    first = tomorrow_at(settings, 8).date()
    window = {
        "doctor_id": doctor.id,
        "date": first.isoformat(),
        "date_to": (first + timedelta(days=1)).isoformat(),
    }
    return doctor, patients, window


@pytest.fixture(scope="module")
def reception(make_user, login):  # type: ignore[no-untyped-def]
    return login(*make_user("receptionist"))


def _statements_of(client, call):  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = client.app.state.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    return response.json(), statements


def test_listing_fifty_appointments_takes_as_many_statements_as_listing_one(
    client, reception, day_of_fifty
):
    _doctor, _patients, window = day_of_fifty

    def listing(limit: int):  # type: ignore[no-untyped-def]
        return lambda: client.get(
            "/api/v1/appointments", params={**window, "limit": limit}, headers=reception
        )

    one, for_one = _statements_of(client, listing(1))
    fifty, for_fifty = _statements_of(client, listing(BOOKED))
    assert len(one["items"]) == 1 and one["total"] == BOOKED
    assert len(fifty["items"]) == BOOKED and fifty["total"] == BOOKED
    # No per-row doctor or patient look-ups: the same statements whatever the page size.
    assert len(for_fifty) == len(for_one), for_fifty
    # The list shows a patient's name and MRN; it never reads their documents (address, next
    # of kin, insurance: JSONB decoded per row, the cost this list used to pay).
    reads = " ".join(s for s in for_fifty if s.lstrip().upper().startswith("SELECT"))
    for column in ("patients.address", "patients.next_of_kin", "patients.insurance"):
        assert column not in reads


def test_the_list_shows_names_and_reasons_and_audits_every_patient_shown(
    client, reception, day_of_fifty, factory
):
    doctor, patients, window = day_of_fifty
    body = client.get("/api/v1/appointments", params=window, headers=reception).json()
    items = body["items"]
    assert [i["patient_id"] for i in items] == patients  # in start order
    assert all(i["doctor_id"] == doctor.id and i["doctor_name"] for i in items)
    assert all(i["patient_name"] and i["patient_mrn"] for i in items)
    assert items[7]["reason"] == "reason 7"
    starts = [i["start"] for i in items]
    assert starts == sorted(starts)
    with factory() as session:
        entry = session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == "appointment.list",
                AuditEntry.detail.contains({"patient_ids": [patients[0]]}),
            )
            .order_by(AuditEntry.id.desc())
            .limit(1)
        ).one()
    assert entry.detail["count"] == BOOKED
    assert entry.detail["patient_ids"] == sorted(patients)


def test_a_manager_lists_without_patient_names_or_reasons(client, make_user, login, day_of_fifty):
    _doctor, patients, window = day_of_fifty
    manager = login(*make_user("manager"))
    body = client.get("/api/v1/appointments", params=window, headers=manager).json()
    assert [i["patient_id"] for i in body["items"]] == patients
    for item in body["items"]:
        assert item["patient_name"] is None and item["patient_mrn"] is None
        assert item["reason"] is None and item["notes"] is None and item["cancel_reason"] is None
        assert item["doctor_name"]


def test_descending_order_and_department_filter_keep_their_meaning(client, reception, day_of_fifty):
    doctor, patients, window = day_of_fifty
    newest_first = client.get(
        "/api/v1/appointments", params={**window, "sort": "-start"}, headers=reception
    ).json()
    assert [i["patient_id"] for i in newest_first["items"]] == patients[::-1]
    by_department = client.get(
        "/api/v1/appointments",
        params={
            "department_id": doctor.department_id,
            "date": window["date"],
            "date_to": window["date_to"],
            "limit": 10,
        },
        headers=reception,
    ).json()
    assert by_department["total"] == BOOKED  # the department has this one doctor
    assert [i["patient_id"] for i in by_department["items"]] == patients[:10]
