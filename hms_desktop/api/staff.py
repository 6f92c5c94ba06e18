"""Typed calls for staff and HR: the directory, the duty roster, leave, payroll and reviews,
and the signed-in employee's own record, shifts, leave and payslips.

Every method returns ``hms_contract`` models over the client's public transport only. A 409
that lists clashing shifts (``shift_overlap``, ``leave_clash``) becomes ``ShiftClashError``
with the clashes typed; one listing overlapping leave (``leave_overlap``) becomes
``LeaveOverlapError``. No Qt; thread-safe like the ``ApiClient`` it wraps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from hms_contract.common import Page
from hms_contract.staff import (
    LeaveCreate,
    LeaveCreateForStaff,
    LeaveDecision,
    LeaveOverlap,
    LeaveRead,
    PayrollSettings,
    PayrollSettingsUpdate,
    PayRunCreate,
    PayRunFinalise,
    PayRunRead,
    PayslipRead,
    ReviewCreate,
    ReviewFinalise,
    ReviewRead,
    ReviewUpdate,
    RosterUnit,
    ShiftClash,
    ShiftCreate,
    ShiftRead,
    StaffCreate,
    StaffRead,
    StaffSignIn,
    StaffUpdate,
)
from hms_desktop.api.client import ApiClient, request_body
from hms_desktop.api.errors import ApiProblem, specialise

_CLASHES = TypeAdapter(list[ShiftClash])
CLASH_CODES = ("shift_overlap", "leave_clash")


@dataclass(eq=False)
class ShiftClashError(ApiProblem):
    """409 ``shift_overlap`` / ``leave_clash``: the shifts standing in the way."""

    clashes: list[ShiftClash] = field(default_factory=list)


_OVERLAPS = TypeAdapter(list[LeaveOverlap])


@dataclass(eq=False)
class LeaveOverlapError(ApiProblem):
    """409 ``leave_overlap``: the person's pending or approved requests in that period."""

    overlapping: list[LeaveOverlap] = field(default_factory=list)


def _with_clashes(problem: ApiProblem) -> ApiProblem:
    if problem.status == 409 and problem.code in CLASH_CODES:
        clashes = _CLASHES.validate_python(problem.member("clashes") or [])
        return specialise(problem, ShiftClashError, clashes=clashes)
    if problem.status == 409 and problem.code == "leave_overlap":
        overlapping = _OVERLAPS.validate_python(problem.member("overlapping") or [])
        return specialise(problem, LeaveOverlapError, overlapping=overlapping)
    return problem


