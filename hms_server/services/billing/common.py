"""Helpers every billing use case shares: money checks in the hospital's currency, the
patient lookup, the actor, audit and live-event conventions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.billing import Invoice
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.repositories.billing import BillingRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import (
    InvoiceNotEditableError,
    check_money,
)
from hms_server.domain.errors import ConflictError, NotFoundError

#: Audit category of every money action.
CATEGORY = "billing"


def repo(uow: UnitOfWork) -> BillingRepository:
    return uow.repo(BillingRepository)


def actor_id(uow: UnitOfWork) -> int | None:
    return uow.actor.user_id if uow.actor is not None else None


def money(uow: UnitOfWork, amount: Decimal, field_name: str) -> Decimal:
    """``amount`` in the hospital's currency, refusing more decimals than it has."""
    return check_money(amount, uow.hospital.currency_minor_unit, field_name)


def zero(uow: UnitOfWork) -> Decimal:
    return uow.hospital.round_money(Decimal(0))


def require_patient(uow: UnitOfWork, patient_id: int) -> Patient:
    patient = repo(uow).patient(patient_id)
    if patient is None:
        raise NotFoundError(f"No patient with id {patient_id}.")
    if patient.merged_into_id is not None:
        raise ConflictError(
            f"Patient {patient_id} was merged into {patient.merged_into_id}; use that record.",
            extra={"merged_into_id": patient.merged_into_id},
        )
    return patient


def require_invoice(uow: UnitOfWork, invoice_id: int, *, lock: bool = False) -> Invoice:
    invoice = repo(uow).invoice(invoice_id, lock=lock)
    if invoice is None:
        raise NotFoundError(f"No invoice with id {invoice_id}.")
    return invoice


def require_draft(invoice: Invoice) -> None:
    """Only a draft may change; a finalised invoice changes through a credit note."""
    if invoice.status != "draft":
        raise InvoiceNotEditableError(
            f"Invoice {invoice.number} is {invoice.status}; a finalised invoice cannot be "
            "edited. Issue a credit note instead.",
            extra={"current_status": invoice.status, "number": invoice.number},
        )


def audit(uow: UnitOfWork, action: str, *, patient_id: int | None, **ids: Any) -> None:
    """One audit row per money action (ids and amounts only, never names)."""
    uow.audit(
        CATEGORY,
        action,
        patient_id=patient_id,
        detail={k: (format(v, "f") if isinstance(v, Decimal) else v) for k, v in ids.items()},
    )


def minor_units(uow: UnitOfWork, amount: Decimal) -> int:
    """``12.50`` → ``1250`` for a two-decimal currency (what card gateways speak)."""
    return int(amount.scaleb(uow.hospital.currency_minor_unit).to_integral_value())
