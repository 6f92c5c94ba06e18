"""Reception's API wrappers against the real server and PostgreSQL (root conftest fixtures):
register a patient, find them, book a slot of a doctor created for the test, check in."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta

import pyotp
import pytest

from hms_contract.common import Page
from hms_contract.patients import PatientRead
from hms_contract.scheduling import (
    DepartmentCreate,
    DepartmentRead,
    DoctorCreate,
    DoctorRead,
    SessionTemplateIn,
    SessionTemplateRead,
    WeeklySchedule,
)
from hms_desktop.api.client import ApiClient
from hms_desktop.api.errors import ApiProblem
from hms_desktop.api.patients import PatientsApi, PossibleDuplicatesError
from hms_desktop.api.scheduling import SchedulingApi, SlotTakenError
from hms_desktop.api.users import UsersApi


def _client(url: str, made: tuple) -> ApiClient:
    username, password, *secret = made
    api = ApiClient(url, workstation="RECEPTION-LIVE-TEST")
    api.login(username, password, pyotp.TOTP(secret[0]).now() if secret else None)
    return api


@pytest.fixture
def reception(live_server, make_user):
    api = _client(live_server.url, make_user("receptionist"))
    yield api
    api.close()


@pytest.fixture
def doctor_id(live_server, make_user):
    """A doctor with sessions every day 08:00-16:00, made through the API by an admin.

    Any error answer (a missing route included) fails the test: a skip would hide it."""
    admin = _client(live_server.url, make_user("admin"))
    try:
        doctor_name = make_user("doctor")[0]
        user = UsersApi(admin).list_users(doctor_name).items[0]
        department = admin.post(
            "/departments",
            DepartmentCreate(name=f"Dept {uuid.uuid4().hex[:8]}"),
            DepartmentRead,
            creates=True,
        )
        doctor = admin.post(
            "/doctors",
            DoctorCreate(
                user_id=user.id, department_id=department.id, specialty="General practice"
            ),
            DoctorRead,
            creates=True,
        )
        sessions = [
            SessionTemplateIn(weekday=d, start_time=time(8), end_time=time(16), slot_minutes=20)
            for d in range(7)
        ]
        admin.put(
            f"/doctors/{doctor.id}/schedule",
            WeeklySchedule(sessions=sessions),
            Page[SessionTemplateRead],
        )
        return doctor.id
    finally:
        admin.close()


def _unique(prefix: str) -> str:
    """Letters only: a fragment with digits would be read as an MRN or ID, not a name."""
    return prefix + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10])


def _register(patients: PatientsApi, family: str, given: str = "Rosa") -> PatientRead:
    return patients.register(
        {
            "given_name": given,
            "family_name": family,
            "date_of_birth": "1979-04-02",
            "sex": "female",
            "phone": "+44 20 7946 0101",
        }
    )


def test_register_duplicate_prompt_and_search_as_a_receptionist(reception):
    patients = PatientsApi(reception)
    family = _unique("Livetest")
    created = _register(patients, family)
    assert created.mrn and created.version == 1

    with pytest.raises(PossibleDuplicatesError) as duplicate:
        _register(patients, family)
    assert any(c.id == created.id for c in duplicate.value.candidates)
    again = patients.register(
        {
            "given_name": "Rosa",
            "family_name": family,
            "date_of_birth": "1979-04-02",
            "sex": "female",
        },
        confirm_new=True,
    )
    assert again.id != created.id

    found = patients.search(family)
    assert {p.id for p in found.items} == {created.id, again.id}
    assert found.total == 2

    changed = patients.update(created.id, version=1, changes={"phone": "+44 20 7946 0202"})
    assert changed.version == 2
    with pytest.raises(ApiProblem) as stale:
        patients.update(created.id, version=1, changes={"phone": "+44 20 7946 0303"})
    assert (stale.value.status, stale.value.code) == (409, "version_conflict")


def test_book_a_slot_as_a_receptionist(reception, doctor_id):
    patients, scheduling = PatientsApi(reception), SchedulingApi(reception)
    family = _unique("Livebook")
    created = _register(patients, family)
    assert any(d.id == doctor_id for d in scheduling.doctors())
    day = date.today() + timedelta(days=1)
    free = [s for s in scheduling.slots(doctor_id, day) if s.available]
    assert free, "the doctor has free slots tomorrow"
    appointment = scheduling.book(patient_id=created.id, doctor_id=doctor_id, start=free[0].start)
    assert appointment.status == "booked"

    other = _register(patients, family + "x", "Tom")
    with pytest.raises(SlotTakenError) as taken:
        scheduling.book(patient_id=other.id, doctor_id=doctor_id, start=free[0].start)
    assert taken.value.suggestions and taken.value.suggestions[0].start != free[0].start

    listed = scheduling.all_appointments(day=day, doctor_id=doctor_id)
    assert [a.id for a in listed] == [appointment.id]
    assert listed[0].patient_mrn == created.mrn
