"""Scheduling set-up and availability: departments, doctors, weekly templates, exceptions,
bookable slots and "next available" search.

The booking lifecycle (``book_appointment``, ``cancel_appointment``, …) lives in
``services.appointments`` and the consultation queue in ``services.queue``; both depend on
this module, never the reverse.

Templates are local wall-clock times in the hospital's zone (``uow.hospital``); the database
stores UTC.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from hms_server.adapters.orm.base import touch, utcnow
from hms_server.adapters.orm.scheduling import (
    AppointmentType,
    Department,
    Doctor,
    ScheduleException,
    ScheduleTemplate,
)
from hms_server.adapters.repositories.identity import UserRepository
from hms_server.adapters.repositories.scheduling import SchedulingRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.domain.scheduling import (
    BusyIndex,
    FreeSlot,
    SessionTemplate,
    Slot,
    Unavailability,
    daily_slot_times,
    free_slots,
    generate_slots,
    merge_next_available,
)
from hms_server.domain.versioning import check_version

CATEGORY = "scheduling"
MAX_SEARCH_DAYS = 92


# --- departments and doctors --------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentView:
    id: int
    name: str
    location: str | None
    doctor_count: int


@dataclass(frozen=True)
class DoctorView:
    """A doctor with their department, as lists and forms show them."""

    id: int
    user_id: int
    full_name: str
    department: str
    department_id: int
    specialty: str
    active: bool
    version: int
    registration_number: str | None = None


def doctor_view(doctor: Doctor, department: Department) -> DoctorView:
    return DoctorView(
        id=doctor.id,
        user_id=doctor.user_id,
        full_name=doctor.display_name,
        department=department.name,
        department_id=department.id,
        specialty=doctor.specialty,
        active=doctor.active,
        version=doctor.version,
        registration_number=doctor.registration_number,
    )


def list_departments(uow: UnitOfWork) -> list[DepartmentView]:
    """Active departments with their number of active doctors, by name."""
    with uow:
        return [
            DepartmentView(d.id, d.name, d.location, n)
            for d, n in uow.repo(SchedulingRepository).departments_with_doctor_counts()
        ]


def create_department(uow: UnitOfWork, *, name: str, location: str | None = None) -> Department:
    with uow:
        repo = uow.repo(SchedulingRepository)
        if repo.department_named(name):
            raise ConflictError(f"A department named '{name}' already exists.")
        department = repo.add(Department(name=name, location=location, active=True))
        uow.audit(CATEGORY, "department.create", detail={"department_id": department.id})
        uow.publish("department.created", {"department_id": department.id})
        uow.commit()
        return department


def list_doctors(
    uow: UnitOfWork,
    *,
    department_id: int | None = None,
    specialty: str | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
    include_inactive: bool = False,
) -> tuple[list[DoctorView], int]:
    """Doctors with their department, by name; filters combine with AND."""
    with uow:
        rows, total = uow.repo(SchedulingRepository).doctors(
            department_id=department_id,
            specialty=specialty,
            q=q,
            include_inactive=include_inactive,
            limit=limit,
            offset=offset,
        )
        return [doctor_view(d, dep) for d, dep in rows], total


def get_doctor(uow: UnitOfWork, doctor_id: int) -> DoctorView:
    with uow:
        row = uow.repo(SchedulingRepository).doctor_with_department(doctor_id)
        if row is None:
            raise NotFoundError(f"No doctor with id {doctor_id}.")
        return doctor_view(*row)


def doctor_names(uow: UnitOfWork, doctor_ids: set[int]) -> dict[int, str]:
    """Display names by doctor id (for search results)."""
    if not doctor_ids:
        return {}
    with uow:
        return uow.repo(SchedulingRepository).doctor_names(doctor_ids)


def doctor_for_user(uow: UnitOfWork, user_id: int | None) -> Doctor | None:
    """The doctor record of a staff user, if they have one (inside ``with uow``)."""
    if user_id is None:
        return None
    return uow.repo(SchedulingRepository).doctor_of_user(user_id)


def create_doctor(
    uow: UnitOfWork,
    *,
    user_id: int,
    department_id: int,
    specialty: str,
    display_name: str | None = None,
    registration_number: str | None = None,
) -> Doctor:
    """Make a staff user with the doctor role bookable in a department."""
    with uow:
        repo = uow.repo(SchedulingRepository)
        user = uow.repo(UserRepository).get(user_id)
        if user is None or "doctor" not in (user.roles or []):
            raise ValidationFailedError(
                "user_id must be an existing user with the doctor role.",
                extra={
                    "errors": [
                        {"field": "user_id", "message": "not a doctor user", "type": "value_error"}
                    ]
                },
            )
        if repo.department(department_id) is None:
            raise ValidationFailedError(
                f"No department with id {department_id}.",
                extra={
                    "errors": [
                        {
                            "field": "department_id",
                            "message": "unknown department",
                            "type": "value_error",
                        }
                    ]
                },
            )
        if doctor_for_user(uow, user_id) is not None:
            raise ConflictError("This user already has a doctor record.")
        doctor = repo.add(
            Doctor(
                user_id=user_id,
                department_id=department_id,
                specialty=specialty,
                display_name=display_name or user.full_name,
                registration_number=registration_number,
                active=True,
            )
        )
        uow.audit(
            CATEGORY, "doctor.create", detail={"doctor_id": doctor.id, "target_user_id": user_id}
        )
        uow.publish("doctor.created", {"doctor_id": doctor.id})
        uow.commit()
        return doctor


def update_doctor(
    uow: UnitOfWork,
    doctor_id: int,
    *,
    version: int,
    department_id: int | None = None,
    specialty: str | None = None,
    display_name: str | None = None,
    active: bool | None = None,
    registration_number: str | None = None,
) -> Doctor:
    with uow:
        repo = uow.repo(SchedulingRepository)
        doctor = repo.doctor(doctor_id, lock=True)
        if doctor is None:
            raise NotFoundError(f"No doctor with id {doctor_id}.")
        check_version(doctor.version, version, "doctor")
        if department_id is not None and repo.department(department_id) is None:
            raise ValidationFailedError(f"No department with id {department_id}.")
        for field, value in (
            ("department_id", department_id),
            ("specialty", specialty),
            ("display_name", display_name),
            ("active", active),
            ("registration_number", registration_number),
        ):
            if value is not None:
                setattr(doctor, field, value)
        touch(doctor)  # every accepted update moves the version, changed or not
        uow.audit(CATEGORY, "doctor.update", detail={"doctor_id": doctor.id})
        uow.publish("doctor.updated", {"doctor_id": doctor.id})
        uow.commit()
        return doctor


# --- templates and exceptions ---------------------------------------------------------------


def _require_doctor(uow: UnitOfWork, doctor_id: int, *, lock: bool = False) -> Doctor:
    doctor = uow.repo(SchedulingRepository).doctor(doctor_id, lock=lock)
    if doctor is None:
        raise NotFoundError(f"No doctor with id {doctor_id}.")
    return doctor


def list_templates(uow: UnitOfWork, doctor_id: int) -> list[ScheduleTemplate]:
    with uow:
        _require_doctor(uow, doctor_id)
        return uow.repo(SchedulingRepository).templates(doctor_id)


def replace_templates(
    uow: UnitOfWork, doctor_id: int, sessions: list[SessionTemplate]
) -> list[ScheduleTemplate]:
    """Replace a doctor's whole weekly schedule. Existing appointments are kept (staff move
    them if the new schedule no longer covers them)."""
    for s in sessions:
        if s.start >= s.end:
            raise ValidationFailedError("Each session must end after it starts.")
    with uow:
        _require_doctor(uow, doctor_id, lock=True)
        repo = uow.repo(SchedulingRepository)
        for old in repo.templates(doctor_id):
            repo.delete(old)
        rows = [
            ScheduleTemplate(
                doctor_id=doctor_id,
                weekday=s.weekday,
                start_time=s.start,
                end_time=s.end,
                slot_minutes=s.slot_minutes,
                overbook_places=s.overbook_places,
                location=s.location,
                valid_from=s.valid_from if s.valid_from != date.min else date(2000, 1, 1),
                valid_to=s.valid_to,
            )
            for s in sessions
        ]
        repo.add_all(rows)
        uow.audit(
            CATEGORY, "schedule.replace", detail={"doctor_id": doctor_id, "sessions": len(rows)}
        )
        uow.publish("schedule.updated", {"doctor_id": doctor_id})
        uow.commit()
        return rows


def list_exceptions(
    uow: UnitOfWork, doctor_id: int, *, first: date | None = None, last: date | None = None
) -> list[ScheduleException]:
    """A doctor's exceptions, including hospital-wide ones (``doctor_id`` NULL)."""
    with uow:
        _require_doctor(uow, doctor_id)
        return uow.repo(SchedulingRepository).exceptions(doctor_id, first=first, last=last)


