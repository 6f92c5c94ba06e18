"""The audit sealer: one background worker chains committed audit rows, in a commit-safe order.

Why an order rule is needed: ids come from a sequence when a row is inserted, but the
transactions commit in any order, so a row with a *lower* id can become visible *after* rows
with higher ids were already sealed. A cursor on ids would skip it forever.

The rule used here: every row stores ``xid``, the id of the transaction that inserted it
(``pg_current_xact_id()``, 64-bit, never wraps). A pass takes one snapshot and seals only rows
whose ``xid`` is below the snapshot's ``xmin`` -- the oldest transaction still running. Every
transaction below ``xmin`` has ended, so the set of rows with ``xid < xmin`` can never grow
again; rows of transactions still running (or not yet started) will carry an ``xid`` at or
above ``xmin``. Sealing in ``(xid, id)`` order and resuming after the last sealed
``(xid, id)`` therefore never skips a row, and needs no lock on the request path. The cost:
one long *writing* transaction holds sealing back until it ends (read-only transactions have
no xid and do not); the lag is measured and reported.

Leadership: each server process runs a sealer; only the one holding the session-level
advisory lock ``SEALER_LOCK`` (taken with ``pg_try_advisory_lock`` on the sealer's own
connection) seals. It seals on that same connection, so losing the connection loses the lock
and the right to seal at once; the chain's primary key on ``seq`` refuses a second writer
even if that ever went wrong.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, cast, create_engine, func, select, text, tuple_
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from hms_server.adapters.audit_checkpoints import CheckpointLog
from hms_server.adapters.audit_log import AUDIT, SEAL, SEALED_COLUMNS, fields_of, xid8
from hms_server.domain.audit_chain import GENESIS_HASH, Checkpoint, entry_hash

log = logging.getLogger("hms_server.audit.sealer")

SEALER_LOCK = 0x484D5353  # "HMSS": one sealer per database
DEFAULT_BATCH = 2000


class SealKeyMismatchError(RuntimeError):
    """The newest seal was not made with this server's key: sealing on would fork the chain."""


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str
    first_hash: str
    audit_xid: str
    audit_id: int


@dataclass(frozen=True)
class SealResult:
    sealed: int
    head: ChainHead | None


def chain_head(conn: Connection) -> ChainHead | None:
    row = conn.execute(
        text(
            "SELECT seq, hash, audit_xid::text AS audit_xid, audit_id, "
            "(SELECT hash FROM audit_seal WHERE seq = 1) AS first_hash "
            "FROM audit_seal ORDER BY seq DESC LIMIT 1"
        )
    ).first()
    if row is None:
        return None
    return ChainHead(row.seq, row.hash, row.first_hash or "", row.audit_xid, row.audit_id)


def check_key_matches(conn: Connection, key: bytes) -> None:
    """Re-compute the newest seal with ``key``; refuse to seal on under a different key
    (e.g. a second server configured with its own key instead of the shared one)."""
    with conn.begin():
        row = conn.execute(
            select(SEAL.c.prev_hash, SEAL.c.hash, *SEALED_COLUMNS)
            .select_from(SEAL.join(AUDIT, AUDIT.c.id == SEAL.c.audit_id))
            .order_by(SEAL.c.seq.desc())
            .limit(1)
        ).first()
    if row is not None and entry_hash(fields_of(row), row.prev_hash, key) != row.hash:
        raise SealKeyMismatchError(
            "the newest audit seal was not made with this server's HMS_AUDIT_KEY (every "
            "server must use the same key); not sealing"
        )


def seal_pass(
    conn: Connection, key: bytes, *, limit: int = DEFAULT_BATCH, all_finished: bool = False
) -> SealResult:
    """Seal up to ``limit`` committed rows whose transactions are all older than the oldest
    running one, in one transaction on ``conn``.

    ``all_finished`` (offline use only: ``hms-server audit seal`` with no server running)
    seals every visible row regardless of running transactions.
    """
    with conn.begin():
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        head = chain_head(conn)
        cursor_xid, cursor_id = (head.audit_xid, head.audit_id) if head else ("0", 0)
        query = (
            select(*SEALED_COLUMNS, cast(AUDIT.c.xid, Text).label("xid"))
            .where(tuple_(AUDIT.c.xid, AUDIT.c.id) > tuple_(xid8(cursor_xid), cursor_id))
            .order_by(AUDIT.c.xid, AUDIT.c.id)
            .limit(limit)
        )
        if not all_finished:
            # The commit-order rule (module docstring): only rows of ended transactions.
            query = query.where(AUDIT.c.xid < func.pg_snapshot_xmin(func.pg_current_snapshot()))
        rows = list(conn.execute(query))
        if not rows:
            return SealResult(0, head)
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS_HASH)
        first = head.first_hash if head else ""
        now = datetime.now(UTC)
        seals: list[dict[str, Any]] = []
        for row in rows:
            digest = entry_hash(fields_of(row), prev, key)
            seq += 1
            seals.append(
                {
                    "seq": seq,
                    "audit_id": row.id,
                    "audit_xid": row.xid,
                    "prev_hash": prev,
                    "hash": digest,
                    "sealed_at": now,
                }
            )
            first = first or digest
            prev = digest
        conn.execute(
            text(
                "INSERT INTO audit_seal (seq, audit_id, audit_xid, prev_hash, hash, sealed_at) "
                "VALUES (:seq, :audit_id, CAST(:audit_xid AS xid8), :prev_hash, :hash, "
                ":sealed_at)"
            ),
            seals,
        )
        last = rows[-1]
        return SealResult(len(rows), ChainHead(seq, prev, first, last.xid, last.id))


