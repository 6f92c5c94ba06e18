"""Billing read-side queries: receivables ageing and the movements of a patient statement.

``ar_ageing`` reads open invoices straight from the partial covering index
``ix_invoices_open_ageing`` (``issued_on`` + the four money columns, only rows in status
finalised/partly paid), so it stays fast with a million paid invoices around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hms_server.adapters.orm.billing import CreditNote, Invoice, InvoiceLine, Payment
from hms_server.adapters.orm.insurance import Claim, Payer

AGEING_SQL = text("""
SELECT CASE WHEN age <= 30 THEN '0-30' WHEN age <= 60 THEN '31-60'
            WHEN age <= 90 THEN '61-90' ELSE '90+' END AS bucket,
       coalesce(sum(patient_due - patient_paid), 0) AS patient,
       coalesce(sum(payer_due - payer_paid), 0) AS payer,
       count(*) AS invoices
  FROM (SELECT CAST(:as_of AS date) - issued_on AS age, patient_due, patient_paid,
               payer_due, payer_paid
          FROM invoices
         WHERE status IN ('finalised', 'partly_paid') AND issued_on <= CAST(:as_of AS date)
       ) open_invoices
 GROUP BY 1
""")


def ar_ageing(session: Session, as_of: date) -> dict[str, tuple[Decimal, Decimal, int]]:
    """Bucket → (patients' part, payers' part, invoice count) still owed."""
    return {
        bucket: (Decimal(patient), Decimal(payer), int(count))
        for bucket, patient, payer, count in session.execute(AGEING_SQL, {"as_of": as_of})
    }


@dataclass(frozen=True)
class Movement:
    at: date
    kind: str
    reference: str
    description: str
    debit: Decimal
    credit: Decimal


def _day(value: datetime | date | None, zone: object) -> date:
    if isinstance(value, datetime):
        return value.astimezone(zone).date()  # type: ignore[arg-type]
    assert value is not None
    return value


def statement_movements(session: Session, patient_id: int, zone: object) -> list[Movement]:
    """Everything that moved the patient's balance, oldest first: invoices (less the payers'
    shares), rejected claim amounts billed to the patient, credit notes (patient part),
    payments and deposits, refunds."""
    moves: list[Movement] = []
    shares = dict(
        session.execute(
            select(InvoiceLine.invoice_id, func.sum(InvoiceLine.payer_share))
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.patient_id == patient_id, Invoice.status != "draft")
            .group_by(InvoiceLine.invoice_id)
        ).all()
    )
    for invoice in session.scalars(
        select(Invoice).where(Invoice.patient_id == patient_id, Invoice.status != "draft")
    ):
        moves.append(
            Movement(
                invoice.issued_on or _day(invoice.finalised_at, zone),
                "invoice",
                invoice.number or "",
                "Invoice",
                invoice.total,
                Decimal(0),
            )
        )
        share = Decimal(shares.get(invoice.id) or 0)
        if share > 0:
            moves.append(
                Movement(
                    invoice.issued_on or _day(invoice.finalised_at, zone),
                    "payer_adjustment",
                    invoice.number or "",
                    "Insurance share",
                    Decimal(0),
                    share,
                )
            )
    for claim, payer in session.execute(
        select(Claim, Payer.name)
        .join(Payer, Payer.id == Claim.payer_id)
        .where(Claim.patient_id == patient_id, Claim.rejection_resolution == "bill_patient")
    ):
        moves.append(
            Movement(
                _day(claim.adjudicated_at, zone),
                "payer_adjustment",
                f"claim {claim.id}",
                f"Not paid by {payer}",
                claim.rejected or Decimal(0),
                Decimal(0),
            )
        )
    for note in session.scalars(select(CreditNote).where(CreditNote.patient_id == patient_id)):
        if note.patient_part > 0:
            moves.append(
                Movement(
                    _day(note.created_at, zone),
                    "credit_note",
                    note.number,
                    note.reason,
                    Decimal(0),
                    note.patient_part,
                )
            )
    for payment in session.scalars(
        select(Payment).where(Payment.patient_id == patient_id, Payment.method != "insurance")
    ):
        day = _day(payment.received_at, zone)
        label = payment.method.replace("_", " ")
        if payment.kind == "refund":
            moves.append(
                Movement(
                    day,
                    "refund",
                    payment.receipt_number,
                    f"Refund ({label})",
                    payment.amount,
                    Decimal(0),
                )
            )
        else:
            moves.append(
                Movement(
                    day,
                    payment.kind,
                    payment.receipt_number,
                    f"{payment.kind.title()} ({label})",
                    Decimal(0),
                    payment.amount,
                )
            )
    order = {
        "invoice": 0,
        "payer_adjustment": 1,
        "credit_note": 2,
        "payment": 3,
        "deposit": 3,
        "refund": 4,
    }
    return sorted(moves, key=lambda m: (m.at, order.get(m.kind, 9), m.reference))
