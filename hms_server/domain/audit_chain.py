"""The keyed audit chain and its signed checkpoints (pure rules, no I/O).

Each sealed entry's hash covers its fields and the previous entry's hash, so changing,
deleting or reordering a stored entry breaks every later link; ``verify_chain`` names the
first entry that no longer verifies. The server seals with HMAC-SHA-256 under a key the
database never holds (``HMS_AUDIT_KEY``): the database owner can no longer rewrite rows and
recompute the hashes, because without the key the recomputed values are wrong.

What a key alone cannot show is *truncation*: deleting the newest entries leaves a shorter
chain that still verifies. Checkpoints close that gap: the sealer periodically writes
``(count, last hash, time)`` signed with the same key to files and the system journal, outside
the database; a chain shorter than a checkpoint, or whose entry at the checkpoint's position
differs, was truncated or rewritten.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
MIN_KEY_BYTES = 32
CHECKPOINT_MARKER = "hms_audit_checkpoint"


class AuditKeyError(ValueError):
    """The configured audit key is missing or not a 32+ byte random value."""


def parse_audit_key(text: str) -> bytes:
    """A key given as hex (64+ digits) or URL-safe base64 (43+ characters) → its bytes."""
    value = text.strip()
    decoded: bytes | None = None
    try:
        decoded = bytes.fromhex(value)
    except ValueError:
        try:
            decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            decoded = None
    if decoded is None or len(decoded) < MIN_KEY_BYTES:
        raise AuditKeyError(
            f"the audit key must be at least {MIN_KEY_BYTES} random bytes, written as hex "
            "or URL-safe base64 (make one with 'hms-server audit keygen')"
        )
    return decoded


@dataclass(frozen=True)
class AuditFields:
    """The fields of one audit entry that the seal protects."""

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


def entry_hash(fields: AuditFields, prev_hash: str, key: bytes | None = None) -> str:
    """HMAC-SHA-256 under ``key`` of the entry chained to ``prev_hash``.

    The server always passes its key; without one this is the plain SHA-256 the chain used
    before keyed sealing (kept for the chain's structural properties in unit tests).
    """
    message = _canonical(fields, prev_hash)
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    reason: str


def verify_chain(
    rows: list[tuple[AuditFields, str, str]],
    start_prev: str = GENESIS_HASH,
    key: bytes | None = None,
) -> ChainBreak | None:
    """Check ``(fields, prev_hash, hash)`` rows in chain order; return the first break."""
    expected_prev = start_prev
    for fields, prev_hash, stored_hash in rows:
        if prev_hash != expected_prev:
            return ChainBreak(fields.id, "previous-hash link does not match the entry before it")
        if not hmac.compare_digest(entry_hash(fields, prev_hash, key), stored_hash):
            return ChainBreak(
                fields.id,
                "stored seal does not match the entry's contents "
                "(edited, or sealed with another key)",
            )
        expected_prev = stored_hash
    return None


# --- checkpoints -------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """``count`` sealed entries existed, the last with ``last_hash``, at ``at``.

    ``database`` names the database the log lives in and ``first_hash`` is the seal of its
    first entry: together they tell checkpoints of this log from those of another one (a test
    database, another hospital), while a log that was replaced or emptied still fails.
    """

    database: str
    count: int
    last_hash: str
    first_hash: str
    at: datetime

    def _message(self) -> bytes:
        return json.dumps(
            {
                "database": self.database,
                "count": self.count,
                "last_hash": self.last_hash,
                "first_hash": self.first_hash,
                "at": self.at.astimezone(UTC).isoformat(timespec="seconds"),
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    def signed_line(self, key: bytes) -> str:
        """One JSON line, MAC'd with a key derived for checkpoints only."""
        body = json.loads(self._message())
        body["mac"] = hmac.new(_checkpoint_key(key), self._message(), hashlib.sha256).hexdigest()
        return json.dumps({CHECKPOINT_MARKER: 1, **body}, sort_keys=True, separators=(",", ":"))


def _checkpoint_key(key: bytes) -> bytes:
    # Domain separation: a checkpoint MAC can never be replayed as an entry seal.
    return hmac.new(key, b"hms audit checkpoint v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class ParsedCheckpoint:
    checkpoint: Checkpoint | None
    source: str
    problem: str | None = None


def parse_checkpoint_line(line: str, key: bytes, source: str) -> ParsedCheckpoint | None:
    """The checkpoint in ``line`` (a checkpoint file line, or a journal/syslog line that
    carries one), ``None`` when the line holds no checkpoint, or a problem when it holds a
    damaged or forged one."""
    if CHECKPOINT_MARKER not in line:
        return None
    start = line.find("{")
    try:
        raw = json.loads(line[start:]) if start >= 0 else None
        if not isinstance(raw, dict):
            raise ValueError("not an object")
        checkpoint = Checkpoint(
            database=str(raw["database"]),
            count=int(raw["count"]),
            last_hash=str(raw["last_hash"]),
            first_hash=str(raw["first_hash"]),
            at=datetime.fromisoformat(str(raw["at"])),
        )
        mac = str(raw["mac"])
    except (ValueError, KeyError, TypeError):
        return ParsedCheckpoint(None, source, "unreadable checkpoint line")
    expected = hmac.new(_checkpoint_key(key), checkpoint._message(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, mac):
        return ParsedCheckpoint(
            None,
            source,
            "checkpoint signature does not verify (forged, damaged, or signed with another key)",
        )
    return ParsedCheckpoint(checkpoint, source)