def add_exception(
    uow: UnitOfWork,
    *,
    doctor_id: int | None,
    starts_on: date,
    ends_on: date,
    kind: str,
    start_time: time | None = None,
    end_time: time | None = None,
    reason: str | None = None,
) -> ScheduleException:
    """Block time (leave, holiday, cancelled session). Booked appointments in that time stay;
    the answer is what reception then has to move."""
    if starts_on > ends_on:
        raise ValidationFailedError("starts_on must not be after ends_on.")
    if (start_time is None) != (end_time is None) or (
        start_time is not None and end_time is not None and start_time >= end_time
    ):
        raise ValidationFailedError(
            "Give both start_time and end_time (start before end), or neither for whole days."
        )
    with uow:
        if doctor_id is not None:
            _require_doctor(uow, doctor_id)
        row = uow.repo(SchedulingRepository).add(
            ScheduleException(
                doctor_id=doctor_id,
                starts_on=starts_on,
                ends_on=ends_on,
                start_time=start_time,
                end_time=end_time,
                kind=kind,
                reason=reason,
            )
        )
        uow.audit(
            CATEGORY,
            "schedule.exception.add",
            detail={"doctor_id": doctor_id, "exception_id": row.id},
        )
        uow.publish("schedule.updated", {"doctor_id": doctor_id})
        uow.commit()
        return row


