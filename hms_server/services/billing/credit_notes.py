"""Credit notes: the only way to take money off a finalised invoice, numbered gaplessly in
their own series (``CN-2026-000001``). A credit for all that is still owed voids the
invoice (its charges are free to bill again, unless their source was cancelled).

The credit comes off the patient's part first, then the payer's — the latter only while
the payer's claim is not yet submitted (afterwards the payer must answer first). Money the
patient already paid beyond their reduced part is released to their account credit, where
it can be refunded or used on another invoice.
"""

from __future__ import annotations

from decimal import Decimal

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.billing import CreditNote, PaymentAllocation
from hms_server.adapters.repositories.insurance import InsuranceRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import (
    SERIES_CREDIT_NOTE,
    ClaimStateError,
    InvoiceNotPayableError,
    document_number,
    field_error,
)
from hms_server.domain.errors import ValidationFailedError
from hms_server.services.billing.common import (
    actor_id,
    audit,
    money,
    repo,
    require_invoice,
)
from hms_server.services.billing.payments import refresh_status
from hms_server.services.billing.views import CreditNoteView, credit_note_view


def issue_credit_note(
    uow: UnitOfWork, invoice_id: int, *, amount: Decimal | None, reason: str
) -> CreditNoteView:
    with uow:
        r = repo(uow)
        invoice = require_invoice(uow, invoice_id, lock=True)
        if invoice.status in ("draft", "void"):
            raise InvoiceNotPayableError(
                "A draft is edited or discarded, not credited."
                if invoice.status == "draft"
                else f"Invoice {invoice.number} is already void.",
                extra={"current_status": invoice.status},
            )
        creditable = invoice.patient_due + invoice.payer_due
        amount = creditable if amount is None else money(uow, amount, "amount")
        if amount <= 0:
            raise ValidationFailedError("Nothing is left to credit on this invoice.")
        if amount > creditable:
            raise ValidationFailedError(
                f"At most {creditable} can be credited on this invoice.",
                extra={"errors": [field_error("amount", f"at most {creditable}")]},
            )
        from_patient = min(amount, invoice.patient_due)
        from_payer = amount - from_patient
        if from_payer > 0:
            claim = uow.repo(InsuranceRepository).live_claim_of_invoice(invoice.id, lock=True)
            if claim is not None and claim.status != "ready":
                raise ClaimStateError(
                    "The payer's claim for this invoice is already submitted; credit at most "
                    f"the patient's part ({invoice.patient_due}) until the payer answers."
                )
            if claim is not None:
                if claim.claimed > from_payer:
                    claim.claimed -= from_payer
                else:
                    claim.status = "cancelled"
            invoice.payer_due -= from_payer
        invoice.patient_due -= from_patient
        released = max(Decimal(0), invoice.patient_paid - invoice.patient_due)
        invoice.patient_paid -= released
        invoice.credited += amount
        year = uow.hospital.today().year
        sequence = r.next_number(SERIES_CREDIT_NOTE, year)
        note = CreditNote(
            series=SERIES_CREDIT_NOTE,
            year=year,
            sequence=sequence,
            number=document_number(SERIES_CREDIT_NOTE, year, sequence),
            invoice_id=invoice.id,
            patient_id=invoice.patient_id,
            amount=amount,
            reason=reason,
            voids_invoice=False,
            patient_part=from_patient,
            released_to_credit=released,
            created_at=utcnow(),
            created_by=actor_id(uow),
        )
        uow.session.add(note)
        uow.session.flush()
        if released > 0:
            uow.session.add(
                PaymentAllocation(
                    invoice_id=invoice.id,
                    side="patient",
                    source="release",
                    amount=-released,
                    credit_note_id=note.id,
                    created_at=utcnow(),
                    created_by=actor_id(uow),
                )
            )
            account = r.account(invoice.patient_id, lock=True)
            account.credit += released
            account.updated_at = utcnow()
        refresh_status(invoice)
        note.voids_invoice = invoice.status == "void"
        if note.voids_invoice:
            for charge in r.charges_of_invoice(invoice.id, lock=True):
                if charge.source_cancelled_at is not None:
                    charge.status, charge.reversed_at = "reversed", utcnow()
                    charge.reversed_reason = "source cancelled; invoice credited"
                else:
                    charge.status = "unbilled"
                charge.invoice_id = None
        uow.session.flush()
        audit(
            uow,
            "credit_note.issue",
            patient_id=invoice.patient_id,
            invoice_id=invoice.id,
            credit_note_id=note.id,
            number=note.number,
            amount=amount,
            voids=note.voids_invoice,
            released=released,
        )
        uow.publish(
            "invoice.changed",
            {"invoice_id": invoice.id, "patient_id": invoice.patient_id, "status": invoice.status},
        )
        view = credit_note_view(note, invoice.number or "")
        uow.commit()
        return view
