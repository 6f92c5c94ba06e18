"""Payroll arithmetic: one payslip from a monthly salary, employment dates, night shifts and the
configured rates. Plain Decimal, ROUND_HALF_UP to the currency's minor unit at each line a
payslip prints, so the printed lines always add up to the printed totals.

Base pay is pro-rated by calendar days employed in the month (hire or leaving date inside the
month): ``salary × days_paid / days_in_month``. Income tax and pension are percentages of the
gross pay (base pay plus the night-shift allowance).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class PayRates:
    night_shift_allowance: Decimal
    income_tax_percent: Decimal
    pension_percent: Decimal


@dataclass(frozen=True)
class PayLines:
    days_paid: int
    days_in_period: int
    base_pay: Decimal
    night_shifts: int
    night_allowance: Decimal
    gross_pay: Decimal
    income_tax: Decimal
    pension: Decimal
    net_pay: Decimal

    @property
    def total_deductions(self) -> Decimal:
        return self.income_tax + self.pension


def month_bounds(period: date) -> tuple[date, date]:
    """First and last day of the month ``period`` lies in."""
    first = period.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def days_employed(first: date, last: date, hired: date, left: date | None) -> int:
    """Calendar days of ``[first, last]`` on which the person was employed (0 if none)."""
    start = max(first, hired)
    end = min(last, left) if left is not None else last
    return max(0, (end - start).days + 1)


def payslip_lines(
    *,
    period: date,
    monthly_salary: Decimal,
    hired: date,
    left: date | None,
    night_shifts: int,
    rates: PayRates,
    quantum: Decimal = Decimal("0.01"),
) -> PayLines:
    def money(amount: Decimal) -> Decimal:
        return amount.quantize(quantum, rounding=ROUND_HALF_UP)

    first, last = month_bounds(period)
    days_in_period = (last - first).days + 1
    days_paid = days_employed(first, last, hired, left)
    base = money(monthly_salary * days_paid / days_in_period)
    allowance = money(rates.night_shift_allowance * night_shifts)
    gross = base + allowance
    tax = money(gross * rates.income_tax_percent / 100)
    pension = money(gross * rates.pension_percent / 100)
    return PayLines(
        days_paid=days_paid,
        days_in_period=days_in_period,
        base_pay=base,
        night_shifts=night_shifts,
        night_allowance=allowance,
        gross_pay=gross,
        income_tax=tax,
        pension=pension,
        net_pay=gross - tax - pension,
    )
