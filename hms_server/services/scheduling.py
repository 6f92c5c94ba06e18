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

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.orm import Session

from hms_server.adapters.orm.base import touch, utcnow
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.scheduling import (
    INACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentType,
    Department,
    Doctor,
    ScheduleException,
    ScheduleTemplate,
)
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

def list_departments(uow: UnitOfWork) -> list[tuple[Department, int]]:
    """Active departments with their number of active doctors, by name."""
    with uow:
        counts = (select(Doctor.department_id, func.count().label("n"))
                  .where(Doctor.active).group_by(Doctor.department_id).subquery())
        rows = uow.session.execute(
            select(Department, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.department_id == Department.id)
            .where(Department.active).order_by(Department.name))
        return [(d, int(n)) for d, n in rows]


def create_department(uow: UnitOfWork, *, name: str, location: str | None = None) -> Department:
    with uow:
        if uow.session.scalar(select(Department.id).where(
                func.lower(Department.name) == name.lower())):
            raise ConflictError(f"A department named '{name}' already exists.")
        department = Department(name=name, location=location, active=True)
        uow.session.add(department)
        uow.session.flush()
        uow.audit(CATEGORY, "department.create", detail={"department_id": department.id})
        uow.publish("department.created", {"department_id": department.id})
        uow.commit()
        return department


def _doctor_query() -> Select[tuple[Doctor, Department]]:
    return select(Doctor, Department).join(Department, Department.id == Doctor.department_id)


def list_doctors(uow: UnitOfWork, *, department_id: int | None = None,
                 specialty: str | None = None, q: str | None = None, limit: int = 100,
                 offset: int = 0, include_inactive: bool = False,
                 ) -> tuple[list[tuple[Doctor, Department]], int]:
    """Doctors with their department, by name; filters combine with AND."""
    with uow:
        query = _doctor_query()
        if not include_inactive:
            query = query.where(Doctor.active)
        if department_id is not None:
            query = query.where(Doctor.department_id == department_id)
        if specialty:
            query = query.where(func.lower(Doctor.specialty) == specialty.lower())
        if q:
            pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%") \
                .replace("_", "\\_") + "%"
            query = query.where(or_(func.lower(Doctor.display_name).like(pattern),
                                    func.lower(Doctor.specialty).like(pattern),
                                    func.lower(Department.name).like(pattern)))
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.execute(query.order_by(Doctor.display_name, Doctor.id)
                                   .limit(limit).offset(offset))
        return [(d, dep) for d, dep in rows], total


def get_doctor(uow: UnitOfWork, doctor_id: int) -> tuple[Doctor, Department]:
    with uow:
        row = uow.session.execute(_doctor_query().where(Doctor.id == doctor_id)).first()
        if row is None:
            raise NotFoundError(f"No doctor with id {doctor_id}.")
        return row[0], row[1]


def doctor_names(uow: UnitOfWork, doctor_ids: set[int]) -> dict[int, str]:
    """Display names by doctor id (for search results)."""
    if not doctor_ids:
        return {}
    with uow:
        rows = uow.session.execute(select(Doctor.id, Doctor.display_name)
                                   .where(Doctor.id.in_(doctor_ids)))
        return {doctor_id: name for doctor_id, name in rows}


def doctor_for_user(session: Session, user_id: int | None) -> Doctor | None:
    """The doctor record of a staff user, if they have one."""
    if user_id is None:
        return None
    return session.scalar(select(Doctor).where(Doctor.user_id == user_id))


def create_doctor(uow: UnitOfWork, *, user_id: int, department_id: int, specialty: str,
                  display_name: str | None = None) -> Doctor:
    """Make a staff user with the doctor role bookable in a department."""
    with uow:
        user = uow.session.get(User, user_id)
        if user is None or "doctor" not in (user.roles or []):
            raise ValidationFailedError("user_id must be an existing user with the doctor role.",
                                        extra={"errors": [{"field": "user_id",
                                                           "message": "not a doctor user",
                                                           "type": "value_error"}]})
        if uow.session.get(Department, department_id) is None:
            raise ValidationFailedError(f"No department with id {department_id}.",
                                        extra={"errors": [{"field": "department_id",
                                                           "message": "unknown department",
                                                           "type": "value_error"}]})
        if doctor_for_user(uow.session, user_id) is not None:
            raise ConflictError("This user already has a doctor record.")
        doctor = Doctor(user_id=user_id, department_id=department_id, specialty=specialty,
                        display_name=display_name or user.full_name, active=True, version=1)
        uow.session.add(doctor)
        uow.session.flush()
        uow.audit(CATEGORY, "doctor.create", detail={"doctor_id": doctor.id,
                                                      "target_user_id": user_id})
        uow.publish("doctor.created", {"doctor_id": doctor.id})
        uow.commit()
        return doctor


