"""Billing rules in plain Python: money checks, invoice line arithmetic, discounts, tax,
the insurance split, document numbers and the invoice's state.

The one rounding rule (``Hospital.round_money``: half up to the currency's minor unit) is
applied per line: gross = round(quantity × unit price), the line's discount is rounded, tax
= round(net × rate / 100). Totals are sums of rounded line amounts, so the printed lines
always add up to the printed totals. An amount spread over lines (an invoice discount, the
payer's share) is split by largest remainder, so the parts add up exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Protocol

from hms_server.domain.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    NotFoundError,
    UnavailableError,
    ValidationFailedError,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class MoneyRules(Protocol):
    """The currency's rounding rule (``domain.hospital.Hospital`` is one)."""

    @property
    def money_quantum(self) -> Decimal: ...

    def round_money(self, amount: Decimal) -> Decimal: ...


#: Document series and their number prefixes; numbers are gapless per series and year.
SERIES_INVOICE = "INV"
SERIES_CREDIT_NOTE = "CN"
SERIES_RECEIPT = "RCT"
SERIES_REFUND = "RFD"
SERIES_CLAIM_BATCH = "CLB"

AGEING_BUCKETS = ("0-30", "31-60", "61-90", "90+")
OPEN_INVOICE_STATUSES = ("finalised", "partly_paid")
#: Categories automatic capture prices (the price list may hold any other category too).
CONSULTATION, LAB, MEDICINE, BED_DAY = "consultation", "lab", "medicine", "bed_day"
WARD_CLASSES = ("general", "semi_private", "private", "icu")


@dataclass(frozen=True)
class BillingPolicy:
    """The hospital's billing settings: when a second user must approve, and payment terms."""

    discount_approval_percent: Decimal = Decimal(10)
    discount_approval_amount: Decimal = Decimal(50)
    refund_approval_amount: Decimal = Decimal(100)
    invoice_due_days: int = 30


# --- errors ----------------------------------------------------------------------------------


def field_error(field_name: str, message: str, kind: str = "value_error") -> dict[str, str]:
    return {"field": field_name, "message": message, "type": kind}


class TooManyDecimalsError(ValidationFailedError):
    code, title = "too_many_decimals", "Too many decimals"


class UnknownPriceCodeError(ValidationFailedError):
    code, title = "unknown_price_code", "Unknown price code"


class InvoiceNotEditableError(ConflictError):
    code, title = "invoice_not_editable", "Invoice is finalised"


class InvoiceNotPayableError(ConflictError):
    code, title = "invoice_not_payable", "Invoice cannot take payments"


class ChargeNotAvailableError(ConflictError):
    code, title = "charge_not_unbilled", "Charge not available"


class ApprovalPendingError(ConflictError):
    code, title = "approval_pending", "Waiting for approval"


class SelfApprovalError(ForbiddenError):
    code, title = "second_user_required", "Another user must approve"


class InsufficientCreditError(ConflictError):
    code, title = "insufficient_credit", "Not enough account credit"


class NothingToInvoiceError(ConflictError):
    code, title = "nothing_to_invoice", "No unbilled charges"


class CashSessionClosedError(ConflictError):
    code, title = "cash_session_submitted", "Cash-up already submitted"


class ClaimStateError(ConflictError):
    code, title = "claim_state", "Claim not in that state"


class InvalidWebhookError(DomainError):
    """A gateway callback whose signature or timestamp does not verify (400)."""

    code, title = "invalid_webhook", "Webhook refused"


class PayerUnavailableError(UnavailableError):
    code, title = "payer_unavailable", "Insurer unreachable"


class GatewayUnavailableError(UnavailableError):
    code, title = "gateway_unavailable", "Payment gateway unreachable"


class BillingNotConfiguredError(UnavailableError):
    code, title = "not_configured", "Not configured"


class BillingNotFoundError(NotFoundError):
    code, title = "not_found", "Not found"


# --- money -----------------------------------------------------------------------------------


def check_money(amount: Decimal, minor_unit: int, field_name: str) -> Decimal:
    """Refuse an amount with more decimals than the currency has ("10.005" in EUR); answer
    it with exactly the currency's decimals ("10.5" → "10.50")."""
    quantum = Decimal(1).scaleb(-minor_unit)
    if amount != amount.quantize(quantum, rounding=ROUND_DOWN):
        raise TooManyDecimalsError(
            f"{field_name} has more than {minor_unit} decimal(s), the currency's smallest unit.",
            extra={
                "errors": [
                    field_error(field_name, f"at most {minor_unit} decimals", "too_many_decimals")
                ]
            },
        )
    return amount.quantize(quantum)


