"""Scheduling set-up and availability: departments, doctors, weekly templates, exceptions,
appointment types, and the busy times that availability is computed from."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select, text

from hms_server.adapters.orm.scheduling import (
    INACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentType,
    Department,
    Doctor,
    ScheduleException,
    ScheduleTemplate,
)
from hms_server.adapters.repositories import Repository

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


def _like_pattern(q: str) -> str:
    return "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class SchedulingRepository(Repository):
    # --- departments and doctors ----------------------------------------------------------
    def departments_with_doctor_counts(self) -> list[tuple[Department, int]]:
        counts = (
            select(Doctor.department_id, func.count().label("n"))
            .where(Doctor.active)
            .group_by(Doctor.department_id)
            .subquery()
        )
        rows = self.session.execute(
            select(Department, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.department_id == Department.id)
            .where(Department.active)
            .order_by(Department.name)
        )
        return [(d, int(n)) for d, n in rows]

    def department(self, department_id: int) -> Department | None:
        return self.session.get(Department, department_id)

    def department_named(self, name: str) -> int | None:
        return self.session.scalar(
            select(Department.id).where(func.lower(Department.name) == name.lower())
        )

    @staticmethod
    def _doctor_query() -> Any:
        return select(Doctor, Department).join(Department, Department.id == Doctor.department_id)

    def doctors(
        self,
        *,
        department_id: int | None,
        specialty: str | None,
        q: str | None,
        include_inactive: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[tuple[Doctor, Department]], int]:
        query = self._doctor_query()
        if not include_inactive:
            query = query.where(Doctor.active)
        if department_id is not None:
            query = query.where(Doctor.department_id == department_id)
        if specialty:
            query = query.where(func.lower(Doctor.specialty) == specialty.lower())
        if q:
            pattern = _like_pattern(q)
            query = query.where(
                or_(
                    func.lower(Doctor.display_name).like(pattern),
                    func.lower(Doctor.specialty).like(pattern),
                    func.lower(Department.name).like(pattern),
                )
            )
        total = self.count(query)
        rows = self.session.execute(
            query.order_by(Doctor.display_name, Doctor.id).limit(limit).offset(offset)
        )
        return [(d, dep) for d, dep in rows], total

    def doctor_with_department(self, doctor_id: int) -> tuple[Doctor, Department] | None:
        row = self.session.execute(self._doctor_query().where(Doctor.id == doctor_id)).first()
        return (row[0], row[1]) if row is not None else None

    def doctor(self, doctor_id: int, *, lock: bool = False) -> Doctor | None:
        return self.session.get(Doctor, doctor_id, with_for_update=lock)

    def doctor_of_user(self, user_id: int) -> Doctor | None:
        return self.session.scalar(select(Doctor).where(Doctor.user_id == user_id))

    def doctor_names(self, doctor_ids: set[int]) -> dict[int, str]:
        rows = self.session.execute(
            select(Doctor.id, Doctor.display_name).where(Doctor.id.in_(doctor_ids))
        )
        return {doctor_id: name for doctor_id, name in rows}

    def active_doctor_ids(
        self, *, department_id: int | None, specialty: str | None, doctor_id: int | None
    ) -> list[int]:
        query = select(Doctor.id).where(Doctor.active)
        if department_id is not None:
            query = query.where(Doctor.department_id == department_id)
        if specialty:
            query = query.where(func.lower(Doctor.specialty) == specialty.lower())
        if doctor_id is not None:
            query = query.where(Doctor.id == doctor_id)
        return list(self.session.scalars(query.order_by(Doctor.id)))

    def bookable_doctors(self) -> list[tuple[Department, Doctor]]:
        """Active doctors of active departments, by department and name (self-booking)."""
        rows = self.session.execute(
            select(Department, Doctor)
            .join(Doctor, Doctor.department_id == Department.id)
            .where(Department.active, Doctor.active)
            .order_by(Department.name, Doctor.display_name, Doctor.id)
        ).all()
        return [(dep, doc) for dep, doc in rows]

    def department_of_doctor(self, doctor_id: int) -> int | None:
        return self.session.scalar(select(Doctor.department_id).where(Doctor.id == doctor_id))

    # --- templates, exceptions, types ---------------------------------------------------------
    def templates(self, doctor_id: int) -> list[ScheduleTemplate]:
        return list(
            self.session.scalars(
                select(ScheduleTemplate)
                .where(ScheduleTemplate.doctor_id == doctor_id)
                .order_by(ScheduleTemplate.weekday, ScheduleTemplate.start_time)
            )
        )

    def exceptions(
        self, doctor_id: int, *, first: date | None, last: date | None
    ) -> list[ScheduleException]:
        """A doctor's exceptions, including hospital-wide ones (``doctor_id`` NULL)."""
        query = select(ScheduleException).where(
            or_(ScheduleException.doctor_id == doctor_id, ScheduleException.doctor_id.is_(None))
        )
        if first:
            query = query.where(ScheduleException.ends_on >= first)
        if last:
            query = query.where(ScheduleException.starts_on <= last)
        return list(self.session.scalars(query.order_by(ScheduleException.starts_on)))

    def exception(self, exception_id: int) -> ScheduleException | None:
        return self.session.get(ScheduleException, exception_id)

    def appointment_types(self) -> list[AppointmentType]:
        return list(
            self.session.scalars(select(AppointmentType).order_by(AppointmentType.duration_minutes))
        )

    def appointment_type(self, code: str) -> AppointmentType | None:
        return self.session.get(AppointmentType, code)

    def templates_between(
        self, doctor_ids: list[int], first: date, last: date
    ) -> list[ScheduleTemplate]:
        return list(
            self.session.scalars(
                select(ScheduleTemplate).where(
                    ScheduleTemplate.doctor_id.in_(doctor_ids),
                    ScheduleTemplate.valid_from <= last,
                    or_(ScheduleTemplate.valid_to.is_(None), ScheduleTemplate.valid_to >= first),
                )
            )
        )

    def exceptions_between(
        self, doctor_ids: list[int], first: date, last: date
    ) -> list[ScheduleException]:
        return list(
            self.session.scalars(
                select(ScheduleException).where(
                    or_(
                        ScheduleException.doctor_id.in_(doctor_ids),
                        ScheduleException.doctor_id.is_(None),
                    ),
                    ScheduleException.starts_on <= last,
                    ScheduleException.ends_on >= first,
                )
            )
        )

    # --- busy time ------------------------------------------------------------------------------
    def busy_intervals(
        self,
        doctor_ids: list[int],
        start: datetime,
        end: datetime,
    ) -> dict[tuple[int, int], list[tuple[datetime, datetime]]]:
        """Active appointment intervals keyed by (doctor_id, overbook_slot)."""
        out: dict[tuple[int, int], list[tuple[datetime, datetime]]] = defaultdict(list)
        rows = self.session.execute(
            select(
                Appointment.doctor_id,
                Appointment.overbook_slot,
                Appointment.starts_at,
                Appointment.ends_at,
            ).where(
                Appointment.doctor_id.in_(doctor_ids),
                Appointment.starts_at < end,
                Appointment.ends_at > start,
                Appointment.status.not_in(INACTIVE_APPOINTMENT_STATUSES),
            )
        )
        for doctor_id, place, s, e in rows:
            out[(doctor_id, place)].append((s, e))
        return out

    def busy_epochs(
        self,
        doctor_ids: list[int],
        start: datetime,
        end: datetime,
    ) -> dict[int, list[tuple[int, int]]]:
        """Regular-place busy time per doctor in epoch seconds, back-to-back appointments
        merged by PostgreSQL (``range_agg``): a fully booked day comes back as one interval,
        so the month-wide search moves a few hundred rows instead of thousands."""
        out: dict[int, list[tuple[int, int]]] = defaultdict(list)
        rows = self.session.execute(
            _BUSY_EPOCHS_SQL,
            {
                "doctors": doctor_ids,
                "start": start,
                "end": end,
                "inactive": list(INACTIVE_APPOINTMENT_STATUSES),
            },
        )
        for doctor_id, s, e in rows:
            out[doctor_id].append((s, e))
        return out