def update_doctor(uow: UnitOfWork, doctor_id: int, *, version: int,
                  department_id: int | None = None, specialty: str | None = None,
                  display_name: str | None = None, active: bool | None = None) -> Doctor:
    with uow:
        doctor = uow.session.get(Doctor, doctor_id, with_for_update=True)
        if doctor is None:
            raise NotFoundError(f"No doctor with id {doctor_id}.")
        check_version(doctor.version, version, "doctor")
        if department_id is not None and uow.session.get(Department, department_id) is None:
            raise ValidationFailedError(f"No department with id {department_id}.")
        for field, value in (("department_id", department_id), ("specialty", specialty),
                             ("display_name", display_name), ("active", active)):
            if value is not None:
                setattr(doctor, field, value)
        touch(doctor)  # every accepted update moves the version, changed or not
        uow.audit(CATEGORY, "doctor.update", detail={"doctor_id": doctor.id})
        uow.publish("doctor.updated", {"doctor_id": doctor.id})
        uow.commit()
        return doctor


# --- templates and exceptions ---------------------------------------------------------------

def _require_doctor(session: Session, doctor_id: int, *, lock: bool = False) -> Doctor:
    doctor = session.get(Doctor, doctor_id, with_for_update=lock)
    if doctor is None:
        raise NotFoundError(f"No doctor with id {doctor_id}.")
    return doctor


def list_templates(uow: UnitOfWork, doctor_id: int) -> list[ScheduleTemplate]:
    with uow:
        _require_doctor(uow.session, doctor_id)
        return list(uow.session.scalars(
            select(ScheduleTemplate).where(ScheduleTemplate.doctor_id == doctor_id)
            .order_by(ScheduleTemplate.weekday, ScheduleTemplate.start_time)))


def replace_templates(uow: UnitOfWork, doctor_id: int,
                      sessions: list[SessionTemplate]) -> list[ScheduleTemplate]:
    """Replace a doctor's whole weekly schedule. Existing appointments are kept (staff move
    them if the new schedule no longer covers them)."""
    for s in sessions:
        if s.start >= s.end:
            raise ValidationFailedError("Each session must end after it starts.")
    with uow:
        _require_doctor(uow.session, doctor_id, lock=True)
        for old in uow.session.scalars(select(ScheduleTemplate)
                                       .where(ScheduleTemplate.doctor_id == doctor_id)):
            uow.session.delete(old)
        rows = [ScheduleTemplate(
            doctor_id=doctor_id, weekday=s.weekday, start_time=s.start, end_time=s.end,
            slot_minutes=s.slot_minutes, overbook_places=s.overbook_places,
            location=s.location,
            valid_from=s.valid_from if s.valid_from != date.min else date(2000, 1, 1),
            valid_to=s.valid_to) for s in sessions]
        uow.session.add_all(rows)
        uow.session.flush()
        uow.audit(CATEGORY, "schedule.replace", detail={"doctor_id": doctor_id,
                                                         "sessions": len(rows)})
        uow.publish("schedule.updated", {"doctor_id": doctor_id})
        uow.commit()
        return rows


def list_exceptions(uow: UnitOfWork, doctor_id: int, *, first: date | None = None,
                    last: date | None = None) -> list[ScheduleException]:
    """A doctor's exceptions, including hospital-wide ones (``doctor_id`` NULL)."""
    with uow:
        _require_doctor(uow.session, doctor_id)
        query = select(ScheduleException).where(or_(ScheduleException.doctor_id == doctor_id,
                                                    ScheduleException.doctor_id.is_(None)))
        if first:
            query = query.where(ScheduleException.ends_on >= first)
        if last:
            query = query.where(ScheduleException.starts_on <= last)
        return list(uow.session.scalars(query.order_by(ScheduleException.starts_on)))


