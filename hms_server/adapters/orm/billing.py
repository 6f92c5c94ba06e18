"""Billing tables: price list, charges, invoices and their lines, discounts, credit notes,
payments and their allocations, patient accounts, approvals, cash-up sessions, card intents
and gateway webhook events, and the counters behind gapless document numbers.

PostgreSQL holds the money invariants itself (migration 0010), whatever the application does:
- money columns are ``NUMERIC`` (never float) and never negative;
- an invoice's parts add up: ``total = subtotal - discount + tax`` and
  ``total = patient_due + payer_due + credited + written_off``; nobody is paid more than
  they are owed (``patient_paid <= patient_due``, ``payer_paid <= payer_due``), so a balance
  is never negative; a patient's account credit is never negative;
- a number exists exactly when the invoice is not a draft, and is unique per series/year;
  a finalised invoice's lines and totals cannot change (trigger);
- a charge from an automatic source exists once (``uq_charges_source``), and is on at most
  one invoice (``charges.invoice_id``);
- one price per linked lab test, drug or ward class at any date (exclusion constraints);
- a submitted cash-up is locked, and no payment joins it afterwards (triggers);
- an approval is decided by someone other than the requester.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base

CHARGE_STATUSES = ("unbilled", "billed", "reversed")
CHARGE_SOURCES = ("manual", "consultation", "lab_order", "dispense", "bed_day")
INVOICE_STATUSES = ("draft", "finalised", "partly_paid", "paid", "void")
PAYMENT_METHODS = ("cash", "card", "bank_transfer", "insurance")
PAYMENT_KINDS = ("payment", "deposit", "refund")
APPROVAL_KINDS = ("discount", "refund", "write_off")
APPROVAL_STATUSES = ("pending", "approved", "rejected", "withdrawn")
DISCOUNT_STATUSES = ("pending", "approved", "rejected")
CARD_INTENT_STATUSES = ("pending", "succeeded", "failed", "cancelled")
WARD_CLASSES = ("general", "semi_private", "private", "icu")


def _in(values: tuple[str, ...]) -> str:
    return ",".join(f"'{v}'" for v in values)


def _money(nullable: bool = False) -> Any:
    return mapped_column(Numeric(), nullable=nullable)


def _price_period() -> Any:
    return func.daterange(text("effective_from"), text("effective_to"), "[]")


class BillingCounter(Base):
    """The last number given in a series and year. Incremented in the transaction that
    uses the number, under the row lock, so a rolled-back finalisation gives it back:
    numbers have no gaps (a sequence would leave them)."""

    __tablename__ = "billing_counters"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_positive"),)

    series: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last_number: Mapped[int] = mapped_column(BigInteger, nullable=False)


class PriceItem(Base):
    """One price of one billable item for a period. A new price is a new row for the same
    code (the old one ends the day before); charges copy the price, so history stays."""

    __tablename__ = "price_items"
    __table_args__ = (
        CheckConstraint("unit_price >= 0", name="unit_price_positive"),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate_range"),
        CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from", name="period_order"
        ),
        CheckConstraint(
            f"ward_class IS NULL OR ward_class IN ({_in(WARD_CLASSES)})", name="ward_class_code"
        ),
        ExcludeConstraint(
            ("code", "="), (_price_period(), "&&"), name="ex_price_items_code_period", using="gist"
        ),
        ExcludeConstraint(
            ("lab_test_id", "="),
            (_price_period(), "&&"),
            name="ex_price_items_lab_test_period",
            using="gist",
            where=text("lab_test_id IS NOT NULL AND active"),
        ),
        ExcludeConstraint(
            ("drug_id", "="),
            (_price_period(), "&&"),
            name="ex_price_items_drug_period",
            using="gist",
            where=text("drug_id IS NOT NULL AND active"),
        ),
        ExcludeConstraint(
            ("ward_class", "="),
            (_price_period(), "&&"),
            name="ex_price_items_ward_class_period",
            using="gist",
            where=text("ward_class IS NOT NULL AND active"),
        ),
        Index("ix_price_items_category", "category"),
        Index(
            "ix_price_items_department_id",
            "department_id",
            postgresql_where=text("department_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    unit_price: Mapped[Decimal] = _money()
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    tax_category: Mapped[str] = mapped_column(String(24), nullable=False)
    effective_from: Mapped[date] = mapped_column(Date, nullable=False)
    effective_to: Mapped[date | None] = mapped_column(Date)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    lab_test_id: Mapped[int | None] = mapped_column(ForeignKey("lab_tests.id"))
    drug_id: Mapped[int | None] = mapped_column(ForeignKey("drugs.id"))
    ward_class: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False)

    __mapper_args__ = {"version_id_col": version}


class Charge(Base):
    """Something billable that happened to a patient, priced when it happened. Automatic
    charges name their source (``source_type``, ``source_id``, ``source_line``) and exist
    once per source; manual ones carry a reason."""

    __tablename__ = "charges"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(CHARGE_STATUSES)})", name="status_code"),
        CheckConstraint(f"source_type IN ({_in(CHARGE_SOURCES)})", name="source_code"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0 AND amount >= 0", name="money_positive"),
        CheckConstraint("(status = 'billed') = (invoice_id IS NOT NULL)", name="billed_invoice"),
        CheckConstraint("source_type = 'manual' OR source_id IS NOT NULL", name="source_given"),
        CheckConstraint("source_type <> 'manual' OR reason IS NOT NULL", name="manual_reason"),
        Index(
            "uq_charges_source",
            "source_type",
            "source_id",
            "source_line",
            unique=True,
            postgresql_where=text("source_type <> 'manual'"),
        ),
        Index("ix_charges_patient_status", "patient_id", "status"),
        Index(
            "ix_charges_invoice_id", "invoice_id", postgresql_where=text("invoice_id IS NOT NULL")
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    price_item_id: Mapped[int] = mapped_column(ForeignKey("price_items.id"), nullable=False)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    description: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    unit_price: Mapped[Decimal] = _money()
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    tax_category: Mapped[str] = mapped_column(String(24), nullable=False)
    amount: Mapped[Decimal] = _money()
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    source_type: Mapped[str] = mapped_column(String(16), nullable=False)
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    source_line: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"))
    admission_id: Mapped[int | None] = mapped_column(BigInteger)
    service_date: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    source_cancelled_at: Mapped[datetime | None]
    reversed_at: Mapped[datetime | None]
    reversed_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(nullable=False)

    __mapper_args__ = {"version_id_col": version}

    @property
    def source_cancelled(self) -> bool:
        """The order or dispense behind this charge was cancelled after it was billed (the
        clerk should credit it)."""
        return self.source_cancelled_at is not None


MONEY_COLUMNS = (
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


class Invoice(Base):
    """A bill. Draft (editable, no number) → finalised (number, immutable amounts) → partly
    paid → paid; void only through a credit note for all of it."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(INVOICE_STATUSES)})", name="status_code"),
        CheckConstraint("(status = 'draft') = (number IS NULL)", name="number_when_final"),
        CheckConstraint(
            "(number IS NULL) = (sequence IS NULL) AND (number IS NULL) = (year IS NULL)",
            name="number_parts",
        ),
        CheckConstraint(" AND ".join(f"{c} >= 0" for c in MONEY_COLUMNS), name="money_positive"),
        CheckConstraint("total = subtotal - discount_total + tax_total", name="total_adds_up"),
        CheckConstraint(
            "total = patient_due + payer_due + credited + written_off", name="portions_add_up"
        ),
        CheckConstraint("patient_paid <= patient_due", name="patient_not_overpaid"),
        CheckConstraint("payer_paid <= payer_due", name="payer_not_overpaid"),
        UniqueConstraint("series", "year", "sequence", name="uq_invoices_series_number"),
        Index("ix_invoices_patient_created", "patient_id", text("created_at DESC")),
        Index("ix_invoices_status", "status"),
        # Receivables ageing reads open invoices only, straight from this index.
        Index(
            "ix_invoices_open_ageing",
            "issued_on",
            postgresql_include=["patient_due", "patient_paid", "payer_due", "payer_paid"],
            postgresql_where=text("status IN ('finalised','partly_paid')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    series: Mapped[str] = mapped_column(String(8), nullable=False, default="INV")
    year: Mapped[int | None] = mapped_column(SmallInteger)
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"))
    admission_id: Mapped[int | None] = mapped_column(BigInteger)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("patient_policies.id"))
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    issued_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    finalised_at: Mapped[datetime | None]
    finalised_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    subtotal: Mapped[Decimal] = _money()
    discount_total: Mapped[Decimal] = _money()
    tax_total: Mapped[Decimal] = _money()
    total: Mapped[Decimal] = _money()
    payer_due: Mapped[Decimal] = _money()
    patient_due: Mapped[Decimal] = _money()
    copay: Mapped[Decimal] = _money()
    deductible: Mapped[Decimal] = _money()
    patient_paid: Mapped[Decimal] = _money()
    payer_paid: Mapped[Decimal] = _money()
    credited: Mapped[Decimal] = _money()
    written_off: Mapped[Decimal] = _money()
    balance: Mapped[Decimal] = mapped_column(
        Numeric(), Computed("patient_due + payer_due - patient_paid - payer_paid", persisted=True)
    )
    notes: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False)

    __mapper_args__ = {"version_id_col": version}


