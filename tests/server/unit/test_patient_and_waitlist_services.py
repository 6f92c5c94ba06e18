"""Patient demographics and waitlist use cases against in-memory repositories: the rules
(what may change, which transitions are allowed, what is audited) need no database."""

from __future__ import annotations

from datetime import date

import pytest

from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import WaitlistEntry
from hms_server.adapters.repositories.appointments import WaitlistRepository
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.uow import Actor
from hms_server.domain.errors import ValidationFailedError, VersionConflictError
from hms_server.domain.patients import PatientMergedError
from hms_server.domain.scheduling import InvalidTransitionError
from hms_server.services import patients, waitlist
from tests.server.unit.fake_uow import FakeUnitOfWork


class FakePatients:
    def __init__(self, *rows: Patient) -> None:
        self.rows = {p.id: p for p in rows}
        self.refreshed: list[int] = []

    def get(self, patient_id: int, *, lock: bool = False) -> Patient | None:
        return self.rows.get(patient_id)

    def refresh(self, row: Patient) -> None:
        self.refreshed.append(row.id)


class FakeWaitlist:
    def __init__(self, *rows: WaitlistEntry) -> None:
        self.rows = {e.id: e for e in rows}

    def get(self, entry_id: int, *, lock: bool = False) -> WaitlistEntry | None:
        return self.rows.get(entry_id)


def _patient(**overrides: object) -> Patient:
    values: dict[str, object] = dict(
        id=7,
        mrn="HMS0000007X",
        given_name="Ana",
        family_name="Silva",
        date_of_birth=date(1980, 5, 17),
        birth_date_estimated=False,
        sex="female",
        phone=None,
        email=None,
        national_id=None,
        address=None,
        next_of_kin=[],
        preferred_language=None,
        insurance=[],
        merged_into_id=None,
        version=2,
    )
    values.update(overrides)
    return Patient(**values)


def _uow(**repositories: object) -> FakeUnitOfWork:
    kinds = {"patients": PatientRepository, "waitlist": WaitlistRepository}
    return FakeUnitOfWork(
        {kinds[k]: v for k, v in repositories.items()},
        actor=Actor(user_id=3, username="rita", roles=("receptionist",)),
    )


def test_an_edit_changes_only_what_differs_and_audits_field_names_not_values():
    ana = _patient()
    uow = _uow(patients=FakePatients(ana))
    patients.update_patient(
        uow, 7, version=2, changes={"phone": "+44 7700 900123", "family_name": "  Silva "}
    )
    assert ana.phone == "+44 7700 900123" and ana.family_name == "Silva"
    [(category, action, kwargs)] = uow.audited
    assert (category, action, kwargs["detail"]) == (
        "demographics",
        "patient.update",
        {"fields": ["phone"]},
    )
    assert [e for e, _ in uow.published] == ["patient.updated"]


def test_a_merged_away_record_and_a_stale_version_are_refused_untouched():
    merged = _patient(merged_into_id=9)
    with pytest.raises(PatientMergedError):
        patients.update_patient(
            _uow(patients=FakePatients(merged)), 7, version=2, changes={"phone": "+44 7700 900123"}
        )
    current = _patient()
    uow = _uow(patients=FakePatients(current))
    with pytest.raises(VersionConflictError):
        patients.update_patient(uow, 7, version=1, changes={"phone": "+44 7700 900123"})
    assert merged.phone is None and current.phone is None and uow.audited == []


def test_a_required_field_set_to_null_is_named_without_a_request_location():
    with pytest.raises(ValidationFailedError) as caught:
        patients.update_patient(
            _uow(patients=FakePatients(_patient())), 7, version=2, changes={"given_name": None}
        )
    # The API layer adds "body."; the service speaks in the use case's own field names.
    assert caught.value.extra["errors"][0]["field"] == "given_name"


def _entry(status: str) -> WaitlistEntry:
    return WaitlistEntry(
        id=5,
        patient_id=7,
        doctor_id=2,
        department_id=None,
        type_code="new",
        earliest_date=date(2030, 1, 1),
        latest_date=date(2030, 1, 9),
        status=status,
        version=1,
    )


def test_leaving_the_waitlist_cancels_the_entry_once():
    entry = _entry("offered")
    uow = _uow(waitlist=FakeWaitlist(entry))
    waitlist.remove_from_waitlist(uow, 5)
    assert entry.status == "cancelled"
    assert [a[1] for a in uow.audited] == ["waitlist.remove"]
    with pytest.raises(InvalidTransitionError):
        waitlist.remove_from_waitlist(uow, 5)
    assert [a[1] for a in uow.audited] == ["waitlist.remove"]


def test_a_booked_entry_cannot_leave_the_waitlist():
    entry = _entry("booked")
    uow = _uow(waitlist=FakeWaitlist(entry))
    with pytest.raises(InvalidTransitionError):
        waitlist.remove_from_waitlist(uow, 5)
    assert entry.status == "booked" and uow.commits == 0
