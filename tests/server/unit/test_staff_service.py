"""Staff services against in-memory fakes: nobody decides their own leave, approval over
rostered shifts is refused with the shifts listed (nothing committed either way), and a
caller without ``staff.salary`` gets records without the salary."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from hms_server.adapters.orm.staff import LeaveRequest, StaffMember
from hms_server.adapters.queries.staff import RosterQueries, ShiftView
from hms_server.adapters.repositories.staff import StaffRepository
from hms_server.adapters.uow import Actor
from hms_server.domain.staff import LeaveClashError, OwnLeaveDecisionError
from hms_server.services import roster, staff
from tests.server.unit.fake_uow import FakeUnitOfWork


def _member(staff_id: int = 7, user_id: int | None = 70) -> StaffMember:
    return StaffMember(
        id=staff_id,
        user_id=user_id,
        employee_number="E7",
        full_name="Nadia Novak",
        job_title="Staff Nurse",
        department_id=3,
        employment_type="full_time",
        grade="N5",
        hire_date=date(2020, 1, 1),
        end_date=None,
        base_monthly_salary=Decimal("2950.00"),
        phone=None,
        version=1,
    )


class FakeStaff:
    def __init__(self, member: StaffMember, leave: LeaveRequest | None = None) -> None:
        self.by_id = {member.id: member}
        self.leaves = {leave.id: leave} if leave else {}
        self.flushed = 0

    def member(self, staff_id: int, *, lock: bool = False) -> StaffMember | None:
        return self.by_id.get(staff_id)

    def leave(self, leave_id: int, *, lock: bool = False) -> LeaveRequest | None:
        return self.leaves.get(leave_id)

    def member_names(self, ids: set[int]) -> dict[int, str]:
        return {i: self.by_id[i].full_name for i in ids if i in self.by_id}

    def members(self, **_kwargs: Any) -> tuple[list[StaffMember], int]:
        return list(self.by_id.values()), len(self.by_id)

    def department_names(self, ids: set[int]) -> dict[int, str]:
        return {i: "Nursing" for i in ids}

    def usernames(self, ids: set[int]) -> dict[int, str]:
        return {i: "nurse" for i in ids}

    def flush(self) -> None:
        self.flushed += 1


class FakeRoster:
    def __init__(self, shifts: list[ShiftView]) -> None:
        self.shifts_ = shifts

    def shifts(self, **_kwargs: Any) -> list[ShiftView]:
        return list(self.shifts_)


def _leave() -> LeaveRequest:
    return LeaveRequest(
        id=11,
        staff_id=7,
        staff_user_id=70,
        kind="annual",
        starts_on=date(2031, 2, 9),
        ends_on=date(2031, 2, 13),
        reason=None,
        status="pending",
        created_at=datetime(2031, 1, 1, tzinfo=UTC),
        version=1,
    )


def _night() -> ShiftView:
    return ShiftView(
        id=5,
        staff_id=7,
        staff_name="Nadia Novak",
        job_title="Staff Nurse",
        ward_id=1,
        department_id=None,
        unit_name="Medical Ward A",
        starts_at=datetime(2031, 2, 10, 23, tzinfo=UTC),
        ends_at=datetime(2031, 2, 11, 7, tzinfo=UTC),
        kind="night",
        note=None,
    )


def _uow(fake: FakeStaff, roster_fake: FakeRoster, actor: Actor) -> FakeUnitOfWork:
    return FakeUnitOfWork({StaffRepository: fake, RosterQueries: roster_fake}, actor=actor)


def test_nobody_decides_their_own_leave() -> None:
    member = _member()
    # Nadia's own sign-in, even holding a deciding role, is refused.
    uow = _uow(FakeStaff(member, _leave()), FakeRoster([]), Actor(70, "nurse", ("hr_officer",)))
    with pytest.raises(OwnLeaveDecisionError):
        roster.decide_leave(uow, 11, version=1, decision="approve", note=None)  # type: ignore[arg-type]
    assert uow.commits == 0 and uow.audited == []


def test_approval_over_rostered_shifts_lists_them_and_changes_nothing() -> None:
    leave = _leave()
    uow = _uow(FakeStaff(_member(), leave), FakeRoster([_night()]), Actor(9, "hr", ("hr_officer",)))
    with pytest.raises(LeaveClashError) as refused:
        roster.decide_leave(uow, 11, version=1, decision="approve", note=None)  # type: ignore[arg-type]
    assert [c["id"] for c in refused.value.extra["clashes"]] == [5]
    assert leave.status == "pending" and uow.commits == 0


def test_a_decline_is_recorded_and_audited_with_ids_only() -> None:
    leave = _leave()
    uow = _uow(FakeStaff(_member(), leave), FakeRoster([_night()]), Actor(9, "hr", ("hr_officer",)))
    view = roster.decide_leave(uow, 11, version=1, decision="decline", note="Short-staffed")  # type: ignore[arg-type]
    assert view.status == "declined" and leave.decided_by_user_id == 9
    assert uow.audited == [("staff", "leave.declined", {"detail": {"staff_id": 7, "leave_id": 11}})]


@pytest.mark.parametrize(("role", "sees"), [("manager", True), ("nurse", False), ("admin", False)])
def test_salary_reaches_only_those_allowed(role: str, sees: bool) -> None:
    uow = _uow(FakeStaff(_member()), FakeRoster([]), Actor(1, role, (role,)))
    views, total = staff.list_staff(
        uow,  # type: ignore[arg-type]
        q=None,
        department_id=None,
        active_only=False,
        limit=10,
        offset=0,
    )
    assert total == 1
    assert (views[0].base_monthly_salary == Decimal("2950.00")) is sees
    assert (views[0].base_monthly_salary is None) is not sees
