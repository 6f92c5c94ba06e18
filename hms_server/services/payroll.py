"""Payroll: the rates, monthly pay runs (draft → final) and payslips.

A run is created as a draft with a payslip for everyone employed on at least one day of the
month; a draft can be recalculated (rosters and records change until pay day); finalising
freezes it (PostgreSQL triggers refuse any later change, and ``uq_pay_runs_period`` a second
run for the month). Each payslip copies the name, title and rates it was calculated with.
The arithmetic lives in ``domain.payroll``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from hms_server.adapters.orm.base import touch, utcnow
from hms_server.adapters.orm.staff import PayrollSettingsRow, PayRun, Payslip
from hms_server.adapters.repositories.staff import StaffRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.payroll import PayRates, month_bounds, payslip_lines
from hms_server.domain.staff import (
    PayRunExistsError,
    PayRunFinalError,
    PayRunNotFoundError,
    PayslipNotFoundError,
    invalid,
)
from hms_server.domain.versioning import check_version
from hms_server.services.staff import CATEGORY, actor_id, own_member


@dataclass(frozen=True)
class PayRunView:
    id: int
    period: str
    status: str
    payslip_count: int
    total_gross: Decimal
    total_net: Decimal
    created_at: datetime
    finalised_at: datetime | None
    version: int


@dataclass(frozen=True)
class PayslipView:
    id: int
    pay_run_id: int
    period: str
    status: str
    staff_id: int
    employee_number: str
    full_name: str
    job_title: str
    department_name: str
    grade: str | None
    days_paid: int
    days_in_period: int
    monthly_salary: Decimal
    base_pay: Decimal
    night_shifts: int
    night_shift_rate: Decimal
    night_allowance: Decimal
    gross_pay: Decimal
    income_tax_percent: Decimal
    income_tax: Decimal
    pension_percent: Decimal
    pension: Decimal
    total_deductions: Decimal
    net_pay: Decimal


def period_label(period: date) -> str:
    return period.strftime("%Y-%m")


def parse_period(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def _payslip_view(slip: Payslip, run: PayRun) -> PayslipView:
    return PayslipView(
        id=slip.id,
        pay_run_id=run.id,
        period=period_label(run.period),
        status=run.status,
        staff_id=slip.staff_id,
        employee_number=slip.employee_number,
        full_name=slip.full_name,
        job_title=slip.job_title,
        department_name=slip.department_name,
        grade=slip.grade,
        days_paid=slip.days_paid,
        days_in_period=slip.days_in_period,
        monthly_salary=slip.monthly_salary,
        base_pay=slip.base_pay,
        night_shifts=slip.night_shifts,
        night_shift_rate=slip.night_shift_rate,
        night_allowance=slip.night_allowance,
        gross_pay=slip.gross_pay,
        income_tax_percent=slip.income_tax_percent,
        income_tax=slip.income_tax,
        pension_percent=slip.pension_percent,
        pension=slip.pension,
        total_deductions=slip.income_tax + slip.pension,
        net_pay=slip.net_pay,
    )


def _run_views(uow: UnitOfWork, runs: list[PayRun]) -> list[PayRunView]:
    totals = uow.repo(StaffRepository).run_totals([r.id for r in runs])
    views = []
    for run in runs:
        count, gross, net = totals.get(run.id, (0, Decimal(0), Decimal(0)))
        views.append(
            PayRunView(
                id=run.id,
                period=period_label(run.period),
                status=run.status,
                payslip_count=count,
                total_gross=Decimal(gross),
                total_net=Decimal(net),
                created_at=run.created_at,
                finalised_at=run.finalised_at,
                version=run.version,
            )
        )
    return views


# --- settings -------------------------------------------------------------------------------


def get_settings(uow: UnitOfWork) -> PayrollSettingsRow:
    with uow:
        return uow.repo(StaffRepository).payroll_settings()


def update_settings(
    uow: UnitOfWork,
    *,
    version: int,
    night_shift_allowance: Decimal,
    income_tax_percent: Decimal,
    pension_percent: Decimal,
) -> PayrollSettingsRow:
    """New rates apply to runs calculated from now on; final runs keep theirs."""
    with uow:
        row = uow.repo(StaffRepository).payroll_settings(lock=True)
        check_version(row.version, version, "payroll settings")
        if income_tax_percent + pension_percent > 100:
            raise invalid("pension_percent", "tax and pension together exceed 100%")
        row.night_shift_allowance = uow.hospital.round_money(night_shift_allowance)
        row.income_tax_percent = income_tax_percent.quantize(Decimal("0.01"))
        row.pension_percent = pension_percent.quantize(Decimal("0.01"))
        touch(row)
        uow.repo(StaffRepository).flush()
        uow.audit(CATEGORY, "payroll.settings", detail={"version": row.version})
        uow.commit()
        return row


# --- runs -----------------------------------------------------------------------------------


def _calculate(uow: UnitOfWork, run: PayRun) -> None:
    """(Re)write the payslips of a draft run from today's records, roster and rates."""
    repo = uow.repo(StaffRepository)
    settings = repo.payroll_settings()
    rates = PayRates(
        night_shift_allowance=settings.night_shift_allowance,
        income_tax_percent=settings.income_tax_percent,
        pension_percent=settings.pension_percent,
    )
    first, last = month_bounds(run.period)
    start, _ = uow.hospital.day_bounds(first)
    _, end = uow.hospital.day_bounds(last)
    nights = repo.night_shift_counts(start, end)
    members = repo.employed_during(first, last)
    departments = repo.department_names({m.department_id for m in members})
    repo.clear_payslips(run.id)
    slips = []
    for member in members:
        lines = payslip_lines(
            period=first,
            monthly_salary=member.base_monthly_salary,
            hired=member.hire_date,
            left=member.end_date,
            night_shifts=nights.get(member.id, 0),
            rates=rates,
            quantum=uow.hospital.money_quantum,
        )
        slips.append(
            Payslip(
                pay_run_id=run.id,
                staff_id=member.id,
                employee_number=member.employee_number,
                full_name=member.full_name,
                job_title=member.job_title,
                department_name=departments.get(member.department_id, ""),
                grade=member.grade,
                days_paid=lines.days_paid,
                days_in_period=lines.days_in_period,
                monthly_salary=member.base_monthly_salary,
                base_pay=lines.base_pay,
                night_shifts=lines.night_shifts,
                night_shift_rate=rates.night_shift_allowance,
                night_allowance=lines.night_allowance,
                gross_pay=lines.gross_pay,
                income_tax_percent=rates.income_tax_percent,
                income_tax=lines.income_tax,
                pension_percent=rates.pension_percent,
                pension=lines.pension,
                net_pay=lines.net_pay,
            )
        )
    repo.add_all(slips)


