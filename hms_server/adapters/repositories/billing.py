"""Billing's data access: price list, charges, invoices, numbering, payments, accounts,
approvals, cash sessions and card intents. Reached with ``uow.repo(BillingRepository)``.

Methods that the money rules depend on lock what they return (``lock=True`` →
``SELECT ... FOR UPDATE``) so concurrent clerks take turns on one invoice or account.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hms_server.adapters.orm.billing import (
    BillingApproval,
    BillingCounter,
    CardIntent,
    CashSession,
    Charge,
    CreditNote,
    GatewayEvent,
    Invoice,
    InvoiceDiscount,
    InvoiceLine,
    PatientAccount,
    Payment,
    PaymentAllocation,
    PriceItem,
)
from hms_server.adapters.orm.clinical import Encounter, LabTest
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import Doctor

PRICE_SORTS = {
    "code": PriceItem.code,
    "name": PriceItem.name,
    "category": PriceItem.category,
    "unit_price": PriceItem.unit_price,
    "effective_from": PriceItem.effective_from,
}
INVOICE_SORTS = {
    "created_at": Invoice.created_at,
    "number": Invoice.number,
    "issued_on": Invoice.issued_on,
    "total": Invoice.total,
    "balance": Invoice.balance,
    "status": Invoice.status,
    "id": Invoice.id,
}


def _current(on: date) -> Any:
    return and_(
        PriceItem.active.is_(True),
        PriceItem.effective_from <= on,
        or_(PriceItem.effective_to.is_(None), PriceItem.effective_to >= on),
    )


def _order(sort: str, columns: dict[str, Any]) -> list[Any]:
    descending = sort.startswith("-")
    column = columns[sort.lstrip("-")]
    return [column.desc().nulls_last() if descending else column.asc().nulls_last()]


class BillingRepository:
    """One per unit of work (``uow.repo``); not thread-safe, like the session it holds."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- reference data -----------------------------------------------------------------------
    def patient(self, patient_id: int) -> Patient | None:
        return self.session.get(Patient, patient_id)

    def patients(self, ids: Iterable[int]) -> dict[int, Patient]:
        wanted = set(ids)
        if not wanted:
            return {}
        return {
            p.id: p for p in self.session.scalars(select(Patient).where(Patient.id.in_(wanted)))
        }

    def user_names(self, ids: Iterable[int | None]) -> dict[int, str]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        return {
            uid: name
            for uid, name in self.session.execute(
                select(User.id, User.full_name).where(User.id.in_(wanted))
            )
        }

    def department_of_clinician(self, user_id: int | None) -> int | None:
        if user_id is None:
            return None
        return self.session.scalar(select(Doctor.department_id).where(Doctor.user_id == user_id))

    def encounter_patient(self, encounter_id: int) -> int | None:
        return self.session.scalar(select(Encounter.patient_id).where(Encounter.id == encounter_id))

    def lab_test_id(self, code: str) -> int | None:
        return self.session.scalar(
            select(LabTest.id).where(func.upper(LabTest.code) == code.upper())
        )

    # -- numbering ---------------------------------------------------------------------------
    def next_number(self, series: str, year: int) -> int:
        """The next number of ``series`` in ``year``. The counter row stays locked until the
        transaction ends; if it rolls back, so does the increment (no gaps)."""
        statement = (
            insert(BillingCounter)
            .values(series=series, year=year, last_number=1)
            .on_conflict_do_update(
                index_elements=[BillingCounter.series, BillingCounter.year],
                set_={"last_number": BillingCounter.last_number + 1},
            )
            .returning(BillingCounter.last_number)
        )
        return int(self.session.execute(statement).scalar_one())

    # -- price list --------------------------------------------------------------------------
    def price_item(self, item_id: int, *, lock: bool = False) -> PriceItem | None:
        return self.session.get(PriceItem, item_id, with_for_update=lock)

    def price_by_code(self, code: str, on: date) -> PriceItem | None:
        return self.session.scalar(
            select(PriceItem).where(PriceItem.code == code.upper(), _current(on))
        )

    def code_exists(self, code: str) -> bool:
        return (
            self.session.scalar(
                select(func.count()).select_from(PriceItem).where(PriceItem.code == code.upper())
            )
            != 0
        )

    def consultation_price(self, department_id: int | None, on: date) -> PriceItem | None:
        """The department's consultation price, else a general one (no department)."""
        query = select(PriceItem).where(PriceItem.category == "consultation", _current(on))
        if department_id is not None:
            found = self.session.scalar(
                query.where(PriceItem.department_id == department_id)
                .order_by(PriceItem.id)
                .limit(1)
            )
            if found is not None:
                return found
        return self.session.scalar(
            query.where(PriceItem.department_id.is_(None)).order_by(PriceItem.id).limit(1)
        )

    def linked_price(
        self,
        *,
        on: date,
        lab_test_id: int | None = None,
        drug_id: int | None = None,
        ward_class: str | None = None,
    ) -> PriceItem | None:
        query = select(PriceItem).where(_current(on))
        if lab_test_id is not None:
            query = query.where(PriceItem.lab_test_id == lab_test_id)
        elif drug_id is not None:
            query = query.where(PriceItem.drug_id == drug_id)
        elif ward_class is not None:
            query = query.where(PriceItem.ward_class == ward_class)
        else:
            return None
        return self.session.scalar(query.order_by(PriceItem.id).limit(1))

    def list_price_items(
        self,
        *,
        q: str | None,
        category: str | None,
        on: date | None,
        include_inactive: bool,
        limit: int,
        offset: int,
        sort: str,
    ) -> tuple[list[PriceItem], int]:
        query = select(PriceItem)
        if q:
            pattern = f"%{q.lower()}%"
            query = query.where(
                or_(
                    func.lower(PriceItem.name).like(pattern),
                    func.lower(PriceItem.code).like(pattern),
                )
            )
        if category:
            query = query.where(PriceItem.category == category)
        if on is not None:
            query = query.where(
                _current(on)
                if not include_inactive
                else and_(
                    PriceItem.effective_from <= on,
                    or_(PriceItem.effective_to.is_(None), PriceItem.effective_to >= on),
                )
            )
        elif not include_inactive:
            query = query.where(PriceItem.active.is_(True))
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(
            self.session.scalars(
                query.order_by(*_order(sort, PRICE_SORTS), PriceItem.id).limit(limit).offset(offset)
            )
        )
        return rows, total

    # -- charges ------------------------------------------------------------------------------
    def charge(self, charge_id: int, *, lock: bool = False) -> Charge | None:
        return self.session.get(Charge, charge_id, with_for_update=lock)

    def charge_by_source(
        self, source_type: str, source_id: int, source_line: str = "", *, lock: bool = False
    ) -> Charge | None:
        query = select(Charge).where(
            Charge.source_type == source_type,
            Charge.source_id == source_id,
            Charge.source_line == source_line,
        )
        return self.session.scalar(query.with_for_update() if lock else query)

    def charges_by_source(
        self, source_type: str, source_id: int, *, lock: bool = False
    ) -> list[Charge]:
        query = (
            select(Charge)
            .where(Charge.source_type == source_type, Charge.source_id == source_id)
            .order_by(Charge.id)
        )
        return list(self.session.scalars(query.with_for_update() if lock else query))

    def insert_source_charge(self, values: dict[str, Any]) -> int | None:
        """Insert an automatic charge unless its source is already charged; the new id, or
        ``None`` when it was (the unique index decides, so concurrent retries are safe)."""
        statement = (
            insert(Charge)
            .values(**values, version=1)
            .on_conflict_do_nothing(
                index_elements=[Charge.source_type, Charge.source_id, Charge.source_line],
                index_where=text("source_type <> 'manual'"),
            )
            .returning(Charge.id)
        )
        return self.session.execute(statement).scalar_one_or_none()

    def patient_charges(
        self,
        patient_id: int,
        *,
        status: str | None,
        encounter_id: int | None,
        admission_id: int | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Charge], int]:
        query = select(Charge).where(Charge.patient_id == patient_id)
        if status:
            query = query.where(Charge.status == status)
        if encounter_id is not None:
            query = query.where(Charge.encounter_id == encounter_id)
        if admission_id is not None:
            query = query.where(Charge.admission_id == admission_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(
            self.session.scalars(
                query.order_by(Charge.service_date, Charge.id).limit(limit).offset(offset)
            )
        )
        return rows, total

    def charges_for_invoice(
        self,
        patient_id: int,
        *,
        ids: Sequence[int] | None,
        encounter_id: int | None,
        admission_id: int | None,
    ) -> list[Charge]:
        """Charges to put on a draft, locked (a second clerk waits, then sees them billed)."""
        query = select(Charge).where(Charge.patient_id == patient_id)
        if ids is not None:
            query = query.where(Charge.id.in_(ids))
        else:
            query = query.where(Charge.status == "unbilled")
        if encounter_id is not None:
            query = query.where(Charge.encounter_id == encounter_id)
        if admission_id is not None:
            query = query.where(Charge.admission_id == admission_id)
        return list(
            self.session.scalars(query.order_by(Charge.service_date, Charge.id).with_for_update())
        )

    def charges_of_invoice(self, invoice_id: int, *, lock: bool = False) -> list[Charge]:
        query = select(Charge).where(Charge.invoice_id == invoice_id).order_by(Charge.id)
        return list(self.session.scalars(query.with_for_update() if lock else query))

    def unbilled_totals(self, patient_id: int) -> tuple[Decimal, int]:
        amount, count = self.session.execute(
            select(func.coalesce(func.sum(Charge.amount), 0), func.count()).where(
                Charge.patient_id == patient_id, Charge.status == "unbilled"
            )
        ).one()
        return Decimal(amount), int(count)

    # -- invoices -------------------------------------------------------------------------
    def invoice(self, invoice_id: int, *, lock: bool = False) -> Invoice | None:
        return self.session.get(Invoice, invoice_id, with_for_update=lock)

    def invoice_by_number(self, number: str) -> Invoice | None:
        return self.session.scalar(select(Invoice).where(Invoice.number == number.upper()))

    def invoices(self, ids: Iterable[int]) -> dict[int, Invoice]:
        wanted = set(ids)
        if not wanted:
            return {}
        return {
            i.id: i for i in self.session.scalars(select(Invoice).where(Invoice.id.in_(wanted)))
        }

    def lines(self, invoice_id: int) -> list[InvoiceLine]:
        return list(
            self.session.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == invoice_id)
                .order_by(InvoiceLine.line_no)
            )
        )

    def line_counts(self, invoice_ids: Iterable[int]) -> dict[int, int]:
        wanted = set(invoice_ids)
        if not wanted:
            return {}
        return {
            iid: int(n)
            for iid, n in self.session.execute(
                select(InvoiceLine.invoice_id, func.count())
                .where(InvoiceLine.invoice_id.in_(wanted))
                .group_by(InvoiceLine.invoice_id)
            )
        }

    def discounts(self, invoice_id: int) -> list[InvoiceDiscount]:
        return list(
            self.session.scalars(
                select(InvoiceDiscount)
                .where(InvoiceDiscount.invoice_id == invoice_id)
                .order_by(InvoiceDiscount.id)
            )
        )

    def discount(self, discount_id: int, *, lock: bool = False) -> InvoiceDiscount | None:
        return self.session.get(InvoiceDiscount, discount_id, with_for_update=lock)

    def credit_notes(self, invoice_id: int) -> list[CreditNote]:
        return list(
            self.session.scalars(
                select(CreditNote)
                .where(CreditNote.invoice_id == invoice_id)
                .order_by(CreditNote.id)
            )
        )

    def credit_note(self, credit_note_id: int) -> CreditNote | None:
        return self.session.get(CreditNote, credit_note_id)

    def allocations_of_invoice(self, invoice_id: int) -> list[PaymentAllocation]:
        return list(
            self.session.scalars(
                select(PaymentAllocation)
                .where(PaymentAllocation.invoice_id == invoice_id)
                .order_by(PaymentAllocation.id)
            )
        )

    def list_invoices(
        self,
        *,
        patient_id: int | None,
        status: Sequence[str] | None,
        q: str | None,
        limit: int,
        offset: int,
        sort: str,
    ) -> tuple[list[Invoice], int]:
        query = select(Invoice)
        if patient_id is not None:
            query = query.where(Invoice.patient_id == patient_id)
        if status:
            query = query.where(Invoice.status.in_(list(status)))
        if q:
            query = query.where(Invoice.number.like(f"%{q.upper()}%"))
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(
            self.session.scalars(
                query.order_by(*_order(sort, INVOICE_SORTS), Invoice.id.desc())
                .limit(limit)
                .offset(offset)
            )
        )
        return rows, total

    # -- payments and accounts -------------------------------------------------------------
    def payment(self, payment_id: int, *, lock: bool = False) -> Payment | None:
        return self.session.get(Payment, payment_id, with_for_update=lock)

    def payment_by_receipt(self, number: str) -> Payment | None:
        return self.session.scalar(select(Payment).where(Payment.receipt_number == number.upper()))

    def allocations_of_payments(
        self, payment_ids: Iterable[int]
    ) -> dict[int, list[PaymentAllocation]]:
        wanted = set(payment_ids)
        found: dict[int, list[PaymentAllocation]] = {pid: [] for pid in wanted}
        if wanted:
            for row in self.session.scalars(
                select(PaymentAllocation)
                .where(PaymentAllocation.payment_id.in_(wanted))
                .order_by(PaymentAllocation.id)
            ):
                found[row.payment_id or 0].append(row)
        return found

    def patient_payments(
        self, patient_id: int, *, limit: int, offset: int
    ) -> tuple[list[Payment], int]:
        query = select(Payment).where(Payment.patient_id == patient_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(
            self.session.scalars(
                query.order_by(Payment.received_at.desc(), Payment.id.desc())
                .limit(limit)
                .offset(offset)
            )
        )
        return rows, total

    def invoice_payments(self, invoice_id: int) -> list[Payment]:
        ids = select(PaymentAllocation.payment_id).where(
            PaymentAllocation.invoice_id == invoice_id, PaymentAllocation.payment_id.is_not(None)
        )
        return list(
            self.session.scalars(
                select(Payment)
                .where(or_(Payment.id.in_(ids), Payment.invoice_id == invoice_id))
                .order_by(Payment.received_at, Payment.id)
            )
        )

    def account(self, patient_id: int, *, lock: bool = False) -> PatientAccount:
        """The patient's account (created on first use), locked when ``lock``."""
        self.session.execute(
            insert(PatientAccount)
            .values(patient_id=patient_id, credit=Decimal(0), version=1)
            .on_conflict_do_nothing()
        )
        query = select(PatientAccount).where(PatientAccount.patient_id == patient_id)
        found = self.session.scalar(query.with_for_update() if lock else query)
        assert found is not None
        return found

    def account_credit(self, patient_id: int) -> Decimal:
        return Decimal(
            self.session.scalar(
                select(PatientAccount.credit).where(PatientAccount.patient_id == patient_id)
            )
            or 0
        )

    def patient_outstanding(self, patient_id: int) -> tuple[Decimal, Decimal, int]:
        """(patient's part still owed, payers' part still owed, draft count)."""
        patient_part, payer_part = self.session.execute(
            select(
                func.coalesce(func.sum(Invoice.patient_due - Invoice.patient_paid), 0),
                func.coalesce(func.sum(Invoice.payer_due - Invoice.payer_paid), 0),
            ).where(
                Invoice.patient_id == patient_id, Invoice.status.in_(("finalised", "partly_paid"))
            )
        ).one()
        drafts = (
            self.session.scalar(
                select(func.count())
                .select_from(Invoice)
                .where(Invoice.patient_id == patient_id, Invoice.status == "draft")
            )
            or 0
        )
        return Decimal(patient_part), Decimal(payer_part), int(drafts)

    # -- approvals ----------------------------------------------------------------------
    def approval(self, approval_id: int, *, lock: bool = False) -> BillingApproval | None:
        return self.session.get(BillingApproval, approval_id, with_for_update=lock)

    def approvals_for_discounts(self, discount_ids: Iterable[int]) -> dict[int, int]:
        wanted = set(discount_ids)
        if not wanted:
            return {}
        return {
            d: a
            for a, d in self.session.execute(
                select(BillingApproval.id, BillingApproval.discount_id)
                .where(BillingApproval.discount_id.in_(wanted))
                .order_by(BillingApproval.id)
            )
            if d is not None
        }

    def list_approvals(
        self, *, status: str | None, kind: str | None, limit: int, offset: int
    ) -> tuple[list[BillingApproval], int]:
        query = select(BillingApproval)
        if status:
            query = query.where(BillingApproval.status == status)
        if kind:
            query = query.where(BillingApproval.kind == kind)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(
            self.session.scalars(
                query.order_by(BillingApproval.requested_at.desc(), BillingApproval.id.desc())
                .limit(limit)
                .offset(offset)
            )
        )
        return rows, total

    # -- cash sessions ----------------------------------------------------------------------
    def cash_session(self, session_id: int, *, lock: bool = False) -> CashSession | None:
        return self.session.get(CashSession, session_id, with_for_update=lock)

    def open_cash_session(self, cashier_id: int, *, lock: bool = False) -> CashSession | None:
        query = select(CashSession).where(
            CashSession.cashier_id == cashier_id, CashSession.status == "open"
        )
        return self.session.scalar(query.with_for_update() if lock else query)

    def drawer_open(self, drawer: str) -> bool:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(CashSession)
                .where(CashSession.drawer == drawer, CashSession.status == "open")
            )
            != 0
        )

    def session_totals(self, session_id: int) -> dict[tuple[str, str], tuple[Decimal, int]]:
        """(kind, method) → (sum of amounts, count) of the session's payments."""
        return {
            (kind, method): (Decimal(amount), int(count))
            for kind, method, amount, count in self.session.execute(
                select(Payment.kind, Payment.method, func.sum(Payment.amount), func.count())
                .where(Payment.cash_session_id == session_id)
                .group_by(Payment.kind, Payment.method)
            )
        }

    def list_cash_sessions(
        self, *, cashier_id: int | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[CashSession], int]:
        query = select(CashSession)
        if cashier_id is not None:
            query = query.where(CashSession.cashier_id == cashier_id)
        if status:
            query = query.where(CashSession.status == status)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(
            self.session.scalars(
                query.order_by(CashSession.opened_at.desc(), CashSession.id.desc())
                .limit(limit)
                .offset(offset)
            )
        )
        return rows, total

    # -- card intents -------------------------------------------------------------------------
    def card_intent(self, intent_id: int, *, lock: bool = False) -> CardIntent | None:
        return self.session.get(CardIntent, intent_id, with_for_update=lock)

    def card_intent_by_gateway_id(
        self, gateway_id: str, *, lock: bool = False
    ) -> CardIntent | None:
        query = select(CardIntent).where(CardIntent.gateway_intent_id == gateway_id)
        return self.session.scalar(query.with_for_update() if lock else query)

    def card_intent_of_payment(self, payment_id: int) -> CardIntent | None:
        return self.session.scalar(select(CardIntent).where(CardIntent.payment_id == payment_id))

    def record_gateway_event(self, values: dict[str, Any]) -> bool:
        """Remember a verified event id; ``False`` if it was seen before (a duplicate)."""
        inserted = self.session.execute(
            insert(GatewayEvent)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[GatewayEvent.event_id])
            .returning(GatewayEvent.id)
        ).first()
        return inserted is not None

    def set_gateway_event_outcome(self, event_id: str, outcome: str) -> None:
        self.session.execute(
            update(GatewayEvent).where(GatewayEvent.event_id == event_id).values(outcome=outcome)
        )

    # -- patient merge ----------------------------------------------------------------------
    def move_patient(self, loser_id: int, survivor_id: int) -> None:
        """Every billing and insurance row of ``loser_id`` follows the survivor; the
        loser's account credit is added to the survivor's."""
        from hms_server.adapters.orm.insurance import Claim, PatientPolicy, Preauthorization

        for model in (
            Charge,
            Invoice,
            CreditNote,
            Payment,
            CardIntent,
            BillingApproval,
            PatientPolicy,
            Preauthorization,
            Claim,
        ):
            self.session.execute(
                update(model)
                .where(model.patient_id == loser_id)
                .values(patient_id=survivor_id)
                .execution_options(synchronize_session=False)
            )
        # The account moves when the survivor has none; otherwise the credit is added to the
        # survivor's and the merged-away account is closed.
        survivor_has = (
            select(PatientAccount.patient_id)
            .where(PatientAccount.patient_id == survivor_id)
            .exists()
        )
        self.session.execute(
            update(PatientAccount)
            .where(PatientAccount.patient_id == loser_id, ~survivor_has)
            .values(patient_id=survivor_id)
            .execution_options(synchronize_session=False)
        )
        credit = self.session.scalar(
            select(PatientAccount.credit)
            .where(PatientAccount.patient_id == loser_id)
            .with_for_update()
        )
        if credit is not None:
            survivor = self.account(survivor_id, lock=True)
            survivor.credit += credit
            self.session.execute(
                delete(PatientAccount).where(PatientAccount.patient_id == loser_id)
            )