def delete_exception(uow: UnitOfWork, exception_id: int) -> None:
    with uow:
        repo = uow.repo(SchedulingRepository)
        row = repo.exception(exception_id)
        if row is None:
            raise NotFoundError(f"No schedule exception with id {exception_id}.")
        repo.delete(row)
        uow.audit(
            CATEGORY,
            "schedule.exception.delete",
            detail={"doctor_id": row.doctor_id, "exception_id": exception_id},
        )
        uow.publish("schedule.updated", {"doctor_id": row.doctor_id})
        uow.commit()


def list_appointment_types(uow: UnitOfWork) -> list[AppointmentType]:
    with uow:
        return uow.repo(SchedulingRepository).appointment_types()


# --- calendars, busy times, slots -------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """One doctor's templates and exceptions as domain values."""

    templates: list[SessionTemplate]
    exceptions: list[Unavailability]


def load_calendars(
    uow: UnitOfWork, doctor_ids: list[int], first: date, last: date
) -> dict[int, Calendar]:
    """Templates and exceptions of several doctors in two queries, as domain values."""
    repo = uow.repo(SchedulingRepository)
    templates: dict[int, list[SessionTemplate]] = defaultdict(list)
    for t in repo.templates_between(doctor_ids, first, last):
        templates[t.doctor_id].append(
            SessionTemplate(
                t.weekday,
                t.start_time,
                t.end_time,
                t.slot_minutes,
                t.overbook_places,
                t.location,
                t.valid_from,
                t.valid_to,
            )
        )
    exceptions: dict[int | None, list[Unavailability]] = defaultdict(list)
    for e in repo.exceptions_between(doctor_ids, first, last):
        exceptions[e.doctor_id].append(
            Unavailability(e.starts_on, e.ends_on, e.start_time, e.end_time)
        )
    return {d: Calendar(templates[d], exceptions[d] + exceptions[None]) for d in doctor_ids}


def doctor_day_slots(uow: UnitOfWork, doctor_id: int, day: date) -> list[Slot]:
    """The slots of one doctor's local day (in the hospital's zone)."""
    calendar = load_calendars(uow, [doctor_id], day, day)[doctor_id]
    return generate_slots(calendar.templates, calendar.exceptions, day, uow.hospital.zone)


