"""Security tables (issue 8): sign-in guards per (username, address), administrators' security
alerts, and clinic assignments (a basis of chart access)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.scheduling import Department
from hms_server.adapters.orm.security import ClinicAssignment, SecurityAlert, SignInGuard
from hms_server.adapters.repositories import Repository

# Rows with no recent failure, no lock and no recent success are forgotten (an attacker
# spraying made-up names cannot grow the table for ever).
_FORGET_STALE = text("""
    DELETE FROM sign_in_guards WHERE ctid IN (
        SELECT ctid FROM sign_in_guards
        WHERE last_failure_at < now() - interval '2 days'
          AND (locked_until IS NULL OR locked_until < now())
          AND (last_success_at IS NULL OR last_success_at < now() - make_interval(days => :keep))
        LIMIT 200)
""")


class SignInGuardRepository(Repository):
    def guard(self, username: str, address: str) -> SignInGuard | None:
        return self.session.get(SignInGuard, (username, address))

    def guard_for_update(self, username: str, address: str, now: datetime) -> SignInGuard:
        """The row, created empty when missing, locked for this transaction."""
        self.session.execute(
            insert(SignInGuard)
            .values(username=username, address=address, failures=0, window_start=now, lock_count=0)
            .on_conflict_do_nothing()
        )
        row = self.session.get(
            SignInGuard, (username, address), with_for_update=True, populate_existing=True
        )
        assert row is not None
        return row

    def forget_stale(self, *, keep_successes_days: int) -> None:
        self.session.execute(_FORGET_STALE, {"keep": keep_successes_days})

    def record_success(self, username: str, address: str, now: datetime) -> None:
        self.session.execute(
            insert(SignInGuard)
            .values(
                username=username,
                address=address,
                failures=0,
                window_start=now,
                lock_count=0,
                last_success_at=now,
            )
            .on_conflict_do_update(
                index_elements=[SignInGuard.username, SignInGuard.address],
                set_={"failures": 0, "lock_count": 0, "locked_until": None, "last_success_at": now},
            )
        )

    def clear(self, username: str) -> None:
        """Forget failures and locks; rows of addresses the owner signed in from stay (they
        keep sparing those workstations from the account-wide ceiling)."""
        self.session.execute(
            delete(SignInGuard).where(
                SignInGuard.username == username, SignInGuard.last_success_at.is_(None)
            )
        )
        for row in self.session.scalars(
            select(SignInGuard).where(SignInGuard.username == username)
        ):
            row.failures, row.lock_count, row.locked_until = 0, 0, None


class SecurityAlertRepository(Repository):
    def open_alert(
        self, kind: str, *, username: str | None, address: str | None, since: datetime
    ) -> SecurityAlert | None:
        """The newest unacknowledged alert of this kind for this username and address whose
        last occurrence is after ``since`` (locked: it is about to be bumped)."""
        return self.session.scalar(
            select(SecurityAlert)
            .where(
                SecurityAlert.kind == kind,
                SecurityAlert.acknowledged_at.is_(None),
                SecurityAlert.username.is_not_distinct_from(username),
                SecurityAlert.address.is_not_distinct_from(address),
                SecurityAlert.last_at > since,
            )
            .order_by(SecurityAlert.id.desc())
            .limit(1)
            .with_for_update()
        )

    def alerts(
        self, *, open_only: bool, since: datetime | None, limit: int, offset: int
    ) -> tuple[list[SecurityAlert], int]:
        """Newest first (by the last occurrence)."""
        query = select(SecurityAlert)
        if open_only:
            query = query.where(SecurityAlert.acknowledged_at.is_(None))
        if since is not None:
            query = query.where(SecurityAlert.last_at >= since)
        return self.page(
            query, [SecurityAlert.last_at.desc(), SecurityAlert.id.desc()], limit, offset
        )

    def get(self, alert_id: int, *, lock: bool = False) -> SecurityAlert | None:
        return self.session.get(SecurityAlert, alert_id, with_for_update=lock)


class ClinicAssignmentRepository(Repository):
    def department(self, department_id: int) -> Department | None:
        return self.session.get(Department, department_id)

    def add_unless_assigned(self, row: ClinicAssignment) -> bool:
        """Insert in a savepoint; False when the same assignment exists (the unique index
        decides under concurrency)."""
        try:
            with self.session.begin_nested():
                self.add(row)
        except IntegrityError:
            return False
        self.refresh(row)
        return True

    def assignments(
        self,
        *,
        user_id: int | None,
        department_id: int | None,
        day: date | None,
        limit: int,
        offset: int,
    ) -> tuple[list[tuple[ClinicAssignment, str, str, str]], int]:
        """Each assignment with the user's username and name and the department's name;
        ``day`` keeps the ones in force that day (that day's and the standing ones)."""
        query = (
            select(ClinicAssignment, User.username, User.full_name, Department.name)
            .join(User, User.id == ClinicAssignment.user_id)
            .join(Department, Department.id == ClinicAssignment.department_id)
        )
        if user_id is not None:
            query = query.where(ClinicAssignment.user_id == user_id)
        if department_id is not None:
            query = query.where(ClinicAssignment.department_id == department_id)
        if day is not None:
            query = query.where(
                or_(ClinicAssignment.on_date.is_(None), ClinicAssignment.on_date == day)
            )
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.execute(
            query.order_by(ClinicAssignment.on_date.desc().nulls_first(), ClinicAssignment.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [(a, u, f, d) for a, u, f, d in rows], int(total)

    def assignment(self, assignment_id: int, *, lock: bool = False) -> ClinicAssignment | None:
        return self.session.get(ClinicAssignment, assignment_id, with_for_update=lock)

    def assignment_of(self, user_id: int, department_id: int) -> int | None:
        """A standing or day assignment of the user to the department (the demo seed)."""
        return self.session.scalar(
            select(ClinicAssignment.id)
            .where(
                ClinicAssignment.user_id == user_id, ClinicAssignment.department_id == department_id
            )
            .limit(1)
        )
