"""Test data for scheduling tests, created through the services: a patient, a doctor with a
department and a weekly schedule. Every call makes new, uniquely named rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from hms_server.adapters.uow import Actor, UnitOfWork
from hms_server.config import Settings
from hms_server.domain.scheduling import SessionTemplate
from hms_server.services import scheduling
from hms_server.services.patients import register_patient
from hms_server.services.users import create_user
from tests.wiring import wired_uow

PASSWORD = "Quiet-Lantern-Harbor-77"


def _uow(factory: sessionmaker[Session]) -> UnitOfWork:
    return wired_uow(factory, Actor.system("tests"))


def _letters(n: int = 8) -> str:
    # Names must look like names (the patients service cleans them): letters only.
    return "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:n]).title()


def make_patient(factory: sessionmaker[Session], settings: Settings) -> int:
    patient = register_patient(
        _uow(factory),
        mrn_prefix=settings.mrn_prefix,
        given_name=_letters(),
        family_name=_letters(),
        sex="female",
        date_of_birth=date(1980, 5, 17),
        confirm_new=True,
    )
    return patient.id


@dataclass
class TestDoctor:
    __test__ = False

    id: int
    user_id: int
    username: str
    department_id: int


def make_department(factory: sessionmaker[Session]) -> int:
    return scheduling.create_department(_uow(factory), name="Dept " + _letters(10)).id


def make_doctor(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    department_id: int | None = None,
    slot_minutes: int = 15,
    overbook_places: int = 0,
    start: time = time(8, 0),
    end: time = time(18, 0),
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6),
    specialty: str = "General Medicine",
) -> TestDoctor:
    username = "doc_" + uuid.uuid4().hex[:10]
    user = create_user(
        _uow(factory),
        settings,
        username=username,
        full_name=f"Dr {_letters()}",
        roles=["doctor"],
        password=PASSWORD,
    ).user
    department_id = department_id or make_department(factory)
    doctor = scheduling.create_doctor(
        _uow(factory), user_id=user.id, department_id=department_id, specialty=specialty
    )
    scheduling.replace_templates(
        _uow(factory),
        doctor.id,
        [
            SessionTemplate(
                weekday=d,
                start=start,
                end=end,
                slot_minutes=slot_minutes,
                overbook_places=overbook_places,
                location="Room 1",
            )
            for d in weekdays
        ],
    )
    return TestDoctor(doctor.id, user.id, username, department_id)


def tomorrow_at(settings: Settings, hour: int, minute: int = 0, days: int = 1) -> datetime:
    tz = ZoneInfo(settings.hospital_timezone)
    day = datetime.now(tz).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=tz)
