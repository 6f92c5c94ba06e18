"""The audit sealer: keyed, commit-order safe, leader-elected, checkpointed outside the
database, and tampering by the database owner (rewrite with recomputed hashes, truncation)
is caught by ``hms-server audit verify``."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from hms_server.adapters.audit_checkpoints import CheckpointLog
from hms_server.adapters.audit_key import load_audit_key
from hms_server.adapters.audit_sealer import AuditSealer, seal_all_pending, seal_lag, seal_pass
from hms_server.adapters.db import normalize_url
from hms_server.adapters.uow import Actor
from hms_server.cli import main as cli
from hms_server.domain.audit_chain import GENESIS_HASH, AuditFields, entry_hash
from tests.wiring import wired_uow


def _key(database) -> bytes:  # type: ignore[no-untyped-def]
    return load_audit_key(database.settings())


def _audit(database, n: int = 1, action: str = "test.action") -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        uow = wired_uow(database.owner_session_factory(), Actor.system("t"))
        with uow:
            uow.audit("test", action, patient_id=i, detail={"i": i})
            uow.commit()


def _seal(database) -> int:  # type: ignore[no-untyped-def]
    with database.owner_engine.connect() as conn:
        return seal_all_pending(conn, _key(database))


def _verify(database, *extra: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        cli, ["audit", "verify", "--database-url", database.owner_url, *extra]
    )


def _runtime_conninfo(database) -> str:  # type: ignore[no-untyped-def]
    return (
        normalize_url(database.runtime_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def _counts(database) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with database.owner_engine.connect() as conn:
        return (
            conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one(),
            conn.execute(text("SELECT count(*) FROM audit_seal")).scalar_one(),
        )


def _sealer(
    database,
    checkpoints: Path | None = None,
    key: bytes | None = None,  # type: ignore[no-untyped-def]
) -> AuditSealer:
    return AuditSealer(
        normalize_url(database.runtime_url),
        key or _key(database),
        CheckpointLog(checkpoints) if checkpoints else None,
        interval=0.05,
        standby_interval=0.1,
        checkpoint_seconds=0.01,
    )


def _wait_until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _all_sealed(database) -> bool:  # type: ignore[no-untyped-def]
    with database.owner_engine.connect() as conn:
        return seal_lag(conn).unsealed == 0


# --- keyed seal against the database owner ----------------------------------------------


def test_owner_rewrite_with_recomputed_plain_hashes_is_caught(fresh_db):
    _audit(fresh_db, 4)
    _seal(fresh_db)
    with fresh_db.owner_engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET action = 'nothing.happened' WHERE id = 2"))
        # Recompute every seal from the edited row on, the way the old unkeyed chain could be.
        prev = conn.execute(text("SELECT hash FROM audit_seal WHERE seq = 1")).scalar_one()
        rows = conn.execute(
            text(
                "SELECT s.seq, a.id, a.at, a.user_id, a.username, a.patient_id, a.category, "
                "a.action, a.outcome, a.workstation, a.address, a.detail FROM audit_seal s "
                "JOIN audit_log a ON a.id = s.audit_id WHERE s.seq > 1 ORDER BY s.seq"
            )
        ).all()
        for row in rows:
            fields = AuditFields(
                row.id,
                row.at,
                row.user_id,
                row.username,
                row.patient_id,
                row.category,
                row.action,
                row.outcome,
                row.workstation,
                row.address,
                row.detail,
            )
            digest = entry_hash(fields, prev)  # plain SHA-256: the owner has no key
            conn.execute(
                text("UPDATE audit_seal SET prev_hash = :p, hash = :h WHERE seq = :s"),
                {"p": prev, "h": digest, "s": row.seq},
            )
            prev = digest
    result = _verify(fresh_db)
    assert result.exit_code == 1
    assert "BROKEN at entry 2" in result.output


def test_owner_rewrite_with_a_key_of_his_own_is_caught(fresh_db):
    _audit(fresh_db, 3)
    _seal(fresh_db)
    forged_key = hashlib.sha256(b"the owner's own key").digest()
    with fresh_db.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_seal"))
    with fresh_db.owner_engine.connect() as conn:
        seal_all_pending(conn, forged_key)  # a complete, self-consistent chain, wrong key
    result = _verify(fresh_db)
    assert result.exit_code == 1
    assert "BROKEN at entry 1" in result.output


def test_owner_truncation_is_caught_only_with_the_checkpoints(fresh_db, tmp_path):
    _audit(fresh_db, 5)
    sealer = _sealer(fresh_db, tmp_path / "cp")
    sealer.start()
    try:
        _wait_until(lambda: _all_sealed(fresh_db) and any((tmp_path / "cp").glob("*.jsonl")))
    finally:
        sealer.stop()
    assert _verify(fresh_db, "--checkpoints", str(tmp_path / "cp")).exit_code == 0
    with fresh_db.owner_engine.begin() as conn:  # delete the newest two entries and seals
        conn.execute(
            text(
                "DELETE FROM audit_log WHERE id IN (SELECT audit_id FROM audit_seal "
                "ORDER BY seq DESC LIMIT 2)"
            )
        )
        conn.execute(
            text("DELETE FROM audit_seal WHERE seq > (SELECT max(seq) - 2 FROM audit_seal)")
        )
    # The shortened chain is consistent in itself ...
    assert _verify(fresh_db).exit_code == 0
    # ... but not with what the sealer wrote outside the database.
    result = _verify(fresh_db, "--checkpoints", str(tmp_path / "cp"))
    assert result.exit_code == 1
    assert "TRUNCATED" in result.output


def test_emptying_the_whole_log_is_caught_by_the_checkpoints(fresh_db, tmp_path):
    _audit(fresh_db, 2)
    sealer = _sealer(fresh_db, tmp_path / "cp")
    sealer.start()
    try:
        _wait_until(lambda: _all_sealed(fresh_db) and any((tmp_path / "cp").glob("*.jsonl")))
    finally:
        sealer.stop()
    with fresh_db.owner_engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_log, audit_seal"))
    result = _verify(fresh_db, "--checkpoints", str(tmp_path / "cp"))
    assert result.exit_code == 1
    assert "TRUNCATED" in result.output


def test_a_forged_or_edited_checkpoint_is_reported(fresh_db, tmp_path):
    _audit(fresh_db, 2)
    sealer = _sealer(fresh_db, tmp_path / "cp")
    sealer.start()
    try:
        _wait_until(lambda: any((tmp_path / "cp").glob("*.jsonl")))
    finally:
        sealer.stop()
    path = next((tmp_path / "cp").glob("*.jsonl"))
    line = json.loads(path.read_text().splitlines()[-1])
    line["count"] = 1  # e.g. to hide a later truncation
    path.write_text(path.read_text() + json.dumps(line) + "\n")
    result = _verify(fresh_db, "--checkpoints", str(tmp_path / "cp"))
    assert result.exit_code == 1
    assert "signature does not verify" in result.output


def test_checkpoints_read_back_from_journal_output(fresh_db, tmp_path):
    _audit(fresh_db, 2)
    sealer = _sealer(fresh_db, tmp_path / "cp")
    sealer.start()
    try:
        _wait_until(lambda: any((tmp_path / "cp").glob("*.jsonl")))
    finally:
        sealer.stop()
    journal = tmp_path / "journal"
    journal.mkdir()
    lines = (tmp_path / "cp").glob("*.jsonl").__next__().read_text().splitlines()
    (journal / "hms-server.log").write_text(
        "".join(
            f"Dec 01 10:00:00 host hms-server[42]: INFO audit checkpoint {line}\n" for line in lines
        )
    )
    result = _verify(fresh_db, "--checkpoints", str(journal))
    assert result.exit_code == 0, result.output
    assert f"{len(lines)} checkpoints agree" in result.output


def test_an_entry_slipped_in_behind_the_seal_is_caught(fresh_db):
    _audit(fresh_db, 3)
    _seal(fresh_db)
    with fresh_db.owner_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (id, xid, at, category, action, outcome, detail) "
                "VALUES (0, '1', now(), 'test', 'backdated', 'success', '{}')"
            )
        )
    result = _verify(fresh_db)
    assert result.exit_code == 1
    assert "entry 0" in result.output and "behind the seal" in result.output


# --- the runtime role and unsealed rows ---------------------------------------------------


def test_unsealed_and_sealed_rows_are_append_only_for_the_runtime_role(fresh_db):
    _audit(fresh_db, 2)
    _seal(fresh_db)
    _audit(fresh_db, 1, action="not.sealed.yet")
    with psycopg.connect(_runtime_conninfo(fresh_db), autocommit=True) as conn:
        for statement in (
            "UPDATE audit_log SET action = 'x' WHERE action = 'not.sealed.yet'",
            "DELETE FROM audit_log WHERE action = 'not.sealed.yet'",
            "UPDATE audit_seal SET hash = 'x'",
            "DELETE FROM audit_seal",
            "TRUNCATE audit_seal",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)  # type: ignore[arg-type]
    result = _verify(fresh_db)
    assert result.exit_code == 0
    assert "1 newer entries not sealed yet" in result.output
    _seal(fresh_db)
    assert "3 entries verified" in _verify(fresh_db).output


# --- commit order -------------------------------------------------------------------------


def test_a_row_committed_late_with_a_lower_id_is_never_skipped(fresh_db):
    key = _key(fresh_db)
    slow = fresh_db.owner_engine.connect()
    slow_tx = slow.begin()
    # The slow transaction writes first: its audit row takes the lower id ...
    slow.execute(
        text(
            "INSERT INTO audit_log (at, category, action, outcome, detail) "
            "VALUES (now(), 'test', 'slow', 'success', '{}')"
        )
    )
    _audit(fresh_db, 2, action="fast")  # ... two faster ones commit after it
    with fresh_db.owner_engine.connect() as conn:
        # While the slow one runs, nothing after it may be sealed (a cursor on ids would
        # seal the fast rows now and never come back for the slow one).
        assert seal_pass(conn, key).sealed == 0
    slow_tx.commit()
    slow.close()
    with fresh_db.owner_engine.connect() as conn:
        assert seal_pass(conn, key).sealed == 3
        order = (
            conn.execute(
                text(
                    "SELECT a.action FROM audit_seal s JOIN audit_log a "
                    "ON a.id = s.audit_id ORDER BY s.seq"
                )
            )
            .scalars()
            .all()
        )
    assert order == ["slow", "fast", "fast"]
    assert _verify(fresh_db).exit_code == 0


def test_concurrent_writers_never_produce_a_chain_that_fails_verify(fresh_db):
    written: list[int] = []
    lock = threading.Lock()

    def writer(seed: int) -> None:
        rnd = random.Random(seed)
        with psycopg.connect(_runtime_conninfo(fresh_db)) as conn:
            for _ in range(40):
                # Transactions that interleave and commit out of id order, some rolled back.
                conn.execute(
                    "INSERT INTO audit_log (at, category, action, outcome, detail) "
                    "VALUES (now(), 'test', 'concurrent', 'success', '{}')"
                )
                time.sleep(rnd.random() * 0.01)
                conn.execute(
                    "INSERT INTO audit_log (at, category, action, outcome, detail) "
                    "VALUES (now(), 'test', 'concurrent', 'success', '{}')"
                )
                if rnd.random() < 0.2:
                    conn.rollback()
                else:
                    conn.commit()
                    with lock:
                        written.append(2)

    sealer = _sealer(fresh_db)
    sealer.start()
    try:
        threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        _wait_until(lambda: _all_sealed(fresh_db))
    finally:
        sealer.stop()
    rows, seals = _counts(fresh_db)
    assert rows == seals == sum(written)
    result = _verify(fresh_db)
    assert result.exit_code == 0, result.output
    assert f"{rows} entries verified" in result.output


# --- crashes, restarts, leadership --------------------------------------------------------


def test_rows_committed_while_no_sealer_runs_are_sealed_when_one_starts(fresh_db):
    _audit(fresh_db, 3)  # the server committed these and died before sealing
    _seal(fresh_db)
    _audit(fresh_db, 4)
    sealer = _sealer(fresh_db)
    sealer.start()
    try:
        _wait_until(lambda: _all_sealed(fresh_db))
    finally:
        sealer.stop()
    assert _counts(fresh_db) == (7, 7)
    with fresh_db.owner_engine.connect() as conn:
        seqs = conn.execute(text("SELECT seq FROM audit_seal ORDER BY seq")).scalars().all()
    assert seqs == list(range(1, 8))  # resumed after entry 3: no gap, no double seal
    assert "7 entries verified" in _verify(fresh_db).output


def test_exactly_one_sealer_leads_and_another_takes_over_when_it_dies(fresh_db):
    first, second = _sealer(fresh_db), _sealer(fresh_db)
    first.start()
    _wait_until(lambda: first.is_leader)
    second.start()
    try:
        time.sleep(0.5)
        assert first.is_leader and not second.is_leader
        _audit(fresh_db, 3)
        _wait_until(lambda: _all_sealed(fresh_db))
        # The leader's database session dies (server killed, network cut).
        with fresh_db.owner_engine.begin() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "application_name = 'hms-audit-sealer' AND pid IN (SELECT pid "
                    "FROM pg_locks WHERE locktype = 'advisory' AND granted)"
                )
            )
        _wait_until(lambda: second.is_leader or first.is_leader)
        _audit(fresh_db, 3)
        _wait_until(lambda: _all_sealed(fresh_db))
        assert [first.is_leader, second.is_leader].count(True) == 1
    finally:
        first.stop()
        second.stop()
    assert _counts(fresh_db) == (6, 6)
    assert _verify(fresh_db).exit_code == 0


def test_a_sealer_with_another_key_refuses_to_extend_the_chain(fresh_db):
    _audit(fresh_db, 2)
    _seal(fresh_db)
    _audit(fresh_db, 1)
    other = _sealer(fresh_db, key=b"k" * 32)
    other.start()
    try:
        _wait_until(lambda: other.last_error is not None)
        assert "HMS_AUDIT_KEY" in other.last_error  # type: ignore[operator]
        assert _counts(fresh_db) == (3, 2)
    finally:
        other.stop()
    assert _verify(fresh_db).exit_code == 0


def test_genesis_links_to_the_zero_hash(fresh_db):
    _audit(fresh_db, 1)
    _seal(fresh_db)
    with fresh_db.owner_engine.connect() as conn:
        assert (
            conn.execute(text("SELECT prev_hash FROM audit_seal WHERE seq = 1")).scalar_one()
            == GENESIS_HASH
        )


def test_the_leader_keeps_sealing_and_checkpointing_without_losing_its_lock(fresh_db, tmp_path):
    sealer = _sealer(fresh_db, tmp_path / "cp")
    sealer.start()
    try:
        for _ in range(4):
            _audit(fresh_db, 2)
            _wait_until(lambda: _all_sealed(fresh_db))
            time.sleep(0.1)  # several checkpoint intervals (0.01 s) between batches
        assert sealer.is_leader and sealer.last_error is None
    finally:
        sealer.stop()
    lines = next((tmp_path / "cp").glob("*.jsonl")).read_text().splitlines()
    assert len(lines) >= 4
    assert json.loads(lines[-1])["count"] == 8


def test_a_standby_that_reconnects_reports_standby_again(fresh_db):
    """After a failover every sealer reconnects; the ones that do not win the lock must stop
    reporting the lost connection (health said "waiting: ..." forever before)."""
    leader, standby = _sealer(fresh_db), _sealer(fresh_db)
    leader.start()
    _wait_until(lambda: leader.is_leader)
    standby.start()
    try:
        time.sleep(0.3)
        assert standby.last_error is None and not standby.is_leader
        with fresh_db.owner_engine.begin() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "application_name = 'hms-audit-sealer' AND pid NOT IN (SELECT "
                    "pid FROM pg_locks WHERE locktype = 'advisory' AND granted)"
                )
            )
        _wait_until(lambda: standby.last_error is not None)
        assert "database" in standby.last_error  # type: ignore[operator]
        _wait_until(lambda: standby.last_error is None)
        assert leader.is_leader and not standby.is_leader
    finally:
        standby.stop()
        leader.stop()
