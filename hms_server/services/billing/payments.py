"""Payments, deposits, account credit and refunds, each with its numbered receipt.

Money is never lost or counted twice:
- the invoice row is locked while a payment is applied, so two clerks paying the same invoice
  take turns; the second sees what the first paid. What is not owed any more becomes the
  patient's account credit (explicitly, on the receipt), never a negative balance — and the
  database refuses a negative balance whatever the code does (``patient_not_overpaid``);
- the receipt number is taken in the same transaction as the payment (gapless, like invoice
  numbers): no payment without its receipt, no receipt without its payment;
- every payment a cashier takes belongs to their open cash session (opened on first use), so
  the cash-up knows what to expect.

Lock order (to avoid deadlocks): invoice → patient account → cash session → counter.
"""

from __future__ import annotations

from decimal import Decimal

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.billing import CashSession, Invoice, Payment, PaymentAllocation
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import (
    SERIES_RECEIPT,
    SERIES_REFUND,
    BillingPolicy,
    InsufficientCreditError,
    InvoiceNotPayableError,
    document_number,
    field_error,
    invoice_status,
)
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.services.billing.common import (
    actor_id,
    audit,
    money,
    repo,
    require_invoice,
    require_patient,
    zero,
)
from hms_server.services.billing.views import PaymentView, payment_views

PAYABLE = ("finalised", "partly_paid", "paid")


class PayerOverpaymentError(ConflictError):
    code, title = "exceeds_payer_balance", "More than the payer owes"


class NotRefundableError(ConflictError):
    code, title = "not_refundable", "Cannot refund"


def refresh_status(invoice: Invoice) -> None:
    """Derive a finalised invoice's state from its money."""
    paid = invoice.patient_paid + invoice.payer_paid
    invoice.status = invoice_status(
        total=invoice.total,
        credited=invoice.credited,
        paid=paid,
        balance=invoice.patient_due + invoice.payer_due - paid,
    )
    invoice.updated_at = utcnow()


def cashier_session(uow: UnitOfWork, cashier_id: int | None) -> CashSession | None:
    """The cashier's open session, opened on the first payment of their shift (the drawer is
    the workstation, or ``main``)."""
    if cashier_id is None:
        return None
    r = repo(uow)
    session = r.open_cash_session(cashier_id, lock=True)
    if session is not None:
        return session
    actor = uow.actor
    drawer = (actor.workstation if actor and actor.workstation else "main")[:40]
    if r.drawer_open(drawer):
        drawer = f"{drawer} / {actor.username if actor else cashier_id}"[:64]
    session = CashSession(
        cashier_id=cashier_id,
        drawer=drawer,
        status="open",
        opened_at=utcnow(),
        opening_float=zero(uow),
    )
    uow.session.add(session)
    uow.session.flush()
    audit(uow, "cashup.open", patient_id=None, cash_session_id=session.id, drawer=drawer)
    return session


def _receipt(uow: UnitOfWork, series: str) -> tuple[int, int, str]:
    year = uow.hospital.today().year
    sequence = repo(uow).next_number(series, year)
    return year, sequence, document_number(series, year, sequence)


