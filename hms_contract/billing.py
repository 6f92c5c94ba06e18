"""Billing: price list, charges, invoices, discounts, credit notes, approvals and
receivables ageing (payments, the account and the cash-up are in ``hms_contract.payments``,
insurance in ``hms_contract.insurance``). Imports only pydantic.

Money is ``Money`` (a ``Decimal``; a decimal string in JSON, never a float). The server
refuses more decimals than the hospital's currency has (e.g. ``"10.005"`` for EUR) with
422 ``too_many_decimals``. Amounts in answers carry exactly the currency's decimals.
Tax rates are percentages (``"20"`` = 20 %). Prices are before tax.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from hms_contract.common import Money, Quantity

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
PositiveMoney = Annotated[Money, Field(gt=0)]
NonNegativeMoney = Annotated[Money, Field(ge=0)]
PositiveQuantity = Annotated[Quantity, Field(gt=0, le=100_000)]


def _no_float(value: object) -> object:
    if isinstance(value, float):
        raise ValueError('give rates as decimal strings, e.g. "20"')
    return value


Percent = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(ge=0, le=100, max_digits=5, decimal_places=2, allow_inf_nan=False),
    WithJsonSchema(
        {
            "type": "string",
            "format": "decimal",
            "pattern": r"^\d{1,3}(\.\d{1,2})?$",
            "examples": ["20"],
        }
    ),
    PlainSerializer(
        lambda rate: format(rate.normalize() if rate == rate.to_integral() else rate, "f"),
        return_type=str,
        when_used="json",
    ),
]
"""A percentage 0..100 as a decimal string (``"20"`` = 20 %, ``"7.5"``)."""


def _slug(value: str) -> str:
    value = value.strip().lower().replace("-", "_").replace(" ", "_")
    if not value or not value.replace("_", "").isalnum() or not value[0].isalpha():
        raise ValueError("use letters, digits and '_' (e.g. 'consultation')")
    return value


def _code(value: str) -> str:
    value = value.strip().upper()
    if not value or any(not (ch.isalnum() or ch in "-_.") for ch in value):
        raise ValueError("use letters, digits, '-', '_' or '.'")
    return value


Category = Annotated[str, Field(min_length=2, max_length=32), AfterValidator(_slug)]
"""Price category. Automatic capture uses ``consultation``, ``lab``, ``medicine`` and
``bed_day``; the price list also knows ``procedure``, ``imaging``, ``service`` and others."""
TaxCategory = Annotated[str, Field(min_length=2, max_length=24), AfterValidator(_slug)]
PriceCode = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_code)]
Reason = Annotated[str, Field(min_length=3, max_length=500)]
WardClass = Literal["general", "semi_private", "private", "icu"]
ChargeStatus = Literal["unbilled", "billed", "reversed"]
InvoiceStatus = Literal["draft", "finalised", "partly_paid", "paid", "void"]
PaymentMethod = Literal["cash", "card", "bank_transfer", "insurance"]
PaymentKind = Literal["payment", "deposit", "refund"]
ApprovalKind = Literal["discount", "refund", "write_off"]
ApprovalStatus = Literal["pending", "approved", "rejected"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- price list ------------------------------------------------------------------------------


class PriceItemCreate(_Strict):
    """A priced service. Links tell automatic capture what it prices: a department's
    consultation, a lab test of the catalogue, a formulary drug, a ward class's bed-day."""

    code: PriceCode
    name: str = Field(min_length=2, max_length=200)
    category: Category
    unit_price: NonNegativeMoney
    tax_rate: Percent = Decimal(0)
    tax_category: TaxCategory | None = Field(
        default=None, description="Default: 'standard' when taxed, 'exempt' at 0 %"
    )
    effective_from: date | None = Field(default=None, description="Default: today")
    effective_to: date | None = None
    department_id: Id | None = None
    lab_test_id: Id | None = None
    drug_id: Id | None = None
    ward_class: WardClass | None = None

    @model_validator(mode="after")
    def _period(self) -> PriceItemCreate:
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("effective_to must not be before effective_from")
        return self


class PriceItemRead(BaseModel):
    id: int
    code: str
    name: str
    category: str
    unit_price: Money
    tax_rate: Percent
    tax_category: str
    effective_from: date
    effective_to: date | None = None
    department_id: int | None = None
    lab_test_id: int | None = None
    drug_id: int | None = None
    ward_class: str | None = None
    active: bool
    version: int


