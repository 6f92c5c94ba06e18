"""Payment and refund receipt PDF (A5): letterhead, receipt number with QR code, who paid,
how, how much, what it paid (invoices) and what went to account credit, cash tendered and
change. Pure reportlab; render on the task runner."""

from __future__ import annotations

from datetime import datetime

from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from hms_contract.payments import PaymentRead
from hms_desktop.printing.billing_common import (
    Letterhead,
    Styles,
    date_text,
    footer,
    grid_style,
    letterhead_block,
    money_text,
    totals_table,
)
from hms_desktop.printing.document import render_pdf

MARGIN = 10 * mm
METHODS = {
    "cash": "Cash",
    "card": "Card",
    "bank_transfer": "Bank transfer",
    "insurance": "Insurance remittance",
}


def render_receipt(
    payment: PaymentRead, head: Letterhead, *, printed_at: datetime | None = None
) -> bytes:
    """The receipt (or refund slip) as PDF bytes."""
    styles = Styles()
    width = A5[0] - 2 * MARGIN
    refund = payment.kind == "refund"
    title = {"refund": "Refund", "deposit": "Deposit receipt"}.get(payment.kind, "Receipt")
    facts = [
        ("Number", payment.receipt_number),
        ("Date", date_text(payment.received_at)),
        ("Method", METHODS.get(payment.method, payment.method)),
    ]
    story: list = [
        letterhead_block(
            head, styles, width, title=title, facts=facts, qr_value=payment.receipt_number
        ),
        Spacer(1, 4 * mm),
    ]
    who = payment.patient_name or f"Patient #{payment.patient_id}"
    story.append(
        styles.p(
            f"{'Paid to' if refund else 'Received from'}: {who}"
            f"{' · MRN ' + payment.patient_mrn if payment.patient_mrn else ''}",
            "value",
        )
    )
    if payment.reference:
        story.append(styles.p(f"Reference: {payment.reference}", "small"))
    if payment.reason:
        story.append(styles.p(f"Reason: {payment.reason}", "small"))
    story.append(Spacer(1, 3 * mm))
    if payment.allocations:
        rows: list[list[object]] = [["Invoice", "Part", "Amount"]]
        rows += [
            [
                a.invoice_number or f"#{a.invoice_id}",
                "insurer" if a.side == "payer" else "patient",
                money_text(a.amount, head),
            ]
            for a in payment.allocations
        ]
        table = Table(rows, colWidths=[width - 60 * mm, 25 * mm, 35 * mm])
        table.setStyle(TableStyle(grid_style(styles, right_from=2)))
        story += [table, Spacer(1, 3 * mm)]
    lines = [("Refunded" if refund else "Amount", money_text(payment.amount, head), True)]
    if not refund:
        lines.append(("Applied to invoices", money_text(payment.applied, head), False))
        if payment.to_credit:
            lines.append(("To account credit", money_text(payment.to_credit, head), False))
    if payment.tendered is not None:
        lines += [
            ("Cash tendered", money_text(payment.tendered, head), False),
            ("Change", money_text(payment.change_due, head), True),
        ]
    story.append(
        Table(
            [["", totals_table(styles, lines, (38 * mm, 32 * mm))]],
            colWidths=[width - 72 * mm, 72 * mm],
            style=TableStyle(
                [("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]
            ),
        )
    )
    story += [
        Spacer(1, 5 * mm),
        styles.p(f"Served by {payment.received_by_name or '—'}. Thank you.", "note"),
    ]
    printed = (printed_at or datetime.now()).strftime("%Y-%m-%d %H:%M")
    on_page = footer(styles, f"{title} {payment.receipt_number} · printed {printed}", margin=MARGIN)
    return render_pdf(
        story,
        pagesize=A5,
        margin=MARGIN,
        on_page=on_page,
        title=f"{title} {payment.receipt_number}",
        author=head.name,
        subject=title,
    )
