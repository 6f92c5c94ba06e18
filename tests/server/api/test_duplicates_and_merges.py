"""Duplicate records through the real API: self-booking runs reception's duplicate check
(a confident match books for the existing record, a possible match registers a new record
flagged for review), reception's duplicates review list, dismissing a flag, and merges that
wait for confirmation and can be undone until then, each with a reason and audited."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from hms_server.adapters.orm.duplicates import PatientMerge
from hms_server.adapters.orm.infra import AuditEntry
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import Appointment
from hms_server.adapters.uow import Actor
from hms_server.services.patients import register_patient
from tests.server.api.test_self_booking import _browser, _free_slot, _open_page, _post
from tests.server.scheduling_factories import make_doctor
from tests.wiring import wired_uow

DOB = date(1968, 7, 21)
REASON = "Same person: booked online as new"


@pytest.fixture(scope="module")
def factory(db):  # type: ignore[no-untyped-def]
    return db.owner_session_factory()


@pytest.fixture(scope="module")
def doctor(factory, settings):  # type: ignore[no-untyped-def]
    return make_doctor(factory, settings, specialty="General Medicine")


def unique_family() -> str:
    return "Dup" + "".join(chr(97 + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])


def existing_patient(
    factory,
    settings,
    family: str,
    given: str = "Zofia",  # type: ignore[no-untyped-def]
    phone: str = "+48 601 555 0142",
):
    return register_patient(
        wired_uow(factory, Actor.system("tests")),
        mrn_prefix=settings.mrn_prefix,
        given_name=given,
        family_name=family,
        sex="female",
        date_of_birth=DOB,
        phone=phone,
        confirm_new=True,
    )


def book_as_new(app, doctor, given: str, family: str, phone: str, days_ahead: int):  # type: ignore[no-untyped-def]
    c = _browser(app)
    token = _open_page(c)
    start = _free_slot(c, doctor.id, days_ahead=days_ahead)
    response = _post(
        c,
        "/book/api/bookings",
        {
            "doctor_id": doctor.id,
            "start": start,
            "type": "new",
            "patient": {
                "kind": "new",
                "given_name": given,
                "family_name": family,
                "date_of_birth": DOB.isoformat(),
                "phone": phone,
            },
        },
        token,
    )
    assert response.status_code == 201, response.text
    return response.json()


def patients_named(factory, family: str) -> list[Patient]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return list(
            session.scalars(
                select(Patient).where(Patient.family_name == family).order_by(Patient.id)
            )
        )


def appointment_patient(factory, reference: str) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.scalars(
            select(Appointment.patient_id).where(Appointment.booking_reference == reference)
        ).one()


def actions_for(factory, patient_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.patient_id == patient_id)
                .order_by(AuditEntry.id)
            )
        )


def test_self_booking_with_the_same_details_books_for_the_existing_record(
    app, doctor, factory, settings
):
    family = unique_family()
    patient = existing_patient(factory, settings, family)
    # Typed a little differently (case, spaces, phone punctuation): still the same person.
    body = book_as_new(app, doctor, "zofia", f"  {family.upper()} ", "+48 601-555-0142", 3)
    assert body["mrn"] is None  # nothing new was registered, and no MRN is disclosed
    assert [p.id for p in patients_named(factory, family)] == [patient.id]
    assert appointment_patient(factory, body["reference"]) == patient.id
    assert "self_booking.matched_existing" in actions_for(factory, patient.id)


def test_a_possible_match_registers_a_new_record_flagged_for_reception(
    app, client, headers_for, doctor, factory, settings
):
    family = unique_family()
    patient = existing_patient(factory, settings, family)
    # Same birth date and name, another phone: possibly the same person, not certainly.
    body = book_as_new(app, doctor, "Zofia", family, "+48 22 111 2233", 4)
    assert body["mrn"]
    records = patients_named(factory, family)
    assert len(records) == 2
    new = next(p for p in records if p.id != patient.id)
    assert appointment_patient(factory, body["reference"]) == new.id

    reception = headers_for("receptionist")
    listed = client.get(
        "/api/v1/patient-duplicates", params={"patient_id": new.id}, headers=reception
    )
    assert listed.status_code == 200, listed.text
    [flag] = listed.json()["items"]
    assert flag["status"] == "open" and flag["source"] == "self_booking"
    assert flag["patient"]["id"] == new.id and flag["candidate"]["id"] == patient.id
    assert flag["reasons"] == ["same_birth_date_similar_name"]
    assert flag["patient"]["mrn"] == body["mrn"] and flag["candidate"]["mrn"] == patient.mrn
    assert "patient.duplicate_flagged" in actions_for(factory, new.id)


def test_a_pending_merge_moves_nothing_until_confirmed_and_can_be_undone(
    app, client, headers_for, doctor, factory, settings
):
    family = unique_family()
    patient = existing_patient(factory, settings, family)
    body = book_as_new(app, doctor, "Zofia", family, "+48 22 999 0000", 5)
    new = next(p for p in patients_named(factory, family) if p.id != patient.id)
    reception = headers_for("receptionist")
    [flag] = client.get(
        "/api/v1/patient-duplicates", params={"patient_id": new.id}, headers=reception
    ).json()["items"]

    # A merge needs a reason.
    no_reason = client.post(
        "/api/v1/patient-merges",
        headers=reception,
        json={
            "survivor_id": patient.id,
            "duplicate_id": new.id,
            "reason": " ",
            "flag_id": flag["id"],
        },
    )
    assert no_reason.status_code == 422

    requested = client.post(
        "/api/v1/patient-merges",
        headers=reception,
        json={
            "survivor_id": patient.id,
            "duplicate_id": new.id,
            "reason": REASON,
            "flag_id": flag["id"],
        },
    )
    assert requested.status_code == 201, requested.text
    merge = requested.json()
    assert merge["status"] == "pending" and merge["reason"] == REASON
    assert merge["survivor"]["id"] == patient.id and merge["duplicate"]["id"] == new.id
    # Pending: nothing moved, and neither record can go on another merge meanwhile.
    assert appointment_patient(factory, body["reference"]) == new.id
    assert (
        client.get(f"/api/v1/patients/{new.id}", headers=reception).json()["merged_into_id"] is None
    )
    again = client.post(
        f"/api/v1/patients/{patient.id}/merge",
        headers=headers_for("admin"),
        json={"merge_from_id": new.id, "reason": REASON},
    )
    assert again.status_code == 409 and again.json()["code"] == "merge_pending"
    pending = client.get("/api/v1/patient-merges", headers=reception).json()["items"]
    assert merge["id"] in [m["id"] for m in pending]

    undone = client.post(
        f"/api/v1/patient-merges/{merge['id']}/undo",
        headers=reception,
        json={"version": merge["version"]},
    )
    assert undone.status_code == 200, undone.text
    assert undone.json()["status"] == "undone"
    assert appointment_patient(factory, body["reference"]) == new.id
    late = client.post(
        f"/api/v1/patient-merges/{merge['id']}/confirm",
        headers=reception,
        json={"version": undone.json()["version"]},
    )
    assert late.status_code == 409  # an undone merge stays undone

    # Decided again, and this time confirmed: the duplicate's booking moves, its MRN
    # resolves to the survivor, the flag is closed as merged.
    second = client.post(
        "/api/v1/patient-merges",
        headers=reception,
        json={
            "survivor_id": patient.id,
            "duplicate_id": new.id,
            "reason": REASON,
            "flag_id": flag["id"],
        },
    ).json()
    stale = client.post(
        f"/api/v1/patient-merges/{second['id']}/confirm",
        headers=reception,
        json={"version": second["version"] + 1},
    )
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    confirmed = client.post(
        f"/api/v1/patient-merges/{second['id']}/confirm",
        headers=reception,
        json={"version": second["version"]},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert appointment_patient(factory, body["reference"]) == patient.id
    assert (
        client.get(f"/api/v1/patients/by-mrn/{new.mrn}", headers=reception).json()["id"]
        == patient.id
    )
    closed = client.get(
        "/api/v1/patient-duplicates",
        params={"patient_id": patient.id, "status": "merged"},
        headers=reception,
    ).json()["items"]
    assert flag["id"] in [f["id"] for f in closed]
    undo_after = client.post(
        f"/api/v1/patient-merges/{second['id']}/undo",
        headers=reception,
        json={"version": confirmed.json()["version"]},
    )
    assert undo_after.status_code == 409  # confirmed is final
    for pid in (patient.id, new.id):
        assert {"patient.merge_requested", "patient.merge_undone"} <= set(actions_for(factory, pid))
    assert "patient.merge" in actions_for(factory, patient.id)
    assert "patient.merged_away" in actions_for(factory, new.id)
    with factory() as session:
        reasons = set(
            session.scalars(select(PatientMerge.reason).where(PatientMerge.duplicate_id == new.id))
        )
        assert reasons == {REASON}


def test_dismissing_a_flag_says_why_and_checks_the_version(
    app, client, headers_for, doctor, factory, settings
):
    family = unique_family()
    existing_patient(factory, settings, family)
    book_as_new(app, doctor, "Zofia", family, "+48 22 333 4444", 6)
    new = patients_named(factory, family)[-1]
    reception = headers_for("receptionist")
    [flag] = client.get(
        "/api/v1/patient-duplicates", params={"patient_id": new.id}, headers=reception
    ).json()["items"]
    url = f"/api/v1/patient-duplicates/{flag['id']}/dismiss"
    assert (
        client.post(
            url,
            headers=reception,
            json={"version": flag["version"] + 1, "note": "Sisters, not one person"},
        ).json()["code"]
        == "version_conflict"
    )
    dismissed = client.post(
        url, headers=reception, json={"version": flag["version"], "note": "Sisters, not one person"}
    )
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["status"] == "dismissed"
    assert dismissed.json()["resolution_note"] == "Sisters, not one person"
    still_open = client.get(
        "/api/v1/patient-duplicates", params={"patient_id": new.id}, headers=reception
    ).json()["items"]
    assert still_open == []


def test_an_api_merge_records_its_reason_in_the_journal(client, headers_for, factory, settings):
    family = unique_family()
    a = existing_patient(factory, settings, family)
    b = existing_patient(factory, settings, family, phone="+48 22 000 1111")
    merged = client.post(
        f"/api/v1/patients/{a.id}/merge",
        headers=headers_for("receptionist"),
        json={"merge_from_id": b.id, "reason": "Registered twice at the desk"},
    )
    assert merged.status_code == 200, merged.text
    with factory() as session:
        journal = session.scalars(
            select(PatientMerge).where(PatientMerge.duplicate_id == b.id)
        ).one()
        assert (journal.status, journal.reason) == ("confirmed", "Registered twice at the desk")
        assert journal.requested_by_user_id is not None
        count = session.scalar(
            select(func.count()).select_from(PatientMerge).where(PatientMerge.survivor_id == a.id)
        )
        assert count == 1


def test_doctors_cannot_see_the_duplicates_list_or_merge(client, headers_for):
    doctor = headers_for("doctor")
    assert client.get("/api/v1/patient-duplicates", headers=doctor).status_code == 403
    assert (
        client.post(
            "/api/v1/patient-merges",
            headers=doctor,
            json={"survivor_id": 1, "duplicate_id": 2, "reason": REASON},
        ).status_code
        == 403
    )
