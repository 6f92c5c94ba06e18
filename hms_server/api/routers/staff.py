"""Staff records and performance reviews (HR and managers), and each employee's own record,
payslips and finalised reviews under ``/me/...`` (any signed-in user)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.staff import (
    PayslipRead,
    ReviewCreate,
    ReviewFinalise,
    ReviewRead,
    ReviewUpdate,
    StaffCreate,
    StaffRead,
    StaffSignIn,
    StaffUpdate,
)
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath, Limit, Offset, OptionalId
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import payroll as payroll_service
from hms_server.services import staff as service

router = APIRouter(tags=["staff"], responses=PROBLEM_RESPONSES)

StaffReader = requirement(Perm.STAFF_READ)
StaffManager = requirement(Perm.STAFF_MANAGE)
Reviewer = requirement(Perm.REVIEWS_WRITE)
SignedIn = requirement(Perm.SELF)


def _staff(view: object) -> StaffRead:
    return StaffRead.model_validate(view, from_attributes=True)


def _review(view: object) -> ReviewRead:
    return ReviewRead.model_validate(view, from_attributes=True)


@router.get("/staff", operation_id="list_staff")
def list_staff(
    ctx: StaffReader,
    q: Annotated[str | None, Query(max_length=100)] = None,
    department_id: OptionalId = None,
    active: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[StaffRead]:
    """The staff directory by name; ``q`` matches name, employee number or job title;
    ``active=true`` keeps only people employed today."""
    views, total = service.list_staff(
        ctx.uow(), q=q, department_id=department_id, active_only=active, limit=limit, offset=offset
    )
    return Page[StaffRead](items=[_staff(v) for v in views], total=total)


@router.post("/staff", operation_id="create_staff", status_code=201, response_model=StaffRead)
def create_staff(
    body: StaffCreate, request: Request, ctx: StaffManager, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: service.create_staff(uow, **body.model_dump()),
        _staff,
    )


@router.get("/staff/sign-ins", operation_id="list_staff_sign_ins")
def list_staff_sign_ins(
    ctx: StaffManager,
    q: Annotated[str | None, Query(max_length=100)] = None,
    unlinked: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[StaffSignIn]:
    """Sign-ins to link to a staff record (HR): ``q`` matches username or name;
    ``unlinked=true`` keeps only those without a record. Link or unlink with
    ``PATCH /staff/{id}`` (``user_id``, or null)."""
    views, total = service.list_sign_ins(
        ctx.uow(), q=q, unlinked_only=unlinked, limit=limit, offset=offset
    )
    return Page[StaffSignIn](
        items=[StaffSignIn.model_validate(v, from_attributes=True) for v in views], total=total
    )


@router.get("/staff/{staff_id}", operation_id="get_staff")
def get_staff(staff_id: IdPath, ctx: StaffReader) -> StaffRead:
    return _staff(service.get_staff(ctx.uow(), staff_id))


@router.patch("/staff/{staff_id}", operation_id="update_staff")
def update_staff(staff_id: IdPath, body: StaffUpdate, ctx: StaffManager) -> StaffRead:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    return _staff(service.update_staff(ctx.uow(), staff_id, version=body.version, changes=changes))


# --- performance reviews -------------------------------------------------------------------


@router.get("/reviews", operation_id="list_reviews")
def list_reviews(
    ctx: Reviewer, staff_id: OptionalId = None, limit: Limit = 100, offset: Offset = 0
) -> Page[ReviewRead]:
    views, total = service.list_reviews(ctx.uow(), staff_id=staff_id, limit=limit, offset=offset)
    return Page[ReviewRead](items=[_review(v) for v in views], total=total)


@router.post("/reviews", operation_id="create_review", status_code=201, response_model=ReviewRead)
def create_review(
    body: ReviewCreate, request: Request, ctx: Reviewer, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Draft a review (nobody reviews themself)."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: service.create_review(uow, **body.model_dump()),
        _review,
    )


@router.patch("/reviews/{review_id}", operation_id="update_review")
def update_review(review_id: IdPath, body: ReviewUpdate, ctx: Reviewer) -> ReviewRead:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    return _review(
        service.update_review(ctx.uow(), review_id, version=body.version, changes=changes)
    )


@router.post("/reviews/{review_id}/finalise", operation_id="finalise_review")
def finalise_review(review_id: IdPath, body: ReviewFinalise, ctx: Reviewer) -> ReviewRead:
    """Final reviews are read-only and visible to the employee."""
    return _review(service.finalise_review(ctx.uow(), review_id, version=body.version))


# --- the signed-in employee's own ----------------------------------------------------------


@router.get("/me/staff-record", operation_id="my_staff_record")
def my_staff_record(ctx: SignedIn) -> StaffRead:
    """Your own staff record, salary included (404 ``no_staff_record`` if none)."""
    return _staff(service.my_record(ctx.uow()))


@router.get("/me/reviews", operation_id="my_reviews")
def my_reviews(ctx: SignedIn) -> list[ReviewRead]:
    """Your finalised performance reviews."""
    return [_review(v) for v in service.my_reviews(ctx.uow())]


@router.get("/me/payslips", operation_id="my_payslips")
def my_payslips(ctx: SignedIn) -> list[PayslipRead]:
    """Your payslips of finalised pay runs, newest first."""
    return [
        PayslipRead.model_validate(v, from_attributes=True)
        for v in payroll_service.my_payslips(ctx.uow())
    ]


@router.get("/me/payslips/{payslip_id}", operation_id="my_payslip")
def my_payslip(payslip_id: IdPath, ctx: SignedIn) -> PayslipRead:
    """One of your own payslips; another person's answers 404 like a missing one."""
    return PayslipRead.model_validate(
        payroll_service.my_payslip(ctx.uow(), payslip_id), from_attributes=True
    )
