"""Read shapes of billing records: plain dataclasses named like the contract's fields, so
routers map them with ``Model.model_validate(view, from_attributes=True)``.

Amounts are given with exactly the currency's decimals. Patient names are included; the
router removes them for roles that may not read demographics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from hms_server.adapters.orm.billing import (
    BillingApproval,
    CreditNote,
    Invoice,
    InvoiceDiscount,
    InvoiceLine,
    Payment,
)
from hms_server.adapters.orm.insurance import Claim
from hms_server.adapters.repositories.insurance import InsuranceRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import tax_lines
from hms_server.services.billing.common import repo


@dataclass(frozen=True)
class LineView:
    id: int
    line_no: int
    charge_id: int | None
    code: str
    description: str
    category: str
    service_date: date
    quantity: Decimal
    unit_price: Decimal
    gross: Decimal
    discount: Decimal
    net: Decimal
    tax_category: str
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    payer_share: Decimal
    patient_share: Decimal


@dataclass(frozen=True)
class TaxLineView:
    tax_category: str
    tax_rate: Decimal
    taxable: Decimal
    tax: Decimal


@dataclass(frozen=True)
class DiscountView:
    id: int
    invoice_id: int
    line_id: int | None
    kind: str
    value: Decimal
    amount: Decimal
    reason: str
    status: str
    approval_id: int | None
    requested_by: int | None
    decided_by: int | None


@dataclass(frozen=True)
class CreditNoteView:
    id: int
    number: str
    invoice_id: int
    invoice_number: str
    patient_id: int
    amount: Decimal
    reason: str
    voids_invoice: bool
    released_to_credit: Decimal
    created_at: datetime
    created_by: int | None


@dataclass(frozen=True)
class InvoiceView:
    id: int
    number: str | None
    status: str
    patient_id: int
    patient_name: str | None
    patient_mrn: str | None
    encounter_id: int | None
    admission_id: int | None
    policy_id: int | None
    payer_name: str | None
    plan_name: str | None
    member_number: str | None
    currency: str
    issued_on: date | None
    due_on: date | None
    finalised_at: datetime | None
    lines: list[LineView]
    tax_lines: list[TaxLineView]
    discounts: list[DiscountView]
    credit_notes: list[CreditNoteView]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    payer_due: Decimal
    patient_due: Decimal
    copay: Decimal
    deductible: Decimal
    paid: Decimal
    patient_paid: Decimal
    payer_paid: Decimal
    credited: Decimal
    written_off: Decimal
    balance: Decimal
    patient_balance: Decimal
    payer_balance: Decimal
    notes: str | None
    created_at: datetime
    version: int


@dataclass(frozen=True)
class InvoiceSummaryView:
    id: int
    number: str | None
    status: str
    patient_id: int
    patient_name: str | None
    patient_mrn: str | None
    issued_on: date | None
    due_on: date | None
    line_count: int
    total: Decimal
    payer_due: Decimal
    patient_due: Decimal
    paid: Decimal
    balance: Decimal
    created_at: datetime
    version: int


@dataclass(frozen=True)
class AllocationView:
    invoice_id: int
    invoice_number: str | None
    side: str
    amount: Decimal


@dataclass(frozen=True)
class PaymentView:
    id: int
    receipt_number: str
    kind: str
    patient_id: int
    patient_name: str | None
    patient_mrn: str | None
    invoice_id: int | None
    invoice_number: str | None
    method: str
    amount: Decimal
    applied: Decimal
    to_credit: Decimal
    tendered: Decimal | None
    change_due: Decimal | None
    refunded: Decimal
    refund_of_id: int | None
    reference: str | None
    payer_id: int | None
    claim_id: int | None
    cash_session_id: int | None
    received_at: datetime
    received_by: int | None
    received_by_name: str | None
    reason: str | None
    allocations: list[AllocationView] = field(default_factory=list)
    version: int = 1


@dataclass(frozen=True)
class ApprovalView:
    id: int
    kind: str
    status: str
    amount: Decimal
    reason: str
    patient_id: int | None
    invoice_id: int | None
    invoice_number: str | None
    discount_id: int | None
    payment_id: int | None
    claim_id: int | None
    requested_by: int | None
    requested_by_name: str | None
    requested_at: datetime
    decided_by: int | None
    decided_by_name: str | None
    decided_at: datetime | None
    decision_note: str | None


def _name(patient: object | None) -> tuple[str | None, str | None]:
    if patient is None:
        return None, None
    return (
        f"{patient.given_name} {patient.family_name}",  # type: ignore[attr-defined]
        patient.mrn,
    )  # type: ignore[attr-defined]


def line_view(line: InvoiceLine) -> LineView:
    return LineView(
        id=line.id,
        line_no=line.line_no,
        charge_id=line.charge_id,
        code=line.code,
        description=line.description,
        category=line.category,
        service_date=line.service_date,
        quantity=line.quantity,
        unit_price=line.unit_price,
        gross=line.gross,
        discount=line.discount,
        net=line.net,
        tax_category=line.tax_category,
        tax_rate=line.tax_rate,
        tax=line.tax,
        total=line.total,
        payer_share=line.payer_share,
        patient_share=line.patient_share,
    )


def credit_note_view(note: CreditNote, invoice_number: str) -> CreditNoteView:
    return CreditNoteView(
        id=note.id,
        number=note.number,
        invoice_id=note.invoice_id,
        invoice_number=invoice_number,
        patient_id=note.patient_id,
        amount=note.amount,
        reason=note.reason,
        voids_invoice=note.voids_invoice,
        released_to_credit=note.released_to_credit,
        created_at=note.created_at,
        created_by=note.created_by,
    )


def discount_views(uow: UnitOfWork, discounts: list[InvoiceDiscount]) -> list[DiscountView]:
    approvals = repo(uow).approvals_for_discounts(d.id for d in discounts)
    return [
        DiscountView(
            id=d.id,
            invoice_id=d.invoice_id,
            line_id=d.line_id,
            kind=d.kind,
            value=d.value,
            amount=d.amount,
            reason=d.reason,
            status=d.status,
            approval_id=approvals.get(d.id),
            requested_by=d.requested_by,
            decided_by=d.decided_by,
        )
        for d in discounts
    ]


def invoice_view(uow: UnitOfWork, invoice: Invoice) -> InvoiceView:
    """Everything the invoice screen and the printed invoice show."""
    r, rm = repo(uow), uow.hospital.round_money
    lines = r.lines(invoice.id)
    patient_name, mrn = _name(r.patient(invoice.patient_id))
    payer_name = plan_name = member = None
    if invoice.policy_id is not None:
        insurance = uow.repo(InsuranceRepository)
        policy = insurance.policy(invoice.policy_id)
        plan = insurance.plan(policy.plan_id) if policy else None
        payer = insurance.payer(plan.payer_id) if plan else None
        member = policy.member_number if policy else None
        plan_name, payer_name = (plan.name if plan else None), (payer.name if payer else None)
    taxes = tax_lines([(line.tax_category, line.tax_rate, line.net, line.tax) for line in lines])
    number = invoice.number or ""
    paid = invoice.patient_paid + invoice.payer_paid
    return InvoiceView(
        id=invoice.id,
        number=invoice.number,
        status=invoice.status,
        patient_id=invoice.patient_id,
        patient_name=patient_name,
        patient_mrn=mrn,
        encounter_id=invoice.encounter_id,
        admission_id=invoice.admission_id,
        policy_id=invoice.policy_id,
        payer_name=payer_name,
        plan_name=plan_name,
        member_number=member,
        currency=invoice.currency,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        finalised_at=invoice.finalised_at,
        lines=[line_view(line) for line in lines],
        tax_lines=[
            TaxLineView(t.tax_category, t.tax_rate, rm(t.taxable), rm(t.tax)) for t in taxes
        ],
        discounts=discount_views(uow, r.discounts(invoice.id)),
        credit_notes=[credit_note_view(n, number) for n in r.credit_notes(invoice.id)],
        subtotal=rm(invoice.subtotal),
        discount=rm(invoice.discount_total),
        tax=rm(invoice.tax_total),
        total=rm(invoice.total),
        payer_due=rm(invoice.payer_due),
        patient_due=rm(invoice.patient_due),
        copay=rm(invoice.copay),
        deductible=rm(invoice.deductible),
        paid=rm(paid),
        patient_paid=rm(invoice.patient_paid),
        payer_paid=rm(invoice.payer_paid),
        credited=rm(invoice.credited),
        written_off=rm(invoice.written_off),
        balance=rm(invoice.patient_due + invoice.payer_due - paid),
        patient_balance=rm(invoice.patient_due - invoice.patient_paid),
        payer_balance=rm(invoice.payer_due - invoice.payer_paid),
        notes=invoice.notes,
        created_at=invoice.created_at,
        version=invoice.version,
    )


def invoice_summaries(uow: UnitOfWork, invoices: list[Invoice]) -> list[InvoiceSummaryView]:
    r, rm = repo(uow), uow.hospital.round_money
    patients = r.patients(i.patient_id for i in invoices)
    counts = r.line_counts(i.id for i in invoices)
    views = []
    for i in invoices:
        name, mrn = _name(patients.get(i.patient_id))
        paid = i.patient_paid + i.payer_paid
        views.append(
            InvoiceSummaryView(
                id=i.id,
                number=i.number,
                status=i.status,
                patient_id=i.patient_id,
                patient_name=name,
                patient_mrn=mrn,
                issued_on=i.issued_on,
                due_on=i.due_on,
                line_count=counts.get(i.id, 0),
                total=rm(i.total),
                payer_due=rm(i.payer_due),
                patient_due=rm(i.patient_due),
                paid=rm(paid),
                balance=rm(i.patient_due + i.payer_due - paid),
                created_at=i.created_at,
                version=i.version,
            )
        )
    return views


def payment_views(uow: UnitOfWork, payments: list[Payment]) -> list[PaymentView]:
    r, rm = repo(uow), uow.hospital.round_money
    allocations = r.allocations_of_payments(p.id for p in payments)
    invoice_ids = {a.invoice_id for rows in allocations.values() for a in rows}
    invoice_ids |= {p.invoice_id for p in payments if p.invoice_id is not None}
    numbers = {i.id: i.number for i in r.invoices(invoice_ids).values()}
    patients = r.patients(p.patient_id for p in payments)
    names = r.user_names(p.received_by for p in payments)
    views = []
    for p in payments:
        name, mrn = _name(patients.get(p.patient_id))
        views.append(
            PaymentView(
                id=p.id,
                receipt_number=p.receipt_number,
                kind=p.kind,
                patient_id=p.patient_id,
                patient_name=name,
                patient_mrn=mrn,
                invoice_id=p.invoice_id,
                invoice_number=numbers.get(p.invoice_id) if p.invoice_id else None,
                method=p.method,
                amount=rm(p.amount),
                applied=rm(p.applied),
                to_credit=rm(p.to_credit),
                tendered=rm(p.tendered) if p.tendered else None,
                change_due=rm(p.tendered - p.amount) if p.tendered else None,
                refunded=rm(p.refunded),
                refund_of_id=p.refund_of_id,
                reference=p.reference,
                payer_id=p.payer_id,
                claim_id=p.claim_id,
                cash_session_id=p.cash_session_id,
                received_at=uow.hospital.local(p.received_at),
                received_by=p.received_by,
                received_by_name=names.get(p.received_by) if p.received_by else None,
                reason=p.reason,
                allocations=[
                    AllocationView(a.invoice_id, numbers.get(a.invoice_id), a.side, rm(a.amount))
                    for a in allocations.get(p.id, [])
                ],
                version=p.version,
            )
        )
    return views


def approval_views(uow: UnitOfWork, approvals: list[BillingApproval]) -> list[ApprovalView]:
    r = repo(uow)
    names = r.user_names([a.requested_by for a in approvals] + [a.decided_by for a in approvals])
    numbers = {
        i.id: i.number
        for i in r.invoices(a.invoice_id for a in approvals if a.invoice_id is not None).values()
    }
    return [
        ApprovalView(
            id=a.id,
            kind=a.kind,
            status=a.status,
            amount=uow.hospital.round_money(a.amount),
            reason=a.reason,
            patient_id=a.patient_id,
            invoice_id=a.invoice_id,
            invoice_number=numbers.get(a.invoice_id) if a.invoice_id else None,
            discount_id=a.discount_id,
            payment_id=a.payment_id,
            claim_id=a.claim_id,
            requested_by=a.requested_by,
            requested_by_name=names.get(a.requested_by) if a.requested_by else None,
            requested_at=a.requested_at,
            decided_by=a.decided_by,
            decided_by_name=names.get(a.decided_by) if a.decided_by else None,
            decided_at=a.decided_at,
            decision_note=a.decision_note,
        )
        for a in approvals
    ]


@dataclass(frozen=True)
class ClaimView:
    id: int
    payer_id: int
    payer_name: str | None
    policy_id: int
    patient_id: int
    patient_name: str | None
    invoice_id: int
    invoice_number: str
    batch_id: int | None
    batch_number: str | None
    status: str
    claimed: Decimal
    approved: Decimal | None
    rejected: Decimal | None
    remitted: Decimal
    outstanding: Decimal
    rejection_reasons: list[str]
    rejection_resolution: str | None
    payer_reference: str | None
    submitted_at: datetime | None
    adjudicated_at: datetime | None
    version: int


def claim_views(uow: UnitOfWork, claims: list[Claim]) -> list[ClaimView]:
    r, insurance, rm = repo(uow), uow.repo(InsuranceRepository), uow.hospital.round_money
    payers = {p.id: p.name for p in insurance.payers({c.payer_id for c in claims})}
    patients = r.patients(c.patient_id for c in claims)
    numbers = {i.id: i.number for i in r.invoices(c.invoice_id for c in claims).values()}
    batches = insurance.batches(c.batch_id for c in claims if c.batch_id is not None)
    views = []
    for c in claims:
        name, _ = _name(patients.get(c.patient_id))
        approved = c.approved if c.approved is not None else None
        views.append(
            ClaimView(
                id=c.id,
                payer_id=c.payer_id,
                payer_name=payers.get(c.payer_id),
                policy_id=c.policy_id,
                patient_id=c.patient_id,
                patient_name=name,
                invoice_id=c.invoice_id,
                invoice_number=numbers.get(c.invoice_id) or "",
                batch_id=c.batch_id,
                batch_number=batches[c.batch_id].number if c.batch_id in batches else None,
                status=c.status,
                claimed=rm(c.claimed),
                approved=rm(approved) if approved is not None else None,
                rejected=rm(c.rejected) if c.rejected is not None else None,
                remitted=rm(c.remitted),
                outstanding=rm(max(Decimal(0), (approved or Decimal(0)) - c.remitted)),
                rejection_reasons=[str(x) for x in c.rejection_reasons],
                rejection_resolution=c.rejection_resolution,
                payer_reference=c.payer_reference,
                submitted_at=c.submitted_at,
                adjudicated_at=c.adjudicated_at,
                version=c.version,
            )
        )
    return views
