"""Patient statement PDF (A4): opening balance, every movement of the period with a running
balance, the closing balance, and the invoices still open. The QR code carries the MRN.
Pure reportlab; render on the task runner."""

from __future__ import annotations

from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from hms_contract.payments import StatementRead
from hms_desktop.printing.billing_common import (
    Letterhead,
    Styles,
    amount_text,
    date_text,
    footer,
    grid_style,
    letterhead_block,
    money_text,
    totals_table,
)
from hms_desktop.printing.document import render_pdf

MARGIN = 14 * mm


def render_statement(
    statement: StatementRead, head: Letterhead, *, printed_at: datetime | None = None
) -> bytes:
    styles = Styles()
    width = A4[0] - 2 * MARGIN
    mu = head.minor_unit
    facts = [
        ("Period", f"{date_text(statement.period_from)} –"),
        ("", date_text(statement.period_to)),
        ("Currency", statement.currency),
    ]
    story: list = [
        letterhead_block(
            head,
            styles,
            width,
            title="Statement of account",
            facts=facts,
            qr_value=statement.patient_mrn,
        ),
        Spacer(1, 4 * mm),
    ]
    who = statement.patient_name or f"Patient #{statement.patient_id}"
    story += [styles.p(f"{who} · MRN {statement.patient_mrn or '—'}", "value"), Spacer(1, 3 * mm)]
    rows: list[list[object]] = [
        ["Date", "Reference", "Description", "Charges", "Payments", "Balance"],
        ["", "", "Opening balance", "", "", amount_text(statement.opening_balance, mu)],
    ]
    for entry in statement.entries:
        rows.append(
            [
                entry.on.strftime("%d.%m.%Y"),
                entry.reference,
                styles.p(entry.description) if len(entry.description) > 40 else entry.description,
                amount_text(entry.debit, mu) if entry.debit else "",
                amount_text(entry.credit, mu) if entry.credit else "",
                amount_text(entry.balance, mu),
            ]
        )
    fixed = [22 * mm, 36 * mm, 0, 24 * mm, 24 * mm, 26 * mm]
    fixed[2] = width - sum(fixed)
    table = Table(rows, colWidths=fixed, repeatRows=1)
    table.setStyle(TableStyle(grid_style(styles, right_from=3)))
    story += [table, Spacer(1, 4 * mm)]
    closing = statement.closing_balance
    label = "Amount due" if closing > 0 else ("In your favour" if closing < 0 else "Balance")
    story.append(
        Table(
            [
                [
                    "",
                    totals_table(
                        styles, [(label, money_text(abs(closing), head), True)], (36 * mm, 34 * mm)
                    ),
                ]
            ],
            colWidths=[width - 72 * mm, 72 * mm],
            style=TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]),
        )
    )
    if statement.outstanding_invoices:
        open_rows: list[list[object]] = [["Invoice", "Issued", "Due", "Total", "Outstanding"]]
        open_rows += [
            [
                i.number or "",
                date_text(i.issued_on),
                date_text(i.due_on),
                amount_text(i.total, mu),
                amount_text(i.balance, mu),
            ]
            for i in statement.outstanding_invoices
        ]
        open_table = Table(open_rows, colWidths=[40 * mm, 28 * mm, 28 * mm, 28 * mm, 30 * mm])
        open_table.setStyle(TableStyle(grid_style(styles, right_from=3)))
        story += [
            Spacer(1, 5 * mm),
            styles.p("Open invoices", "head"),
            Spacer(1, 1 * mm),
            open_table,
        ]
    printed = (printed_at or datetime.now()).strftime("%Y-%m-%d %H:%M")
    on_page = footer(
        styles,
        f"Statement · {who} · MRN {statement.patient_mrn or '—'} · printed {printed}",
        margin=MARGIN,
    )
    return render_pdf(
        story,
        pagesize=A4,
        margin=MARGIN,
        on_page=on_page,
        title=f"Statement {statement.patient_mrn or ''}",
        author=head.name,
        subject="Statement of account",
    )
