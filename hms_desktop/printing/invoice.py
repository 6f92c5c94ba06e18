"""Invoice PDF (A4): letterhead with logo, number and QR code, patient and insurance, the
lines, tax per category, and totals that add up — exactly the server's amounts (never
recomputed here), in the configured currency. A draft prints with a DRAFT watermark and no
number; a voided invoice says VOID. Pure reportlab; render on the task runner."""

from __future__ import annotations

from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from hms_contract.billing import InvoiceRead
from hms_desktop.printing.billing_common import (
    RULE,
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


def _rate(rate: object) -> str:
    text = format(rate, "f") if rate is not None else ""
    return (text.rstrip("0").rstrip(".") if "." in text else text) + " %"


def render_invoice(
    invoice: InvoiceRead, head: Letterhead, *, printed_at: datetime | None = None
) -> bytes:
    """The invoice as PDF bytes."""
    styles = Styles()
    s, mu = styles.p, head.minor_unit
    width = A4[0] - 2 * MARGIN
    number = invoice.number or "DRAFT"
    title = {"draft": "Draft invoice", "void": "Invoice (void)"}.get(invoice.status, "Invoice")
    facts = [
        ("Number", number),
        ("Issued", date_text(invoice.issued_on) or "—"),
        ("Due", date_text(invoice.due_on) or "—"),
        ("Currency", invoice.currency),
    ]
    story: list = [
        letterhead_block(head, styles, width, title=title, facts=facts, qr_value=invoice.number),
        Spacer(1, 4 * mm),
    ]

    def field(label: str, value: object) -> list:
        return [s(label, "label"), s(value or "—", "value")]

    bill_to = [
        field("Patient", invoice.patient_name or f"Patient #{invoice.patient_id}"),
        field("MRN", invoice.patient_mrn),
    ]
    insurer = (
        [
            field("Insurer", invoice.payer_name),
            field("Plan · member", f"{invoice.plan_name or ''} · {invoice.member_number or ''}"),
        ]
        if invoice.policy_id
        else [field("Insurer", "Self-pay"), ""]
    )
    who = Table(
        [[bill_to[0], bill_to[1], insurer[0], insurer[1]]],
        colWidths=[width * 0.32, width * 0.2, width * 0.2, width * 0.28],
    )
    who.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.5, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    story += [who, Spacer(1, 4 * mm)]

    rows: list[list[object]] = [
        ["#", "Date", "Code", "Description", "Qty", "Unit price", "Discount", "Tax", "Net"]
    ]
    fixed = [8 * mm, 17 * mm, 25 * mm, 0, 12 * mm, 20 * mm, 18 * mm, 13 * mm, 22 * mm]
    fixed[3] = width - sum(fixed)
    room = int(fixed[3] / (8.5 * 0.5))  # characters that fit the description column
    for line in invoice.lines:
        description = s(line.description) if len(line.description) > room else line.description
        rows.append(
            [
                str(line.line_no),
                line.service_date.strftime("%d.%m.%y"),
                line.code,
                description,
                format(line.quantity.normalize(), "f"),
                amount_text(line.unit_price, mu),
                amount_text(line.discount, mu) if line.discount else "",
                _rate(line.tax_rate),
                amount_text(line.net, mu),
            ]
        )
    lines = Table(rows, colWidths=fixed, repeatRows=1)
    lines.setStyle(TableStyle(grid_style(styles, right_from=4)))
    story += [lines, Spacer(1, 4 * mm)]

    taxes: list[list[object]] = [["Tax category", "Rate", "Taxable", "Tax"]]
    for tax in invoice.tax_lines:
        taxes.append(
            [
                tax.tax_category.replace("_", " ").title(),
                _rate(tax.tax_rate),
                amount_text(tax.taxable, mu),
                amount_text(tax.tax, mu),
            ]
        )
    tax_table = Table(taxes, colWidths=[30 * mm, 14 * mm, 22 * mm, 20 * mm])
    tax_table.setStyle(TableStyle(grid_style(styles, right_from=1)))

    totals = [
        ("Subtotal", invoice.subtotal),
        ("Discount", -invoice.discount),
        ("Tax", invoice.tax),
        ("Total", invoice.total),
    ]
    if invoice.policy_id:
        totals += [("Insurer pays", invoice.payer_due), ("Patient pays", invoice.patient_due)]
    if invoice.credited:
        totals.append(("Credited", -invoice.credited))
    if invoice.written_off:
        totals.append(("Written off", -invoice.written_off))
    totals += [("Paid", -invoice.paid), ("Balance due", invoice.balance)]
    strong = {"Total", "Balance due"}
    total_table = totals_table(
        styles,
        [
            (label, money_text(value, head), label in strong)
            for label, value in totals
            if value or label in strong or label == "Paid"
        ],
    )
    summary = Table([[tax_table, total_table]], colWidths=[width - 70 * mm, 70 * mm])
    summary.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story.append(KeepTogether([summary]))

    if invoice.credit_notes:
        story += [Spacer(1, 3 * mm), s("Credit notes", "head")]
        for note in invoice.credit_notes:
            story.append(
                s(
                    f"{note.number} · {date_text(note.created_at)} · "
                    f"{money_text(note.amount, head)} · {note.reason}",
                    "note",
                )
            )
    if invoice.notes:
        story += [Spacer(1, 3 * mm), s(invoice.notes, "note")]
    if invoice.status in ("finalised", "partly_paid") and invoice.patient_balance > 0:
        story += [
            Spacer(1, 4 * mm),
            s(
                f"Please pay {money_text(invoice.patient_balance, head)} by "
                f"{date_text(invoice.due_on)}, quoting invoice {number}.",
                "note",
            ),
        ]
    if invoice.status == "draft":
        story += [Spacer(1, 3 * mm), s("Draft — not a valid invoice until finalised.", "alert")]

    printed = (printed_at or datetime.now()).strftime("%Y-%m-%d %H:%M")
    name = invoice.patient_name or f"patient {invoice.patient_id}"
    on_page = footer(
        styles,
        f"Invoice {number} · {name} · MRN {invoice.patient_mrn or '—'} · printed {printed}",
        watermark={"draft": "DRAFT", "void": "VOID"}.get(invoice.status),
        margin=MARGIN,
    )
    return render_pdf(
        story,
        pagesize=A4,
        margin=MARGIN,
        on_page=on_page,
        title=f"Invoice {number}",
        author=head.name,
        subject="Invoice",
    )
