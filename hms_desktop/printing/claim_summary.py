"""Claim summary PDF (A4 landscape): a payer's claims (a submitted batch or a worklist) with
invoice numbers, what was claimed, approved, rejected (and why) and remitted, and totals
that add up. Pure reportlab; render on the task runner."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from hms_contract.insurance import ClaimRead
from hms_desktop.printing.billing_common import (
    Letterhead,
    Styles,
    amount_text,
    date_text,
    footer,
    grid_style,
    letterhead_block,
)
from hms_desktop.printing.document import render_pdf

MARGIN = 12 * mm


def render_claim_summary(
    claims: list[ClaimRead],
    head: Letterhead,
    *,
    payer_name: str,
    batch_number: str | None = None,
    printed_at: datetime | None = None,
) -> bytes:
    styles = Styles()
    page = landscape(A4)
    width = page[0] - 2 * MARGIN
    mu = head.minor_unit
    facts = [
        ("Payer", payer_name),
        ("Batch", batch_number or "—"),
        ("Claims", str(len(claims))),
        ("Currency", head.currency),
    ]
    story: list = [
        letterhead_block(
            head, styles, width, title="Claim summary", facts=facts, qr_value=batch_number
        ),
        Spacer(1, 4 * mm),
    ]
    rows: list[list[object]] = [
        [
            "Claim",
            "Invoice",
            "Patient",
            "Status",
            "Claimed",
            "Approved",
            "Rejected",
            "Remitted",
            "Reasons",
        ]
    ]
    totals = {
        "claimed": Decimal(0),
        "approved": Decimal(0),
        "rejected": Decimal(0),
        "remitted": Decimal(0),
    }
    for claim in claims:
        totals["claimed"] += claim.claimed
        totals["approved"] += claim.approved or 0
        totals["rejected"] += claim.rejected or 0
        totals["remitted"] += claim.remitted
        reasons = "; ".join(claim.rejection_reasons)
        rows.append(
            [
                str(claim.id),
                claim.invoice_number,
                claim.patient_name or f"#{claim.patient_id}",
                claim.status.replace("_", " "),
                amount_text(claim.claimed, mu),
                amount_text(claim.approved, mu),
                amount_text(claim.rejected, mu),
                amount_text(claim.remitted, mu),
                styles.p(reasons) if len(reasons) > 30 else reasons,
            ]
        )
    rows.append(
        [
            "",
            "",
            "Total",
            "",
            amount_text(totals["claimed"], mu),
            amount_text(totals["approved"], mu),
            amount_text(totals["rejected"], mu),
            amount_text(totals["remitted"], mu),
            "",
        ]
    )
    fixed = [16 * mm, 38 * mm, 48 * mm, 28 * mm, 24 * mm, 24 * mm, 24 * mm, 24 * mm, 0]
    fixed[-1] = width - sum(fixed)
    table = Table(rows, colWidths=fixed, repeatRows=1)
    style = grid_style(styles)
    style += [("ALIGN", (4, 0), (7, -1), "RIGHT"), ("FONTNAME", (0, -1), (-1, -1), styles.bold)]
    table.setStyle(TableStyle(style))
    story.append(table)
    printed = (printed_at or datetime.now()).strftime("%Y-%m-%d %H:%M")
    first = min((c.submitted_at for c in claims if c.submitted_at), default=None)
    on_page = footer(
        styles,
        f"Claims to {payer_name} · {batch_number or 'worklist'} · "
        f"submitted {date_text(first) or '—'} · printed {printed}",
        margin=MARGIN,
    )
    return render_pdf(
        story,
        pagesize=page,
        margin=MARGIN,
        on_page=on_page,
        title=f"Claim summary {batch_number or payer_name}",
        author=head.name,
        subject="Claim summary",
    )