def receive(
    uow: UnitOfWork,
    *,
    patient_id: int,
    invoice: Invoice | None,
    amount: Decimal,
    method: str,
    kind: str,
    reference: str | None = None,
    tendered: Decimal | None = None,
    received_by: int | None = None,
    payer_id: int | None = None,
    claim_id: int | None = None,
    in_session: bool = True,
    strict: bool = True,
) -> Payment:
    """Record money received (inside the caller's transaction, with ``invoice`` locked).

    The patient's part of ``invoice`` takes what it still owes; the rest goes to account
    credit. An insurer's money (``method='insurance'``) pays the payer's part and may not
    exceed it. ``strict=False`` (a card settled by the gateway) accepts money even if the
    invoice was voided meanwhile: it all becomes credit, because the card was charged.
    """
    r = repo(uow)
    applied = zero(uow)
    side = "payer" if method == "insurance" else "patient"
    if invoice is not None:
        if invoice.status not in PAYABLE and strict:
            what = "a draft: finalise it first" if invoice.status == "draft" else invoice.status
            raise InvoiceNotPayableError(
                f"Invoice {invoice.number or invoice.id} is {what}.",
                extra={"current_status": invoice.status},
            )
        if invoice.status in PAYABLE:
            if side == "payer":
                owed = invoice.payer_due - invoice.payer_paid
                if amount > owed:
                    raise PayerOverpaymentError(
                        f"The payer owes {owed} on this invoice; {amount} is more.",
                        extra={"payer_balance": format(owed, "f")},
                    )
                applied = amount
            else:
                applied = min(amount, max(invoice.patient_due - invoice.patient_paid, Decimal(0)))
    to_credit = amount - applied
    if to_credit > 0:
        account = r.account(patient_id, lock=True)
        account.credit += to_credit
        account.updated_at = utcnow()
    cashier = received_by if received_by is not None else actor_id(uow)
    session = cashier_session(uow, cashier) if in_session and method != "insurance" else None
    year, sequence, number = _receipt(uow, SERIES_RECEIPT)
    payment = Payment(
        series=SERIES_RECEIPT,
        year=year,
        sequence=sequence,
        receipt_number=number,
        kind=kind,
        patient_id=patient_id,
        invoice_id=invoice.id if invoice is not None else None,
        method=method,
        amount=amount,
        tendered=tendered,
        applied=applied,
        to_credit=to_credit,
        refunded=zero(uow),
        reference=reference,
        payer_id=payer_id,
        claim_id=claim_id,
        cash_session_id=session.id if session else None,
        received_at=utcnow(),
        received_by=cashier,
    )
    uow.session.add(payment)
    uow.session.flush()
    if applied > 0 and invoice is not None:
        uow.session.add(
            PaymentAllocation(
                payment_id=payment.id,
                invoice_id=invoice.id,
                side=side,
                source="payment",
                amount=applied,
                created_at=utcnow(),
                created_by=actor_id(uow),
            )
        )
        if side == "payer":
            invoice.payer_paid += applied
        else:
            invoice.patient_paid += applied
        refresh_status(invoice)
    uow.session.flush()
    audit(
        uow,
        f"{kind}.receive",
        patient_id=patient_id,
        payment_id=payment.id,
        receipt=number,
        invoice_id=payment.invoice_id,
        amount=amount,
        method=method,
        applied=applied,
        to_credit=to_credit,
    )
    uow.publish(
        "payment.received",
        {"payment_id": payment.id, "patient_id": patient_id, "invoice_id": payment.invoice_id},
    )
    return payment


def post_payment(
    uow: UnitOfWork,
    *,
    invoice_id: int | None,
    patient_id: int | None,
    amount: Decimal,
    method: str,
    kind: str,
    reference: str | None,
    tendered: Decimal | None,
) -> PaymentView:
    """A payment on an invoice, or a deposit on the patient's account."""
    with uow:
        amount = money(uow, amount, "amount")
        if tendered is not None:
            tendered = money(uow, tendered, "tendered")
        invoice = None
        if kind == "payment":
            assert invoice_id is not None
            invoice = require_invoice(uow, invoice_id, lock=True)
            if patient_id is not None and patient_id != invoice.patient_id:
                raise ValidationFailedError(
                    "The invoice is another patient's.",
                    extra={"errors": [field_error("patient_id", "not the invoice's patient")]},
                )
            patient_id = invoice.patient_id
        else:
            assert patient_id is not None
            require_patient(uow, patient_id)
            if method == "insurance":
                raise ValidationFailedError(
                    "Insurers pay claims, not deposits.",
                    extra={"errors": [field_error("method", "not for deposits")]},
                )
        payment = receive(
            uow,
            patient_id=patient_id,
            invoice=invoice,
            amount=amount,
            method=method,
            kind=kind,
            reference=reference,
            tendered=tendered,
        )
        view = payment_views(uow, [payment])[0]
        uow.commit()
        return view


def apply_credit(uow: UnitOfWork, invoice_id: int, *, amount: Decimal | None) -> Invoice:
    """Use the patient's account credit (deposits, overpayments) on their invoice."""
    with uow:
        invoice = require_invoice(uow, invoice_id, lock=True)
        if invoice.status not in ("finalised", "partly_paid"):
            raise InvoiceNotPayableError(
                f"Invoice {invoice.number or invoice.id} is {invoice.status}.",
                extra={"current_status": invoice.status},
            )
        account = repo(uow).account(invoice.patient_id, lock=True)
        owed = invoice.patient_due - invoice.patient_paid
        wanted = money(uow, amount, "amount") if amount is not None else min(account.credit, owed)
        if wanted > account.credit:
            raise InsufficientCreditError(
                f"The patient's credit is {account.credit}.",
                extra={"credit": format(account.credit, "f")},
            )
        if wanted > owed:
            raise ValidationFailedError(
                f"The patient owes {owed} on this invoice.",
                extra={"errors": [field_error("amount", "more than the patient owes")]},
            )
        if wanted <= 0:
            raise InsufficientCreditError("There is no credit to apply.")
        account.credit -= wanted
        account.updated_at = utcnow()
        uow.session.add(
            PaymentAllocation(
                invoice_id=invoice.id,
                side="patient",
                source="credit",
                amount=wanted,
                created_at=utcnow(),
                created_by=actor_id(uow),
            )
        )
        invoice.patient_paid += wanted
        refresh_status(invoice)
        uow.session.flush()
        audit(
            uow, "credit.apply", patient_id=invoice.patient_id, invoice_id=invoice.id, amount=wanted
        )
        uow.publish(
            "invoice.changed",
            {"invoice_id": invoice.id, "patient_id": invoice.patient_id, "status": invoice.status},
        )
        uow.commit()
        return invoice


