"""Cross-cutting tables: the audit log and its seal, idempotency records, the event outbox,
and the versions of the loaded reference data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from hms_server.adapters.orm.base import Base


class Xid8(UserDefinedType[str]):
    """PostgreSQL's 64-bit transaction id (``xid8``), read as text; it never wraps around."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


class AuditEntry(Base):
    """Append-only. The runtime role has SELECT and INSERT only.

    Requests insert plain rows (an id from a sequence, and ``xid``, the inserting
    transaction's id) in the same transaction as the action; the background sealer chains
    them afterwards into ``audit_seal`` in commit-safe order (``adapters/audit_sealer.py``).
    ``patient_id`` deliberately has no foreign key: audit history must outlive merges and
    must never block or be blocked by clinical data changes.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_patient", "patient_id", "at"),
        Index("ix_audit_log_user", "user_id", "at"),
        Index("ix_audit_log_action", "action", "at"),
        Index("ix_audit_log_xid", "xid", "id"),
    )

    # Filled in by the database from audit_log_id_seq (migration 0050: a serial column).
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    xid: Mapped[str] = mapped_column(
        Xid8, nullable=False, server_default=text("pg_current_xact_id()")
    )
    at: Mapped[datetime] = mapped_column(nullable=False)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(48), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    workstation: Mapped[str | None] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)


class AuditSeal(Base):
    """The chain over the audit log, appended by the single sealer (runtime role: INSERT only).

    ``seq`` is the gapless chain position; ``hash`` is the HMAC (server key, never stored in
    the database) of the sealed entry's fields and ``prev_hash``. ``audit_xid`` copies the
    entry's transaction id: the sealer resumes after the last sealed ``(audit_xid, audit_id)``.
    """

    __tablename__ = "audit_seal"
    __table_args__ = (CheckConstraint("seq > 0", name="seq_positive"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    audit_id: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True)
    audit_xid: Mapped[str] = mapped_column(Xid8, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    sealed_at: Mapped[datetime] = mapped_column(nullable=False)


class IdempotencyRecord(Base):
    """The first answer to a creating POST, replayed for retries with the same key."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    response: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(nullable=False)


class OutboxEvent(Base):
    """Domain events written in the same transaction as the change they describe."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class ReferenceDataVersion(Base):
    """Which version (file checksum) of each reference dataset is loaded; see
    ``adapters.reference_data``."""

    __tablename__ = "reference_data_versions"

    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(nullable=False)
    row_count: Mapped[int] = mapped_column(nullable=False)