def add_exception(uow: UnitOfWork, *, doctor_id: int | None, starts_on: date, ends_on: date,
                  kind: str, start_time: time | None = None, end_time: time | None = None,
                  reason: str | None = None) -> ScheduleException:
    """Block time (leave, holiday, cancelled session). Booked appointments in that time stay;
    the answer is what reception then has to move."""
    if starts_on > ends_on:
        raise ValidationFailedError("starts_on must not be after ends_on.")
    if (start_time is None) != (end_time is None) or (
            start_time is not None and end_time is not None and start_time >= end_time):
        raise ValidationFailedError("Give both start_time and end_time (start before end), "
                                    "or neither for whole days.")
    with uow:
        if doctor_id is not None:
            _require_doctor(uow.session, doctor_id)
        row = ScheduleException(doctor_id=doctor_id, starts_on=starts_on, ends_on=ends_on,
                                start_time=start_time, end_time=end_time, kind=kind,
                                reason=reason)
        uow.session.add(row)
        uow.session.flush()
        uow.audit(CATEGORY, "schedule.exception.add",
                  detail={"doctor_id": doctor_id, "exception_id": row.id})
        uow.publish("schedule.updated", {"doctor_id": doctor_id})
        uow.commit()
        return row


def delete_exception(uow: UnitOfWork, exception_id: int) -> None:
    with uow:
        row = uow.session.get(ScheduleException, exception_id)
        if row is None:
            raise NotFoundError(f"No schedule exception with id {exception_id}.")
        uow.session.delete(row)
        uow.audit(CATEGORY, "schedule.exception.delete",
                  detail={"doctor_id": row.doctor_id, "exception_id": exception_id})
        uow.publish("schedule.updated", {"doctor_id": row.doctor_id})
        uow.commit()


def list_appointment_types(uow: UnitOfWork) -> list[AppointmentType]:
    with uow:
        return list(uow.session.scalars(select(AppointmentType)
                                        .order_by(AppointmentType.duration_minutes)))


# --- calendars, busy times, slots -------------------------------------------------------------

@dataclass(frozen=True)
class Calendar:
    """One doctor's templates and exceptions as domain values."""

    templates: list[SessionTemplate]
    exceptions: list[Unavailability]


def load_calendars(session: Session, doctor_ids: list[int], first: date,
                   last: date) -> dict[int, Calendar]:
    """Templates and exceptions of several doctors in two queries."""
    templates: dict[int, list[SessionTemplate]] = defaultdict(list)
    for t in session.scalars(select(ScheduleTemplate).where(
            ScheduleTemplate.doctor_id.in_(doctor_ids),
            ScheduleTemplate.valid_from <= last,
            or_(ScheduleTemplate.valid_to.is_(None), ScheduleTemplate.valid_to >= first))):
        templates[t.doctor_id].append(SessionTemplate(
            t.weekday, t.start_time, t.end_time, t.slot_minutes, t.overbook_places,
            t.location, t.valid_from, t.valid_to))
    exceptions: dict[int | None, list[Unavailability]] = defaultdict(list)
    for e in session.scalars(select(ScheduleException).where(
            or_(ScheduleException.doctor_id.in_(doctor_ids),
                ScheduleException.doctor_id.is_(None)),
            ScheduleException.starts_on <= last, ScheduleException.ends_on >= first)):
        exceptions[e.doctor_id].append(Unavailability(e.starts_on, e.ends_on, e.start_time,
                                                      e.end_time))
    return {d: Calendar(templates[d], exceptions[d] + exceptions[None]) for d in doctor_ids}


def busy_intervals(session: Session, doctor_ids: list[int], start: datetime, end: datetime,
                   ) -> dict[tuple[int, int], list[tuple[datetime, datetime]]]:
    """Active appointment intervals keyed by (doctor_id, overbook_slot)."""
    out: dict[tuple[int, int], list[tuple[datetime, datetime]]] = defaultdict(list)
    rows = session.execute(
        select(Appointment.doctor_id, Appointment.overbook_slot, Appointment.starts_at,
               Appointment.ends_at)
        .where(Appointment.doctor_id.in_(doctor_ids), Appointment.starts_at < end,
               Appointment.ends_at > start,
               Appointment.status.not_in(INACTIVE_APPOINTMENT_STATUSES)))
    for doctor_id, place, s, e in rows:
        out[(doctor_id, place)].append((s, e))
    return out