def create_pay_run(uow: UnitOfWork, *, period: date) -> PayRunView:
    """Start the month's draft run with a payslip for everyone employed in it."""
    with uow:
        repo = uow.repo(StaffRepository)
        if period > uow.hospital.today().replace(day=1) + timedelta(days=31):
            raise invalid("period", "more than a month ahead")
        if repo.pay_run_for(period) is not None:
            raise PayRunExistsError(f"There already is a pay run for {period_label(period)}.")
        run = PayRun(period=period, status="draft", created_by_user_id=actor_id(uow), version=1)
        repo.add(run)
        repo.refresh(run)
        _calculate(uow, run)
        uow.audit(CATEGORY, "payroll.run", detail={"pay_run_id": run.id})
        uow.publish("pay_run.created", {"pay_run_id": run.id})
        uow.commit()
        return _run_views(uow, [run])[0]


def _draft(uow: UnitOfWork, run_id: int, version: int) -> PayRun:
    run = uow.repo(StaffRepository).pay_run(run_id, lock=True)
    if run is None:
        raise PayRunNotFoundError(f"No pay run with id {run_id}.")
    check_version(run.version, version, "pay run")
    if run.status == "final":
        raise PayRunFinalError(f"The {period_label(run.period)} pay run is final.")
    return run