class InvoiceLine(Base):
    """One line as printed. Copied from its charge; amounts computed by
    ``domain.billing.compute_invoice``; frozen once the invoice is finalised (trigger)."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        UniqueConstraint("invoice_id", "line_no", name="uq_invoice_lines_invoice_line"),
        CheckConstraint(
            "quantity > 0 AND unit_price >= 0 AND gross >= 0 AND tax >= 0", name="amounts_positive"
        ),
        CheckConstraint("discount >= 0 AND discount <= gross", name="discount_range"),
        CheckConstraint("net = gross - discount AND total = net + tax", name="line_adds_up"),
        CheckConstraint(
            "payer_share >= 0 AND patient_share >= 0 AND payer_share + patient_share = total",
            name="shares_add_up",
        ),
        Index("ix_invoice_lines_charge_id", "charge_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False
    )
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    charge_id: Mapped[int | None] = mapped_column(ForeignKey("charges.id"))
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    description: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    service_date: Mapped[date] = mapped_column(Date, nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    unit_price: Mapped[Decimal] = _money()
    gross: Mapped[Decimal] = _money()
    discount: Mapped[Decimal] = _money()
    net: Mapped[Decimal] = _money()
    tax_category: Mapped[str] = mapped_column(String(24), nullable=False)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    tax: Mapped[Decimal] = _money()
    total: Mapped[Decimal] = _money()
    payer_share: Mapped[Decimal] = _money()
    patient_share: Mapped[Decimal] = _money()


class InvoiceDiscount(Base):
    """A discount on a line (``line_id``) or the whole invoice; at most one live discount
    per target. ``amount`` is its value in money at the last computation."""

    __tablename__ = "invoice_discounts"
    __table_args__ = (
        CheckConstraint("kind IN ('percent','amount')", name="kind_code"),
        CheckConstraint(f"status IN ({_in(DISCOUNT_STATUSES)})", name="status_code"),
        CheckConstraint("value > 0 AND (kind <> 'percent' OR value <= 100)", name="value_range"),
        CheckConstraint("amount >= 0", name="amount_positive"),
        Index(
            "uq_invoice_discounts_target",
            "invoice_id",
            text("coalesce(line_id, 0)"),
            unique=True,
            postgresql_where=text("status <> 'rejected'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False
    )
    line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_lines.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    value: Mapped[Decimal] = mapped_column(Numeric(), nullable=False)
    amount: Mapped[Decimal] = _money()
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())


class CreditNote(Base):
    """Money taken off a finalised invoice, numbered gaplessly in its own series. A credit
    note for everything still owed voids the invoice."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        CheckConstraint("amount > 0 AND released_to_credit >= 0", name="money_positive"),
        CheckConstraint("patient_part >= 0 AND patient_part <= amount", name="patient_part_range"),
        UniqueConstraint("series", "year", "sequence", name="uq_credit_notes_series_number"),
        Index("ix_credit_notes_invoice_id", "invoice_id"),
        Index("ix_credit_notes_patient_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    series: Mapped[str] = mapped_column(String(8), nullable=False)
    year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    sequence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), nullable=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    amount: Mapped[Decimal] = _money()
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    voids_invoice: Mapped[bool] = mapped_column(Boolean, nullable=False)
    #: how much of the credit came off the patient's part (the rest off the payer's)
    patient_part: Mapped[Decimal] = _money()
    released_to_credit: Mapped[Decimal] = _money()
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Payment(Base):
    """Money in (payment, deposit) or out (refund), each with its receipt number. A
    payment's ``amount`` is split into ``applied`` (to invoices) and ``to_credit``."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(PAYMENT_KINDS)})", name="kind_code"),
        CheckConstraint(f"method IN ({_in(PAYMENT_METHODS)})", name="method_code"),
        CheckConstraint(
            "amount > 0 AND applied >= 0 AND to_credit >= 0 AND refunded >= 0",
            name="money_positive",
        ),
        CheckConstraint("kind = 'refund' OR applied + to_credit = amount", name="split_adds_up"),
        CheckConstraint("refunded <= amount", name="not_over_refunded"),
        CheckConstraint("(kind = 'refund') = (refund_of_id IS NOT NULL)", name="refund_source"),
        CheckConstraint("tendered IS NULL OR tendered >= amount", name="tendered_covers"),
        UniqueConstraint("series", "year", "sequence", name="uq_payments_series_number"),
        Index("ix_payments_patient_received", "patient_id", text("received_at DESC")),
        Index(
            "ix_payments_invoice_id", "invoice_id", postgresql_where=text("invoice_id IS NOT NULL")
        ),
        Index(
            "ix_payments_cash_session_id",
            "cash_session_id",
            postgresql_where=text("cash_session_id IS NOT NULL"),
        ),
        Index("ix_payments_claim_id", "claim_id", postgresql_where=text("claim_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    series: Mapped[str] = mapped_column(String(8), nullable=False)
    year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    sequence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    receipt_number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[Decimal] = _money()
    tendered: Mapped[Decimal | None] = _money(nullable=True)
    applied: Mapped[Decimal] = _money()
    to_credit: Mapped[Decimal] = _money()
    refunded: Mapped[Decimal] = _money()
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    reference: Mapped[str | None] = mapped_column(String(100))
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payers.id"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    cash_session_id: Mapped[int | None] = mapped_column(ForeignKey("cash_sessions.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(nullable=False)

    __mapper_args__ = {"version_id_col": version}


class PaymentAllocation(Base):
    """Money applied to one side of an invoice: from a payment, from account credit, or
    (negative) released back to account credit when a credit note frees it."""

    __tablename__ = "payment_allocations"
    __table_args__ = (
        CheckConstraint("side IN ('patient','payer')", name="side_code"),
        CheckConstraint("source IN ('payment','credit','release')", name="source_code"),
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        CheckConstraint("source <> 'payment' OR payment_id IS NOT NULL", name="payment_given"),
        Index("ix_payment_allocations_invoice_id", "invoice_id"),
        Index(
            "ix_payment_allocations_payment_id",
            "payment_id",
            postgresql_where=text("payment_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), nullable=False)
    side: Mapped[str] = mapped_column(String(8), nullable=False)
    source: Mapped[str] = mapped_column(String(8), nullable=False)
    amount: Mapped[Decimal] = _money()
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id"))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PatientAccount(Base):
    """The patient's unapplied money (deposits, overpayments, credits freed by credit
    notes). Locked while used; never negative."""

    __tablename__ = "patient_accounts"
    __table_args__ = (CheckConstraint("credit >= 0", name="credit_positive"),)

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    credit: Mapped[Decimal] = _money()
    updated_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False)

    __mapper_args__ = {"version_id_col": version}


class BillingApproval(Base):
    """A request for a second user's approval: a discount above the threshold, a refund
    above the threshold, a write-off of a rejected claim amount."""

    __tablename__ = "billing_approvals"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(APPROVAL_KINDS)})", name="kind_code"),
        CheckConstraint(f"status IN ({_in(APPROVAL_STATUSES)})", name="status_code"),
        CheckConstraint("amount >= 0", name="amount_positive"),
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_when_done"),
        CheckConstraint(
            "decided_by IS NULL OR requested_by IS NULL OR decided_by <> requested_by",
            name="second_user",
        ),
        Index(
            "ix_billing_approvals_pending",
            "requested_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    amount: Mapped[Decimal] = _money()
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    discount_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice_discounts.id", ondelete="SET NULL")
    )
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    #: the refund made under this (refund) approval; an approval is used once
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(500))


class CashSession(Base):
    """One cashier at one drawer from opening to cash-up. Payments they take belong to it;
    once submitted (counted totals, variance with reason) it is locked (trigger)."""

    __tablename__ = "cash_sessions"
    __table_args__ = (
        CheckConstraint("status IN ('open','submitted')", name="status_code"),
        CheckConstraint(
            "(status = 'submitted') = (submitted_at IS NOT NULL)", name="submitted_when_done"
        ),
        CheckConstraint("opening_float >= 0", name="float_positive"),
        Index(
            "uq_cash_sessions_open_cashier",
            "cashier_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        Index(
            "uq_cash_sessions_open_drawer",
            "drawer",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    drawer: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    opened_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    opening_float: Mapped[Decimal] = _money()
    submitted_at: Mapped[datetime | None]
    expected: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    counted: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    variance: Mapped[Decimal | None] = _money(nullable=True)
    variance_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(nullable=False)

    __mapper_args__ = {"version_id_col": version}


class CardIntent(Base):
    """A card payment waiting at the gateway; settled by the gateway's signed webhook."""

    __tablename__ = "card_intents"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(CARD_INTENT_STATUSES)})", name="status_code"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "(status = 'succeeded') = (payment_id IS NOT NULL)", name="payment_when_succeeded"
        ),
        Index("ix_card_intents_patient_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    gateway_intent_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[Decimal] = _money()
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    settled_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(nullable=False)

    __mapper_args__ = {"version_id_col": version}


class GatewayEvent(Base):
    """Every verified webhook event id, so a duplicate or replayed delivery is ignored."""

    __tablename__ = "gateway_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    gateway_intent_id: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(nullable=False)
    received_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    outcome: Mapped[str] = mapped_column(String(32), nullable=False)