class PriceItemUpdate(_Strict):
    """Edit what does not change a price (a new price is ``POST .../prices``)."""

    version: int = Field(ge=1)
    name: str | None = Field(default=None, min_length=2, max_length=200)
    active: bool | None = None
    effective_to: date | None = None


class PriceChange(_Strict):
    """A new price from ``effective_from``: the current row ends the day before, so charges
    already captured keep the price they were captured at."""

    unit_price: NonNegativeMoney
    tax_rate: Percent | None = None
    tax_category: TaxCategory | None = None
    effective_from: date


# --- charges ---------------------------------------------------------------------------------


class ChargeCreate(_Strict):
    """A manual charge (needs a reason; audited). Give the price item by code or id."""

    patient_id: Id
    price_item_code: PriceCode | None = None
    price_item_id: Id | None = None
    quantity: PositiveQuantity = Decimal(1)
    reason: Reason
    encounter_id: Id | None = None
    service_date: date | None = None

    @model_validator(mode="after")
    def _one_item(self) -> ChargeCreate:
        if (self.price_item_code is None) == (self.price_item_id is None):
            raise ValueError("give exactly one of price_item_code and price_item_id")
        return self


class ChargeRead(BaseModel):
    id: int
    patient_id: int
    price_item_id: int
    code: str
    description: str
    category: str
    quantity: Quantity
    unit_price: Money
    tax_rate: Percent
    tax_category: str
    amount: Money = Field(description="quantity × unit price, before tax and discounts")
    status: ChargeStatus
    source_type: str
    source_id: int | None = None
    source_line: str = ""
    encounter_id: int | None = None
    admission_id: int | None = None
    invoice_id: int | None = None
    service_date: date
    reason: str | None = None
    source_cancelled: bool = False
    created_at: datetime
    version: int


class ChargeReverse(_Strict):
    reason: Reason


# --- invoices --------------------------------------------------------------------------------


class InvoiceCreate(_Strict):
    """A draft from the patient's unbilled charges: the listed ``charge_ids``, or all of
    them (optionally only those of one encounter or admission)."""

    patient_id: Id
    charge_ids: list[Id] | None = Field(default=None, min_length=1, max_length=2000)
    encounter_id: Id | None = None
    admission_id: Id | None = None
    notes: str | None = Field(default=None, max_length=1000)


class InvoiceLineRead(BaseModel):
    id: int
    line_no: int
    charge_id: int | None = None
    code: str
    description: str
    category: str
    service_date: date
    quantity: Quantity
    unit_price: Money
    gross: Money
    discount: Money
    net: Money
    tax_category: str
    tax_rate: Percent
    tax: Money
    total: Money
    payer_share: Money
    patient_share: Money


class TaxLineRead(BaseModel):
    tax_category: str
    tax_rate: Percent
    taxable: Money
    tax: Money


class DiscountRead(BaseModel):
    id: int
    invoice_id: int
    line_id: int | None = None
    kind: Literal["percent", "amount"]
    value: Decimal
    amount: Money
    reason: str
    status: ApprovalStatus
    approval_id: int | None = None
    requested_by: int | None = None
    decided_by: int | None = None


class CreditNoteRead(BaseModel):
    id: int
    number: str
    invoice_id: int
    invoice_number: str
    patient_id: int
    amount: Money
    reason: str
    voids_invoice: bool
    released_to_credit: Money = Field(
        description="Payments freed by the credit, now on the patient's account as credit"
    )
    created_at: datetime
    created_by: int | None = None


class InvoiceRead(BaseModel):
    """An invoice with its lines, tax lines and money state. ``number`` is null while
    draft. ``balance`` = what is still owed by anyone (patient and payer)."""

    id: int
    number: str | None = None
    status: InvoiceStatus
    patient_id: int
    patient_name: str | None = None
    patient_mrn: str | None = None
    encounter_id: int | None = None
    admission_id: int | None = None
    policy_id: int | None = None
    payer_name: str | None = None
    plan_name: str | None = None
    member_number: str | None = None
    currency: str
    issued_on: date | None = None
    due_on: date | None = None
    finalised_at: datetime | None = None
    lines: list[InvoiceLineRead]
    tax_lines: list[TaxLineRead]
    discounts: list[DiscountRead] = []
    credit_notes: list[CreditNoteRead] = []
    subtotal: Money
    discount: Money
    tax: Money
    total: Money
    payer_due: Money
    patient_due: Money
    copay: Money
    deductible: Money
    paid: Money
    patient_paid: Money
    payer_paid: Money
    credited: Money
    written_off: Money
    balance: Money
    patient_balance: Money
    payer_balance: Money
    notes: str | None = None
    created_at: datetime
    version: int


