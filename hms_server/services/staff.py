"""Staff records and performance reviews (the HR directory).

Salary is part of the record but only reaches callers holding ``Perm.STAFF_SALARY`` (HR,
managers) or the employee reading their own record: the view carries ``None`` otherwise, so a
router cannot leak it by accident. Reads and writes of HR data are audited (ids only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.base import touch, utcnow
from hms_server.adapters.orm.staff import PerformanceReview, StaffMember
from hms_server.adapters.repositories.staff import StaffRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.permissions import Perm, permissions_for
from hms_server.domain.staff import (
    EmployeeNumberTakenError,
    NoStaffRecordError,
    OwnReviewError,
    ReviewExistsError,
    ReviewFinalError,
    ReviewNotFoundError,
    StaffNotFoundError,
    UserAlreadyLinkedError,
    invalid,
)
from hms_server.domain.versioning import check_version

CATEGORY = "staff"


@dataclass(frozen=True)
class StaffView:
    """A staff record as ``StaffRead`` shows it."""

    id: int
    employee_number: str
    full_name: str
    job_title: str
    department_id: int
    department_name: str
    employment_type: str
    grade: str | None
    hire_date: date
    end_date: date | None
    base_monthly_salary: Decimal | None
    phone: str | None
    user_id: int | None
    username: str | None
    active: bool
    version: int


@dataclass(frozen=True)
class ReviewView:
    id: int
    staff_id: int
    staff_name: str
    period_start: date
    period_end: date
    rating: int
    strengths: str
    goals: str
    reviewer_name: str
    status: str
    finalised_at: datetime | None
    version: int


def actor_id(uow: UnitOfWork) -> int | None:
    return uow.actor.user_id if uow.actor else None


def sees_salaries(uow: UnitOfWork) -> bool:
    return uow.actor is not None and Perm.STAFF_SALARY in permissions_for(uow.actor.roles)


def require_member(uow: UnitOfWork, staff_id: int, *, lock: bool = False) -> StaffMember:
    member = uow.repo(StaffRepository).member(staff_id, lock=lock)
    if member is None:
        raise StaffNotFoundError(f"No staff member with id {staff_id}.")
    return member


def own_member(uow: UnitOfWork) -> StaffMember:
    """The signed-in user's own staff record."""
    user_id = actor_id(uow)
    member = uow.repo(StaffRepository).member_for_user(user_id) if user_id else None
    if member is None:
        raise NoStaffRecordError("You have no staff record; ask HR to link your sign-in.")
    return member


def _views(uow: UnitOfWork, members: list[StaffMember], *, salary: bool) -> list[StaffView]:
    repo = uow.repo(StaffRepository)
    departments = repo.department_names({m.department_id for m in members})
    usernames = repo.usernames({m.user_id for m in members if m.user_id})
    today = uow.hospital.today()
    return [
        StaffView(
            id=m.id,
            employee_number=m.employee_number,
            full_name=m.full_name,
            job_title=m.job_title,
            department_id=m.department_id,
            department_name=departments.get(m.department_id, ""),
            employment_type=m.employment_type,
            grade=m.grade,
            hire_date=m.hire_date,
            end_date=m.end_date,
            base_monthly_salary=m.base_monthly_salary if salary else None,
            phone=m.phone,
            user_id=m.user_id,
            username=usernames.get(m.user_id) if m.user_id else None,
            active=m.hire_date <= today and (m.end_date is None or m.end_date >= today),
            version=m.version,
        )
        for m in members
    ]


def _check_links(uow: UnitOfWork, fields: dict[str, Any], *, staff_id: int | None = None) -> None:
    repo = uow.repo(StaffRepository)
    if "department_id" in fields and repo.department_name(fields["department_id"]) is None:
        raise invalid("department_id", "unknown department", "No such department.")
    user_id = fields.get("user_id")
    if user_id is not None:
        if not repo.user_exists(user_id):
            raise invalid("user_id", "unknown user", "No such user.")
        if repo.user_linked(user_id, exclude_staff_id=staff_id):
            raise UserAlreadyLinkedError("That sign-in already belongs to another staff record.")