class StaffApi:
    """HR's and managers' calls, and everyone's own (``my_*``)."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    # -- directory ---------------------------------------------------------------------------
    def staff(
        self,
        q: str | None = None,
        *,
        department_id: int | None = None,
        active: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[StaffRead]:
        return self.api.get(
            "/staff",
            Page[StaffRead],
            params={
                "q": q or None,
                "department_id": department_id,
                "active": "true" if active else None,
                "limit": limit,
                "offset": offset,
            },
        )

    def sign_ins(
        self, q: str | None = None, *, unlinked: bool = False, limit: int = 50, offset: int = 0
    ) -> Page[StaffSignIn]:
        """Sign-ins HR may link to a record (link or unlink with ``update_staff``)."""
        return self.api.get(
            "/staff/sign-ins",
            Page[StaffSignIn],
            params={
                "q": q or None,
                "unlinked": "true" if unlinked else None,
                "limit": limit,
                "offset": offset,
            },
        )

    def get_staff(self, staff_id: int) -> StaffRead:
        return self.api.get(f"/staff/{staff_id}", StaffRead)

    def create_staff(self, values: dict[str, Any]) -> StaffRead:
        return self.api.post("/staff", request_body(StaffCreate, values), StaffRead, creates=True)

    def update_staff(self, staff_id: int, values: dict[str, Any]) -> StaffRead:
        return self.api.patch(f"/staff/{staff_id}", request_body(StaffUpdate, values), StaffRead)

    # -- roster ------------------------------------------------------------------------------
    def units(self) -> list[RosterUnit]:
        return self.api.get("/roster/units", list[RosterUnit])

    def shifts(
        self,
        start: date,
        *,
        days: int = 7,
        ward_id: int | None = None,
        department_id: int | None = None,
        staff_id: int | None = None,
    ) -> list[ShiftRead]:
        return self.api.get(
            "/shifts",
            list[ShiftRead],
            params={
                "start": start.isoformat(),
                "days": days,
                "ward_id": ward_id,
                "department_id": department_id,
                "staff_id": staff_id,
            },
        )

    def on_duty(
        self, *, ward_id: int | None = None, department_id: int | None = None
    ) -> list[ShiftRead]:
        return self.api.get(
            "/shifts/on-duty",
            list[ShiftRead],
            params={"ward_id": ward_id, "department_id": department_id},
        )

    def add_shift(self, values: dict[str, Any]) -> ShiftRead:
        try:
            return self.api.post(
                "/shifts", request_body(ShiftCreate, values), ShiftRead, creates=True
            )
        except ApiProblem as problem:
            raise _with_clashes(problem) from None

    def remove_shift(self, shift_id: int) -> None:
        self.api.delete(f"/shifts/{shift_id}")

    # -- leave -------------------------------------------------------------------------------
    def leave_requests(
        self,
        *,
        status: str | None = "pending",
        staff_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[LeaveRead]:
        return self.api.get(
            "/leave-requests",
            Page[LeaveRead],
            params={"status": status, "staff_id": staff_id, "limit": limit, "offset": offset},
        )

    def file_leave(self, values: dict[str, Any]) -> LeaveRead:
        try:
            return self.api.post(
                "/leave-requests",
                request_body(LeaveCreateForStaff, values),
                LeaveRead,
                creates=True,
            )
        except ApiProblem as problem:
            raise _with_clashes(problem) from None

    def decide_leave(
        self, leave_id: int, *, version: int, decision: str, note: str | None = None
    ) -> LeaveRead:
        body = request_body(
            LeaveDecision, {"version": version, "decision": decision, "note": note or None}
        )
        try:
            return self.api.post(f"/leave-requests/{leave_id}/decision", body, LeaveRead)
        except ApiProblem as problem:
            raise _with_clashes(problem) from None

    # -- payroll -----------------------------------------------------------------------------
    def payroll_settings(self) -> PayrollSettings:
        return self.api.get("/payroll/settings", PayrollSettings)

    def update_payroll_settings(
        self,
        *,
        version: int,
        night_shift_allowance: Decimal,
        income_tax_percent: Decimal,
        pension_percent: Decimal,
    ) -> PayrollSettings:
        body = request_body(
            PayrollSettingsUpdate,
            {
                "version": version,
                "night_shift_allowance": night_shift_allowance,
                "income_tax_percent": income_tax_percent,
                "pension_percent": pension_percent,
            },
        )
        return self.api.put("/payroll/settings", body, PayrollSettings)

    def pay_runs(self, *, limit: int = 24, offset: int = 0) -> Page[PayRunRead]:
        return self.api.get(
            "/pay-runs", Page[PayRunRead], params={"limit": limit, "offset": offset}
        )

    def create_pay_run(self, period: str) -> PayRunRead:
        return self.api.post(
            "/pay-runs", request_body(PayRunCreate, {"period": period}), PayRunRead, creates=True
        )

    def recalculate_pay_run(self, run_id: int, version: int) -> PayRunRead:
        body = request_body(PayRunFinalise, {"version": version})
        return self.api.post(f"/pay-runs/{run_id}/recalculate", body, PayRunRead)

    def finalise_pay_run(self, run_id: int, version: int) -> PayRunRead:
        body = request_body(PayRunFinalise, {"version": version})
        return self.api.post(f"/pay-runs/{run_id}/finalise", body, PayRunRead)

    def payslips(self, run_id: int) -> list[PayslipRead]:
        return self.api.get(f"/pay-runs/{run_id}/payslips", list[PayslipRead])

    def payslip(self, payslip_id: int) -> PayslipRead:
        return self.api.get(f"/payslips/{payslip_id}", PayslipRead)

    def record_payslip_print(self, payslip_id: int) -> None:
        """Tell the server the payslip went to a printer (it is audited)."""
        self.api.post(f"/payslips/{payslip_id}/prints")

    # -- reviews -----------------------------------------------------------------------------
    def reviews(
        self, *, staff_id: int | None = None, limit: int = 100, offset: int = 0
    ) -> Page[ReviewRead]:
        return self.api.get(
            "/reviews",
            Page[ReviewRead],
            params={"staff_id": staff_id, "limit": limit, "offset": offset},
        )

    def create_review(self, values: dict[str, Any]) -> ReviewRead:
        return self.api.post(
            "/reviews", request_body(ReviewCreate, values), ReviewRead, creates=True
        )

    def update_review(self, review_id: int, values: dict[str, Any]) -> ReviewRead:
        return self.api.patch(
            f"/reviews/{review_id}", request_body(ReviewUpdate, values), ReviewRead
        )

    def finalise_review(self, review_id: int, version: int) -> ReviewRead:
        body = request_body(ReviewFinalise, {"version": version})
        return self.api.post(f"/reviews/{review_id}/finalise", body, ReviewRead)

    # -- the signed-in employee's own --------------------------------------------------------
    def my_record(self) -> StaffRead:
        return self.api.get("/me/staff-record", StaffRead)

    def my_shifts(self, start: date, *, days: int = 7) -> list[ShiftRead]:
        return self.api.get(
            "/me/shifts", list[ShiftRead], params={"start": start.isoformat(), "days": days}
        )

    def my_leave(self) -> list[LeaveRead]:
        return self.api.get("/me/leave-requests", list[LeaveRead])

    def request_leave(self, values: dict[str, Any]) -> LeaveRead:
        """Ask for leave for oneself; overlapping leave raises ``LeaveOverlapError``."""
        try:
            return self.api.post(
                "/me/leave-requests", request_body(LeaveCreate, values), LeaveRead, creates=True
            )
        except ApiProblem as problem:
            raise _with_clashes(problem) from None

    def my_payslips(self) -> list[PayslipRead]:
        return self.api.get("/me/payslips", list[PayslipRead])

    def my_payslip(self, payslip_id: int) -> PayslipRead:
        return self.api.get(f"/me/payslips/{payslip_id}", PayslipRead)

    def my_reviews(self) -> list[ReviewRead]:
        return self.api.get("/me/reviews", list[ReviewRead])