def seal_all_pending(conn: Connection, key: bytes, *, all_finished: bool = False) -> int:
    """Seal until nothing eligible is left (CLI and tests); returns how many were sealed."""
    check_key_matches(conn, key)
    total = 0
    while True:
        result = seal_pass(conn, key, all_finished=all_finished)
        total += result.sealed
        if result.sealed < DEFAULT_BATCH:
            return total


@dataclass(frozen=True)
class SealLag:
    unsealed: int
    oldest_unsealed_seconds: float


def seal_lag(conn: Connection, cap: int = 10_000) -> SealLag:
    """How far sealing is behind: committed rows not sealed yet (counted up to ``cap``) and
    the age of the next row the sealer must seal. Cheap: two short range scans."""
    head = conn.execute(
        text("SELECT audit_xid::text AS x, audit_id AS i FROM audit_seal ORDER BY seq DESC LIMIT 1")
    ).first()
    params = {"x": head.x if head else "0", "i": head.i if head else 0, "cap": cap}
    row = conn.execute(
        text(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM audit_log "
            "        WHERE (xid, id) > (CAST(:x AS xid8), :i) LIMIT :cap) pending) AS n, "
            "       (SELECT extract(epoch FROM now() - at) FROM audit_log "
            "        WHERE (xid, id) > (CAST(:x AS xid8), :i) ORDER BY xid, id LIMIT 1) AS age"
        ),
        params,
    ).one()
    return SealLag(int(row.n), max(0.0, float(row.age or 0.0)))


class AuditSealer:
    """Background worker: take the leader lock, then seal every ``interval`` seconds.

    Thread-safe status (``is_leader``, ``last_error``) for the health endpoint. Reconnects
    with back-off when the database goes away; on reconnect it competes for the lock again and
    resumes after the last sealed row it finds in the database.
    """

    def __init__(
        self,
        url: URL,
        key: bytes,
        checkpoints: CheckpointLog | None,
        *,
        interval: float = 0.25,
        standby_interval: float = 1.0,
        checkpoint_seconds: float = 60.0,
        batch: int = DEFAULT_BATCH,
    ):
        # No pool: closing the connection ends the database session, and with it the
        # session-level leader lock. Keepalives notice a dead peer within ~30 s.
        self._engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "application_name": "hms-audit-sealer",
                "connect_timeout": 5,
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
            },
        )
        self._key = key
        self._checkpoints = checkpoints
        self._interval = interval
        self._standby_interval = standby_interval
        self._checkpoint_seconds = checkpoint_seconds
        self._batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.is_leader = False
        self.last_error: str | None = None
        self.sealed_total = 0
        self._last_checkpoint: tuple[int, float] = (0, 0.0)
        self._head: ChainHead | None = None
        self._database = ""
        self._connection_lost = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hms-audit-sealer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._engine.dispose()

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with self._engine.connect() as conn:
                    self._lead(conn)
                    backoff = 0.5
            except SealKeyMismatchError as exc:
                self._lost(str(exc), level=logging.ERROR)
                self._stop.wait(30)
            except (DBAPIError, SQLAlchemyError) as exc:
                self._lost(
                    f"database: {type(exc).__name__}: "
                    f"{str(getattr(exc, 'orig', exc)).strip().splitlines()[0][:200]}",
                    connection=True,
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception as exc:  # never let the sealer die silently
                log.exception("audit sealer failed; retrying")
                self._lost(type(exc).__name__)
                self._stop.wait(backoff)

    def _lost(self, reason: str, level: int = logging.WARNING, *, connection: bool = False) -> None:
        if self.is_leader or self.last_error != reason:
            log.log(level, "audit sealer stopped sealing (%s)", reason)
        self.is_leader, self.last_error = False, reason
        self._connection_lost = connection

    def _lead(self, conn: Connection) -> None:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        while not self._stop.is_set():
            leader = conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": SEALER_LOCK}
            ).scalar()
            conn.commit()  # session-level lock: it outlives this (autocommit) statement
            if self._connection_lost:
                # Connected again (e.g. to the new primary after a failover): a standby is
                # healthy again, and the health endpoint must stop reporting the old error.
                self.last_error, self._connection_lost = None, False
            if leader:
                break
            self._stop.wait(self._standby_interval)
        else:
            return
        try:
            tx_conn = conn.execution_options(isolation_level="REPEATABLE READ")
            check_key_matches(tx_conn, self._key)
            with tx_conn.begin():
                self._database = tx_conn.execute(text("SELECT current_database()")).scalar_one()
            self.is_leader, self.last_error = True, None
            log.info("this process now seals the audit log")
            while not self._stop.is_set():
                result = seal_pass(tx_conn, self._key, limit=self._batch)
                self.sealed_total += result.sealed
                self._head = result.head or self._head
                self._maybe_checkpoint()
                if result.sealed < self._batch:
                    self._stop.wait(self._interval)
            self._maybe_checkpoint(force=True)
        finally:
            self.is_leader = False

    def _maybe_checkpoint(self, force: bool = False) -> None:
        head = self._head
        if self._checkpoints is None or head is None:
            return
        last_count, last_time = self._last_checkpoint
        due = time.monotonic() - last_time >= self._checkpoint_seconds
        if head.seq == last_count or not (due or force):
            return
        checkpoint = Checkpoint(
            database=self._database,
            count=head.seq,
            last_hash=head.hash,
            first_hash=head.first_hash,
            at=datetime.now(UTC),
        )
        try:
            self._checkpoints.write(checkpoint, self._key)
        except OSError as exc:
            log.error("cannot write the audit checkpoint (%s)", exc)
            return
        self._last_checkpoint = (head.seq, time.monotonic())