def create_staff(uow: UnitOfWork, **fields: Any) -> StaffView:
    """Add an employee. Employee numbers are unique regardless of case."""
    with uow:
        repo = uow.repo(StaffRepository)
        number = fields["employee_number"].strip().upper()
        if repo.employee_number_taken(number):
            raise EmployeeNumberTakenError(f"Employee number {number} is already used.")
        if fields.get("end_date") and fields["end_date"] < fields["hire_date"]:
            raise invalid("end_date", "before the hire date", "The end date is before hire.")
        _check_links(uow, fields)
        member = StaffMember(
            **{
                **fields,
                "employee_number": number,
                "base_monthly_salary": uow.hospital.round_money(fields["base_monthly_salary"]),
            },
            version=1,
        )
        repo.add(member)
        uow.audit(CATEGORY, "staff.create", detail={"staff_id": member.id})
        uow.commit()
        return _views(uow, [member], salary=sees_salaries(uow))[0]


def update_staff(
    uow: UnitOfWork, staff_id: int, *, version: int, changes: dict[str, Any]
) -> StaffView:
    with uow:
        member = require_member(uow, staff_id, lock=True)
        check_version(member.version, version, "staff record")
        end = changes.get("end_date", member.end_date)
        if end is not None and end < member.hire_date:
            raise invalid("end_date", "before the hire date", "The end date is before hire.")
        for required in ("full_name", "job_title", "department_id", "employment_type"):
            if required in changes and changes[required] is None:
                raise invalid(required, "cannot be cleared")
        if changes.get("base_monthly_salary") is not None:
            changes["base_monthly_salary"] = uow.hospital.round_money(
                changes["base_monthly_salary"]
            )
        elif "base_monthly_salary" in changes:
            raise invalid("base_monthly_salary", "cannot be cleared")
        _check_links(uow, changes, staff_id=member.id)
        previous_user_id = member.user_id
        for key, value in changes.items():
            setattr(member, key, value)
        touch(member)
        uow.repo(StaffRepository).flush()
        detail: dict[str, Any] = {"staff_id": member.id, "fields": sorted(changes)}
        if "user_id" in changes:
            # Linking or unlinking a sign-in is a permission change: say from whom to whom.
            detail.update(user_id=changes["user_id"], previous_user_id=previous_user_id)
        uow.audit(CATEGORY, "staff.update", detail=detail)
        uow.commit()
        return _views(uow, [member], salary=sees_salaries(uow))[0]


def list_staff(
    uow: UnitOfWork,
    *,
    q: str | None,
    department_id: int | None,
    active_only: bool,
    limit: int,
    offset: int,
) -> tuple[list[StaffView], int]:
    with uow:
        members, total = uow.repo(StaffRepository).members(
            q=q,
            department_id=department_id,
            active_on=uow.hospital.today() if active_only else None,
            limit=limit,
            offset=offset,
        )
        return _views(uow, members, salary=sees_salaries(uow)), total


def get_staff(uow: UnitOfWork, staff_id: int) -> StaffView:
    with uow:
        member = require_member(uow, staff_id)
        salary = sees_salaries(uow)
        view = _views(uow, [member], salary=salary)[0]
        uow.audit(CATEGORY, "staff.view", detail={"staff_id": member.id, "salary": salary})
        uow.commit()
        return view


@dataclass(frozen=True)
class SignInView:
    """A sign-in as ``StaffSignIn`` shows it (what linking it to a record needs, nothing more)."""

    user_id: int
    username: str
    full_name: str
    active: bool
    staff_id: int | None
    staff_name: str | None


def list_sign_ins(
    uow: UnitOfWork, *, q: str | None, unlinked_only: bool, limit: int, offset: int
) -> tuple[list[SignInView], int]:
    """Sign-ins HR may link to a staff record, each with the record it belongs to now."""
    with uow:
        rows, total = uow.repo(StaffRepository).sign_ins(
            q=q, unlinked_only=unlinked_only, limit=limit, offset=offset
        )
        return [
            SignInView(
                user_id=user.id,
                username=user.username,
                full_name=user.full_name,
                active=user.active,
                staff_id=member.id if member else None,
                staff_name=member.full_name if member else None,
            )
            for user, member in rows
        ], total


def my_record(uow: UnitOfWork) -> StaffView:
    """The caller's own record, salary included."""
    with uow:
        return _views(uow, [own_member(uow)], salary=True)[0]


# --- performance reviews -------------------------------------------------------------------


