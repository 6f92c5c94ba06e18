"""Invoices: a draft built from unbilled charges, edited (charges, discounts, insurance),
then finalised: numbered gaplessly (``INV-2026-000123``), split into payer and patient
portions, and frozen.

Gapless numbering: the number comes from the ``billing_counters`` row of the series and
year, incremented in the finalising transaction and locked until it commits. If anything
fails before the commit, the increment rolls back with the invoice, so no number is ever
consumed without its invoice. The counter is taken last, after every check and computation,
to keep the lock short (see ``bench/billing.py`` for 50 finalisations at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.billing import Invoice, InvoiceLine
from hms_server.adapters.repositories.insurance import InsuranceRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import (
    SERIES_INVOICE,
    ApprovalPendingError,
    BillingPolicy,
    ChargeNotAvailableError,
    Discount,
    LineInput,
    NothingToInvoiceError,
    PlanRules,
    PolicyYearUsage,
    SplitLine,
    compute_invoice,
    discount_amount,
    document_number,
    field_error,
    invoice_status,
    no_split,
    split_invoice,
)
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.domain.versioning import check_version
from hms_server.services.billing import claims
from hms_server.services.billing.common import (
    actor_id,
    audit,
    repo,
    require_draft,
    require_invoice,
    require_patient,
    zero,
)
from hms_server.services.billing.views import InvoiceView, invoice_summaries, invoice_view


class PolicyNotValidError(ConflictError):
    code, title = "policy_not_valid", "Policy not valid"


def _new_invoice(
    uow: UnitOfWork,
    patient_id: int,
    *,
    encounter_id: int | None,
    admission_id: int | None,
    notes: str | None,
) -> Invoice:
    nothing = zero(uow)
    invoice = Invoice(
        patient_id=patient_id,
        series=SERIES_INVOICE,
        status="draft",
        currency=uow.hospital.currency,
        encounter_id=encounter_id,
        admission_id=admission_id,
        notes=notes,
        created_by=actor_id(uow),
        created_at=utcnow(),
        updated_at=utcnow(),
        **{
            c: nothing
            for c in (
                "subtotal",
                "discount_total",
                "tax_total",
                "total",
                "payer_due",
                "patient_due",
                "copay",
                "deductible",
                "patient_paid",
                "payer_paid",
                "credited",
                "written_off",
            )
        },
    )
    uow.session.add(invoice)
    uow.session.flush()
    return invoice


def _take_charges(
    uow: UnitOfWork,
    invoice: Invoice,
    charge_ids: Sequence[int] | None,
    *,
    encounter_id: int | None = None,
    admission_id: int | None = None,
) -> int:
    """Lock the charges, check they are unbilled, and put them on the draft as lines."""
    r = repo(uow)
    charges = r.charges_for_invoice(
        invoice.patient_id, ids=charge_ids, encounter_id=encounter_id, admission_id=admission_id
    )
    if charge_ids is not None:
        missing = sorted(set(charge_ids) - {c.id for c in charges})
        if missing:
            raise ValidationFailedError(
                f"Charges {missing} are not this patient's charges.",
                extra={
                    "errors": [
                        field_error("charge_ids", f"unknown for this patient: {missing[:20]}")
                    ]
                },
            )
        taken = [c.id for c in charges if c.status != "unbilled"]
        if taken:
            raise ChargeNotAvailableError(
                f"Charges {taken[:20]} are already billed or reversed.", extra={"charge_ids": taken}
            )
    if not charges:
        raise NothingToInvoiceError("There are no unbilled charges to invoice.")
    next_no = max((line.line_no for line in r.lines(invoice.id)), default=0)
    for offset, charge in enumerate(charges, start=1):
        uow.session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                line_no=next_no + offset,
                charge_id=charge.id,
                code=charge.code,
                description=charge.description,
                category=charge.category,
                service_date=charge.service_date,
                quantity=charge.quantity,
                unit_price=charge.unit_price,
                gross=charge.amount,
                discount=zero(uow),
                net=charge.amount,
                tax_category=charge.tax_category,
                tax_rate=charge.tax_rate,
                tax=zero(uow),
                total=charge.amount,
                payer_share=zero(uow),
                patient_share=charge.amount,
            )
        )
        charge.status, charge.invoice_id = "billed", invoice.id
    uow.session.flush()
    return len(charges)


def plan_rules(uow: UnitOfWork, plan_id: int) -> PlanRules:
    insurance = uow.repo(InsuranceRepository)
    plan = insurance.plan(plan_id)
    assert plan is not None
    return PlanRules(
        coverage=insurance.coverage([plan_id])[plan_id],
        copay=plan.copay,
        deductible=plan.deductible,
        annual_limit=plan.annual_limit,
        excluded_codes=frozenset(c.upper() for c in plan.excluded_codes),
    )


def recompute(uow: UnitOfWork, invoice: Invoice) -> None:
    """Work out a draft's lines, discounts, tax, totals and insurance split again."""
    r = repo(uow)
    lines = r.lines(invoice.id)
    discounts = [d for d in r.discounts(invoice.id) if d.status != "rejected"]
    applied = {d.line_id: Discount(d.kind, d.value) for d in discounts if d.status == "approved"}
    amounts = compute_invoice(
        [
            LineInput(
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                tax_category=line.tax_category,
                category=line.category,
                code=line.code,
                discount=applied.get(line.id),
            )
            for line in lines
        ],
        applied.get(None),
        uow.hospital,
    )
    # What each discount is worth, pending ones included (what the approver decides on).
    line_values = {}
    for d in discounts:
        if d.line_id is not None:
            line = next(x for x in lines if x.id == d.line_id)
            gross = uow.hospital.round_money(line.quantity * line.unit_price)
            line_values[d.line_id] = d.amount = discount_amount(
                Discount(d.kind, d.value), gross, uow.hospital
            )
    for d in discounts:
        if d.line_id is None:
            base = sum(
                (
                    uow.hospital.round_money(x.quantity * x.unit_price)
                    - line_values.get(x.id, Decimal(0))
                    for x in lines
                ),
                Decimal(0),
            )
            d.amount = discount_amount(Discount(d.kind, d.value), base, uow.hospital)
    split = no_split([a.total for a in amounts.lines], uow.hospital)
    if invoice.policy_id is not None:
        insurance = uow.repo(InsuranceRepository)
        policy = insurance.policy(invoice.policy_id)
        assert policy is not None
        year = (invoice.issued_on or uow.hospital.today()).year
        deductible_used, payer_used = insurance.policy_year_usage(
            policy.id, year, exclude_invoice=invoice.id
        )
        split = split_invoice(
            [
                SplitLine(line.category, line.code.upper(), a.total)
                for line, a in zip(lines, amounts.lines, strict=True)
            ],
            plan_rules(uow, policy.plan_id),
            PolicyYearUsage(deductible_used=deductible_used, payer_used=payer_used),
            uow.hospital,
        )
    for line, a, payer, patient in zip(
        lines, amounts.lines, split.payer_shares, split.patient_shares, strict=True
    ):
        line.gross, line.discount, line.net, line.tax, line.total = (
            a.gross,
            a.discount,
            a.net,
            a.tax,
            a.total,
        )
        line.payer_share, line.patient_share = payer, patient
    invoice.subtotal, invoice.discount_total = amounts.subtotal, amounts.discount
    invoice.tax_total, invoice.total = amounts.tax, amounts.total
    invoice.payer_due, invoice.patient_due = split.payer_due, split.patient_due
    invoice.copay, invoice.deductible = split.copay, split.deductible
    invoice.updated_at = utcnow()
    uow.session.flush()