def get_payment(
    uow: UnitOfWork, payment_id: int | None = None, *, receipt: str | None = None
) -> PaymentView:
    with uow:
        r = repo(uow)
        payment = (
            r.payment(payment_id) if payment_id is not None else r.payment_by_receipt(receipt or "")
        )
        if payment is None:
            raise NotFoundError("No such payment.")
        view = payment_views(uow, [payment])[0]
        audit(uow, "payment.read", patient_id=payment.patient_id, payment_id=payment.id)
        uow.commit()
        return view


def list_payments(
    uow: UnitOfWork, *, patient_id: int | None, invoice_id: int | None, limit: int, offset: int
) -> tuple[list[PaymentView], int]:
    with uow:
        r = repo(uow)
        if invoice_id is not None:
            invoice = require_invoice(uow, invoice_id)
            rows = r.invoice_payments(invoice_id)
            total, rows = len(rows), rows[offset : offset + limit]
            patient = invoice.patient_id
        else:
            assert patient_id is not None
            require_patient(uow, patient_id)
            rows, total = r.patient_payments(patient_id, limit=limit, offset=offset)
            patient = patient_id
        views = payment_views(uow, rows)
        audit(uow, "payments.read", patient_id=patient, count=len(rows))
        uow.commit()
        return views, total


def refund(
    uow: UnitOfWork,
    payment_id: int,
    *,
    amount: Decimal,
    reason: str,
    policy: BillingPolicy,
    card: object | None = None,
) -> tuple[PaymentView | None, int | None]:
    """Give money back to the original method, out of the patient's account credit.

    Above the policy's amount a manager must approve first: the first call files the
    request and answers ``(None, approval_id)``; once approved, the same call completes it.
    A card refund goes back through the gateway before anything is recorded.
    """
    from hms_server.services.billing import approvals, card_payments

    with uow:
        r = repo(uow)
        amount = money(uow, amount, "amount")
        original = r.payment(payment_id, lock=True)
        if original is None:
            raise NotFoundError(f"No payment with id {payment_id}.")
        if original.kind == "refund" or original.method == "insurance":
            raise NotRefundableError("Only patient payments and deposits can be refunded.")
        if amount > original.amount - original.refunded:
            raise NotRefundableError(
                f"At most {original.amount - original.refunded} of this payment is left to refund.",
                extra={"refundable": format(original.amount - original.refunded, "f")},
            )
        account = r.account(original.patient_id, lock=True)
        if amount > account.credit:
            raise InsufficientCreditError(
                f"The patient's account credit is {account.credit}; money still on an invoice "
                "is refunded after a credit note frees it.",
                extra={"credit": format(account.credit, "f")},
            )
        approval = None
        if amount > policy.refund_approval_amount:
            approval = approvals.usable_refund_approval(uow, original.id, amount)
            if approval is None:
                approval_id = approvals.request(
                    uow,
                    kind="refund",
                    amount=amount,
                    reason=reason,
                    patient_id=original.patient_id,
                    payment_id=original.id,
                )
                uow.commit()
                return None, approval_id
        reference = None
        if original.method == "card":
            reference = card_payments.refund_through_gateway(uow, card, original, amount)
        account.credit -= amount
        account.updated_at = utcnow()
        original.refunded += amount
        session = cashier_session(uow, actor_id(uow))
        year, sequence, number = _receipt(uow, SERIES_REFUND)
        paid_out = Payment(
            series=SERIES_REFUND,
            year=year,
            sequence=sequence,
            receipt_number=number,
            kind="refund",
            patient_id=original.patient_id,
            method=original.method,
            amount=amount,
            applied=zero(uow),
            to_credit=zero(uow),
            refunded=zero(uow),
            refund_of_id=original.id,
            reference=reference,
            cash_session_id=session.id if session else None,
            reason=reason,
            received_at=utcnow(),
            received_by=actor_id(uow),
        )
        uow.session.add(paid_out)
        uow.session.flush()
        if approval is not None:
            approval.refund_id = paid_out.id
        uow.session.flush()
        audit(
            uow,
            "refund.pay",
            patient_id=original.patient_id,
            payment_id=paid_out.id,
            refund_of=original.id,
            receipt=number,
            amount=amount,
            method=original.method,
            approval_id=approval.id if approval else None,
        )
        uow.publish(
            "payment.refunded", {"payment_id": paid_out.id, "patient_id": original.patient_id}
        )
        view = payment_views(uow, [paid_out])[0]
        uow.commit()
        return view, approval.id if approval else None
