"""Insurance tables: payers, plans with coverage rules, patient policies, pre-authorisations,
claim batches and claims (see migration 0010)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base

ELIGIBILITY_STATUSES = ("unknown", "eligible", "not_eligible", "error")
PREAUTH_STATUSES = ("pending_submission", "approved", "denied", "pended", "cancelled")
CLAIM_STATUSES = (
    "ready",
    "submitted",
    "approved",
    "partly_approved",
    "rejected",
    "paid",
    "closed",
    "cancelled",
)


def _in(values: tuple[str, ...]) -> str:
    return ",".join(f"'{v}'" for v in values)


class Payer(Base):
    """An insurer. ``code`` identifies it at its FHIR endpoint."""

    __tablename__ = "payers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False)

    __mapper_args__ = {"version_id_col": version}


class InsurancePlan(Base):
    """A product of a payer with its coverage rules (see ``domain.billing.PlanRules``)."""

    __tablename__ = "insurance_plans"
    __table_args__ = (
        UniqueConstraint("payer_id", "code", name="uq_insurance_plans_payer_code"),
        CheckConstraint("copay >= 0 AND deductible >= 0", name="money_positive"),
        CheckConstraint("annual_limit IS NULL OR annual_limit > 0", name="limit_positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id"), nullable=False)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    copay: Mapped[Decimal] = mapped_column(Numeric(), nullable=False)
    deductible: Mapped[Decimal] = mapped_column(Numeric(), nullable=False)
    annual_limit: Mapped[Decimal | None] = mapped_column(Numeric())
    excluded_codes: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    version: Mapped[int] = mapped_column(nullable=False)

    __mapper_args__ = {"version_id_col": version}


class PlanCoverageRule(Base):
    """The share of a price category the payer pays under a plan."""

    __tablename__ = "plan_coverage_rules"
    __table_args__ = (CheckConstraint("percent >= 0 AND percent <= 100", name="percent_range"),)

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("insurance_plans.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)


class PatientPolicy(Base):
    """A patient's membership of a plan, valid for a period; the last eligibility answer."""

    __tablename__ = "patient_policies"
    __table_args__ = (
        UniqueConstraint("plan_id", "member_number", name="uq_patient_policies_member"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period_order"),
        CheckConstraint(f"eligibility IN ({_in(ELIGIBILITY_STATUSES)})", name="eligibility_code"),
        Index("ix_patient_policies_patient_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    plan_id: Mapped[int] = mapped_column(ForeignKey("insurance_plans.id"), nullable=False)
    member_number: Mapped[str] = mapped_column(String(64), nullable=False)
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_to: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    eligibility: Mapped[str] = mapped_column(String(16), nullable=False, default="unknown")
    eligibility_checked_at: Mapped[datetime | None]
    eligibility_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False)

    __mapper_args__ = {"version_id_col": version}


class Preauthorization(Base):
    """A request to the payer to approve an admission or procedure before it happens."""

    __tablename__ = "preauthorizations"
    __table_args__ = (
        CheckConstraint("kind IN ('admission','procedure')", name="kind_code"),
        CheckConstraint(f"status IN ({_in(PREAUTH_STATUSES)})", name="status_code"),
        CheckConstraint(
            "amount > 0 AND (approved_amount IS NULL OR approved_amount >= 0)",
            name="money_positive",
        ),
        Index("ix_preauthorizations_patient_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    policy_id: Mapped[int] = mapped_column(ForeignKey("patient_policies.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    price_item_code: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(300), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(), nullable=False)
    approved_amount: Mapped[Decimal | None] = mapped_column(Numeric())
    expected_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    payer_reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    decided_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(nullable=False)

    __mapper_args__ = {"version_id_col": version}


class ClaimBatch(Base):
    """Claims of one payer sent together (one FHIR batch Bundle), numbered per year."""

    __tablename__ = "claim_batches"
    __table_args__ = (
        UniqueConstraint("series", "year", "sequence", name="uq_claim_batches_series_number"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    series: Mapped[str] = mapped_column(String(8), nullable=False)
    year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    sequence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id"), nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(nullable=False)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Claim(Base):
    """The payer's portion of one finalised invoice, from ready to paid. One live claim per
    invoice; a rejected part is billed to the patient or written off (with approval)."""

    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(CLAIM_STATUSES)})", name="status_code"),
        CheckConstraint("claimed > 0 AND remitted >= 0", name="money_positive"),
        CheckConstraint("(approved IS NULL) = (rejected IS NULL)", name="adjudicated_together"),
        CheckConstraint(
            "approved IS NULL OR (approved >= 0 AND rejected >= 0 AND "
            "approved + rejected = claimed)",
            name="adjudication_adds_up",
        ),
        CheckConstraint("remitted <= coalesce(approved, 0)", name="not_over_remitted"),
        CheckConstraint(
            "rejection_resolution IS NULL OR rejection_resolution IN "
            "('bill_patient','write_off','write_off_pending')",
            name="resolution_code",
        ),
        Index(
            "uq_claims_live_invoice",
            "invoice_id",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_claims_payer_status", "payer_id", "status"),
        Index("ix_claims_patient_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id"), nullable=False)
    policy_id: Mapped[int] = mapped_column(ForeignKey("patient_policies.id"), nullable=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), nullable=False)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("claim_batches.id"))
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    claimed: Mapped[Decimal] = mapped_column(Numeric(), nullable=False)
    approved: Mapped[Decimal | None] = mapped_column(Numeric())
    rejected: Mapped[Decimal | None] = mapped_column(Numeric())
    remitted: Mapped[Decimal] = mapped_column(Numeric(), nullable=False)
    rejection_reasons: Mapped[list[Any]] = mapped_column(
        JSONB, nullable=False, default=list, server_default=text("'[]'::jsonb")
    )
    rejection_resolution: Mapped[str | None] = mapped_column(String(20))
    payer_reference: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None]
    adjudicated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False)

    __mapper_args__ = {"version_id_col": version}
