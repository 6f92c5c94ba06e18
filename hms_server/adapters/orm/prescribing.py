"""Prescribing: the formulary, the interaction table, prescriptions and safety overrides.

The formulary and interaction table are reference data loaded from
``resources/reference-data`` by ``hms-server reference-data load``
(``adapters.reference_data``). Pharmacy dispenses what is prescribed here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Sequence,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base

PRESCRIPTION_NUMBER_SEQUENCE = Sequence("prescription_number_seq", start=1, metadata=Base.metadata)


class Drug(Base):
    """A formulary medicine. ``ingredients`` are lower-case generic names; ``atc_code`` and
    ``therapeutic_class`` (ATC level 4) drive class interactions and duplicate therapy."""

    __tablename__ = "drugs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    generic_name: Mapped[str] = mapped_column(String(200), nullable=False)
    ingredients: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    form: Mapped[str] = mapped_column(String(64), nullable=False)
    strength: Mapped[str | None] = mapped_column(String(100))
    route: Mapped[str] = mapped_column(String(32), nullable=False)
    atc_code: Mapped[str | None] = mapped_column(String(8))
    therapeutic_class: Mapped[str | None] = mapped_column(String(8))
    class_name: Mapped[str | None] = mapped_column(String(120))
    allergy_groups: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    #: Other common names of the ingredient (aspirin, acetaminophen, meperidine, rifampin,
    #: epinephrine...), so a prescriber finds the drug by the name they learnt.
    synonyms: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    #: Brand names the formulary knows for this product.
    brand_names: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    essential: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class DrugInteraction(Base):
    """One rule of the interaction table; each side is an ingredient or ``class:<ATC>``."""

    __tablename__ = "drug_interactions"
    __table_args__ = (
        CheckConstraint(
            "severity IN ('contraindicated','major','moderate','minor')", name="severity_code"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    side_a: Mapped[str] = mapped_column(String(120), nullable=False)
    side_b: Mapped[str] = mapped_column(String(120), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    #: Where the rule comes from (a citation), shown with the conflict it raises.
    source: Mapped[str | None] = mapped_column(String(300))


PRESCRIPTION_STATUSES = ("active", "completed", "cancelled")


class Prescription(Base):
    __tablename__ = "prescriptions"
    __table_args__ = (
        CheckConstraint(f"status IN {PRESCRIPTION_STATUSES}", name="status_code"),
        Index("ix_prescriptions_patient_created", "patient_id", text("created_at DESC")),
        Index(
            "ix_prescriptions_patient_active",
            "patient_id",
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"))
    prescriber_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    notes: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class PrescriptionItem(Base):
    __tablename__ = "prescription_items"
    __table_args__ = (
        CheckConstraint("dose > 0", name="dose_positive"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("duration_days IS NULL OR duration_days > 0", name="duration_positive"),
        Index("ix_prescription_items_prescription", "prescription_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    prescription_id: Mapped[int] = mapped_column(
        ForeignKey("prescriptions.id", ondelete="CASCADE"), nullable=False
    )
    line_no: Mapped[int] = mapped_column(nullable=False)
    drug_id: Mapped[int] = mapped_column(ForeignKey("drugs.id"), nullable=False)
    dose: Mapped[Decimal] = mapped_column(Numeric(12, 3), nullable=False)
    unit: Mapped[str] = mapped_column(String(32), nullable=False)
    route: Mapped[str] = mapped_column(String(32), nullable=False)
    frequency: Mapped[str] = mapped_column(String(64), nullable=False)
    duration_days: Mapped[int | None]
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3), nullable=False)
    instructions: Mapped[str | None] = mapped_column(String(500))


class PrescriptionOverride(Base):
    """A prescriber's decision to go ahead despite safety conflicts, with the reason."""

    __tablename__ = "prescription_overrides"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    prescription_id: Mapped[int] = mapped_column(
        ForeignKey("prescriptions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(1000), nullable=False)
    conflicts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
