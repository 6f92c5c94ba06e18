"""Security facts: which clinic a nurse works in (a basis of chart access), sign-in guards
per (account, address), and the alerts administrators review.

See ``services/access.py`` (care relationships) and ``services/sign_in_guard.py`` (lockout).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base


class ClinicAssignment(Base):
    """A clinician works in a department's clinic: on one day (``on_date``) or standing
    (``on_date`` NULL). An outpatient nurse may read the charts of that clinic's patients
    checked in that day — the clinic's queue is the hospital's own record of who they are."""

    __tablename__ = "clinic_assignments"
    __table_args__ = (
        Index(
            "uq_clinic_assignments_user_department_day",
            "user_id",
            "department_id",
            "on_date",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_clinic_assignments_department", "department_id", "on_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), nullable=False
    )
    on_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SignInGuard(Base):
    """Failed sign-ins of one username (as typed, lower-cased, known or not) from one address;
    the row with ``address = '*'`` counts every address (the account-wide ceiling).

    Keyed by the name typed rather than the account, so an unknown username is throttled and
    answered exactly like a real one (no enumeration).
    """

    __tablename__ = "sign_in_guards"
    __table_args__ = (
        CheckConstraint("failures >= 0 AND lock_count >= 0", name="counts"),
        Index("ix_sign_in_guards_last_failure", "last_failure_at"),
    )

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(nullable=False, default=0)
    window_start: Mapped[datetime] = mapped_column(nullable=False)
    lock_count: Mapped[int] = mapped_column(nullable=False, default=0)
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    # A successful sign-in from this address: the account-wide ceiling does not lock out a
    # workstation its owner is known to use.
    last_success_at: Mapped[datetime | None]


ALERT_KINDS = ("account_locked", "account_ceiling", "address_throttled", "reauthenticate_locked")


class SecurityAlert(Base):
    """Something an administrator should look at (an account under attack). Repeats of the
    same alert within an hour bump ``occurrences`` instead of adding rows."""

    __tablename__ = "security_alerts"
    __table_args__ = (
        CheckConstraint(
            "kind IN ({})".format(",".join(f"'{k}'" for k in ALERT_KINDS)), name="kind_code"
        ),
        Index("ix_security_alerts_open", "acknowledged_at", "last_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    username: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    address: Mapped[str | None] = mapped_column(String(64))
    first_at: Mapped[datetime] = mapped_column(nullable=False)
    last_at: Mapped[datetime] = mapped_column(nullable=False)
    occurrences: Mapped[int] = mapped_column(nullable=False, default=1)
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
