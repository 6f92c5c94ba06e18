"""Typed calls for billing: price list, charges, invoices, payments (cash, card through the
gateway), refunds, credit notes, approvals, insurance, claims, receivables and cash-up.

Every method returns ``hms_contract`` models; only the client's public transport
(``get/post/patch/delete/get_bytes``) is used. Money travels as ``Decimal``. No Qt here;
thread-safe like the ``ApiClient`` it wraps (call it from the task runner).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hms_contract.auth import HospitalRead
from hms_contract.billing import (
    AgeingRead,
    ApplyCredit,
    ApprovalDecision,
    ApprovalRead,
    BillingPrintRecord,
    BillingSettingsRead,
    ChargeCreate,
    ChargeRead,
    ChargeReverse,
    CreditNoteCreate,
    CreditNoteRead,
    DiscountCreate,
    InvoiceCreate,
    InvoiceFinalize,
    InvoiceInsurance,
    InvoiceRead,
    InvoiceSummary,
    PriceItemRead,
)
from hms_contract.common import Page
from hms_contract.insurance import (
    ClaimBatchCreate,
    ClaimBatchRead,
    ClaimRead,
    EligibilityRead,
    PayerRead,
    PolicyRead,
    RejectionResolve,
    RemittanceCreate,
)
from hms_contract.payments import (
    AccountRead,
    CardIntentCreate,
    CardIntentRead,
    CashCount,
    CashSessionOpen,
    CashSessionRead,
    CashSessionSubmit,
    PaymentCreate,
    PaymentRead,
    RefundCreate,
    RefundResult,
    StatementRead,
)
from hms_desktop.api.client import ApiClient
from hms_desktop.api.errors import ApiProblem


class BillingApi:
    """The billing clerk's (and approving manager's) calls."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    # -- reference -------------------------------------------------------------------------
    def settings(self) -> BillingSettingsRead:
        return self.api.get("/billing/settings", BillingSettingsRead)

    def hospital(self) -> HospitalRead:
        """The letterhead (name, address, phone, tax id, currency) from ``GET /me``."""
        return self.api.me().hospital

    def logo(self) -> bytes | None:
        try:
            data, kind = self.api.get_bytes("/billing/logo")
        except ApiProblem as problem:
            if problem.status == 404:
                return None
            raise
        return data if kind.startswith("image/") else None

    def record_print(
        self,
        document: str,
        *,
        invoice_id: int | None = None,
        payment_id: int | None = None,
        patient_id: int | None = None,
    ) -> None:
        """Tell the server a billing document was printed (it is audited)."""
        self.api.post(
            "/billing/prints",
            BillingPrintRecord(
                document=document,
                invoice_id=invoice_id,
                payment_id=payment_id,  # type: ignore[arg-type]
                patient_id=patient_id,
            ),
        )

    def price_items(
        self, q: str | None = None, *, category: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[PriceItemRead]:
        return self.api.get(
            "/price-items",
            Page[PriceItemRead],
            params={"q": q, "category": category, "limit": limit, "offset": offset},
        )

    # -- account and charges --------------------------------------------------------------
    def account(self, patient_id: int) -> AccountRead:
        return self.api.get(f"/patients/{patient_id}/account", AccountRead)

    def charges(
        self, patient_id: int, *, status: str | None = "unbilled", limit: int = 500
    ) -> Page[ChargeRead]:
        return self.api.get(
            f"/patients/{patient_id}/charges",
            Page[ChargeRead],
            params={"status": status, "limit": limit},
        )

    def add_charge(self, charge: ChargeCreate) -> ChargeRead:
        return self.api.post("/charges", charge, ChargeRead, creates=True)

    def reverse_charge(self, charge_id: int, reason: str) -> ChargeRead:
        return self.api.post(
            f"/charges/{charge_id}/reverse", ChargeReverse(reason=reason), ChargeRead
        )

    def statement(
        self, patient_id: int, *, period_from: date | None = None, period_to: date | None = None
    ) -> StatementRead:
        return self.api.get(
            f"/patients/{patient_id}/statement",
            StatementRead,
            params={
                "from": period_from.isoformat() if period_from else None,
                "to": period_to.isoformat() if period_to else None,
            },
        )

    # -- invoices -----------------------------------------------------------------------
    def invoices(
        self,
        *,
        patient_id: int | None = None,
        status: list[str] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[InvoiceSummary]:
        return self.api.get(
            "/invoices",
            Page[InvoiceSummary],
            params={"patient_id": patient_id, "status": status, "limit": limit, "offset": offset},
        )

    def invoice(self, invoice_id: int) -> InvoiceRead:
        return self.api.get(f"/invoices/{invoice_id}", InvoiceRead)

    def invoice_by_number(self, number: str) -> InvoiceRead:
        return self.api.get(f"/invoices/by-number/{number}", InvoiceRead)

    def create_invoice(self, patient_id: int, charge_ids: list[int] | None = None) -> InvoiceRead:
        return self.api.post(
            "/invoices",
            InvoiceCreate(patient_id=patient_id, charge_ids=charge_ids),
            InvoiceRead,
            creates=True,
        )

    def discard_invoice(self, invoice_id: int) -> None:
        self.api.delete(f"/invoices/{invoice_id}")

    def remove_line(self, invoice_id: int, line_id: int) -> InvoiceRead:
        return self.api.delete(f"/invoices/{invoice_id}/lines/{line_id}", InvoiceRead)

    def set_insurance(self, invoice_id: int, policy_id: int | None, version: int) -> InvoiceRead:
        return self.api.post(
            f"/invoices/{invoice_id}/insurance",
            InvoiceInsurance(policy_id=policy_id, version=version),
            InvoiceRead,
        )

    def add_discount(self, invoice_id: int, discount: DiscountCreate) -> InvoiceRead:
        return self.api.post(f"/invoices/{invoice_id}/discounts", discount, InvoiceRead)

    def remove_discount(self, invoice_id: int, discount_id: int) -> InvoiceRead:
        return self.api.delete(f"/invoices/{invoice_id}/discounts/{discount_id}", InvoiceRead)

    def finalize(self, invoice_id: int, version: int) -> InvoiceRead:
        return self.api.post(
            f"/invoices/{invoice_id}/finalize", InvoiceFinalize(version=version), InvoiceRead
        )

    def credit_note(
        self, invoice_id: int, *, amount: Decimal | None, reason: str
    ) -> CreditNoteRead:
        return self.api.post(
            f"/invoices/{invoice_id}/credit-notes",
            CreditNoteCreate(amount=amount, reason=reason),
            CreditNoteRead,
            creates=True,
        )

    def apply_credit(self, invoice_id: int, amount: Decimal | None = None) -> InvoiceRead:
        return self.api.post(
            f"/invoices/{invoice_id}/apply-credit", ApplyCredit(amount=amount), InvoiceRead
        )

    # -- payments -------------------------------------------------------------------------
    def pay(self, payment: PaymentCreate) -> PaymentRead:
        return self.api.post("/payments", payment, PaymentRead, creates=True)

    def payments(
        self, *, patient_id: int | None = None, invoice_id: int | None = None, limit: int = 100
    ) -> Page[PaymentRead]:
        return self.api.get(
            "/payments",
            Page[PaymentRead],
            params={"patient_id": patient_id, "invoice_id": invoice_id, "limit": limit},
        )

    def payment_by_receipt(self, number: str) -> PaymentRead:
        return self.api.get(f"/payments/by-receipt/{number}", PaymentRead)

    def payment(self, payment_id: int) -> PaymentRead:
        return self.api.get(f"/payments/{payment_id}", PaymentRead)

    def refund(self, payment_id: int, amount: Decimal, reason: str) -> RefundResult:
        return self.api.post(
            f"/payments/{payment_id}/refunds",
            RefundCreate(amount=amount, reason=reason),
            RefundResult,
            creates=True,
        )

    def start_card_payment(
        self, *, invoice_id: int | None, patient_id: int | None, amount: Decimal
    ) -> CardIntentRead:
        return self.api.post(
            "/payments/card-intents",
            CardIntentCreate(invoice_id=invoice_id, patient_id=patient_id, amount=amount),
            CardIntentRead,
            creates=True,
        )

    def card_payment(self, intent_id: int) -> CardIntentRead:
        return self.api.get(f"/payments/card-intents/{intent_id}", CardIntentRead)

    def cancel_card_payment(self, intent_id: int) -> CardIntentRead:
        return self.api.post(f"/payments/card-intents/{intent_id}/cancel", None, CardIntentRead)

    # -- approvals --------------------------------------------------------------------------
    def approvals(
        self, *, status: str | None = "pending", kind: str | None = None
    ) -> Page[ApprovalRead]:
        return self.api.get(
            "/billing/approvals",
            Page[ApprovalRead],
            params={"status": status, "kind": kind, "limit": 200},
        )

    def decide(self, approval_id: int, *, approve: bool, note: str | None = None) -> ApprovalRead:
        action = "approve" if approve else "reject"
        return self.api.post(
            f"/billing/approvals/{approval_id}/{action}", ApprovalDecision(note=note), ApprovalRead
        )

    # -- insurance and claims ------------------------------------------------------------
    def policies(self, patient_id: int) -> Page[PolicyRead]:
        return self.api.get(f"/patients/{patient_id}/policies", Page[PolicyRead])

    def check_eligibility(self, policy_id: int) -> EligibilityRead:
        return self.api.post(f"/policies/{policy_id}/eligibility", None, EligibilityRead)

    def payers(self) -> Page[PayerRead]:
        return self.api.get("/payers", Page[PayerRead])

    def claims(
        self,
        *,
        worklist: str | None = None,
        payer_id: int | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> Page[ClaimRead]:
        return self.api.get(
            "/claims",
            Page[ClaimRead],
            params={"worklist": worklist, "payer_id": payer_id, "limit": limit, "offset": offset},
        )

    def submit_claims(self, payer_id: int) -> ClaimBatchRead:
        return self.api.post(
            "/claim-batches", ClaimBatchCreate(payer_id=payer_id), ClaimBatchRead, creates=True
        )

    def post_remittance(self, claim_id: int, amount: Decimal, reference: str) -> PaymentRead:
        return self.api.post(
            f"/claims/{claim_id}/remittance",
            RemittanceCreate(amount=amount, reference=reference),
            PaymentRead,
            creates=True,
        )

    def resolve_rejection(self, claim_id: int, action: str, reason: str) -> ClaimRead:
        return self.api.post(
            f"/claims/{claim_id}/rejection",
            RejectionResolve(action=action, reason=reason),  # type: ignore[arg-type]
            ClaimRead,
        )

    def ageing(self, as_of: date | None = None) -> AgeingRead:
        return self.api.get(
            "/billing/ar-ageing", AgeingRead, params={"as_of": as_of.isoformat() if as_of else None}
        )

    # -- cash-up -------------------------------------------------------------------------
    def current_cash_session(self) -> CashSessionRead | None:
        try:
            return self.api.get("/cash-sessions/current", CashSessionRead)
        except ApiProblem as problem:
            if problem.status == 404:
                return None
            raise

    def open_cash_session(self, drawer: str, opening_float: Decimal) -> CashSessionRead:
        return self.api.post(
            "/cash-sessions",
            CashSessionOpen(drawer=drawer, opening_float=opening_float),
            CashSessionRead,
            creates=True,
        )

    def submit_cash_session(
        self,
        session_id: int,
        *,
        version: int,
        counted: dict[str, Decimal],
        variance_reason: str | None,
    ) -> CashSessionRead:
        body = CashSessionSubmit(
            version=version,
            variance_reason=variance_reason,
            counted=[CashCount(method=m, counted=v) for m, v in counted.items()],
        )  # type: ignore[arg-type]
        return self.api.post(f"/cash-sessions/{session_id}/submit", body, CashSessionRead)