_BUSY_EPOCHS_SQL = text("""
    SELECT doctor_id,
           extract(epoch FROM lower(busy))::bigint,
           ceil(extract(epoch FROM upper(busy)))::bigint
    FROM (SELECT doctor_id, unnest(range_agg(tstzrange(starts_at, ends_at, '[)'))) AS busy
          FROM appointments
          WHERE doctor_id = ANY(:doctors) AND starts_at < :end AND ends_at > :start
            AND overbook_slot = 0
            AND status <> ALL(:inactive)
          GROUP BY doctor_id) AS merged
""")


def busy_epochs(session: Session, doctor_ids: list[int], start: datetime, end: datetime,
                ) -> dict[int, list[tuple[int, int]]]:
    """Regular-place busy time per doctor in epoch seconds, back-to-back appointments merged
    by PostgreSQL (``range_agg``): a fully booked day comes back as one interval, so the
    month-wide search moves a few hundred rows instead of thousands."""
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    rows = session.execute(_BUSY_EPOCHS_SQL, {
        "doctors": doctor_ids, "start": start, "end": end,
        "inactive": list(INACTIVE_APPOINTMENT_STATUSES)})
    for doctor_id, s, e in rows:
        out[doctor_id].append((s, e))
    return out


def doctor_day_slots(uow: UnitOfWork, doctor_id: int, day: date) -> list[Slot]:
    """The slots of one doctor's local day (in the hospital's zone)."""
    calendar = load_calendars(uow.session, [doctor_id], day, day)[doctor_id]
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


def list_slots(uow: UnitOfWork, *, doctor_id: int, day: date,
               now: datetime | None = None) -> list[SlotView]:
    """Every slot of a doctor's day and whether it can still be booked. Past slots are
    listed but not available."""
    now = now or utcnow()
    with uow:
        doctor = _require_doctor(uow.session, doctor_id)
        if not doctor.active:
            return []
        slots = doctor_day_slots(uow, doctor_id, day)
        if not slots:
            return []
        busy = busy_intervals(uow.session, [doctor_id], slots[0].start, slots[-1].end)
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
            views.append(SlotView(
                slot.start, slot.end, future and indexes[0].is_free(slot.start, slot.end),
                free_places if future else 0, slot.location))
        return views


def next_available(uow: UnitOfWork, *, department_id: int | None = None,
                   specialty: str | None = None, doctor_id: int | None = None,
                   after: datetime | None = None, limit: int = 10, days: int = 28,
                   type_code: str | None = None, now: datetime | None = None,
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
            duration = uow.session.scalar(select(AppointmentType.duration_minutes)
                                          .where(AppointmentType.code == type_code))
            if duration is None:
                raise ValidationFailedError(f"Unknown appointment type '{type_code}'.")
        return find_free_slots(uow, department_id=department_id,
                               specialty=specialty, doctor_id=doctor_id, after=after,
                               limit=limit, days=days, duration_minutes=duration, now=now)


def find_free_slots(uow: UnitOfWork, *, department_id: int | None = None,
                    specialty: str | None = None, doctor_id: int | None = None,
                    after: datetime | None = None, limit: int = 10, days: int = 28,
                    duration_minutes: int | None = None, now: datetime | None = None,
                    ) -> list[FreeSlot]:
    """``next_available`` inside an open unit of work (used for ``slot_taken`` suggestions)."""
    session, hospital = uow.session, uow.hospital
    now = now or utcnow()
    after = max(after or now, now)
    days = max(1, min(days, MAX_SEARCH_DAYS))
    query = select(Doctor.id).where(Doctor.active)
    if department_id is not None:
        query = query.where(Doctor.department_id == department_id)
    if specialty:
        query = query.where(func.lower(Doctor.specialty) == specialty.lower())
    if doctor_id is not None:
        query = query.where(Doctor.id == doctor_id)
    doctor_ids = list(session.scalars(query.order_by(Doctor.id)))
    if not doctor_ids:
        return []
    first = hospital.local(after).date()
    last = first + timedelta(days=days - 1)
    calendars = load_calendars(session, doctor_ids, first, last)
    window_start, _ = hospital.day_bounds(first)
    _, window_end = hospital.day_bounds(last)
    busy = busy_epochs(session, doctor_ids, window_start, window_end)
    per_doctor = []
    for d in doctor_ids:
        cal = calendars[d]
        if not cal.templates:
            continue
        days_ = daily_slot_times(cal.templates, cal.exceptions, first, last, hospital.zone)
        per_doctor.append(free_slots(d, days_, BusyIndex(busy.get(d, [])), after, hospital.zone,
                                     duration_minutes))
    return merge_next_available(per_doctor, limit)
