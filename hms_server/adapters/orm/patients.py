"""Patients: demographics and identifiers (reception). Clinical data lives in its own modules.

Search support lives in the table itself: stored generated columns hold the accent- and
case-folded names (``lower(hms_unaccent(...))``, see migration 0002), the phone's digits and
the normalised national ID, each with the index its search needs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    Date,
    ForeignKey,
    Index,
    Sequence,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base

# MRN serials: nextval() is never rolled back, so an MRN is never handed out twice.
MRN_SEQUENCE = Sequence("patient_mrn_seq", start=1, metadata=Base.metadata)

FOLDED_NAME_SQL = "lower(hms_unaccent(given_name || ' ' || family_name))"


class Patient(Base):
    """A person registered at the hospital. ``mrn`` is server-generated, unique, never reused;
    a merged-away record keeps its row (``merged_into_id``) so its MRN still resolves."""

    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint("sex IN ('male','female','other','unknown')", name="sex_code"),
        CheckConstraint("merged_into_id IS NULL OR merged_into_id <> id", name="not_self_merged"),
        CheckConstraint("jsonb_typeof(next_of_kin) = 'array'", name="next_of_kin_array"),
        CheckConstraint("jsonb_typeof(insurance) = 'array'", name="insurance_array"),
        Index(
            "ix_patients_search_name_trgm",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ),
        Index(
            "ix_patients_family_norm_prefix",
            "family_norm",
            postgresql_ops={"family_norm": "text_pattern_ops"},
        ),
        Index(
            "ix_patients_given_norm_prefix",
            "given_norm",
            postgresql_ops={"given_norm": "text_pattern_ops"},
        ),
        Index("ix_patients_phone_digits", "phone_digits"),
        # Suffix search ("the last digits of the phone") as a prefix search on the reverse.
        Index(
            "ix_patients_phone_digits_rev",
            func.reverse(text("phone_digits")).label("phone_digits_rev"),
            postgresql_ops={"phone_digits_rev": "text_pattern_ops"},
        ),
        Index("ix_patients_date_of_birth", "date_of_birth"),
        Index("ix_patients_national_id_norm", "national_id_norm"),
        # The list order (family, given, id) of unmerged patients: the unfiltered first page
        # is read straight from this index instead of sorting every patient.
        Index(
            "ix_patients_list_order",
            "family_norm",
            "given_norm",
            "id",
            postgresql_where=text("merged_into_id IS NULL"),
        ),
        Index(
            "ix_patients_merged_into_id",
            "merged_into_id",
            postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mrn: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    given_name: Mapped[str] = mapped_column(String(100), nullable=False)
    family_name: Mapped[str] = mapped_column(String(100), nullable=False)
    date_of_birth: Mapped[date] = mapped_column(Date, nullable=False)
    birth_date_estimated: Mapped[bool] = mapped_column(nullable=False, default=False)
    sex: Mapped[str] = mapped_column(String(16), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    national_id: Mapped[str | None] = mapped_column(String(64))
    # {line: [..], city, district, state, postal_code, country}
    address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # [{name, relationship, phone}]
    next_of_kin: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, default=list, server_default=text("'[]'::jsonb")
    )
    preferred_language: Mapped[str | None] = mapped_column(String(35))  # BCP 47 tag
    # Policies as captured at the desk: [{payer, policy_number, member_id, valid_from,
    # valid_to}]. Coverage rules belong to billing.
    insurance: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, default=list, server_default=text("'[]'::jsonb")
    )
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    merged_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    # Search columns, computed by PostgreSQL (never written by the application).
    search_name: Mapped[str] = mapped_column(Text, Computed(FOLDED_NAME_SQL, persisted=True))
    given_norm: Mapped[str] = mapped_column(
        Text, Computed("lower(hms_unaccent(given_name))", persisted=True)
    )
    family_norm: Mapped[str] = mapped_column(
        Text, Computed("lower(hms_unaccent(family_name))", persisted=True)
    )
    phone_digits: Mapped[str | None] = mapped_column(
        Text, Computed(r"nullif(regexp_replace(phone, '\D', '', 'g'), '')", persisted=True)
    )
    national_id_norm: Mapped[str | None] = mapped_column(
        Text,
        Computed(
            "nullif(upper(regexp_replace(national_id, '[^0-9A-Za-z]', '', 'g')), '')",
            persisted=True,
        ),
    )

    # SQLAlchemy bumps ``version`` on every UPDATE and adds ``WHERE version = <loaded>``.
    __mapper_args__ = {"version_id_col": version}
