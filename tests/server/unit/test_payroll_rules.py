"""Payroll arithmetic (domain.payroll): pro-rating by calendar days, half-up rounding to
cents on every printed line, and lines that add up to the totals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hms_server.domain.payroll import PayRates, days_employed, payslip_lines

RATES = PayRates(
    night_shift_allowance=Decimal("40.00"),
    income_tax_percent=Decimal("20.00"),
    pension_percent=Decimal("5.00"),
)


def test_one_day_of_a_31_day_month_rounds_half_up() -> None:
    lines = payslip_lines(
        period=date(2026, 1, 1),
        monthly_salary=Decimal("1000.00"),
        hired=date(2026, 1, 31),
        left=None,
        night_shifts=0,
        rates=RATES,
    )
    assert (lines.days_paid, lines.days_in_period) == (1, 31)
    assert lines.base_pay == Decimal("32.26")  # 32.2580...


def test_half_a_cent_rounds_up_not_to_even() -> None:
    # 0.25 × 10% = 0.025 exactly → 0.03 half-up (banker's rounding would give 0.02).
    exact = payslip_lines(
        period=date(2026, 2, 1),
        monthly_salary=Decimal("0.00"),
        hired=date(2020, 1, 1),
        left=None,
        night_shifts=1,
        rates=PayRates(Decimal("0.25"), Decimal("10"), Decimal("0")),
    )
    assert exact.income_tax == Decimal("0.03")


def test_lines_add_up_and_nights_are_paid() -> None:
    lines = payslip_lines(
        period=date(2026, 3, 1),
        monthly_salary=Decimal("2345.67"),
        hired=date(2019, 5, 1),
        left=date(2026, 3, 15),
        night_shifts=3,
        rates=RATES,
    )
    assert lines.days_paid == 15
    assert lines.base_pay == Decimal("1135.00")  # 2345.67 × 15/31 = 1135.0016
    assert lines.night_allowance == Decimal("120.00")
    assert lines.gross_pay == lines.base_pay + lines.night_allowance
    assert lines.net_pay == lines.gross_pay - lines.income_tax - lines.pension
    assert lines.income_tax == Decimal("251.00")
    assert lines.pension == Decimal("62.75")


def test_days_employed_outside_the_month_is_zero() -> None:
    assert days_employed(date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 2), None) == 0
    assert (
        days_employed(date(2026, 3, 1), date(2026, 3, 31), date(2020, 1, 1), date(2026, 2, 28)) == 0
    )
