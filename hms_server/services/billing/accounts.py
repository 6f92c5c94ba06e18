"""The patient account (what is unbilled, owed, paid and held as credit), the printable
statement for a period, and receivables ageing for the hospital."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hms_server.adapters.queries.billing import ar_ageing, statement_movements
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import AGEING_BUCKETS
from hms_server.domain.errors import NotFoundError, ValidationFailedError
from hms_server.services.billing.common import audit, repo, require_patient
from hms_server.services.billing.views import (
    InvoiceSummaryView,
    PaymentView,
    invoice_summaries,
    payment_views,
)


@dataclass(frozen=True)
class AccountView:
    patient_id: int
    patient_name: str | None
    patient_mrn: str | None
    currency: str
    unbilled: Decimal
    unbilled_count: int
    draft_count: int
    outstanding: Decimal
    payer_outstanding: Decimal
    credit: Decimal
    balance: Decimal
    invoices: list[InvoiceSummaryView]
    payments: list[PaymentView]


def account(uow: UnitOfWork, patient_id: int, *, recent: int = 50) -> AccountView:
    with uow:
        patient = require_patient(uow, patient_id)
        r, rm = repo(uow), uow.hospital.round_money
        unbilled, unbilled_count = r.unbilled_totals(patient_id)
        outstanding, payer_outstanding, drafts = r.patient_outstanding(patient_id)
        credit = r.account_credit(patient_id)
        invoices, _ = r.list_invoices(
            patient_id=patient_id, status=None, q=None, limit=recent, offset=0, sort="-created_at"
        )
        payments, _ = r.patient_payments(patient_id, limit=recent, offset=0)
        view = AccountView(
            patient_id=patient_id,
            patient_name=f"{patient.given_name} {patient.family_name}",
            patient_mrn=patient.mrn,
            currency=uow.hospital.currency,
            unbilled=rm(unbilled),
            unbilled_count=unbilled_count,
            draft_count=drafts,
            outstanding=rm(outstanding),
            payer_outstanding=rm(payer_outstanding),
            credit=rm(credit),
            balance=rm(outstanding - credit),
            invoices=invoice_summaries(uow, invoices),
            payments=payment_views(uow, payments),
        )
        audit(uow, "account.read", patient_id=patient_id)
        uow.commit()
        return view


@dataclass(frozen=True)
class StatementEntryView:
    on: date
    kind: str
    reference: str
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal


@dataclass(frozen=True)
class StatementView:
    patient_id: int
    patient_name: str | None
    patient_mrn: str | None
    currency: str
    period_from: date
    period_to: date
    opening_balance: Decimal
    entries: list[StatementEntryView]
    closing_balance: Decimal
    outstanding_invoices: list[InvoiceSummaryView]


def statement(
    uow: UnitOfWork, patient_id: int, *, period_from: date | None, period_to: date | None
) -> StatementView:
    """Opening balance, every movement of the period with a running balance, closing
    balance (= what the patient owes less their credit), and the invoices still open."""
    with uow:
        patient = require_patient(uow, patient_id)
        today = uow.hospital.today()
        end = period_to or today
        start = period_from or end.replace(day=1)
        if start > end:
            raise ValidationFailedError("The period ends before it starts.")
        rm = uow.hospital.round_money
        opening, entries = Decimal(0), []
        for move in statement_movements(uow.session, patient_id, uow.hospital.zone):
            if move.at < start:
                opening += move.debit - move.credit
            elif move.at <= end:
                entries.append(move)
        running, rows = opening, []
        for move in entries:
            running += move.debit - move.credit
            rows.append(
                StatementEntryView(
                    on=move.at,
                    kind=move.kind,
                    reference=move.reference,
                    description=move.description,
                    debit=rm(move.debit),
                    credit=rm(move.credit),
                    balance=rm(running),
                )
            )
        open_invoices, _ = repo(uow).list_invoices(
            patient_id=patient_id,
            status=("finalised", "partly_paid"),
            q=None,
            limit=200,
            offset=0,
            sort="issued_on",
        )
        view = StatementView(
            patient_id=patient_id,
            patient_name=f"{patient.given_name} {patient.family_name}",
            patient_mrn=patient.mrn,
            currency=uow.hospital.currency,
            period_from=start,
            period_to=end,
            opening_balance=rm(opening),
            entries=rows,
            closing_balance=rm(running),
            outstanding_invoices=invoice_summaries(uow, open_invoices),
        )
        audit(
            uow,
            "statement.read",
            patient_id=patient_id,
            period_from=start.isoformat(),
            period_to=end.isoformat(),
        )
        uow.commit()
        return view


@dataclass(frozen=True)
class AgeingBucketView:
    bucket: str
    patient: Decimal
    payer: Decimal
    total: Decimal
    invoices: int


@dataclass(frozen=True)
class AgeingView:
    as_of: date
    currency: str
    buckets: list[AgeingBucketView]
    total: Decimal


def ageing(uow: UnitOfWork, *, as_of: date | None) -> AgeingView:
    """Open receivables by age (days since the invoice date): 0–30, 31–60, 61–90, 90+."""
    with uow:
        when = as_of or uow.hospital.today()
        rows = ar_ageing(uow.session, when)
        rm = uow.hospital.round_money
        buckets = []
        for name in AGEING_BUCKETS:
            patient, payer, count = rows.get(name, (Decimal(0), Decimal(0), 0))
            buckets.append(
                AgeingBucketView(name, rm(patient), rm(payer), rm(patient + payer), count)
            )
        return AgeingView(
            as_of=when,
            currency=uow.hospital.currency,
            buckets=buckets,
            total=rm(sum((b.total for b in buckets), Decimal(0))),
        )


def record_print(
    uow: UnitOfWork,
    *,
    document: str,
    invoice_id: int | None,
    payment_id: int | None,
    patient_id: int | None,
) -> None:
    """Audit that a billing document was printed, against its patient."""
    with uow:
        r = repo(uow)
        if invoice_id is not None:
            invoice = r.invoice(invoice_id)
            if invoice is None:
                raise NotFoundError(f"No invoice with id {invoice_id}.")
            patient_id = invoice.patient_id
        elif payment_id is not None:
            payment = r.payment(payment_id)
            if payment is None:
                raise NotFoundError(f"No payment with id {payment_id}.")
            patient_id = payment.patient_id
        elif patient_id is not None:
            require_patient(uow, patient_id)
        audit(
            uow,
            "document.print",
            patient_id=patient_id,
            document=document,
            invoice_id=invoice_id,
            payment_id=payment_id,
        )
        uow.commit()
