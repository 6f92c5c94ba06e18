"""Appending to the audit log (request path) and verifying its sealed chain (operator path).

Requests only INSERT plain rows, in the same transaction as the action they record: no lock,
no read of the previous row, so audited requests no longer queue behind each other. The
background sealer (``adapters/audit_sealer.py``) chains committed rows afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, insert, literal, select, text
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.infra import AuditEntry, AuditSeal, Xid8
from hms_server.domain.audit_chain import (
    GENESIS_HASH,
    AuditFields,
    ChainBreak,
    Checkpoint,
    verify_chain,
)


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
    """Insert entries inside the caller's transaction (id and xid come from the database)."""
    if not entries:
        return
    at = utcnow()
    session.execute(
        insert(AuditEntry),
        [
            {
                "at": at,
                "user_id": e.user_id,
                "username": e.username,
                "patient_id": e.patient_id,
                "category": e.category,
                "action": e.action,
                "outcome": e.outcome,
                "workstation": e.workstation,
                "address": e.address,
                "detail": e.detail,
            }
            for e in entries
        ],
    )


AUDIT = AuditEntry.__table__
SEAL = AuditSeal.__table__
#: The columns of ``audit_log`` the seal covers, in ``AuditFields`` order.
SEALED_COLUMNS = tuple(
    AUDIT.c[name]
    for name in (
        "id",
        "at",
        "user_id",
        "username",
        "patient_id",
        "category",
        "action",
        "outcome",
        "workstation",
        "address",
        "detail",
    )
)


def xid8(value: str | int) -> ColumnElement[Any]:
    """A bound transaction id compared with ``xid8`` columns."""
    return cast(literal(str(value), Text), Xid8())


def fields_of(row: Row[Any] | Any) -> AuditFields:
    """The sealed fields of a row that selected ``SEALED_COLUMNS``."""
    return AuditFields(
        id=row.id,
        at=row.at,
        user_id=row.user_id,
        username=row.username,
        patient_id=row.patient_id,
        category=row.category,
        action=row.action,
        outcome=row.outcome,
        workstation=row.workstation,
        address=row.address,
        detail=row.detail,
    )


@dataclass(frozen=True)
class ChainReport:
    """What ``hms-server audit verify`` found.

    ``first_break`` is the first sealed entry that fails (edited, deleted, forged, or an entry
    slipped in behind the seal); ``checkpoint_problems`` are truncations or rewrites the
    external checkpoints reveal. ``unsealed`` committed entries are younger than the sealer's
    last pass; they are covered on the next one.
    """

    entries_checked: int
    first_break: ChainBreak | None
    unsealed: int = 0
    checkpoints_checked: int = 0
    checkpoints_ignored: int = 0
    checkpoint_problems: tuple[str, ...] = ()

    @property
    def intact(self) -> bool:
        return self.first_break is None and not self.checkpoint_problems


def _sealed_rows(conn: Connection, batch: int = 5000) -> Iterator[list[Row[Any]]]:
    after = 0
    while True:
        rows = list(
            conn.execute(
                select(SEAL.c.seq, SEAL.c.audit_id, SEAL.c.prev_hash, SEAL.c.hash, *SEALED_COLUMNS)
                .select_from(SEAL.outerjoin(AUDIT, AUDIT.c.id == SEAL.c.audit_id))
                .where(SEAL.c.seq > after)
                .order_by(SEAL.c.seq)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield rows
        after = rows[-1].seq


def verify_audit_chain(
    conn: Connection, key: bytes, checkpoints: Iterable[Checkpoint] = ()
) -> ChainReport:
    """Walk the seal in chain order, re-computing every keyed hash; then look for entries
    slipped in behind the seal and compare the chain with the external checkpoints."""
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    mine = [c for c in checkpoints if c.database == database]
    ignored = sum(1 for c in checkpoints if c.database != database)
    wanted = {c.count for c in mine} | {1}
    seen: dict[int, str] = {}
    prev, expected_seq, checked = GENESIS_HASH, 1, 0
    first_break: ChainBreak | None = None
    for rows in _sealed_rows(conn):
        for row in rows:
            if row.seq != expected_seq:
                first_break = ChainBreak(
                    row.audit_id,
                    f"chain position {expected_seq} is missing before entry {row.audit_id}",
                )
            elif row.id is None:
                first_break = ChainBreak(
                    row.audit_id, f"entry {row.audit_id} is missing (deleted after it was sealed)"
                )
            else:
                first_break = verify_chain(
                    [(fields_of(row), row.prev_hash, row.hash)], start_prev=prev, key=key
                )
            if first_break:
                break
            if row.seq in wanted:
                seen[row.seq] = row.hash
            prev, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
        if first_break:
            break
    unsealed = 0
    if first_break is None:
        first_break, unsealed = _entries_outside_the_seal(conn)
    problems = tuple(_compare_checkpoints(mine, checked, seen)) if first_break is None else ()
    return ChainReport(checked, first_break, unsealed, len(mine), ignored, problems)


def _entries_outside_the_seal(conn: Connection) -> tuple[ChainBreak | None, int]:
    last = conn.execute(
        text("SELECT audit_xid, audit_id FROM audit_seal ORDER BY seq DESC LIMIT 1")
    ).first()
    cursor = (str(last.audit_xid), int(last.audit_id)) if last else ("0", 0)
    behind = conn.execute(
        text(
            "SELECT a.id FROM audit_log a WHERE (a.xid, a.id) <= (CAST(:x AS xid8), :i) "
            "AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.audit_id = a.id) "
            "ORDER BY a.id LIMIT 1"
        ),
        {"x": cursor[0], "i": cursor[1]},
    ).scalar()
    if behind is not None:
        return ChainBreak(
            behind,
            f"entry {behind} is not in the sealed chain although later "
            "entries are (inserted behind the seal)",
        ), 0
    unsealed = conn.execute(
        text("SELECT count(*) FROM audit_log WHERE (xid, id) > (CAST(:x AS xid8), :i)"),
        {"x": cursor[0], "i": cursor[1]},
    ).scalar_one()
    return None, int(unsealed)


def _compare_checkpoints(
    checkpoints: list[Checkpoint], count: int, seen: dict[int, str]
) -> Iterator[str]:
    for cp in sorted(checkpoints, key=lambda c: c.count):
        when = cp.at.isoformat(timespec="seconds")
        if cp.count > count:
            yield (
                f"TRUNCATED: the checkpoint of {when} recorded {cp.count} sealed entries, "
                f"the log now has {count}"
            )
        elif seen.get(1) != cp.first_hash:
            yield (
                f"REPLACED: the first entry differs from the one the checkpoint of {when} recorded"
            )
        elif seen.get(cp.count) != cp.last_hash:
            yield (f"REWRITTEN: chain position {cp.count} differs from the checkpoint of {when}")
