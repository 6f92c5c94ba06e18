"""Payments, refunds, card payments at the terminal, the patient account and statement, and
the cash-up. Imports only pydantic (and the shared billing primitives).

Money is ``Money`` (a decimal string in JSON); see ``hms_contract.billing``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hms_contract.billing import (
    Id,
    InvoiceSummary,
    NonNegativeMoney,
    PaymentKind,
    PaymentMethod,
    PositiveMoney,
    Reason,
)
from hms_contract.common import Money


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- payments ------------------------------------------------------------------------------


class PaymentCreate(_Strict):
    """Money received. With ``invoice_id`` it pays that invoice (the patient's part; for
    ``insurance`` the payer's part) and anything above what is owed becomes account credit;
    ``kind='deposit'`` with ``patient_id`` puts an advance on the account. ``tendered``
    (cash) gives the change due. ``card`` here records a payment authorised on a
    stand-alone terminal; integrated terminals use ``/payments/card-intents``."""

    invoice_id: Id | None = None
    patient_id: Id | None = None
    amount: PositiveMoney
    method: PaymentMethod
    kind: Literal["payment", "deposit"] = "payment"
    reference: str | None = Field(default=None, max_length=100)
    tendered: PositiveMoney | None = None

    @model_validator(mode="after")
    def _target(self) -> PaymentCreate:
        if self.kind == "payment" and self.invoice_id is None:
            raise ValueError("a payment needs invoice_id (or use kind 'deposit')")
        if self.kind == "deposit" and self.patient_id is None:
            raise ValueError("a deposit needs patient_id")
        if self.tendered is not None and self.method != "cash":
            raise ValueError("tendered is for cash payments")
        if self.tendered is not None and self.tendered < self.amount:
            raise ValueError("tendered must cover the amount")
        return self


class AllocationRead(BaseModel):
    invoice_id: int
    invoice_number: str | None = None
    side: Literal["patient", "payer"]
    amount: Money


class PaymentRead(BaseModel):
    id: int
    receipt_number: str
    kind: PaymentKind
    patient_id: int
    patient_name: str | None = None
    patient_mrn: str | None = None
    invoice_id: int | None = None
    invoice_number: str | None = None
    method: PaymentMethod
    amount: Money
    applied: Money = Field(description="Part of the amount applied to invoices")
    to_credit: Money = Field(description="Part that went to the patient's account credit")
    tendered: Money | None = None
    change_due: Money | None = None
    refunded: Money
    refund_of_id: int | None = None
    reference: str | None = None
    payer_id: int | None = None
    claim_id: int | None = None
    cash_session_id: int | None = None
    received_at: datetime
    received_by: int | None = None
    received_by_name: str | None = None
    reason: str | None = None
    allocations: list[AllocationRead] = []
    version: int


class RefundCreate(_Strict):
    """Give money back to the original method, from the patient's account credit (issue a
    credit note first when the money is still on an invoice). Above the configured amount
    a manager must approve; the answer is then 202 with the pending approval."""

    amount: PositiveMoney
    reason: Reason


class RefundResult(BaseModel):
    status: Literal["completed", "pending_approval"]
    refund: PaymentRead | None = None
    approval_id: int | None = None


CardIntentStatus = Literal["pending", "succeeded", "failed", "cancelled"]


class CardIntentCreate(_Strict):
    """Start a card payment at the integrated terminal: the gateway holds the amount until
    the customer confirms, then tells the server by a signed webhook."""

    invoice_id: Id | None = None
    patient_id: Id | None = None
    amount: PositiveMoney

    @model_validator(mode="after")
    def _target(self) -> CardIntentCreate:
        if self.invoice_id is None and self.patient_id is None:
            raise ValueError("give invoice_id (payment) or patient_id (deposit)")
        return self


class CardIntentRead(BaseModel):
    id: int
    gateway_intent_id: str
    status: CardIntentStatus
    patient_id: int
    invoice_id: int | None = None
    amount: Money
    currency: str
    failure_reason: str | None = None
    payment_id: int | None = None
    receipt_number: str | None = None
    created_at: datetime
    settled_at: datetime | None = None


# --- account -------------------------------------------------------------------------------


class AccountRead(BaseModel):
    """A patient's money at a glance. ``balance`` = what the patient still owes on
    finalised invoices minus account credit (negative = the hospital owes the patient)."""

    patient_id: int
    patient_name: str | None = None
    patient_mrn: str | None = None
    currency: str
    unbilled: Money
    unbilled_count: int
    draft_count: int
    outstanding: Money = Field(description="Patient's part still owed on invoices")
    payer_outstanding: Money = Field(description="Payers' part still owed on invoices")
    credit: Money = Field(description="Unapplied deposits and overpayments")
    balance: Money
    invoices: list[InvoiceSummary]
    payments: list[PaymentRead]


class StatementEntry(BaseModel):
    on: date
    kind: Literal[
        "invoice", "payment", "deposit", "refund", "credit_note", "write_off", "payer_adjustment"
    ]
    reference: str
    description: str
    debit: Money
    credit: Money
    balance: Money


class StatementRead(BaseModel):
    """The patient's statement for a period: opening balance, every movement, closing."""

    patient_id: int
    patient_name: str | None = None
    patient_mrn: str | None = None
    currency: str
    period_from: date
    period_to: date
    opening_balance: Money
    entries: list[StatementEntry]
    closing_balance: Money
    outstanding_invoices: list[InvoiceSummary]


# --- cash-up -------------------------------------------------------------------------------


class CashSessionOpen(_Strict):
    drawer: str = Field(min_length=1, max_length=64)
    opening_float: NonNegativeMoney = Decimal(0)


class MethodTotal(BaseModel):
    method: PaymentMethod
    expected: Money
    counted: Money | None = None
    variance: Money | None = None
    count: int


class CashSessionRead(BaseModel):
    id: int
    cashier_id: int
    cashier_name: str | None = None
    drawer: str
    status: Literal["open", "submitted"]
    opened_at: datetime
    opening_float: Money
    submitted_at: datetime | None = None
    totals: list[MethodTotal]
    expected_cash_in_drawer: Money = Field(description="Opening float + cash taken − cash refunded")
    variance: Money | None = None
    variance_reason: str | None = None
    version: int


class CashCount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: PaymentMethod
    counted: NonNegativeMoney


class CashSessionSubmit(_Strict):
    """The counted totals per method; cash is the whole drawer (float included). A
    variance needs a reason. Once submitted the session is locked."""

    version: int = Field(ge=1)
    counted: list[CashCount] = Field(min_length=1, max_length=4)
    variance_reason: str | None = Field(default=None, min_length=3, max_length=500)
