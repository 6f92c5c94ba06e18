"""Discounts on a draft: on one line or on the whole invoice, a percentage or an amount, with
a reason. One live discount per target. A discount above the policy's thresholds waits for a
manager's approval (the draft cannot be finalised meanwhile); below, it applies at once.
"""

from __future__ import annotations

from decimal import Decimal

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.billing import InvoiceDiscount
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import (
    BillingPolicy,
    Discount,
    discount_amount,
    field_error,
    needs_discount_approval,
)
from hms_server.domain.errors import ConflictError, NotFoundError
from hms_server.services.billing import approvals
from hms_server.services.billing.common import (
    actor_id,
    audit,
    money,
    repo,
    require_draft,
    require_invoice,
)
from hms_server.services.billing.invoices import recompute
from hms_server.services.billing.views import InvoiceView, invoice_view


class DiscountExistsError(ConflictError):
    code, title = "discount_exists", "Already discounted"


def add_discount(
    uow: UnitOfWork,
    invoice_id: int,
    *,
    line_id: int | None,
    kind: str,
    value: Decimal,
    reason: str,
    policy: BillingPolicy,
) -> InvoiceView:
    with uow:
        r = repo(uow)
        invoice = require_invoice(uow, invoice_id, lock=True)
        require_draft(invoice)
        if kind == "amount":
            value = money(uow, value, "value")
        lines = r.lines(invoice.id)
        live = [d for d in r.discounts(invoice.id) if d.status != "rejected"]
        if line_id is not None:
            line = next((x for x in lines if x.id == line_id), None)
            if line is None:
                raise NotFoundError(
                    f"Invoice {invoice_id} has no line {line_id}.",
                    extra={"errors": [field_error("line_id", "not on this invoice")]},
                )
            base = uow.hospital.round_money(line.quantity * line.unit_price)
        else:
            base = sum((x.net for x in lines), Decimal(0))
        if any(d.line_id == line_id for d in live):
            raise DiscountExistsError("That already has a discount; remove it first.")
        amount = discount_amount(Discount(kind, value), base, uow.hospital)
        pending = needs_discount_approval(
            Discount(kind, value),
            amount,
            base,
            percent_threshold=policy.discount_approval_percent,
            amount_threshold=policy.discount_approval_amount,
        )
        discount = InvoiceDiscount(
            invoice_id=invoice.id,
            line_id=line_id,
            kind=kind,
            value=value,
            amount=amount,
            reason=reason,
            status="pending" if pending else "approved",
            requested_by=actor_id(uow),
            created_at=utcnow(),
        )
        uow.session.add(discount)
        uow.session.flush()
        approval_id = None
        if pending:
            approval_id = approvals.request(
                uow,
                kind="discount",
                amount=amount,
                reason=reason,
                patient_id=invoice.patient_id,
                invoice_id=invoice.id,
                discount_id=discount.id,
            )
        recompute(uow, invoice)
        audit(
            uow,
            "discount.add",
            patient_id=invoice.patient_id,
            invoice_id=invoice.id,
            discount_id=discount.id,
            amount=amount,
            pending=pending,
            approval_id=approval_id,
        )
        uow.publish(
            "invoice.changed",
            {"invoice_id": invoice.id, "patient_id": invoice.patient_id, "status": invoice.status},
        )
        view = invoice_view(uow, invoice)
        uow.commit()
        return view


def remove_discount(uow: UnitOfWork, invoice_id: int, discount_id: int) -> InvoiceView:
    with uow:
        r = repo(uow)
        invoice = require_invoice(uow, invoice_id, lock=True)
        require_draft(invoice)
        discount = r.discount(discount_id, lock=True)
        if discount is None or discount.invoice_id != invoice.id:
            raise NotFoundError(f"Invoice {invoice_id} has no discount {discount_id}.")
        approval_id = r.approvals_for_discounts([discount.id]).get(discount.id)
        if approval_id is not None:
            approval = r.approval(approval_id, lock=True)
            if approval is not None and approval.status == "pending":
                approval.status, approval.decided_at = "withdrawn", utcnow()
        uow.session.delete(discount)
        uow.session.flush()
        recompute(uow, invoice)
        audit(
            uow,
            "discount.remove",
            patient_id=invoice.patient_id,
            invoice_id=invoice.id,
            discount_id=discount_id,
        )
        uow.publish(
            "invoice.changed",
            {"invoice_id": invoice.id, "patient_id": invoice.patient_id, "status": invoice.status},
        )
        view = invoice_view(uow, invoice)
        uow.commit()
        return view


def on_decided(uow: UnitOfWork, discount_id: int, *, approved: bool) -> None:
    """A manager decided on a pending discount: apply it to its draft, or drop it."""
    r = repo(uow)
    discount = r.discount(discount_id, lock=True)
    if discount is None:
        return
    invoice = require_invoice(uow, discount.invoice_id, lock=True)
    discount.status = "approved" if approved else "rejected"
    discount.decided_by = actor_id(uow)
    uow.session.flush()
    if invoice.status == "draft":
        recompute(uow, invoice)
    uow.publish(
        "invoice.changed",
        {"invoice_id": invoice.id, "patient_id": invoice.patient_id, "status": invoice.status},
    )
