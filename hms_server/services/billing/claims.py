"""Claims: the payer's portion of a finalised invoice, from ready to paid.

- ``open_claim`` (at finalisation): one live claim per invoice (``uq_claims_live_invoice``).
- ``submit_batch``: the payer's ready claims go out together as one FHIR ``batch`` Bundle of
  ``Claim`` resources and come back adjudicated (approved, partly approved, rejected with
  reasons). The claims stay locked during the call; if the payer cannot be reached nothing
  is recorded and they stay ready (the error says so and when to retry).
- ``post_remittance``: the payer's money for a claim, a payment on the invoice's payer part.
- ``resolve_rejection``: the rejected part moves to the patient's portion, or is written off
  once a manager approves.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.billing import Invoice
from hms_server.adapters.orm.insurance import Claim, ClaimBatch, PatientPolicy
from hms_server.adapters.repositories.insurance import InsuranceRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import (
    SERIES_CLAIM_BATCH,
    BillingNotConfiguredError,
    ClaimStateError,
    document_number,
    field_error,
)
from hms_server.domain.billing_gateways import ClaimItem, ClaimSubmission, PayerGateway
from hms_server.domain.errors import NotFoundError, ValidationFailedError
from hms_server.services.billing import approvals
from hms_server.services.billing.common import audit, money, repo, require_invoice
from hms_server.services.billing.payments import receive, refresh_status
from hms_server.services.billing.views import PaymentView, payment_views


def open_claim(uow: UnitOfWork, invoice: Invoice, policy: PatientPolicy) -> Claim:
    insurance = uow.repo(InsuranceRepository)
    plan = insurance.plan(policy.plan_id)
    assert plan is not None
    claim = Claim(
        payer_id=plan.payer_id,
        policy_id=policy.id,
        patient_id=invoice.patient_id,
        invoice_id=invoice.id,
        status="ready",
        claimed=invoice.payer_due,
        remitted=uow.hospital.round_money(Decimal(0)),
        created_at=utcnow(),
    )
    uow.session.add(claim)
    uow.session.flush()
    audit(
        uow,
        "claim.open",
        patient_id=invoice.patient_id,
        claim_id=claim.id,
        invoice_id=invoice.id,
        amount=claim.claimed,
    )
    uow.publish("claim.changed", {"claim_id": claim.id, "status": "ready"})
    return claim


def _require_claim(uow: UnitOfWork, claim_id: int) -> Claim:
    claim = uow.repo(InsuranceRepository).claim(claim_id, lock=True)
    if claim is None:
        raise NotFoundError(f"No claim with id {claim_id}.")
    return claim


def submission(uow: UnitOfWork, claim: Claim, *, use: str = "claim") -> ClaimSubmission:
    """The claim as the payer sees it: the invoice lines the payer shares in."""
    insurance = uow.repo(InsuranceRepository)
    policy = insurance.policy(claim.policy_id)
    payer = insurance.payer(claim.payer_id)
    invoice = repo(uow).invoice(claim.invoice_id)
    assert policy is not None and payer is not None and invoice is not None
    lines = [line for line in repo(uow).lines(invoice.id) if line.payer_share > 0]
    return ClaimSubmission(
        identifier=f"{invoice.number}/C{claim.id}",
        use=use,
        patient_id=claim.patient_id,
        payer_code=payer.code,
        member_number=policy.member_number,
        currency=invoice.currency,
        created=invoice.issued_on or uow.hospital.today(),
        items=[
            ClaimItem(
                sequence=n,
                code=line.code,
                description=line.description,
                category=line.category,
                quantity=line.quantity,
                unit_price=line.unit_price,
                net=line.payer_share,
                service_date=line.service_date,
            )
            for n, line in enumerate(lines, start=1)
        ],
        total=claim.claimed,
    )


def submit_batch(
    uow: UnitOfWork, payer: PayerGateway | None, *, payer_id: int, claim_ids: list[int] | None
) -> tuple[ClaimBatch, list[Claim]]:
    with uow:
        insurance = uow.repo(InsuranceRepository)
        if insurance.payer(payer_id) is None:
            raise NotFoundError(f"No payer with id {payer_id}.")
        if payer is None:
            raise BillingNotConfiguredError(
                "No insurer endpoint is configured (HMS_PAYER_FHIR_URL)."
            )
        claims = insurance.ready_claims(payer_id, claim_ids)
        if claim_ids is not None and len(claims) != len(set(claim_ids)):
            raise ClaimStateError(
                "Some of those claims are not ready for this payer (or "
                "another clerk is submitting them)."
            )
        if not claims:
            raise ClaimStateError("This payer has no claims ready to submit.")
        submissions = [submission(uow, c) for c in claims]
        answers = payer.submit_claims(submissions)
        now = utcnow()
        year = uow.hospital.today().year
        sequence = repo(uow).next_number(SERIES_CLAIM_BATCH, year)
        batch = ClaimBatch(
            series=SERIES_CLAIM_BATCH,
            year=year,
            sequence=sequence,
            number=document_number(SERIES_CLAIM_BATCH, year, sequence),
            payer_id=payer_id,
            submitted_at=now,
            submitted_by=uow.actor.user_id if uow.actor else None,
        )
        uow.session.add(batch)
        uow.session.flush()
        for claim, answer in zip(claims, answers, strict=True):
            claim.batch_id, claim.submitted_at = batch.id, now
            claim.payer_reference = answer.payer_reference
            if answer.outcome == "queued":
                claim.status = "submitted"
                continue
            approved = min(uow.hospital.round_money(answer.approved), claim.claimed)
            if answer.outcome == "error":
                approved = uow.hospital.round_money(Decimal(0))
            claim.approved, claim.rejected = approved, claim.claimed - approved
            claim.rejection_reasons = list(answer.reasons) or (
                [answer.disposition] if claim.rejected > 0 and answer.disposition else []
            )
            claim.adjudicated_at = now
            claim.status = (
                "approved"
                if claim.rejected == 0
                else "rejected"
                if approved == 0
                else "partly_approved"
            )
            audit(
                uow,
                "claim.adjudicated",
                patient_id=claim.patient_id,
                claim_id=claim.id,
                batch_id=batch.id,
                approved=approved,
                rejected=claim.rejected,
            )
        uow.session.flush()
        audit(
            uow,
            "claim_batch.submit",
            patient_id=None,
            batch_id=batch.id,
            number=batch.number,
            payer_id=payer_id,
            claims=[c.id for c in claims],
        )
        uow.publish("claim.changed", {"batch_id": batch.id, "payer_id": payer_id})
        uow.commit()
        return batch, claims


def _settle_if_done(claim: Claim) -> None:
    approved = claim.approved or Decimal(0)
    rejected_open = (claim.rejected or 0) > 0 and claim.rejection_resolution in (
        None,
        "write_off_pending",
    )
    if claim.remitted >= approved and not rejected_open:
        claim.status = "paid" if approved > 0 else "closed"


def post_remittance(
    uow: UnitOfWork, claim_id: int, *, amount: Decimal, reference: str, received_on: date | None
) -> PaymentView:
    """The payer paid (part of) an approved claim: an insurance payment on the invoice."""
    with uow:
        claim = _require_claim(uow, claim_id)
        amount = money(uow, amount, "amount")
        if claim.status not in ("approved", "partly_approved"):
            raise ClaimStateError(
                f"This claim is {claim.status}; only approved claims are remitted.",
                extra={"current_status": claim.status},
            )
        left = (claim.approved or Decimal(0)) - claim.remitted
        if amount > left:
            raise ValidationFailedError(
                f"At most {left} of this claim is still to be paid.",
                extra={"errors": [field_error("amount", f"at most {left}")]},
            )
        invoice = require_invoice(uow, claim.invoice_id, lock=True)
        payment = receive(
            uow,
            patient_id=claim.patient_id,
            invoice=invoice,
            amount=amount,
            method="insurance",
            kind="payment",
            reference=reference,
            payer_id=claim.payer_id,
            claim_id=claim.id,
            in_session=False,
        )
        claim.remitted += amount
        _settle_if_done(claim)
        uow.session.flush()
        audit(
            uow,
            "claim.remittance",
            patient_id=claim.patient_id,
            claim_id=claim.id,
            payment_id=payment.id,
            amount=amount,
            received_on=received_on.isoformat() if received_on else None,
        )
        uow.publish("claim.changed", {"claim_id": claim.id, "status": claim.status})
        view = payment_views(uow, [payment])[0]
        uow.commit()
        return view


def resolve_rejection(uow: UnitOfWork, claim_id: int, *, action: str, reason: str) -> Claim:
    """The rejected part: bill it to the patient now, or ask a manager to write it off."""
    with uow:
        seen = uow.repo(InsuranceRepository).claim(claim_id)
        if seen is None:
            raise NotFoundError(f"No claim with id {claim_id}.")
        invoice = require_invoice(uow, seen.invoice_id, lock=True)
        claim = _require_claim(uow, claim_id)
        rejected = claim.rejected or Decimal(0)
        if claim.status not in ("rejected", "partly_approved") or rejected <= 0:
            raise ClaimStateError("Only a rejected (part of a) claim can be resolved.")
        if claim.rejection_resolution is not None:
            raise ClaimStateError(f"Already resolved ({claim.rejection_resolution}).")
        if action == "bill_patient":
            _move_to_patient(invoice, rejected)
            claim.rejection_resolution = "bill_patient"
            _settle_if_done(claim)
        else:
            claim.rejection_resolution = "write_off_pending"
            approvals.request(
                uow,
                kind="write_off",
                amount=rejected,
                reason=reason,
                patient_id=claim.patient_id,
                invoice_id=invoice.id,
                claim_id=claim.id,
            )
        uow.session.flush()
        audit(
            uow,
            f"claim.{action}",
            patient_id=claim.patient_id,
            claim_id=claim.id,
            invoice_id=invoice.id,
            amount=rejected,
        )
        uow.publish("claim.changed", {"claim_id": claim.id, "status": claim.status})
        uow.publish(
            "invoice.changed",
            {"invoice_id": invoice.id, "patient_id": invoice.patient_id, "status": invoice.status},
        )
        uow.commit()
        return claim


def _move_to_patient(invoice: Invoice, amount: Decimal) -> None:
    invoice.payer_due -= amount
    invoice.patient_due += amount
    refresh_status(invoice)


def on_write_off_decided(
    uow: UnitOfWork, claim_id: int, *, approved: bool, amount: Decimal
) -> None:
    """A manager decided on writing off a rejected amount."""
    claim = _require_claim(uow, claim_id)
    if claim.rejection_resolution != "write_off_pending":
        return
    if not approved:
        claim.rejection_resolution = None
        return
    invoice = require_invoice(uow, claim.invoice_id, lock=True)
    invoice.payer_due -= amount
    invoice.written_off += amount
    refresh_status(invoice)
    claim.rejection_resolution = "write_off"
    _settle_if_done(claim)
    uow.session.flush()
    audit(
        uow,
        "claim.write_off",
        patient_id=claim.patient_id,
        claim_id=claim.id,
        invoice_id=invoice.id,
        amount=amount,
    )
    uow.publish(
        "invoice.changed",
        {"invoice_id": invoice.id, "patient_id": invoice.patient_id, "status": invoice.status},
    )


def list_claims(
    uow: UnitOfWork,
    *,
    payer_id: int | None,
    status: list[str] | None,
    patient_id: int | None,
    worklist: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Claim], int]:
    with uow:
        return uow.repo(InsuranceRepository).list_claims(
            payer_id=payer_id,
            status=status,
            patient_id=patient_id,
            worklist=worklist,
            limit=limit,
            offset=offset,
        )


def get_claim(uow: UnitOfWork, claim_id: int) -> Claim:
    with uow:
        claim = uow.repo(InsuranceRepository).claim(claim_id)
        if claim is None:
            raise NotFoundError(f"No claim with id {claim_id}.")
        audit(uow, "claim.read", patient_id=claim.patient_id, claim_id=claim.id)
        uow.commit()
        return claim
