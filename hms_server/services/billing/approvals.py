"""Second-user approvals: a discount above the threshold, a refund above the threshold, a
write-off of a rejected claim amount. The requester files; a user holding
``billing.approve`` (a manager) who is not the requester decides — the database refuses a
self-approval too (``second_user``). Deciding takes effect at once: an approved discount is
applied to its draft, an approved write-off is booked; an approved refund is completed by
the clerk who asked (it pays out of their drawer).
"""

from __future__ import annotations

from decimal import Decimal

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.billing import BillingApproval
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import SelfApprovalError
from hms_server.domain.errors import ConflictError, NotFoundError
from hms_server.services.billing.common import actor_id, audit, repo
from hms_server.services.billing.views import ApprovalView, approval_views


class ApprovalDecidedError(ConflictError):
    code, title = "approval_decided", "Already decided"


def request(
    uow: UnitOfWork,
    *,
    kind: str,
    amount: Decimal,
    reason: str,
    patient_id: int | None,
    invoice_id: int | None = None,
    discount_id: int | None = None,
    payment_id: int | None = None,
    claim_id: int | None = None,
) -> int:
    """File a request (inside the caller's transaction); its id."""
    approval = BillingApproval(
        kind=kind,
        status="pending",
        amount=amount,
        reason=reason,
        patient_id=patient_id,
        invoice_id=invoice_id,
        discount_id=discount_id,
        payment_id=payment_id,
        claim_id=claim_id,
        requested_by=actor_id(uow),
        requested_at=utcnow(),
    )
    uow.session.add(approval)
    uow.session.flush()
    audit(
        uow,
        "approval.request",
        patient_id=patient_id,
        approval_id=approval.id,
        kind=kind,
        amount=amount,
        invoice_id=invoice_id,
        payment_id=payment_id,
        claim_id=claim_id,
    )
    uow.publish("approval.requested", {"approval_id": approval.id, "kind": kind})
    return approval.id


def usable_refund_approval(
    uow: UnitOfWork, payment_id: int, amount: Decimal
) -> BillingApproval | None:
    """An approved, unused refund approval for exactly this payment and amount, requested
    by this user."""
    rows, _ = repo(uow).list_approvals(status="approved", kind="refund", limit=500, offset=0)
    for approval in rows:
        if (
            approval.payment_id == payment_id
            and approval.amount == amount
            and approval.refund_id is None
            and approval.requested_by == actor_id(uow)
        ):
            return repo(uow).approval(approval.id, lock=True)
    return None


def list_approvals(
    uow: UnitOfWork, *, status: str | None, kind: str | None, limit: int, offset: int
) -> tuple[list[ApprovalView], int]:
    with uow:
        rows, total = repo(uow).list_approvals(status=status, kind=kind, limit=limit, offset=offset)
        return approval_views(uow, rows), total


def decide(uow: UnitOfWork, approval_id: int, *, approve: bool, note: str | None) -> ApprovalView:
    """Approve or reject a pending request (not one's own)."""
    from hms_server.services.billing import claims, discounts

    with uow:
        r = repo(uow)
        seen = r.approval(approval_id)
        if seen is not None and seen.invoice_id is not None:
            r.invoice(seen.invoice_id, lock=True)  # lock order: invoice before approval
        approval = r.approval(approval_id, lock=True)
        if approval is None:
            raise NotFoundError(f"No approval with id {approval_id}.")
        if approval.status != "pending":
            raise ApprovalDecidedError(
                f"This request was already {approval.status}.",
                extra={"current_status": approval.status},
            )
        if approval.requested_by is not None and approval.requested_by == actor_id(uow):
            raise SelfApprovalError("Another user must approve your own request.")
        approval.status = "approved" if approve else "rejected"
        approval.decided_by, approval.decided_at = actor_id(uow), utcnow()
        approval.decision_note = note
        uow.session.flush()
        if approval.kind == "discount" and approval.discount_id is not None:
            discounts.on_decided(uow, approval.discount_id, approved=approve)
        elif approval.kind == "write_off" and approval.claim_id is not None:
            claims.on_write_off_decided(
                uow, approval.claim_id, approved=approve, amount=approval.amount
            )
        audit(
            uow,
            "approval.approve" if approve else "approval.reject",
            patient_id=approval.patient_id,
            approval_id=approval.id,
            kind=approval.kind,
            amount=approval.amount,
        )
        uow.publish(
            "approval.decided",
            {
                "approval_id": approval.id,
                "kind": approval.kind,
                "status": approval.status,
                "invoice_id": approval.invoice_id,
                "patient_id": approval.patient_id,
            },
        )
        view = approval_views(uow, [approval])[0]
        uow.commit()
        return view