def _changed(uow: UnitOfWork, invoice: Invoice, action: str, **ids: Any) -> None:
    audit(uow, action, patient_id=invoice.patient_id, invoice_id=invoice.id, **ids)
    uow.publish(
        "invoice.changed",
        {"invoice_id": invoice.id, "patient_id": invoice.patient_id, "status": invoice.status},
    )


def create_invoice(
    uow: UnitOfWork,
    *,
    patient_id: int,
    charge_ids: Sequence[int] | None,
    encounter_id: int | None,
    admission_id: int | None,
    notes: str | None,
) -> InvoiceView:
    """A draft from the listed unbilled charges, or all of the patient's (optionally of one
    encounter or admission). The patient's policy in force today is applied."""
    with uow:
        require_patient(uow, patient_id)
        invoice = _new_invoice(
            uow, patient_id, encounter_id=encounter_id, admission_id=admission_id, notes=notes
        )
        count = _take_charges(
            uow, invoice, charge_ids, encounter_id=encounter_id, admission_id=admission_id
        )
        policy = uow.repo(InsuranceRepository).active_policy_on(patient_id, uow.hospital.today())
        if policy is not None:
            invoice.policy_id = policy.id
        recompute(uow, invoice)
        _changed(uow, invoice, "invoice.create", lines=count, policy_id=invoice.policy_id)
        view = invoice_view(uow, invoice)
        uow.commit()
        return view