def recalculate_pay_run(uow: UnitOfWork, run_id: int, *, version: int) -> PayRunView:
    with uow:
        run = _draft(uow, run_id, version)
        _calculate(uow, run)
        touch(run)
        uow.repo(StaffRepository).flush()
        uow.audit(CATEGORY, "payroll.recalculate", detail={"pay_run_id": run.id})
        uow.publish("pay_run.recalculated", {"pay_run_id": run.id})
        uow.commit()
        return _run_views(uow, [run])[0]


def finalise_pay_run(uow: UnitOfWork, run_id: int, *, version: int) -> PayRunView:
    with uow:
        run = _draft(uow, run_id, version)
        run.status = "final"
        run.finalised_at = utcnow()
        run.finalised_by_user_id = actor_id(uow)
        uow.repo(StaffRepository).flush()
        uow.audit(CATEGORY, "payroll.finalise", detail={"pay_run_id": run.id})
        uow.publish("pay_run.finalised", {"pay_run_id": run.id})
        uow.commit()
        return _run_views(uow, [run])[0]


def list_pay_runs(uow: UnitOfWork, *, limit: int, offset: int) -> tuple[list[PayRunView], int]:
    with uow:
        runs, total = uow.repo(StaffRepository).pay_runs(limit=limit, offset=offset)
        return _run_views(uow, runs), total


def get_pay_run(uow: UnitOfWork, run_id: int) -> PayRunView:
    with uow:
        run = uow.repo(StaffRepository).pay_run(run_id)
        if run is None:
            raise PayRunNotFoundError(f"No pay run with id {run_id}.")
        return _run_views(uow, [run])[0]


def payslips_of_run(uow: UnitOfWork, run_id: int) -> list[PayslipView]:
    with uow:
        repo = uow.repo(StaffRepository)
        run = repo.pay_run(run_id)
        if run is None:
            raise PayRunNotFoundError(f"No pay run with id {run_id}.")
        views = [_payslip_view(s, run) for s in repo.payslips_of(run.id)]
        uow.audit(CATEGORY, "payslip.list", detail={"pay_run_id": run.id})
        uow.commit()
        return views


def get_payslip(uow: UnitOfWork, payslip_id: int) -> PayslipView:
    with uow:
        found = uow.repo(StaffRepository).payslip(payslip_id)
        if found is None:
            raise PayslipNotFoundError(f"No payslip with id {payslip_id}.")
        view = _payslip_view(*found)
        uow.audit(
            CATEGORY, "payslip.view", detail={"payslip_id": view.id, "staff_id": view.staff_id}
        )
        uow.commit()
        return view


def my_payslips(uow: UnitOfWork) -> list[PayslipView]:
    """The caller's payslips of finalised runs (drafts are not pay yet)."""
    with uow:
        member = own_member(uow)
        return [
            _payslip_view(s, r)
            for s, r in uow.repo(StaffRepository).final_payslips_of_staff(member.id)
        ]


def my_payslip(uow: UnitOfWork, payslip_id: int) -> PayslipView:
    """One of the caller's own final payslips; anyone else's answers 404 like a missing one."""
    with uow:
        member = own_member(uow)
        found = uow.repo(StaffRepository).payslip(payslip_id)
        if found is None or found[0].staff_id != member.id or found[1].status != "final":
            raise PayslipNotFoundError(f"No payslip of yours with id {payslip_id}.")
        view = _payslip_view(*found)
        uow.audit(CATEGORY, "payslip.view", detail={"payslip_id": view.id, "staff_id": member.id})
        uow.commit()
        return view


def record_payslip_print(uow: UnitOfWork, payslip_id: int) -> None:
    """A payslip went to a printer (the desktop says so after its print dialog): audited."""
    with uow:
        found = uow.repo(StaffRepository).payslip(payslip_id)
        if found is None:
            raise PayslipNotFoundError(f"No payslip with id {payslip_id}.")
        uow.audit(
            CATEGORY,
            "payslip.print",
            detail={"payslip_id": payslip_id, "staff_id": found[0].staff_id},
        )
        uow.commit()
