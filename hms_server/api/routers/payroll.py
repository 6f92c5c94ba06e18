"""Payroll: rates, monthly pay runs (draft → final) and their payslips (HR; managers read)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.staff import (
    PayrollSettings,
    PayrollSettingsUpdate,
    PayRunCreate,
    PayRunFinalise,
    PayRunRead,
    PayslipRead,
)
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import payroll as service

router = APIRouter(tags=["payroll"], responses=PROBLEM_RESPONSES)

PayrollReader = requirement(Perm.PAYROLL_READ)
PayrollManager = requirement(Perm.PAYROLL_MANAGE)


def _run(view: object) -> PayRunRead:
    return PayRunRead.model_validate(view, from_attributes=True)


def _slip(view: object) -> PayslipRead:
    return PayslipRead.model_validate(view, from_attributes=True)


@router.get("/payroll/settings", operation_id="get_payroll_settings")
def get_payroll_settings(ctx: PayrollReader) -> PayrollSettings:
    return PayrollSettings.model_validate(service.get_settings(ctx.uow()))


@router.put("/payroll/settings", operation_id="update_payroll_settings")
def update_payroll_settings(body: PayrollSettingsUpdate, ctx: PayrollManager) -> PayrollSettings:
    """Night-shift allowance per shift, income tax and pension percentages of gross pay."""
    return PayrollSettings.model_validate(service.update_settings(ctx.uow(), **body.model_dump()))


@router.get("/pay-runs", operation_id="list_pay_runs")
def list_pay_runs(
    ctx: PayrollReader,
    limit: Annotated[int, Query(ge=1, le=200)] = 24,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Page[PayRunRead]:
    views, total = service.list_pay_runs(ctx.uow(), limit=limit, offset=offset)
    return Page[PayRunRead](items=[_run(v) for v in views], total=total)


@router.post("/pay-runs", operation_id="create_pay_run", status_code=201, response_model=PayRunRead)
def create_pay_run(
    body: PayRunCreate,
    request: Request,
    ctx: PayrollManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Start the month's draft run (409 ``pay_run_exists`` if the month has one)."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: service.create_pay_run(uow, period=service.parse_period(body.period)),
        _run,
    )


@router.get("/pay-runs/{run_id}", operation_id="get_pay_run")
def get_pay_run(run_id: IdPath, ctx: PayrollReader) -> PayRunRead:
    return _run(service.get_pay_run(ctx.uow(), run_id))


@router.post("/pay-runs/{run_id}/recalculate", operation_id="recalculate_pay_run")
def recalculate_pay_run(run_id: IdPath, body: PayRunFinalise, ctx: PayrollManager) -> PayRunRead:
    """Recalculate a draft from today's records, roster and rates."""
    return _run(service.recalculate_pay_run(ctx.uow(), run_id, version=body.version))


@router.post("/pay-runs/{run_id}/finalise", operation_id="finalise_pay_run")
def finalise_pay_run(run_id: IdPath, body: PayRunFinalise, ctx: PayrollManager) -> PayRunRead:
    """Freeze the run: its payslips can no longer change (409 ``pay_run_final``)."""
    return _run(service.finalise_pay_run(ctx.uow(), run_id, version=body.version))


@router.get("/pay-runs/{run_id}/payslips", operation_id="list_payslips")
def list_payslips(run_id: IdPath, ctx: PayrollReader) -> list[PayslipRead]:
    return [_slip(v) for v in service.payslips_of_run(ctx.uow(), run_id)]


@router.get("/payslips/{payslip_id}", operation_id="get_payslip")
def get_payslip(payslip_id: IdPath, ctx: PayrollReader) -> PayslipRead:
    return _slip(service.get_payslip(ctx.uow(), payslip_id))


@router.post("/payslips/{payslip_id}/prints", operation_id="record_payslip_print", status_code=204)
def record_payslip_print(payslip_id: IdPath, ctx: PayrollReader) -> Response:
    """Tell the server a payslip was printed (the print is audited)."""
    service.record_payslip_print(ctx.uow(), payslip_id)
    return Response(status_code=204)