def get_invoice(
    uow: UnitOfWork, invoice_id: int | None = None, *, number: str | None = None
) -> InvoiceView:
    """One invoice (by id or number); the read is audited against the patient."""
    with uow:
        invoice = (
            require_invoice(uow, invoice_id)
            if invoice_id is not None
            else repo(uow).invoice_by_number(number or "")
        )
        if invoice is None:
            raise NotFoundError(f"No invoice numbered {number}.")
        view = invoice_view(uow, invoice)
        audit(uow, "invoice.read", patient_id=invoice.patient_id, invoice_id=invoice.id)
        uow.commit()
        return view


def list_invoices(
    uow: UnitOfWork,
    *,
    patient_id: int | None,
    status: Sequence[str] | None,
    q: str | None,
    limit: int,
    offset: int,
    sort: str,
) -> tuple[list[Any], int]:
    with uow:
        rows, total = repo(uow).list_invoices(
            patient_id=patient_id, status=status, q=q, limit=limit, offset=offset, sort=sort
        )
        views = invoice_summaries(uow, rows)
        if rows:
            audit(
                uow,
                "invoices.read",
                patient_id=patient_id,
                count=len(rows),
                patient_ids=sorted({r.patient_id for r in rows})[:200],
            )
            uow.commit()
        return views, total


def update_invoice(
    uow: UnitOfWork, invoice_id: int, *, version: int | None, changes: dict[str, Any]
) -> InvoiceView:
    """Notes or due date of a draft."""
    with uow:
        invoice = require_invoice(uow, invoice_id, lock=True)
        require_draft(invoice)
        if version is not None:
            check_version(invoice.version, version, "invoice")
        if "notes" in changes:
            invoice.notes = changes["notes"]
        if "due_on" in changes:
            invoice.due_on = changes["due_on"]
        invoice.updated_at = utcnow()
        uow.session.flush()
        _changed(uow, invoice, "invoice.update", fields=sorted(changes))
        view = invoice_view(uow, invoice)
        uow.commit()
        return view


def add_charges(
    uow: UnitOfWork, invoice_id: int, *, version: int | None, charge_ids: Sequence[int]
) -> InvoiceView:
    with uow:
        invoice = require_invoice(uow, invoice_id, lock=True)
        require_draft(invoice)
        if version is not None:
            check_version(invoice.version, version, "invoice")
        count = _take_charges(uow, invoice, charge_ids)
        recompute(uow, invoice)
        _changed(uow, invoice, "invoice.add_charges", lines=count)
        view = invoice_view(uow, invoice)
        uow.commit()
        return view


def remove_line(
    uow: UnitOfWork, invoice_id: int, line_id: int, *, version: int | None
) -> InvoiceView:
    """Take a line off a draft; its charge is unbilled again."""
    with uow:
        r = repo(uow)
        invoice = require_invoice(uow, invoice_id, lock=True)
        require_draft(invoice)
        if version is not None:
            check_version(invoice.version, version, "invoice")
        line = next((x for x in r.lines(invoice.id) if x.id == line_id), None)
        if line is None:
            raise NotFoundError(f"Invoice {invoice_id} has no line {line_id}.")
        if line.charge_id is not None:
            charge = r.charge(line.charge_id, lock=True)
            assert charge is not None
            charge.status, charge.invoice_id = "unbilled", None
        uow.session.delete(line)
        uow.session.flush()
        recompute(uow, invoice)
        _changed(uow, invoice, "invoice.remove_line", line_id=line_id, charge_id=line.charge_id)
        view = invoice_view(uow, invoice)
        uow.commit()
        return view


