"""The audit hash chain detects edits, deletions and reordering."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hms_server.domain.audit_chain import GENESIS_HASH, AuditFields, entry_hash, verify_chain


def _chain(n: int) -> list[tuple[AuditFields, str, str]]:
    rows, prev = [], GENESIS_HASH
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(1, n + 1):
        fields = AuditFields(
            id=i,
            at=start + timedelta(seconds=i),
            user_id=7,
            username="nina",
            patient_id=42 if i % 2 else None,
            category="vitals",
            action="read",
            outcome="success",
            workstation="ws-3",
            address="10.0.0.5",
            detail={"n": i},
        )
        digest = entry_hash(fields, prev)
        rows.append((fields, prev, digest))
        prev = digest
    return rows


def test_intact_chain_verifies():
    assert verify_chain(_chain(5)) is None


def test_edited_field_is_reported_at_that_entry():
    rows = _chain(5)
    fields, prev, digest = rows[2]
    rows[2] = (replace(fields, action="delete"), prev, digest)
    broken = verify_chain(rows)
    assert broken is not None and broken.entry_id == 3


def test_removed_entry_breaks_the_link_of_the_next():
    rows = _chain(5)
    del rows[1]
    broken = verify_chain(rows)
    assert broken is not None and broken.entry_id == 3


def test_recomputed_hash_still_breaks_the_following_link():
    rows = _chain(4)
    fields, prev, _ = rows[1]
    forged = replace(fields, patient_id=99)
    rows[1] = (forged, prev, entry_hash(forged, prev))
    broken = verify_chain(rows)
    assert broken is not None and broken.entry_id == 3


def test_timestamp_in_other_zone_hashes_identically():
    fields = _chain(1)[0][0]
    shifted = replace(
        fields,
        at=fields.at.astimezone(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Kolkata")),
    )
    assert entry_hash(fields, GENESIS_HASH) == entry_hash(shifted, GENESIS_HASH)
