"""Roster read side: the week grid of a ward or department, who is on duty now, and the
places shifts can be worked (wards and departments, read from their own areas' tables)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from hms_server.adapters.orm.scheduling import Department
from hms_server.adapters.orm.staff import StaffMember, StaffShift
from hms_server.adapters.orm.wards import Ward


@dataclass(frozen=True)
class ShiftView:
    """A shift as the roster shows it (``ShiftRead``)."""

    id: int
    staff_id: int
    staff_name: str
    job_title: str
    ward_id: int | None
    department_id: int | None
    unit_name: str
    starts_at: datetime
    ends_at: datetime
    kind: str
    note: str | None


@dataclass(frozen=True)
class UnitView:
    kind: str
    id: int
    name: str


class RosterQueries:
    """Not thread-safe; one per unit of work (``uow.repo(RosterQueries)``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def shifts(
        self,
        *,
        start: datetime,
        end: datetime,
        ward_id: int | None = None,
        department_id: int | None = None,
        staff_id: int | None = None,
        shift_ids: list[int] | None = None,
    ) -> list[ShiftView]:
        """Shifts overlapping ``[start, end)``, by start then name."""
        unit = func.coalesce(Ward.name, Department.name)
        query = (
            select(StaffShift, StaffMember.full_name, StaffMember.job_title, unit)
            .join(StaffMember, StaffMember.id == StaffShift.staff_id)
            .outerjoin(Ward, Ward.id == StaffShift.ward_id)
            .outerjoin(Department, Department.id == StaffShift.department_id)
            .where(StaffShift.starts_at < end, StaffShift.ends_at > start)
        )
        if ward_id is not None:
            query = query.where(StaffShift.ward_id == ward_id)
        if department_id is not None:
            query = query.where(StaffShift.department_id == department_id)
        if staff_id is not None:
            query = query.where(StaffShift.staff_id == staff_id)
        if shift_ids is not None:
            query = query.where(StaffShift.id.in_(shift_ids))
        query = query.order_by(StaffShift.starts_at, func.lower(StaffMember.full_name))
        return [
            ShiftView(
                id=shift.id,
                staff_id=shift.staff_id,
                staff_name=name,
                job_title=title,
                ward_id=shift.ward_id,
                department_id=shift.department_id,
                unit_name=unit_name or "",
                starts_at=shift.starts_at,
                ends_at=shift.ends_at,
                kind=shift.kind,
                note=shift.note,
            )
            for shift, name, title, unit_name in self.session.execute(query)
        ]

    def units(self) -> list[UnitView]:
        """Active wards, then active departments, each by name."""
        wards = select(literal("ward").label("kind"), Ward.id, Ward.name).where(Ward.active)
        departments = select(
            literal("department").label("kind"), Department.id, Department.name
        ).where(Department.active)
        rows = self.session.execute(union_all(wards, departments))
        units = [UnitView(kind=row[0], id=row[1], name=row[2]) for row in rows]
        return sorted(units, key=lambda u: (u.kind != "ward", u.name.lower()))
