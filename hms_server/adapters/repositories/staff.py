"""Staff and HR repository: staff records, shifts, leave, payroll and reviews.

Overlapping shifts are impossible because of ``ex_staff_shifts_no_overlap``; the pre-check
here only lets the service list the clashing shifts. ``try_insert_shift`` runs the insert in a
savepoint and says whether the constraint refused it (a lost race between two requests).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.scheduling import Department
from hms_server.adapters.orm.staff import (
    SHIFT_OVERLAP,
    LeaveRequest,
    PayrollSettingsRow,
    PayRun,
    Payslip,
    PerformanceReview,
    StaffMember,
    StaffShift,
)
from hms_server.adapters.orm.wards import Ward
from hms_server.adapters.repositories import Repository

EXCLUSION_VIOLATION = "23P01"


class StaffRepository(Repository):
    """Not thread-safe; one per unit of work (``uow.repo(StaffRepository)``)."""

    # --- staff records ---------------------------------------------------------------------
    def member(self, staff_id: int, *, lock: bool = False) -> StaffMember | None:
        return self.session.get(StaffMember, staff_id, with_for_update=lock)

    def member_for_user(self, user_id: int) -> StaffMember | None:
        return self.session.scalar(select(StaffMember).where(StaffMember.user_id == user_id))

    def employee_number_taken(self, number: str) -> bool:
        query = select(StaffMember.id).where(
            func.lower(StaffMember.employee_number) == number.lower()
        )
        return self.session.scalar(query) is not None

    def user_linked(self, user_id: int, *, exclude_staff_id: int | None = None) -> bool:
        query = select(StaffMember.id).where(StaffMember.user_id == user_id)
        if exclude_staff_id is not None:
            query = query.where(StaffMember.id != exclude_staff_id)
        return self.session.scalar(query) is not None

    def user_exists(self, user_id: int) -> bool:
        return self.session.get(User, user_id) is not None

    def user_names(self, user_ids: set[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        rows = self.session.execute(
            select(User.id, User.full_name).where(User.id.in_(user_ids))
        ).all()
        return {row[0]: row[1] for row in rows}

    def usernames(self, user_ids: set[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        rows = self.session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
        return {row[0]: row[1] for row in rows}

    def sign_ins(
        self, *, q: str | None, unlinked_only: bool, limit: int, offset: int
    ) -> tuple[list[tuple[User, StaffMember | None]], int]:
        """Sign-ins by username or name fragment, each with the staff record linked to it."""
        query = select(User, StaffMember).outerjoin(StaffMember, StaffMember.user_id == User.id)
        if unlinked_only:
            query = query.where(StaffMember.id.is_(None))
        if q and q.strip():
            like = "%" + q.strip().lower().replace("\\", "\\\\").replace("%", "\\%") + "%"
            query = query.where(
                or_(func.lower(User.username).like(like), func.lower(User.full_name).like(like))
            )
        total = self.count(query)
        rows = self.session.execute(
            query.order_by(func.lower(User.username), User.id).limit(limit).offset(offset)
        ).all()
        return [(row[0], row[1]) for row in rows], total

    def department_name(self, department_id: int) -> str | None:
        return self.session.scalar(select(Department.name).where(Department.id == department_id))

    def department_names(self, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self.session.execute(
            select(Department.id, Department.name).where(Department.id.in_(ids))
        )
        return {row[0]: row[1] for row in rows}

    def ward_name(self, ward_id: int) -> str | None:
        return self.session.scalar(select(Ward.name).where(Ward.id == ward_id))

    def members(
        self,
        *,
        q: str | None,
        department_id: int | None,
        active_on: date | None,
        limit: int,
        offset: int,
    ) -> tuple[list[StaffMember], int]:
        query = select(StaffMember)
        if department_id is not None:
            query = query.where(StaffMember.department_id == department_id)
        if active_on is not None:
            query = query.where(
                StaffMember.hire_date <= active_on,
                or_(StaffMember.end_date.is_(None), StaffMember.end_date >= active_on),
            )
        if q and q.strip():
            like = "%" + q.strip().lower().replace("\\", "\\\\").replace("%", "\\%") + "%"
            query = query.where(
                or_(
                    func.lower(StaffMember.full_name).like(like),
                    func.lower(StaffMember.employee_number).like(like),
                    func.lower(StaffMember.job_title).like(like),
                )
            )
        return self.page(query, [func.lower(StaffMember.full_name), StaffMember.id], limit, offset)

    def employed_during(self, first: date, last: date) -> list[StaffMember]:
        """Everyone employed on at least one day of ``[first, last]``."""
        return list(
            self.session.scalars(
                select(StaffMember)
                .where(
                    StaffMember.hire_date <= last,
                    or_(StaffMember.end_date.is_(None), StaffMember.end_date >= first),
                )
                .order_by(StaffMember.employee_number)
            )
        )

    # --- shifts ----------------------------------------------------------------------------
    def shift(self, shift_id: int) -> StaffShift | None:
        return self.session.get(StaffShift, shift_id)

    def shifts_overlapping(self, staff_id: int, start: datetime, end: datetime) -> list[StaffShift]:
        return list(
            self.session.scalars(
                select(StaffShift)
                .where(
                    StaffShift.staff_id == staff_id,
                    StaffShift.starts_at < end,
                    StaffShift.ends_at > start,
                )
                .order_by(StaffShift.starts_at)
            )
        )

    def try_insert_shift(self, shift: StaffShift) -> bool:
        """Insert in a savepoint: True if written, False if an overlapping shift won."""
        try:
            self.insert_in_savepoint(shift)
        except IntegrityError as exc:
            diag = getattr(exc.orig, "diag", None)
            if (
                getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION
                and getattr(diag, "constraint_name", None) == SHIFT_OVERLAP
            ):
                return False
            raise
        return True

    def night_shift_counts(self, start: datetime, end: datetime) -> dict[int, int]:
        """Night shifts starting in ``[start, end)`` per staff member."""
        rows = self.session.execute(
            select(StaffShift.staff_id, func.count())
            .where(
                StaffShift.kind == "night",
                StaffShift.starts_at >= start,
                StaffShift.starts_at < end,
            )
            .group_by(StaffShift.staff_id)
        )
        return {row[0]: int(row[1]) for row in rows}

    # --- leave -----------------------------------------------------------------------------
    def leave(self, leave_id: int, *, lock: bool = False) -> LeaveRequest | None:
        return self.session.get(LeaveRequest, leave_id, with_for_update=lock)

    def leave_requests(
        self,
        *,
        status: str | None,
        staff_id: int | None,
        limit: int,
        offset: int,
    ) -> tuple[list[LeaveRequest], int]:
        query: Select[Any] = select(LeaveRequest)
        if status:
            query = query.where(LeaveRequest.status == status)
        if staff_id is not None:
            query = query.where(LeaveRequest.staff_id == staff_id)
        return self.page(query, [LeaveRequest.starts_on, LeaveRequest.id], limit, offset)

    def approved_leave_on(self, staff_id: int, first: date, last: date) -> list[LeaveRequest]:
        return list(
            self.session.scalars(
                select(LeaveRequest).where(
                    LeaveRequest.staff_id == staff_id,
                    LeaveRequest.status == "approved",
                    LeaveRequest.starts_on <= last,
                    LeaveRequest.ends_on >= first,
                )
            )
        )

    def open_leave_overlapping(self, staff_id: int, first: date, last: date) -> list[LeaveRequest]:
        """Pending or approved requests of this person overlapping ``[first, last]``."""
        return list(
            self.session.scalars(
                select(LeaveRequest)
                .where(
                    LeaveRequest.staff_id == staff_id,
                    LeaveRequest.status.in_(("pending", "approved")),
                    LeaveRequest.starts_on <= last,
                    LeaveRequest.ends_on >= first,
                )
                .order_by(LeaveRequest.starts_on, LeaveRequest.id)
            )
        )

    def member_names(self, staff_ids: set[int]) -> dict[int, str]:
        if not staff_ids:
            return {}
        rows = self.session.execute(
            select(StaffMember.id, StaffMember.full_name).where(StaffMember.id.in_(staff_ids))
        )
        return {row[0]: row[1] for row in rows}

    # --- payroll ---------------------------------------------------------------------------
    def payroll_settings(self, *, lock: bool = False) -> PayrollSettingsRow:
        row = self.session.get(PayrollSettingsRow, 1, with_for_update=lock)
        assert row is not None, "migration 0070 inserts the payroll settings row"
        return row

    def pay_run(self, run_id: int, *, lock: bool = False) -> PayRun | None:
        return self.session.get(PayRun, run_id, with_for_update=lock)

    def pay_run_for(self, period: date) -> PayRun | None:
        return self.session.scalar(select(PayRun).where(PayRun.period == period))

    def pay_runs(self, *, limit: int, offset: int) -> tuple[list[PayRun], int]:
        return self.page(select(PayRun), [PayRun.period.desc()], limit, offset)

    def run_totals(self, run_ids: list[int]) -> dict[int, tuple[int, Any, Any]]:
        if not run_ids:
            return {}
        rows = self.session.execute(
            select(
                Payslip.pay_run_id,
                func.count(),
                func.coalesce(func.sum(Payslip.gross_pay), 0),
                func.coalesce(func.sum(Payslip.net_pay), 0),
            )
            .where(Payslip.pay_run_id.in_(run_ids))
            .group_by(Payslip.pay_run_id)
        )
        return {row[0]: (int(row[1]), row[2], row[3]) for row in rows}

    def payslips_of(self, run_id: int) -> list[Payslip]:
        return list(
            self.session.scalars(
                select(Payslip)
                .where(Payslip.pay_run_id == run_id)
                .order_by(func.lower(Payslip.full_name), Payslip.id)
            )
        )

    def clear_payslips(self, run_id: int) -> None:
        self.session.execute(delete(Payslip).where(Payslip.pay_run_id == run_id))

    def payslip(self, payslip_id: int) -> tuple[Payslip, PayRun] | None:
        row = self.session.execute(
            select(Payslip, PayRun)
            .join(PayRun, PayRun.id == Payslip.pay_run_id)
            .where(Payslip.id == payslip_id)
        ).first()
        return (row[0], row[1]) if row else None

    def final_payslips_of_staff(self, staff_id: int) -> list[tuple[Payslip, PayRun]]:
        rows = self.session.execute(
            select(Payslip, PayRun)
            .join(PayRun, PayRun.id == Payslip.pay_run_id)
            .where(Payslip.staff_id == staff_id, PayRun.status == "final")
            .order_by(PayRun.period.desc())
        )
        return [(row[0], row[1]) for row in rows]

    # --- reviews ---------------------------------------------------------------------------
    def review(self, review_id: int, *, lock: bool = False) -> PerformanceReview | None:
        return self.session.get(PerformanceReview, review_id, with_for_update=lock)

    def review_exists(self, staff_id: int, start: date, end: date) -> bool:
        query = select(PerformanceReview.id).where(
            PerformanceReview.staff_id == staff_id,
            PerformanceReview.period_start == start,
            PerformanceReview.period_end == end,
        )
        return self.session.scalar(query) is not None

    def reviews(
        self, *, staff_id: int | None, final_only: bool, limit: int, offset: int
    ) -> tuple[list[PerformanceReview], int]:
        query = select(PerformanceReview)
        if staff_id is not None:
            query = query.where(PerformanceReview.staff_id == staff_id)
        if final_only:
            query = query.where(PerformanceReview.status == "final")
        return self.page(
            query, [PerformanceReview.period_end.desc(), PerformanceReview.id.desc()], limit, offset
        )
