"""Charges: what a patient is billed for, captured when it happens.

``capture_charge`` is the one function that records an automatic charge. It is idempotent on
its source (``source_type``, ``source_id``, ``source_line``): the unique index
``uq_charges_source`` decides, so a re-sent event, a retried request or a second "complete"
never charges twice, even when two arrive at the same moment. Other areas never call it:
they emit domain events, and the handlers here (subscribed in ``bootstrap.wire_areas``)
price the fact and capture it:

- ``ConsultationCompleted`` → the department's consultation price (else the general one);
- ``LabOrderPlaced`` → the lab test's price; ``LabOrderCancelled`` reverses it;
- ``MedicationDispensed`` → the drug's price × quantity; ``MedicationReturned`` reverses;
- ``BedDayOccupied`` → the ward class's bed-day rate, once per admission and day.

Cancelling a source reverses an unbilled charge; a billed one is only flagged
(``source_cancelled``) because the invoice is immutable: the clerk issues a credit note.
A fact without a price is not charged; it is logged and audited so the price list can be
completed.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.billing import Charge, PriceItem
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain import events as ev
from hms_server.domain.billing import (
    ChargeNotAvailableError,
    UnknownPriceCodeError,
    field_error,
)
from hms_server.domain.errors import NotFoundError, ValidationFailedError
from hms_server.services.billing.common import (
    actor_id,
    audit,
    repo,
    require_patient,
)

log = logging.getLogger("hms_server.billing")


def capture_charge(
    uow: UnitOfWork,
    *,
    patient_id: int,
    item: PriceItem,
    quantity: Decimal,
    source_type: str,
    source_id: int,
    source_line: str = "",
    service_date: date,
    encounter_id: int | None = None,
    admission_id: int | None = None,
) -> Charge:
    """Record the charge for one source once; a repeat returns the charge already there."""
    with uow:
        r = repo(uow)
        amount = uow.hospital.round_money(quantity * item.unit_price)
        new_id = r.insert_source_charge(
            {
                "patient_id": patient_id,
                "price_item_id": item.id,
                "code": item.code,
                "description": item.name,
                "category": item.category,
                "quantity": quantity,
                "unit_price": item.unit_price,
                "tax_rate": item.tax_rate,
                "tax_category": item.tax_category,
                "amount": amount,
                "status": "unbilled",
                "source_type": source_type,
                "source_id": source_id,
                "source_line": source_line,
                "encounter_id": encounter_id,
                "admission_id": admission_id,
                "service_date": service_date,
                "created_by": actor_id(uow),
                "created_at": utcnow(),
            }
        )
        charge = r.charge_by_source(source_type, source_id, source_line)
        assert charge is not None
        if new_id is not None:
            audit(
                uow,
                "charge.capture",
                patient_id=patient_id,
                charge_id=charge.id,
                source_type=source_type,
                source_id=source_id,
                source_line=source_line,
                amount=amount,
            )
            uow.publish("charge.captured", {"charge_id": charge.id, "patient_id": patient_id})
        uow.commit()
        return charge


def _unpriced(
    uow: UnitOfWork, patient_id: int, source_type: str, source_id: int, **what: object
) -> None:
    log.warning("no price for %s %s (%s); not charged", source_type, source_id, what)
    audit(
        uow,
        "charge.unpriced",
        patient_id=patient_id,
        source_type=source_type,
        source_id=source_id,
        **what,
    )


def add_manual_charge(
    uow: UnitOfWork,
    *,
    patient_id: int,
    price_item_code: str | None,
    price_item_id: int | None,
    quantity: Decimal,
    reason: str,
    encounter_id: int | None,
    service_date: date | None,
) -> Charge:
    """A charge entered by hand (a procedure, a certificate): priced from the list in force
    on the service date, with a reason; audited."""
    with uow:
        require_patient(uow, patient_id)
        r = repo(uow)
        on = service_date or uow.hospital.today()
        if price_item_id is not None:
            item = r.price_item(price_item_id)
            if item is None or not item.active:
                raise UnknownPriceCodeError(
                    f"No active price item with id {price_item_id}.",
                    extra={"errors": [field_error("price_item_id", "not in the price list")]},
                )
            if item.effective_from > on or (item.effective_to and item.effective_to < on):
                raise ValidationFailedError(
                    f"Price item {item.code} is not in force on {on.isoformat()}.",
                    extra={"errors": [field_error("price_item_id", "not in force")]},
                )
        else:
            assert price_item_code is not None
            item = r.price_by_code(price_item_code, on)
            if item is None:
                raise UnknownPriceCodeError(
                    f"Price code {price_item_code} is not in the price list"
                    f"{' on ' + on.isoformat() if r.code_exists(price_item_code) else ''}.",
                    extra={
                        "errors": [
                            field_error("price_item_code", "unknown price code", "unknown_code")
                        ]
                    },
                )
        if encounter_id is not None and r.encounter_patient(encounter_id) != patient_id:
            raise ValidationFailedError(
                "The encounter is not this patient's.",
                extra={"errors": [field_error("encounter_id", "not this patient's encounter")]},
            )
        charge = Charge(
            patient_id=patient_id,
            price_item_id=item.id,
            code=item.code,
            description=item.name,
            category=item.category,
            quantity=quantity,
            unit_price=item.unit_price,
            tax_rate=item.tax_rate,
            tax_category=item.tax_category,
            amount=uow.hospital.round_money(quantity * item.unit_price),
            status="unbilled",
            source_type="manual",
            source_line="",
            encounter_id=encounter_id,
            service_date=on,
            reason=reason,
            created_by=actor_id(uow),
        )
        uow.session.add(charge)
        uow.session.flush()
        audit(
            uow,
            "charge.manual",
            patient_id=patient_id,
            charge_id=charge.id,
            price_item_id=item.id,
            quantity=quantity,
            amount=charge.amount,
        )
        uow.publish("charge.captured", {"charge_id": charge.id, "patient_id": patient_id})
        uow.commit()
        return charge


def reverse_charge(uow: UnitOfWork, charge_id: int, *, reason: str) -> Charge:
    """Take back an unbilled charge (a billed one needs a credit note on its invoice)."""
    with uow:
        charge = repo(uow).charge(charge_id, lock=True)
        if charge is None:
            raise NotFoundError(f"No charge with id {charge_id}.")
        _reverse(uow, charge, reason)
        uow.commit()
        return charge


def _reverse(uow: UnitOfWork, charge: Charge, reason: str) -> None:
    if charge.status != "unbilled":
        raise ChargeNotAvailableError(
            f"Charge {charge.id} is {charge.status}; "
            + (
                "issue a credit note on its invoice."
                if charge.status == "billed"
                else "nothing to reverse."
            ),
            extra={"current_status": charge.status},
        )
    charge.status = "reversed"
    charge.reversed_at = utcnow()
    charge.reversed_reason = reason
    audit(
        uow,
        "charge.reverse",
        patient_id=charge.patient_id,
        charge_id=charge.id,
        amount=charge.amount,
    )
    uow.publish("charge.reversed", {"charge_id": charge.id, "patient_id": charge.patient_id})


def _source_cancelled(uow: UnitOfWork, charge: Charge, reason: str) -> None:
    """The source of ``charge`` was cancelled: reverse it, or flag it when already billed."""
    if charge.status == "unbilled":
        _reverse(uow, charge, reason)
    elif charge.status == "billed" and charge.source_cancelled_at is None:
        charge.source_cancelled_at = utcnow()
        audit(
            uow,
            "charge.source_cancelled",
            patient_id=charge.patient_id,
            charge_id=charge.id,
            invoice_id=charge.invoice_id,
        )
        uow.publish(
            "charge.source_cancelled",
            {
                "charge_id": charge.id,
                "patient_id": charge.patient_id,
                "invoice_id": charge.invoice_id,
            },
        )


def list_patient_charges(
    uow: UnitOfWork,
    patient_id: int,
    *,
    status: str | None,
    encounter_id: int | None,
    admission_id: int | None,
    limit: int,
    offset: int,
) -> tuple[list[Charge], int]:
    with uow:
        require_patient(uow, patient_id)
        rows, total = repo(uow).patient_charges(
            patient_id,
            status=status,
            encounter_id=encounter_id,
            admission_id=admission_id,
            limit=limit,
            offset=offset,
        )
        audit(uow, "charges.read", patient_id=patient_id, count=len(rows))
        uow.commit()
        return rows, total


# --- domain-event handlers (subscribed in hms_server.bootstrap.wire_areas) -------------------


def on_consultation_completed(uow: UnitOfWork, event: ev.ConsultationCompleted) -> None:
    r = repo(uow)
    on = uow.hospital.local(event.ended_at).date()
    department = event.department_id or r.department_of_clinician(event.doctor_user_id)
    item = r.consultation_price(department, on)
    if item is None:
        _unpriced(
            uow, event.patient_id, "consultation", event.encounter_id, department_id=department
        )
        return
    capture_charge(
        uow,
        patient_id=event.patient_id,
        item=item,
        quantity=Decimal(1),
        source_type="consultation",
        source_id=event.encounter_id,
        service_date=on,
        encounter_id=event.encounter_id,
    )


def on_lab_order_placed(uow: UnitOfWork, event: ev.LabOrderPlaced) -> None:
    r = repo(uow)
    on = uow.hospital.local(event.ordered_at).date()
    test_id = r.lab_test_id(event.test_code)
    item = (r.linked_price(on=on, lab_test_id=test_id) if test_id is not None else None) or (
        r.price_by_code(event.test_code, on)
    )
    if item is None:
        _unpriced(uow, event.patient_id, "lab_order", event.order_id, test_code=event.test_code)
        return
    capture_charge(
        uow,
        patient_id=event.patient_id,
        item=item,
        quantity=Decimal(1),
        source_type="lab_order",
        source_id=event.order_id,
        service_date=on,
        encounter_id=event.encounter_id,
    )


def on_lab_order_cancelled(uow: UnitOfWork, event: ev.LabOrderCancelled) -> None:
    charge = repo(uow).charge_by_source("lab_order", event.order_id, lock=True)
    if charge is not None:
        _source_cancelled(uow, charge, "lab order cancelled")


def on_medication_dispensed(uow: UnitOfWork, event: ev.MedicationDispensed) -> None:
    r = repo(uow)
    on = uow.hospital.local(event.dispensed_at).date()
    item = r.linked_price(on=on, drug_id=event.drug_id) if event.drug_id is not None else None
    if item is None:
        _unpriced(uow, event.patient_id, "dispense", event.dispense_line_id, drug_id=event.drug_id)
        return
    capture_charge(
        uow,
        patient_id=event.patient_id,
        item=item,
        quantity=event.quantity,
        source_type="dispense",
        source_id=event.dispense_line_id,
        service_date=on,
        encounter_id=event.encounter_id,
        admission_id=event.admission_id,
    )


def on_medication_returned(uow: UnitOfWork, event: ev.MedicationReturned) -> None:
    """Returned stock: an unbilled charge shrinks (or is reversed when all came back); a
    billed one is flagged for a credit note."""
    charge = repo(uow).charge_by_source("dispense", event.dispense_line_id, lock=True)
    if charge is None:
        return
    if charge.status == "unbilled" and event.quantity < charge.quantity:
        charge.quantity -= event.quantity
        charge.amount = uow.hospital.round_money(charge.quantity * charge.unit_price)
        audit(
            uow,
            "charge.reduce",
            patient_id=charge.patient_id,
            charge_id=charge.id,
            quantity=charge.quantity,
            amount=charge.amount,
        )
        return
    _source_cancelled(uow, charge, "medication returned")


def on_bed_day_occupied(uow: UnitOfWork, event: ev.BedDayOccupied) -> None:
    item = repo(uow).linked_price(on=event.day, ward_class=event.ward_class)
    if item is None:
        _unpriced(
            uow,
            event.patient_id,
            "bed_day",
            event.admission_id,
            ward_class=event.ward_class,
            day=event.day.isoformat(),
        )
        return
    capture_charge(
        uow,
        patient_id=event.patient_id,
        item=item,
        quantity=Decimal(1),
        source_type="bed_day",
        source_id=event.admission_id,
        source_line=event.day.isoformat(),
        service_date=event.day,
        admission_id=event.admission_id,
    )