class InvoiceSummary(BaseModel):
    id: int
    number: str | None = None
    status: InvoiceStatus
    patient_id: int
    patient_name: str | None = None
    patient_mrn: str | None = None
    issued_on: date | None = None
    due_on: date | None = None
    line_count: int
    total: Money
    payer_due: Money
    patient_due: Money
    paid: Money
    balance: Money
    created_at: datetime
    version: int


class InvoiceUpdate(_Strict):
    version: int | None = Field(default=None, ge=1, description="Refuse if the draft changed")
    notes: str | None = Field(default=None, max_length=1000)
    due_on: date | None = None


class InvoiceChargesAdd(_Strict):
    version: int | None = Field(default=None, ge=1, description="Refuse if the draft changed")
    charge_ids: list[Id] = Field(min_length=1, max_length=2000)


class InvoiceFinalize(_Strict):
    version: int | None = Field(default=None, ge=1, description="Refuse if the draft changed")


class InvoiceInsurance(_Strict):
    """Apply a patient policy to a draft (``policy_id`` null removes it)."""

    version: int | None = Field(default=None, ge=1, description="Refuse if the draft changed")
    policy_id: Id | None = None


class DiscountCreate(_Strict):
    """A discount on one line (``line_id``) or on the whole invoice, by percentage or
    amount. Above the configured threshold it waits for a manager's approval."""

    line_id: Id | None = None
    kind: Literal["percent", "amount"]
    value: Annotated[
        Decimal,
        BeforeValidator(_no_float),
        Field(gt=0, max_digits=15, decimal_places=4, allow_inf_nan=False),
    ]
    reason: Reason

    @model_validator(mode="after")
    def _percent_range(self) -> DiscountCreate:
        if self.kind == "percent" and self.value > 100:
            raise ValueError("a percentage discount is at most 100")
        return self


class CreditNoteCreate(_Strict):
    """Credit part of a finalised invoice, or all of it (``amount`` omitted) which voids it.
    The reason is printed on the credit note and kept in the audit trail."""

    amount: PositiveMoney | None = None
    reason: Reason = "Credit note"


class ApplyCredit(_Strict):
    """Use the patient's account credit (deposits, overpayments) on this invoice."""

    amount: PositiveMoney | None = Field(default=None, description="Default: as much as fits")


# --- approvals -----------------------------------------------------------------------------


class ApprovalRead(BaseModel):
    id: int
    kind: ApprovalKind
    status: Literal["pending", "approved", "rejected", "withdrawn"]
    amount: Money
    reason: str
    patient_id: int | None = None
    invoice_id: int | None = None
    invoice_number: str | None = None
    discount_id: int | None = None
    payment_id: int | None = None
    claim_id: int | None = None
    requested_by: int | None = None
    requested_by_name: str | None = None
    requested_at: datetime
    decided_by: int | None = None
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None


class ApprovalDecision(_Strict):
    note: str | None = Field(default=None, max_length=500)


# --- receivables ---------------------------------------------------------------------------


class AgeingBucket(BaseModel):
    bucket: Literal["0-30", "31-60", "61-90", "90+"]
    patient: Money
    payer: Money
    total: Money
    invoices: int


class AgeingRead(BaseModel):
    """Open receivables by days since the invoice date, as of ``as_of``."""

    as_of: date
    currency: str
    buckets: list[AgeingBucket]
    total: Money


class BillingSettingsRead(BaseModel):
    """What the desktop needs to format money and explain approvals."""

    currency: str
    currency_minor_unit: int
    discount_approval_percent: Decimal
    discount_approval_amount: Money
    refund_approval_amount: Money
    invoice_due_days: int
    has_logo: bool
    gateway_configured: bool
    payer_configured: bool


class BillingPrintRecord(_Strict):
    """A billing document the desktop printed or saved (prints of patient documents are
    audited)."""

    document: Literal["invoice", "receipt", "statement", "claim_summary"]
    invoice_id: Id | None = None
    payment_id: Id | None = None
    patient_id: Id | None = None