def _review_views(uow: UnitOfWork, reviews: list[PerformanceReview]) -> list[ReviewView]:
    repo = uow.repo(StaffRepository)
    names = repo.member_names({r.staff_id for r in reviews})
    reviewers = repo.user_names({r.reviewer_user_id for r in reviews if r.reviewer_user_id})
    return [
        ReviewView(
            id=r.id,
            staff_id=r.staff_id,
            staff_name=names.get(r.staff_id, ""),
            period_start=r.period_start,
            period_end=r.period_end,
            rating=r.rating,
            strengths=r.strengths,
            goals=r.goals,
            reviewer_name=reviewers.get(r.reviewer_user_id, "") if r.reviewer_user_id else "",
            status=r.status,
            finalised_at=r.finalised_at,
            version=r.version,
        )
        for r in reviews
    ]


def _require_review(uow: UnitOfWork, review_id: int) -> PerformanceReview:
    review = uow.repo(StaffRepository).review(review_id, lock=True)
    if review is None:
        raise ReviewNotFoundError(f"No review with id {review_id}.")
    if review.status == "final":
        raise ReviewFinalError("This review is final and can no longer be changed.")
    return review


def create_review(
    uow: UnitOfWork,
    *,
    staff_id: int,
    period_start: date,
    period_end: date,
    rating: int,
    strengths: str,
    goals: str,
) -> ReviewView:
    """Draft a review. Nobody reviews themself."""
    with uow:
        member = require_member(uow, staff_id)
        if period_end < period_start:
            raise invalid("period_end", "before period_start", "The period ends before it starts.")
        if member.user_id is not None and member.user_id == actor_id(uow):
            raise OwnReviewError("You cannot review yourself.")
        repo = uow.repo(StaffRepository)
        if repo.review_exists(staff_id, period_start, period_end):
            raise ReviewExistsError("There already is a review of this person for that period.")
        review = PerformanceReview(
            staff_id=staff_id,
            period_start=period_start,
            period_end=period_end,
            rating=rating,
            strengths=strengths,
            goals=goals,
            reviewer_user_id=actor_id(uow),
            status="draft",
            version=1,
        )
        repo.add(review)
        uow.audit(CATEGORY, "review.create", detail={"staff_id": staff_id, "review_id": review.id})
        uow.commit()
        return _review_views(uow, [review])[0]


def update_review(
    uow: UnitOfWork, review_id: int, *, version: int, changes: dict[str, Any]
) -> ReviewView:
    with uow:
        review = _require_review(uow, review_id)
        check_version(review.version, version, "review")
        for key, value in changes.items():
            if value is None:
                raise invalid(key, "cannot be cleared")
            setattr(review, key, value)
        touch(review)
        uow.repo(StaffRepository).flush()
        uow.audit(CATEGORY, "review.update", detail={"review_id": review.id})
        uow.commit()
        return _review_views(uow, [review])[0]


def finalise_review(uow: UnitOfWork, review_id: int, *, version: int) -> ReviewView:
    """Final reviews are read-only and become visible to the employee."""
    with uow:
        review = _require_review(uow, review_id)
        check_version(review.version, version, "review")
        review.status = "final"
        review.finalised_at = utcnow()
        uow.repo(StaffRepository).flush()
        uow.audit(CATEGORY, "review.finalise", detail={"review_id": review.id})
        uow.commit()
        return _review_views(uow, [review])[0]


def list_reviews(
    uow: UnitOfWork, *, staff_id: int | None, limit: int, offset: int
) -> tuple[list[ReviewView], int]:
    with uow:
        reviews, total = uow.repo(StaffRepository).reviews(
            staff_id=staff_id, final_only=False, limit=limit, offset=offset
        )
        views = _review_views(uow, reviews)
        uow.audit(CATEGORY, "review.list", detail={"review_ids": [r.id for r in reviews]})
        uow.commit()
        return views, total


def my_reviews(uow: UnitOfWork) -> list[ReviewView]:
    """The caller's finalised reviews (drafts stay with the reviewer)."""
    with uow:
        member = own_member(uow)
        reviews, _ = uow.repo(StaffRepository).reviews(
            staff_id=member.id, final_only=True, limit=200, offset=0
        )
        return _review_views(uow, reviews)
