"""Staff and HR errors (each with a stable ``code``) and the small rules they guard."""

from __future__ import annotations

from typing import Any

from hms_server.domain.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationFailedError,
)


def invalid(field: str, message: str, detail: str | None = None) -> ValidationFailedError:
    """A 422 naming the field as the use case knows it (the API adds ``body.``)."""
    return ValidationFailedError(
        detail or f"{field}: {message}",
        extra={"errors": [{"field": field, "message": message, "type": "value_error"}]},
    )


class StaffNotFoundError(NotFoundError):
    code, title = "staff_not_found", "No such staff member"


class NoStaffRecordError(NotFoundError):
    """The signed-in user has no staff record (``/me/...`` routes)."""

    code, title = "no_staff_record", "No staff record"


class EmployeeNumberTakenError(ConflictError):
    code, title = "employee_number_taken", "Employee number already used"


class UserAlreadyLinkedError(ConflictError):
    code, title = "user_already_linked", "User already has a staff record"


class ShiftOverlapError(ConflictError):
    """The new shift overlaps shifts this person already holds (listed in ``clashes``)."""

    code, title = "shift_overlap", "Overlapping shift"

    def __init__(self, detail: str, clashes: list[dict[str, Any]]) -> None:
        super().__init__(detail, extra={"clashes": clashes})


class ShiftDuringLeaveError(ConflictError):
    code, title = "shift_during_leave", "On approved leave"


class LeaveClashError(ConflictError):
    """Approving leave would leave rostered shifts uncovered (listed in ``clashes``)."""

    code, title = "leave_clash", "Leave clashes with shifts"

    def __init__(self, detail: str, clashes: list[dict[str, Any]]) -> None:
        super().__init__(detail, extra={"clashes": clashes})


class LeaveOverlapError(ConflictError):
    """The period overlaps leave this person already asked for or has (pending or approved);
    ``overlapping`` lists those requests (id, kind, dates, status)."""

    code, title = "leave_overlap", "Overlapping leave"

    def __init__(self, detail: str, overlapping: list[dict[str, Any]]) -> None:
        super().__init__(detail, extra={"overlapping": overlapping})


class LeaveNotPendingError(ConflictError):
    code, title = "leave_not_pending", "Leave already decided"


class OwnLeaveDecisionError(ForbiddenError):
    code, title = "own_leave_decision", "Cannot decide own leave"


class PayRunExistsError(ConflictError):
    code, title = "pay_run_exists", "Pay run exists"


class PayRunFinalError(ConflictError):
    code, title = "pay_run_final", "Pay run is final"


class PayRunNotFoundError(NotFoundError):
    code, title = "pay_run_not_found", "No such pay run"


class PayslipNotFoundError(NotFoundError):
    code, title = "payslip_not_found", "No such payslip"


class ReviewNotFoundError(NotFoundError):
    code, title = "review_not_found", "No such review"


class ReviewFinalError(ConflictError):
    code, title = "review_final", "Review is final"


class ReviewExistsError(ConflictError):
    code, title = "review_exists", "Review exists"


class OwnReviewError(ForbiddenError):
    code, title = "own_review", "Cannot review oneself"


class ShiftNotFoundError(NotFoundError):
    code, title = "shift_not_found", "No such shift"


class LeaveNotFoundError(NotFoundError):
    code, title = "leave_not_found", "No such leave request"