def allocate(total: Decimal, weights: Sequence[Decimal], quantum: Decimal) -> list[Decimal]:
    """Split ``total`` over ``weights`` in multiples of ``quantum`` so the parts add up to
    ``total`` exactly (largest remainder; ties go to the earlier line)."""
    if not weights:
        return []
    weight_sum = sum(weights, ZERO)
    if weight_sum <= 0 or total == 0:
        return [ZERO * quantum for _ in weights]
    units = int((total / quantum).to_integral_value())
    raw = [Decimal(units) * w / weight_sum for w in weights]
    floors = [int(r.to_integral_value(rounding=ROUND_DOWN)) for r in raw]
    left = units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(f) * quantum for f in floors]


# --- invoice lines -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Discount:
    kind: str  # "percent" | "amount"
    value: Decimal


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    tax_category: str
    category: str = ""
    code: str = ""
    discount: Discount | None = None


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class InvoiceAmounts:
    lines: list[LineAmounts]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    #: the invoice-level discount in money (already inside the lines' discounts)
    invoice_discount: Decimal = ZERO


def discount_amount(discount: Discount, base: Decimal, money: MoneyRules) -> Decimal:
    """The discount in money on ``base``, never more than ``base``."""
    if discount.kind == "percent":
        return min(base, money.round_money(base * discount.value / HUNDRED))
    return min(base, money.round_money(discount.value))


def compute_invoice(
    lines: Sequence[LineInput], invoice_discount: Discount | None, money: MoneyRules
) -> InvoiceAmounts:
    """Every line's gross, discount, net, tax and total, and the invoice's totals.

    Line discounts come first; an invoice discount is then spread over the lines' remaining
    net (by largest remainder), so tax is always charged on what the patient really pays.
    """
    round_money, quantum = money.round_money, money.money_quantum
    grosses = [round_money(line.quantity * line.unit_price) for line in lines]
    line_discounts = [
        discount_amount(line.discount, gross, money) if line.discount else ZERO
        for line, gross in zip(lines, grosses, strict=True)
    ]
    nets = [g - d for g, d in zip(grosses, line_discounts, strict=True)]
    spread = [ZERO for _ in lines]
    invoice_discount_money = ZERO
    if invoice_discount is not None and lines:
        base = sum(nets, ZERO)
        invoice_discount_money = discount_amount(invoice_discount, base, money)
        spread = allocate(invoice_discount_money, nets, quantum)
    result: list[LineAmounts] = []
    for line, gross, line_disc, net, extra in zip(
        lines, grosses, line_discounts, nets, spread, strict=True
    ):
        net_after = net - extra
        tax = round_money(net_after * line.tax_rate / HUNDRED)
        result.append(
            LineAmounts(
                gross=gross,
                discount=line_disc + extra,
                net=net_after,
                tax=tax,
                total=net_after + tax,
            )
        )
    subtotal = sum((r.gross for r in result), round_money(ZERO))
    discount = sum((r.discount for r in result), round_money(ZERO))
    tax = sum((r.tax for r in result), round_money(ZERO))
    return InvoiceAmounts(
        lines=result,
        subtotal=subtotal,
        discount=discount,
        tax=tax,
        total=subtotal - discount + tax,
        invoice_discount=invoice_discount_money,
    )


@dataclass(frozen=True)
class TaxLine:
    tax_category: str
    tax_rate: Decimal
    taxable: Decimal
    tax: Decimal


def tax_lines(rows: Sequence[tuple[str, Decimal, Decimal, Decimal]]) -> list[TaxLine]:
    """One tax line per (category, rate): ``rows`` are (category, rate, net, tax)."""
    grouped: dict[tuple[str, Decimal], tuple[Decimal, Decimal]] = {}
    for category, rate, net, tax in rows:
        key = (category, rate.normalize())
        taxable, total_tax = grouped.get(key, (ZERO, ZERO))
        grouped[key] = (taxable + net, total_tax + tax)
    return [
        TaxLine(category, rate, taxable, tax)
        for (category, rate), (taxable, tax) in sorted(
            grouped.items(), key=lambda kv: (-kv[0][1], kv[0][0])
        )
    ]


