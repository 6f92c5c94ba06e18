"""Appending to and reading back the hash-chained audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.infra import AuditEntry
from hms_server.domain.audit_chain import (
    GENESIS_HASH,
    AuditFields,
    ChainBreak,
    entry_hash,
    verify_chain,
)

# One cluster-wide advisory lock serialises chain appends; it is held only from the append
# (done just before COMMIT) to the end of the transaction, so contention stays short.
AUDIT_CHAIN_LOCK = 0x484D5341


@dataclass
class PendingAudit:
    """An audit entry collected during a unit of work, written at commit."""

    category: str
    action: str
    outcome: str = "success"
    user_id: int | None = None
    username: str | None = None
    patient_id: int | None = None
    workstation: str | None = None
    address: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def append_audit(session: Session, entries: list[PendingAudit]) -> None:
    """Chain and insert entries inside the caller's transaction."""
    if not entries:
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_CHAIN_LOCK})
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    next_id, prev = (last.id + 1, last.hash) if last else (1, GENESIS_HASH)
    for pending in entries:
        fields = AuditFields(
            id=next_id, at=utcnow(), user_id=pending.user_id, username=pending.username,
            patient_id=pending.patient_id, category=pending.category, action=pending.action,
            outcome=pending.outcome, workstation=pending.workstation, address=pending.address,
            detail=pending.detail,
        )
        digest = entry_hash(fields, prev)
        session.add(AuditEntry(
            id=fields.id, at=fields.at, user_id=fields.user_id, username=fields.username,
            patient_id=fields.patient_id, category=fields.category, action=fields.action,
            outcome=fields.outcome, workstation=fields.workstation, address=fields.address,
            detail=fields.detail, prev_hash=prev, hash=digest,
        ))
        prev, next_id = digest, next_id + 1
    session.flush()


def _fields(row: AuditEntry) -> AuditFields:
    return AuditFields(
        id=row.id, at=row.at, user_id=row.user_id, username=row.username,
        patient_id=row.patient_id, category=row.category, action=row.action,
        outcome=row.outcome, workstation=row.workstation, address=row.address,
        detail=row.detail,
    )


def _rows_in_batches(session: Session, batch: int = 5000) -> Iterator[list[AuditEntry]]:
    last_id = 0
    while True:
        rows = list(session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ))
        if not rows:
            return
        yield rows
        last_id = rows[-1].id
        session.expunge_all()


@dataclass(frozen=True)
class ChainReport:
    entries_checked: int
    first_break: ChainBreak | None


def verify_audit_chain(session: Session) -> ChainReport:
    """Walk the whole log in id order. Gaps in ids are breaks too (a deleted row)."""
    prev, expected_id, checked = GENESIS_HASH, 1, 0
    for rows in _rows_in_batches(session):
        for row in rows:
            if row.id != expected_id:
                return ChainReport(checked, ChainBreak(
                    expected_id, f"entry {expected_id} is missing (next present is {row.id})"))
            broken = verify_chain([(_fields(row), row.prev_hash, row.hash)], start_prev=prev)
            if broken:
                return ChainReport(checked, broken)
            prev, expected_id, checked = row.hash, expected_id + 1, checked + 1
    return ChainReport(checked, None)
