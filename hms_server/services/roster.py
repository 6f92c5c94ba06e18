"""Duty roster and leave.

A person never holds two overlapping shifts: PostgreSQL refuses it
(``ex_staff_shifts_no_overlap``), also when two requests race; the pre-check here answers the
common case with the clashing shifts listed. Approved leave and shifts exclude each other: a
shift is refused on a day of approved leave, and leave is not approved while shifts are
rostered in it (409 ``leave_clash`` listing them, so HR can move them first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.staff import LeaveRequest, StaffShift
from hms_server.adapters.queries.staff import RosterQueries, ShiftView, UnitView
from hms_server.adapters.repositories.staff import StaffRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.staff import (
    LeaveClashError,
    LeaveNotFoundError,
    LeaveNotPendingError,
    LeaveOverlapError,
    OwnLeaveDecisionError,
    ShiftDuringLeaveError,
    ShiftNotFoundError,
    ShiftOverlapError,
    invalid,
)
from hms_server.domain.versioning import check_version
from hms_server.services.staff import CATEGORY, actor_id, own_member, require_member

MAX_RANGE_DAYS = 42
MAX_SHIFT = timedelta(hours=24)


@dataclass(frozen=True)
class LeaveView:
    id: int
    staff_id: int
    staff_name: str
    kind: str
    starts_on: date
    ends_on: date
    days: int
    reason: str | None
    status: str
    decided_at: datetime | None
    decision_note: str | None
    created_at: datetime
    version: int


def _clash(shift: ShiftView) -> dict[str, Any]:
    return {
        "id": shift.id,
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
        "kind": shift.kind,
        "unit_name": shift.unit_name,
    }


def _range(uow: UnitOfWork, start: date, days: int) -> tuple[datetime, datetime]:
    if not 1 <= days <= MAX_RANGE_DAYS:
        raise invalid("days", f"between 1 and {MAX_RANGE_DAYS}")
    first, _ = uow.hospital.day_bounds(start)
    last, _ = uow.hospital.day_bounds(start + timedelta(days=days))
    return first, last


# --- shifts ---------------------------------------------------------------------------------


def list_units(uow: UnitOfWork) -> list[UnitView]:
    with uow:
        return uow.repo(RosterQueries).units()


def roster(
    uow: UnitOfWork,
    *,
    start: date,
    days: int,
    ward_id: int | None,
    department_id: int | None,
    staff_id: int | None,
) -> list[ShiftView]:
    """Shifts overlapping ``days`` hospital days from ``start`` (a week view is 7)."""
    with uow:
        first, last = _range(uow, start, days)
        return uow.repo(RosterQueries).shifts(
            start=first,
            end=last,
            ward_id=ward_id,
            department_id=department_id,
            staff_id=staff_id,
        )


def on_duty(uow: UnitOfWork, *, ward_id: int | None, department_id: int | None) -> list[ShiftView]:
    """Shifts running now."""
    with uow:
        now = uow.hospital.now()
        return uow.repo(RosterQueries).shifts(
            start=now,
            end=now + timedelta(microseconds=1),
            ward_id=ward_id,
            department_id=department_id,
        )


def my_shifts(uow: UnitOfWork, *, start: date, days: int) -> list[ShiftView]:
    with uow:
        member = own_member(uow)
        first, last = _range(uow, start, days)
        return uow.repo(RosterQueries).shifts(start=first, end=last, staff_id=member.id)


def add_shift(
    uow: UnitOfWork,
    *,
    staff_id: int,
    ward_id: int | None,
    department_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    kind: str,
    note: str | None,
) -> ShiftView:
    with uow:
        repo = uow.repo(StaffRepository)
        member = require_member(uow, staff_id, lock=True)
        if (ward_id is None) == (department_id is None):
            raise invalid("ward_id", "give a ward or a department (one of them)")
        if ward_id is not None and repo.ward_name(ward_id) is None:
            raise invalid("ward_id", "unknown ward", "No such ward.")
        if department_id is not None and repo.department_name(department_id) is None:
            raise invalid("department_id", "unknown department", "No such department.")
        if ends_at <= starts_at:
            raise invalid("ends_at", "not after starts_at", "The shift ends before it starts.")
        if ends_at - starts_at > MAX_SHIFT:
            raise invalid("ends_at", "a shift lasts at most 24 hours")
        local_start = uow.hospital.local(starts_at).date()
        local_end = uow.hospital.local(ends_at - timedelta(microseconds=1)).date()
        if local_start < member.hire_date or (
            member.end_date is not None and local_end > member.end_date
        ):
            raise invalid("starts_at", "outside the employment dates")
        if repo.approved_leave_on(member.id, local_start, local_end):
            raise ShiftDuringLeaveError(f"{member.full_name} is on approved leave then.")
        queries = uow.repo(RosterQueries)
        overlapping = [s.id for s in repo.shifts_overlapping(member.id, starts_at, ends_at)]
        if overlapping:
            raise _overlap(member.full_name, queries, overlapping, starts_at, ends_at)
        shift = StaffShift(
            staff_id=member.id,
            ward_id=ward_id,
            department_id=department_id,
            starts_at=starts_at,
            ends_at=ends_at,
            kind=kind,
            note=note,
            created_by_user_id=actor_id(uow),
        )
        if not repo.try_insert_shift(shift):
            # Lost a race with a concurrent request: the constraint refused the insert.
            clashing = [s.id for s in repo.shifts_overlapping(member.id, starts_at, ends_at)]
            raise _overlap(member.full_name, queries, clashing, starts_at, ends_at)
        uow.audit(CATEGORY, "shift.add", detail={"staff_id": member.id, "shift_id": shift.id})
        uow.publish("shift.added", _place_ids(shift))
        uow.commit()
        return queries.shifts(start=starts_at, end=ends_at, shift_ids=[shift.id])[0]


def _overlap(
    name: str, queries: RosterQueries, ids: list[int], start: datetime, end: datetime
) -> ShiftOverlapError:
    clashes = queries.shifts(start=start, end=end, shift_ids=ids)
    return ShiftOverlapError(
        f"{name} already has {len(clashes)} shift(s) in that time.",
        [_clash(s) for s in clashes],
    )


def _place_ids(shift: StaffShift) -> dict[str, Any]:
    return {
        "shift_id": shift.id,
        "staff_id": shift.staff_id,
        "ward_id": shift.ward_id,
        "department_id": shift.department_id,
    }


def remove_shift(uow: UnitOfWork, shift_id: int) -> None:
    with uow:
        repo = uow.repo(StaffRepository)
        shift = repo.shift(shift_id)
        if shift is None:
            raise ShiftNotFoundError(f"No shift with id {shift_id}.")
        repo.delete(shift)
        uow.audit(
            CATEGORY, "shift.remove", detail={"staff_id": shift.staff_id, "shift_id": shift_id}
        )
        uow.publish("shift.removed", _place_ids(shift))
        uow.commit()


# --- leave ----------------------------------------------------------------------------------


def _leave_views(uow: UnitOfWork, rows: list[LeaveRequest]) -> list[LeaveView]:
    names = uow.repo(StaffRepository).member_names({r.staff_id for r in rows})
    return [
        LeaveView(
            id=r.id,
            staff_id=r.staff_id,
            staff_name=names.get(r.staff_id, ""),
            kind=r.kind,
            starts_on=r.starts_on,
            ends_on=r.ends_on,
            days=(r.ends_on - r.starts_on).days + 1,
            reason=r.reason,
            status=r.status,
            decided_at=r.decided_at,
            decision_note=r.decision_note,
            created_at=r.created_at,
            version=r.version,
        )
        for r in rows
    ]


def _file_leave(
    uow: UnitOfWork, staff_id: int, kind: str, starts_on: date, ends_on: date, reason: str | None
) -> LeaveView:
    # The row lock serialises two requests of the same person, so the overlap check below
    # cannot be raced past.
    member = require_member(uow, staff_id, lock=True)
    if ends_on < starts_on:
        raise invalid("ends_on", "before starts_on", "The leave ends before it starts.")
    if (ends_on - starts_on).days > 365:
        raise invalid("ends_on", "leave of more than a year")
    overlapping = uow.repo(StaffRepository).open_leave_overlapping(member.id, starts_on, ends_on)
    if overlapping:
        raise LeaveOverlapError(
            f"{member.full_name} already has {len(overlapping)} leave request(s) in that period.",
            [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "starts_on": r.starts_on.isoformat(),
                    "ends_on": r.ends_on.isoformat(),
                    "status": r.status,
                }
                for r in overlapping
            ],
        )
    leave = LeaveRequest(
        staff_id=member.id,
        staff_user_id=member.user_id,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        status="pending",
        requested_by_user_id=actor_id(uow),
        version=1,
    )
    uow.repo(StaffRepository).add(leave)
    uow.repo(StaffRepository).refresh(leave)
    uow.audit(CATEGORY, "leave.request", detail={"staff_id": member.id, "leave_id": leave.id})
    uow.publish("leave.requested", {"leave_id": leave.id, "staff_id": member.id})
    return _leave_views(uow, [leave])[0]


def request_own_leave(
    uow: UnitOfWork, *, kind: str, starts_on: date, ends_on: date, reason: str | None
) -> LeaveView:
    """Any employee asks for leave for themself."""
    with uow:
        view = _file_leave(uow, own_member(uow).id, kind, starts_on, ends_on, reason)
        uow.commit()
        return view


def file_leave(
    uow: UnitOfWork,
    *,
    staff_id: int,
    kind: str,
    starts_on: date,
    ends_on: date,
    reason: str | None,
) -> LeaveView:
    """HR files a request for someone (still decided like any other)."""
    with uow:
        view = _file_leave(uow, staff_id, kind, starts_on, ends_on, reason)
        uow.commit()
        return view


def list_leave(
    uow: UnitOfWork, *, status: str | None, staff_id: int | None, limit: int, offset: int
) -> tuple[list[LeaveView], int]:
    with uow:
        rows, total = uow.repo(StaffRepository).leave_requests(
            status=status, staff_id=staff_id, limit=limit, offset=offset
        )
        return _leave_views(uow, rows), total


def my_leave(uow: UnitOfWork) -> list[LeaveView]:
    with uow:
        member = own_member(uow)
        rows, _ = uow.repo(StaffRepository).leave_requests(
            status=None, staff_id=member.id, limit=500, offset=0
        )
        return _leave_views(uow, rows)


def decide_leave(
    uow: UnitOfWork, leave_id: int, *, version: int, decision: str, note: str | None
) -> LeaveView:
    """Approve or decline a pending request. Nobody decides their own; approval is refused
    while shifts are rostered in the period (the clashing shifts are listed)."""
    with uow:
        repo = uow.repo(StaffRepository)
        leave = repo.leave(leave_id, lock=True)
        if leave is None:
            raise LeaveNotFoundError(f"No leave request with id {leave_id}.")
        # The staff row is the lock add_shift takes too: an approval and a new shift for the
        # same person cannot both pass their checks at once.
        member = require_member(uow, leave.staff_id, lock=True)
        me = actor_id(uow)
        if me is not None and me in (leave.staff_user_id, member.user_id):
            raise OwnLeaveDecisionError("Someone else must decide your own leave request.")
        check_version(leave.version, version, "leave request")
        if leave.status != "pending":
            raise LeaveNotPendingError(f"This request is already {leave.status}.")
        if decision == "approve":
            first, _ = uow.hospital.day_bounds(leave.starts_on)
            _, last = uow.hospital.day_bounds(leave.ends_on)
            clashes = uow.repo(RosterQueries).shifts(start=first, end=last, staff_id=member.id)
            if clashes:
                raise LeaveClashError(
                    f"{member.full_name} has {len(clashes)} shift(s) rostered in this leave; "
                    "move or remove them first.",
                    [_clash(s) for s in clashes],
                )
        leave.status = "approved" if decision == "approve" else "declined"
        leave.decided_by_user_id = me
        leave.decided_at = utcnow()
        leave.decision_note = note
        repo.flush()
        uow.audit(
            CATEGORY,
            f"leave.{leave.status}",
            detail={"staff_id": member.id, "leave_id": leave.id},
        )
        uow.publish(f"leave.{leave.status}", {"leave_id": leave.id, "staff_id": member.id})
        uow.commit()
        return _leave_views(uow, [leave])[0]