def set_policy(
    uow: UnitOfWork, invoice_id: int, *, version: int | None, policy_id: int | None
) -> InvoiceView:
    """Apply a policy of the patient to a draft (or remove it): the split is recomputed."""
    with uow:
        invoice = require_invoice(uow, invoice_id, lock=True)
        require_draft(invoice)
        if version is not None:
            check_version(invoice.version, version, "invoice")
        if policy_id is not None:
            policy = uow.repo(InsuranceRepository).policy(policy_id)
            if policy is None or policy.patient_id != invoice.patient_id:
                raise ValidationFailedError(
                    "That policy is not this patient's.",
                    extra={"errors": [field_error("policy_id", "not this patient's policy")]},
                )
        invoice.policy_id = policy_id
        recompute(uow, invoice)
        _changed(uow, invoice, "invoice.insurance", policy_id=policy_id)
        view = invoice_view(uow, invoice)
        uow.commit()
        return view


def discard_draft(uow: UnitOfWork, invoice_id: int) -> None:
    """Delete a draft; its charges are unbilled again."""
    with uow:
        r = repo(uow)
        invoice = require_invoice(uow, invoice_id, lock=True)
        require_draft(invoice)
        for charge in r.charges_of_invoice(invoice.id, lock=True):
            charge.status, charge.invoice_id = "unbilled", None
        uow.session.flush()
        audit(uow, "invoice.discard", patient_id=invoice.patient_id, invoice_id=invoice.id)
        uow.publish(
            "invoice.changed",
            {"invoice_id": invoice.id, "patient_id": invoice.patient_id, "status": "discarded"},
        )
        uow.session.delete(invoice)
        uow.session.flush()
        uow.commit()


def finalize_invoice(
    uow: UnitOfWork,
    invoice_id: int,
    *,
    version: int | None = None,
    policy: BillingPolicy | None = None,
    issued_on: date | None = None,
) -> InvoiceView:
    """Number the draft (gapless), fix its amounts and split, open the payer's claim.

    ``issued_on`` backdates the invoice (data imports and the demo seed only; the API always
    finalises today); the number comes from that year's series."""
    with uow:
        invoice = require_invoice(uow, invoice_id, lock=True)
        require_draft(invoice)
        if version is not None:
            check_version(invoice.version, version, "invoice")
        r = repo(uow)
        if not r.lines(invoice.id):
            raise NothingToInvoiceError("The draft has no lines.")
        if any(d.status == "pending" for d in r.discounts(invoice.id)):
            raise ApprovalPendingError(
                "A discount on this invoice is waiting for a manager's approval."
            )
        today = issued_on or uow.hospital.today()
        rules = policy or BillingPolicy()
        cover = None
        if invoice.policy_id is not None:
            cover = uow.repo(InsuranceRepository).policy(invoice.policy_id, lock=True)
            assert cover is not None
            if (
                not cover.active
                or cover.valid_from > today
                or (cover.valid_to is not None and cover.valid_to < today)
            ):
                raise PolicyNotValidError(
                    "The applied policy is not valid today; remove it or choose another."
                )
        invoice.issued_on = today
        recompute(uow, invoice)
        # The counter last: its row lock is held until commit, so keep that short.
        sequence = r.next_number(SERIES_INVOICE, today.year)
        invoice.year, invoice.sequence = today.year, sequence
        invoice.number = document_number(SERIES_INVOICE, today.year, sequence)
        invoice.due_on = invoice.due_on or today + timedelta(days=rules.invoice_due_days)
        invoice.finalised_at, invoice.finalised_by = utcnow(), actor_id(uow)
        invoice.status = invoice_status(
            total=invoice.total, credited=invoice.credited, paid=Decimal(0), balance=invoice.total
        )
        uow.session.flush()
        if cover is not None and invoice.payer_due > 0:
            claims.open_claim(uow, invoice, cover)
        audit(
            uow,
            "invoice.finalize",
            patient_id=invoice.patient_id,
            invoice_id=invoice.id,
            number=invoice.number,
            total=invoice.total,
            payer_due=invoice.payer_due,
        )
        uow.publish(
            "invoice.finalised",
            {"invoice_id": invoice.id, "patient_id": invoice.patient_id, "number": invoice.number},
        )
        view = invoice_view(uow, invoice)
        uow.commit()
        return view
