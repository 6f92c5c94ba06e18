"""Payslip PDF (A4): hospital letterhead, the employee and the period, earnings (pro-rated base
pay, night-shift allowance), deductions (income tax, pension) and net pay, all as the server
calculated them (this module does no arithmetic). A draft run prints with a DRAFT watermark.
Pure reportlab; render on the task runner."""

from __future__ import annotations

from datetime import date, datetime

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from hms_contract.staff import PayslipRead
from hms_desktop.printing.billing_common import (
    Letterhead,
    Styles,
    amount_text,
    footer,
    grid_style,
    letterhead_block,
    money_text,
    totals_table,
)
from hms_desktop.printing.document import render_pdf

MARGIN = 14 * mm


def period_text(period: str) -> str:
    """``2026-11`` → ``November 2026``."""
    year, month = period.split("-")
    return date(int(year), int(month), 1).strftime("%B %Y")


def render_payslip(
    slip: PayslipRead, head: Letterhead, *, printed_at: datetime | None = None
) -> bytes:
    """The payslip as PDF bytes."""
    styles = Styles()
    width = A4[0] - 2 * MARGIN
    period = period_text(slip.period)
    facts = [
        ("Period", period),
        ("Employee no.", slip.employee_number),
        ("Payslip", f"#{slip.id}"),
    ]
    story: list = [
        letterhead_block(head, styles, width, title="Payslip", facts=facts, qr_value=None),
        Spacer(1, 5 * mm),
    ]
    who = [
        ["Employee", slip.full_name],
        ["Job title", slip.job_title + (f" · grade {slip.grade}" if slip.grade else "")],
        ["Department", slip.department_name],
        ["Monthly salary", money_text(slip.monthly_salary, head)],
        ["Days paid", f"{slip.days_paid} of {slip.days_in_period}"],
    ]
    story.append(
        Table(
            [[styles.p(label, "label"), styles.p(value, "value")] for label, value in who],
            colWidths=[32 * mm, width - 32 * mm],
            style=TableStyle(
                [
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            ),
        )
    )
    story.append(Spacer(1, 5 * mm))
    base_note = (
        "full month"
        if slip.days_paid == slip.days_in_period
        else f"{slip.days_paid}/{slip.days_in_period} days"
    )
    rows: list[list[object]] = [
        ["Earnings", "Basis", "Amount"],
        ["Base pay", base_note, money_text(slip.base_pay, head)],
        [
            "Night-shift allowance",
            f"{slip.night_shifts} × {money_text(slip.night_shift_rate, head)}",
            money_text(slip.night_allowance, head),
        ],
        ["Gross pay", "", money_text(slip.gross_pay, head)],
    ]
    earnings = Table(rows, colWidths=[width - 90 * mm, 50 * mm, 40 * mm])
    earnings.setStyle(
        TableStyle([*grid_style(styles, right_from=2), ("FONTNAME", (0, 3), (-1, 3), styles.bold)])
    )
    story += [earnings, Spacer(1, 4 * mm)]
    rows = [
        ["Deductions", "Rate", "Amount"],
        [
            "Income tax",
            f"{amount_text(slip.income_tax_percent)} % of gross",
            money_text(slip.income_tax, head),
        ],
        [
            "Pension",
            f"{amount_text(slip.pension_percent)} % of gross",
            money_text(slip.pension, head),
        ],
        ["Total deductions", "", money_text(slip.total_deductions, head)],
    ]
    deductions = Table(rows, colWidths=[width - 90 * mm, 50 * mm, 40 * mm])
    deductions.setStyle(
        TableStyle([*grid_style(styles, right_from=2), ("FONTNAME", (0, 3), (-1, 3), styles.bold)])
    )
    story += [deductions, Spacer(1, 5 * mm)]
    story.append(
        Table(
            [["", totals_table(styles, [("Net pay", money_text(slip.net_pay, head), True)])]],
            colWidths=[width - 68 * mm, 68 * mm],
            style=TableStyle(
                [("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]
            ),
        )
    )
    story += [
        Spacer(1, 8 * mm),
        styles.p("This payslip is confidential. Questions about your pay: the HR office.", "note"),
    ]
    printed = (printed_at or datetime.now()).strftime("%Y-%m-%d %H:%M")
    on_page = footer(
        styles,
        f"Payslip {slip.employee_number} · {period} · printed {printed}",
        watermark="DRAFT" if slip.status != "final" else None,
        margin=MARGIN,
    )
    return render_pdf(
        story,
        pagesize=A4,
        margin=MARGIN,
        on_page=on_page,
        title=f"Payslip {slip.employee_number} {period}",
        author=head.name,
        subject="Payslip",
    )