@dataclass(frozen=True)
class SlotView:
    """A slot as the slots endpoint shows it. ``available`` is about the regular place;
    ``overbook_available`` counts free overbook places (staff may use them)."""

    start: datetime
    end: datetime
    available: bool
    overbook_available: int
    location: str | None


def list_slots(
    uow: UnitOfWork, *, doctor_id: int, day: date, now: datetime | None = None
) -> list[SlotView]:
    """Every slot of a doctor's day and whether it can still be booked. Past slots are
    listed but not available."""
    now = now or utcnow()
    with uow:
        doctor = _require_doctor(uow, doctor_id)
        if not doctor.active:
            return []
        slots = doctor_day_slots(uow, doctor_id, day)
        if not slots:
            return []
        busy = uow.repo(SchedulingRepository).busy_intervals(
            [doctor_id], slots[0].start, slots[-1].end
        )
        indexes: dict[int, BusyIndex] = {}
        views = []
        for slot in slots:
            future = slot.start >= now
            free_places = 0
            for place in range(1, slot.overbook_places + 1):
                if place not in indexes:
                    indexes[place] = BusyIndex(busy.get((doctor_id, place), []))
                if indexes[place].is_free(slot.start, slot.end):
                    free_places += 1
            if 0 not in indexes:
                indexes[0] = BusyIndex(busy.get((doctor_id, 0), []))
            views.append(
                SlotView(
                    slot.start,
                    slot.end,
                    future and indexes[0].is_free(slot.start, slot.end),
                    free_places if future else 0,
                    slot.location,
                )
            )
        return views


def next_available(
    uow: UnitOfWork,
    *,
    department_id: int | None = None,
    specialty: str | None = None,
    doctor_id: int | None = None,
    after: datetime | None = None,
    limit: int = 10,
    days: int = 28,
    type_code: str | None = None,
    now: datetime | None = None,
) -> list[FreeSlot]:
    """The earliest free regular slots across the doctors of a department, a specialty or
    one doctor, searching ``days`` days from ``after`` (default now). With ``type_code``,
    only starts with room for that appointment type's whole duration. Times in the result
    are in the hospital zone."""
    if department_id is None and specialty is None and doctor_id is None:
        raise ValidationFailedError("Give department_id, specialty or doctor_id.")
    with uow:
        duration = None
        if type_code is not None:
            found = uow.repo(SchedulingRepository).appointment_type(type_code)
            duration = found.duration_minutes if found is not None else None
            if duration is None:
                raise ValidationFailedError(f"Unknown appointment type '{type_code}'.")
        return find_free_slots(
            uow,
            department_id=department_id,
            specialty=specialty,
            doctor_id=doctor_id,
            after=after,
            limit=limit,
            days=days,
            duration_minutes=duration,
            now=now,
        )


def find_free_slots(
    uow: UnitOfWork,
    *,
    department_id: int | None = None,
    specialty: str | None = None,
    doctor_id: int | None = None,
    after: datetime | None = None,
    limit: int = 10,
    days: int = 28,
    duration_minutes: int | None = None,
    now: datetime | None = None,
) -> list[FreeSlot]:
    """``next_available`` inside an open unit of work (used for ``slot_taken`` suggestions)."""
    hospital, repo = uow.hospital, uow.repo(SchedulingRepository)
    now = now or utcnow()
    after = max(after or now, now)
    days = max(1, min(days, MAX_SEARCH_DAYS))
    doctor_ids = repo.active_doctor_ids(
        department_id=department_id, specialty=specialty, doctor_id=doctor_id
    )
    if not doctor_ids:
        return []
    first = hospital.local(after).date()
    last = first + timedelta(days=days - 1)
    calendars = load_calendars(uow, doctor_ids, first, last)
    window_start, _ = hospital.day_bounds(first)
    _, window_end = hospital.day_bounds(last)
    busy = repo.busy_epochs(doctor_ids, window_start, window_end)
    per_doctor = []
    for d in doctor_ids:
        cal = calendars[d]
        if not cal.templates:
            continue
        days_ = daily_slot_times(cal.templates, cal.exceptions, first, last, hospital.zone)
        per_doctor.append(
            free_slots(d, days_, BusyIndex(busy.get(d, [])), after, hospital.zone, duration_minutes)
        )
    return merge_next_available(per_doctor, limit)
