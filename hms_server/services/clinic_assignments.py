"""Clinic assignments: which department's clinic a clinician works, on a day or standing.

An assignment is a basis of chart access (``services.access.CARE_BASES``: the clinic of the
day), so creating or removing one is audited like a permission change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hms_server.adapters.orm.security import ClinicAssignment
from hms_server.adapters.repositories.identity import UserRepository
from hms_server.adapters.repositories.security import ClinicAssignmentRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError

CATEGORY = "access_control"
CLINIC_ROLES = frozenset({"nurse", "doctor"})


@dataclass(frozen=True)
class AssignmentView:
    assignment: ClinicAssignment
    username: str | None
    full_name: str | None
    department: str | None


def _invalid(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(
        message, extra={"errors": [{"field": field, "message": message, "type": "value_error"}]}
    )


def assign_clinic(
    uow: UnitOfWork, *, user_id: int, department_id: int, on_date: date | None
) -> AssignmentView:
    """Assign an active nurse or doctor to a department's clinic (a day, or standing)."""
    with uow:
        user = uow.repo(UserRepository).get(user_id)
        if user is None or not user.active:
            raise _invalid("user_id", f"No active user with id {user_id}.")
        if not CLINIC_ROLES & set(user.roles):
            raise _invalid("user_id", "Only nurses and doctors work in a clinic.")
        assignments = uow.repo(ClinicAssignmentRepository)
        department = assignments.department(department_id)
        if department is None:
            raise _invalid("department_id", f"No department with id {department_id}.")
        row = ClinicAssignment(
            user_id=user_id,
            department_id=department_id,
            on_date=on_date,
            created_by_user_id=uow.actor.user_id if uow.actor else None,
        )
        if not assignments.add_unless_assigned(row):
            raise ConflictError(
                "This clinician is already assigned to that clinic for that day.",
                extra={"reason": "already_assigned"},
            )
        uow.audit(
            CATEGORY,
            "clinic_assignment.create",
            detail={
                "clinic_assignment_id": row.id,
                "target_user_id": user_id,
                "department_id": department_id,
                "on_date": on_date.isoformat() if on_date else None,
            },
        )
        uow.publish(
            "clinic_assignment.updated", {"user_id": user_id, "department_id": department_id}
        )
        uow.commit()
        return AssignmentView(row, user.username, user.full_name, department.name)


def list_assignments(
    uow: UnitOfWork,
    *,
    user_id: int | None,
    department_id: int | None,
    day: date | None,
    limit: int,
    offset: int,
) -> tuple[list[AssignmentView], int]:
    """Assignments, filtered; ``day`` keeps the ones in force that day (that day's and
    the standing ones)."""
    with uow:
        rows, total = uow.repo(ClinicAssignmentRepository).assignments(
            user_id=user_id, department_id=department_id, day=day, limit=limit, offset=offset
        )
        return [AssignmentView(a, u, f, d) for a, u, f, d in rows], total


def remove_assignment(uow: UnitOfWork, assignment_id: int) -> None:
    with uow:
        assignments = uow.repo(ClinicAssignmentRepository)
        row = assignments.assignment(assignment_id, lock=True)
        if row is None:
            raise NotFoundError(f"No clinic assignment with id {assignment_id}.")
        assignments.delete(row)
        uow.audit(
            CATEGORY,
            "clinic_assignment.delete",
            detail={
                "clinic_assignment_id": assignment_id,
                "target_user_id": row.user_id,
                "department_id": row.department_id,
            },
        )
        uow.publish(
            "clinic_assignment.updated",
            {"user_id": row.user_id, "department_id": row.department_id},
        )
        uow.commit()
