"""Insurance: payers, plans and their coverage rules, patient policies, eligibility checks,
pre-authorisations and claims. Imports only pydantic.

Coverage percentages are decimal strings (``"80"`` = the payer pays 80 % of a category).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hms_contract.billing import (
    Category,
    Id,
    NonNegativeMoney,
    Percent,
    PositiveMoney,
    PriceCode,
    Reason,
)
from hms_contract.common import Money

PayerCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,31}$")]
EligibilityStatus = Literal["unknown", "eligible", "not_eligible", "error"]
PreauthStatus = Literal["pending_submission", "approved", "denied", "pended", "cancelled"]
ClaimStatus = Literal[
    "ready", "submitted", "approved", "partly_approved", "rejected", "paid", "closed", "cancelled"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PayerCreate(_Strict):
    code: PayerCode = Field(description="The payer's identifier at its FHIR endpoint")
    name: str = Field(min_length=2, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=300)


class PayerRead(BaseModel):
    id: int
    code: str
    name: str
    phone: str | None = None
    address: str | None = None
    active: bool
    plan_count: int = 0
    version: int


class CoverageRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category
    percent: Percent


class PlanCreate(_Strict):
    """Coverage: per-category percentages (categories not listed are not covered), a fixed
    co-payment per invoice, a yearly deductible, a yearly payer limit and excluded codes."""

    payer_id: Id
    code: PayerCode
    name: str = Field(min_length=2, max_length=200)
    coverage: list[CoverageRule] = Field(default_factory=list, max_length=50)
    copay: NonNegativeMoney = Decimal(0)
    deductible: NonNegativeMoney = Decimal(0)
    annual_limit: PositiveMoney | None = None
    excluded_codes: list[PriceCode] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _unique_categories(self) -> PlanCreate:
        seen = [rule.category for rule in self.coverage]
        if len(seen) != len(set(seen)):
            raise ValueError("each category appears once in coverage")
        return self


class PlanRead(BaseModel):
    id: int
    payer_id: int
    payer_name: str | None = None
    code: str
    name: str
    coverage: list[CoverageRule]
    copay: Money
    deductible: Money
    annual_limit: Money | None = None
    excluded_codes: list[str]
    active: bool
    version: int


class PolicyCreate(_Strict):
    plan_id: Id
    member_number: str = Field(
        min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$"
    )
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _period(self) -> PolicyCreate:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to must not be before valid_from")
        return self


class PolicyUpdate(_Strict):
    version: int = Field(ge=1)
    valid_to: date | None = None
    active: bool | None = None


class PolicyRead(BaseModel):
    id: int
    patient_id: int
    plan_id: int
    plan_name: str
    payer_id: int
    payer_name: str
    member_number: str
    valid_from: date
    valid_to: date | None = None
    active: bool
    eligibility: EligibilityStatus
    eligibility_checked_at: datetime | None = None
    eligibility_note: str | None = None
    deductible_remaining: Money | None = None
    limit_remaining: Money | None = None
    version: int


class EligibilityRead(BaseModel):
    """The payer's answer (FHIR CoverageEligibilityResponse, summarised)."""

    policy_id: int
    status: EligibilityStatus
    in_force: bool
    checked_at: datetime
    payer_reference: str | None = None
    note: str | None = None
    benefits: list[dict[str, Any]] = []


class PreauthCreate(_Strict):
    policy_id: Id
    kind: Literal["admission", "procedure"]
    price_item_code: PriceCode | None = None
    description: str = Field(min_length=3, max_length=300)
    amount: PositiveMoney
    expected_on: date | None = None


class PreauthRead(BaseModel):
    id: int
    patient_id: int
    policy_id: int
    payer_name: str | None = None
    kind: Literal["admission", "procedure"]
    price_item_code: str | None = None
    description: str
    amount: Money
    approved_amount: Money | None = None
    expected_on: date | None = None
    status: PreauthStatus
    payer_reference: str | None = None
    note: str | None = None
    requested_at: datetime
    decided_at: datetime | None = None
    version: int


class ClaimRead(BaseModel):
    id: int
    payer_id: int
    payer_name: str | None = None
    policy_id: int
    patient_id: int
    patient_name: str | None = None
    invoice_id: int
    invoice_number: str
    batch_id: int | None = None
    batch_number: str | None = None
    status: ClaimStatus
    claimed: Money
    approved: Money | None = None
    rejected: Money | None = None
    remitted: Money
    outstanding: Money = Field(description="Approved but not yet remitted")
    rejection_reasons: list[str] = []
    rejection_resolution: Literal["bill_patient", "write_off", "write_off_pending"] | None = None
    payer_reference: str | None = None
    submitted_at: datetime | None = None
    adjudicated_at: datetime | None = None
    version: int


class ClaimBatchCreate(_Strict):
    payer_id: Id
    claim_ids: list[Id] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Default: every ready claim of the payer",
    )


class ClaimBatchRead(BaseModel):
    id: int
    number: str
    payer_id: int
    payer_name: str | None = None
    submitted_at: datetime
    claims: list[ClaimRead]


class RemittanceCreate(_Strict):
    """Money the payer paid for a claim (bank statement or remittance advice)."""

    amount: PositiveMoney
    reference: str = Field(min_length=2, max_length=100)
    received_on: date | None = None


class RejectionResolve(_Strict):
    """What happens to the rejected part: the patient pays it, or it is written off (a
    manager must approve a write-off)."""

    action: Literal["bill_patient", "write_off"]
    reason: Reason
