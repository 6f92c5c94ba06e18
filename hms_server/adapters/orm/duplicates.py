"""Duplicate records: pairs flagged for review, and the merge journal.

``patient_duplicate_flags`` holds pairs a person should look at: a self-booking whose
details *possibly* matched an existing patient created a new record and flagged the pair.
Reception works the open flags (merge, or dismiss as different people).

``patient_merges`` is the journal of every merge decision with its reason. A merge chosen on
the reception's merge screen is first ``pending`` (nothing has moved; it can be undone) and
happens when it is ``confirmed``; a merge through ``POST /patients/{id}/merge`` is confirmed
at once. At most one pending merge per record (a partial unique index).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base

FLAG_STATUSES = ("open", "dismissed", "merged")
MERGE_STATUSES = ("pending", "confirmed", "undone")


class DuplicateFlag(Base):
    """Two records that may be one person, waiting for a person to decide."""

    __tablename__ = "patient_duplicate_flags"
    __table_args__ = (
        CheckConstraint("status IN ('open','dismissed','merged')", name="status_code"),
        CheckConstraint("source IN ('self_booking','registration')", name="source_code"),
        CheckConstraint("patient_id <> candidate_id", name="two_records"),
        CheckConstraint("score >= 0 AND score <= 1", name="score_range"),
        # One open flag per pair, whichever way round it was raised.
        Index(
            "uq_patient_duplicate_flags_open_pair",
            func.least(text("patient_id"), text("candidate_id")),
            func.greatest(text("patient_id"), text("candidate_id")),
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_patient_duplicate_flags_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: The newer record (the one the flag was raised for).
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False, index=True)
    #: The existing record it may duplicate.
    candidate_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False, index=True)
    score: Mapped[Decimal] = mapped_column(Numeric(3, 2), nullable=False)
    reasons: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open")
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    resolved_at: Mapped[datetime | None]
    resolved_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class PatientMerge(Base):
    """One merge decision: ``duplicate_id`` into ``survivor_id``, why, who, and its state."""

    __tablename__ = "patient_merges"
    __table_args__ = (
        CheckConstraint("status IN ('pending','confirmed','undone')", name="status_code"),
        CheckConstraint("survivor_id <> duplicate_id", name="two_records"),
        CheckConstraint("length(btrim(reason)) >= 5", name="reason_given"),
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_when_done"),
        # A record can be on one pending merge at a time, on either side.
        Index(
            "uq_patient_merges_pending_duplicate",
            "duplicate_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_patient_merges_pending_survivor",
            "survivor_id",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_patient_merges_status_requested", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False, index=True)
    duplicate_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    flag_id: Mapped[int | None] = mapped_column(ForeignKey("patient_duplicate_flags.id"))
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
