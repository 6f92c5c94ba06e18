"""Hash chain over audit entries: each entry's hash covers its fields and the previous hash.

Changing, deleting or reordering any stored entry breaks every later link, which
``verify_chain`` reports by naming the first entry that no longer verifies.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditFields:
    """The fields of one audit entry that the hash protects."""

    id: int
    at: datetime
    user_id: int | None
    username: str | None
    patient_id: int | None
    category: str
    action: str
    outcome: str
    workstation: str | None
    address: str | None
    detail: dict[str, Any]


def _canonical(fields: AuditFields, prev_hash: str) -> bytes:
    payload = {
        "id": fields.id,
        "at": fields.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "user_id": fields.user_id,
        "username": fields.username,
        "patient_id": fields.patient_id,
        "category": fields.category,
        "action": fields.action,
        "outcome": fields.outcome,
        "workstation": fields.workstation,
        "address": fields.address,
        "detail": fields.detail,
        "prev": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def entry_hash(fields: AuditFields, prev_hash: str) -> str:
    """SHA-256 of the canonical form of the entry chained to ``prev_hash``."""
    return hashlib.sha256(_canonical(fields, prev_hash)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    reason: str


def verify_chain(rows: list[tuple[AuditFields, str, str]],
                 start_prev: str = GENESIS_HASH) -> ChainBreak | None:
    """Check ``(fields, prev_hash, hash)`` rows in id order; return the first break or None."""
    expected_prev = start_prev
    for fields, prev_hash, stored_hash in rows:
        if prev_hash != expected_prev:
            return ChainBreak(fields.id, "previous-hash link does not match the entry before it")
        if entry_hash(fields, prev_hash) != stored_hash:
            return ChainBreak(fields.id, "stored hash does not match the entry's contents")
        expected_prev = stored_hash
    return None
