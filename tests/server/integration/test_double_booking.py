"""The database itself refuses double bookings; under concurrency exactly one booking of a
slot succeeds and every other attempt is a clean ``slot_taken``."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import text

from hms_server.adapters.db import make_engine
from hms_server.adapters.uow import Actor
from hms_server.domain.errors import DomainError
from hms_server.services.appointments import book_appointment
from tests.server.scheduling_factories import make_doctor, make_patient, tomorrow_at
from tests.wiring import wired_uow

THREADS = 24


@pytest.fixture(scope="module")
def engine(db):  # type: ignore[no-untyped-def]
    engine = make_engine(db.owner_url, pool_size=THREADS)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def factory(engine):  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def _race(factory, settings, attempts):  # type: ignore[no-untyped-def]
    """Run each attempt (kwargs for book_appointment) in its own thread, all at once."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(kwargs):  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            book_appointment(wired_uow(factory, Actor.system("race"), settings=settings), **kwargs)
            outcome = "ok"
        except DomainError as exc:
            outcome = exc.code
        except Exception as exc:
            outcome = f"crash:{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return Counter(outcomes)


def test_many_concurrent_bookings_of_one_slot_give_exactly_one_success(factory, settings):
    doctor = make_doctor(factory, settings)
    start = tomorrow_at(settings, 9)
    attempts = [
        {"patient_id": make_patient(factory, settings), "doctor_id": doctor.id, "start": start}
        for _ in range(THREADS)
    ]
    outcomes = _race(factory, settings, attempts)
    assert outcomes == Counter({"ok": 1, "slot_taken": THREADS - 1})


def test_one_patient_racing_for_overlapping_slots_with_different_doctors_gets_one(
    factory, settings
):
    patient = make_patient(factory, settings)
    start = tomorrow_at(settings, 10)
    attempts = [
        {"patient_id": patient, "doctor_id": make_doctor(factory, settings).id, "start": start}
        for _ in range(8)
    ]
    outcomes = _race(factory, settings, attempts)
    assert outcomes == Counter({"ok": 1, "patient_busy": 7})


def test_overbook_places_are_each_exclusive_under_concurrency(factory, settings):
    doctor = make_doctor(factory, settings, overbook_places=2)
    start = tomorrow_at(settings, 11)
    attempts = [
        {
            "patient_id": make_patient(factory, settings),
            "doctor_id": doctor.id,
            "start": start,
            "overbook": True,
        }
        for _ in range(10)
    ]
    outcomes = _race(factory, settings, attempts)
    assert outcomes["ok"] == 2
    assert set(outcomes) <= {"ok", "overbook_full", "slot_taken"}
    assert sum(outcomes.values()) == 10


def _insert(conn, doctor_id, patient_id, start, end, *, place=0, status="booked"):  # type: ignore[no-untyped-def]
    conn.execute(
        "INSERT INTO appointments (patient_id, doctor_id, starts_at, ends_at, overbook_slot, "
        "status, type_code, source, booking_reference, version) VALUES "
        "(%s, %s, %s, %s, %s, %s, 'new', 'staff', substr(md5(random()::text), 1, 9), 1)",
        (patient_id, doctor_id, start, end, place, status),
    )


def test_the_constraint_refuses_overlaps_even_without_the_service(db, factory, settings):
    doctor = make_doctor(factory, settings)
    p1, p2, p3 = (make_patient(factory, settings) for _ in range(3))
    start = tomorrow_at(settings, 12)
    end = start + timedelta(minutes=15)
    with psycopg.connect(db.owner_url.replace("+psycopg", "")) as conn:
        _insert(conn, doctor.id, p1, start, end)
        with pytest.raises(psycopg.errors.ExclusionViolation) as doctor_clash, conn.transaction():
            _insert(conn, doctor.id, p2, start + timedelta(minutes=5), end)
        assert doctor_clash.value.diag.constraint_name == "ex_appointments_doctor_slot"
        other = make_doctor(factory, settings)
        with pytest.raises(psycopg.errors.ExclusionViolation) as patient_clash, conn.transaction():
            _insert(conn, other.id, p1, start, end)
        assert patient_clash.value.diag.constraint_name == "ex_appointments_patient_overlap"
        # An overbook place, back-to-back times and cancelled rows do not conflict.
        _insert(conn, doctor.id, p2, start, end, place=1)
        _insert(conn, doctor.id, p3, end, end + timedelta(minutes=15))
        _insert(conn, doctor.id, p3, start, end, status="cancelled")
        conn.rollback()


def test_rescheduling_onto_an_overlapping_own_time_is_allowed(db, factory, settings):
    doctor = make_doctor(factory, settings, slot_minutes=15)
    patient = make_patient(factory, settings)
    appointment = book_appointment(
        wired_uow(factory, Actor.system("t"), settings=settings),
        patient_id=patient,
        doctor_id=doctor.id,
        start=tomorrow_at(settings, 14),
        type_code="procedure",
    )
    from hms_server.services.appointments import reschedule_appointment

    moved = reschedule_appointment(
        wired_uow(factory, Actor.system("t"), settings=settings),
        appointment.id,
        start=tomorrow_at(settings, 14, 15),
        version=1,
    )
    assert moved.starts_at == tomorrow_at(settings, 14, 15)
    with factory() as session:
        count = session.execute(
            text("SELECT count(*) FROM appointments WHERE doctor_id = :d"), {"d": doctor.id}
        ).scalar()
    assert count == 1