def needs_discount_approval(
    discount: Discount,
    amount: Decimal,
    base: Decimal,
    *,
    percent_threshold: Decimal,
    amount_threshold: Decimal,
) -> bool:
    """A discount above the threshold (as a share of what it reduces, or in money) needs a
    second user's approval."""
    if amount > amount_threshold:
        return True
    share = (
        discount.value
        if discount.kind == "percent"
        else (amount * HUNDRED / base if base > 0 else HUNDRED)
    )
    return share > percent_threshold


# --- insurance split --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRules:
    """A plan's coverage: percent of each category the payer pays (others 0), a fixed
    co-payment per invoice, a yearly deductible and payer limit, and excluded codes."""

    coverage: dict[str, Decimal]
    copay: Decimal = ZERO
    deductible: Decimal = ZERO
    annual_limit: Decimal | None = None
    excluded_codes: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class PolicyYearUsage:
    """What this policy already used in the invoice's year (other finalised invoices)."""

    deductible_used: Decimal = ZERO
    payer_used: Decimal = ZERO


@dataclass(frozen=True)
class SplitLine:
    category: str
    code: str
    total: Decimal


@dataclass(frozen=True)
class Split:
    payer_shares: list[Decimal]
    patient_shares: list[Decimal]
    payer_due: Decimal
    patient_due: Decimal
    copay: Decimal
    deductible: Decimal
    limited_by_annual_limit: bool


def split_invoice(
    lines: Sequence[SplitLine], rules: PlanRules, usage: PolicyYearUsage, money: MoneyRules
) -> Split:
    """Payer and patient portions of each line and of the invoice.

    Order: what the plan covers per line (category percentage, excluded codes 0 %), minus
    the co-payment, minus what is left of the yearly deductible, capped by what is left of
    the yearly limit. The reductions are taken from the covered lines in proportion, so the
    per-line shares add up to the invoice's portions exactly.
    """
    round_money, quantum = money.round_money, money.money_quantum
    covered = [
        ZERO
        if line.code in rules.excluded_codes
        else round_money(line.total * rules.coverage.get(line.category, ZERO) / HUNDRED)
        for line in lines
    ]
    covered_total = sum(covered, ZERO)
    copay = min(rules.copay, covered_total)
    remaining = covered_total - copay
    deductible_left = max(ZERO, rules.deductible - usage.deductible_used)
    deductible = min(deductible_left, remaining)
    remaining -= deductible
    limited = False
    if rules.annual_limit is not None:
        limit_left = max(ZERO, rules.annual_limit - usage.payer_used)
        if remaining > limit_left:
            remaining, limited = limit_left, True
    payer = allocate(remaining, covered, quantum) if covered_total > 0 else [ZERO for _ in lines]
    payer = [round_money(p) for p in payer]
    patient = [line.total - p for line, p in zip(lines, payer, strict=True)]
    total = sum((line.total for line in lines), ZERO)
    payer_due = round_money(sum(payer, ZERO))
    return Split(
        payer_shares=payer,
        patient_shares=patient,
        payer_due=payer_due,
        patient_due=round_money(total - payer_due),
        copay=round_money(copay),
        deductible=round_money(deductible),
        limited_by_annual_limit=limited,
    )


def no_split(totals: Sequence[Decimal], money: MoneyRules) -> Split:
    """Without insurance the patient pays every line."""
    total = money.round_money(sum(totals, ZERO))
    zero = money.round_money(ZERO)
    return Split(
        payer_shares=[zero for _ in totals],
        patient_shares=list(totals),
        payer_due=zero,
        patient_due=total,
        copay=zero,
        deductible=zero,
        limited_by_annual_limit=False,
    )


# --- invoice state ---------------------------------------------------------------------------


def invoice_status(*, total: Decimal, credited: Decimal, paid: Decimal, balance: Decimal) -> str:
    """The state of a finalised invoice from its money: void when fully credited, paid when
    nothing is owed any more, partly paid when something was paid."""
    if total > 0 and credited >= total:
        return "void"
    if balance <= 0:
        return "paid"
    if paid > 0:
        return "partly_paid"
    return "finalised"


def document_number(series: str, year: int, sequence: int) -> str:
    """``INV-2026-000123``: series, year, six-digit serial (more digits when needed)."""
    return f"{series}-{year}-{sequence:06d}"


def ageing_bucket(days: int) -> str:
    if days <= 30:
        return "0-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "90+"


def change_due(tendered: Decimal | None, amount: Decimal) -> Decimal | None:
    return None if tendered is None else tendered - amount
