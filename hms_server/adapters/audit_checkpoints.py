"""Signed audit checkpoints outside the database: files, the system journal, remote syslog.

The database owner can delete the newest audit rows and their seals together; the chain that
is left still verifies. A checkpoint -- ``(count, last hash, time)`` MAC'd with the server's
audit key -- kept where the database owner cannot reach reveals it. The sealer appends one
line per checkpoint to ``<state dir>/audit-checkpoints/YYYY-MM.jsonl`` (fsync'd), logs the
same line through ``logging`` (under systemd: the journal), and optionally sends it to a
syslog server. ``hms-server audit verify --checkpoints DIR`` reads any of these back: files
copied from every server, or ``journalctl -u hms-server`` output saved into DIR.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import socket
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from hms_server.domain.audit_chain import Checkpoint, ParsedCheckpoint, parse_checkpoint_line

journal = logging.getLogger("hms_server.audit.checkpoint")
journal.setLevel(logging.INFO)  # checkpoints are logged whatever HMS_LOG_LEVEL says


def _syslog_handler(address: str) -> logging.Handler:
    """``/dev/log`` (a local socket path) or ``host:port`` (UDP) for a remote collector."""
    target: str | tuple[str, int]
    if address.startswith("/"):
        target = address
    else:
        host, _, port = address.rpartition(":")
        target = (host or address, int(port) if port.isdigit() else 514)
    handler = logging.handlers.SysLogHandler(
        address=target,
        facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV,
        socktype=socket.SOCK_DGRAM if isinstance(target, tuple) else None,
    )
    handler.setFormatter(logging.Formatter("hms-server: %(message)s"))
    return handler


class CheckpointLog:
    """Where the leader sealer writes checkpoints. Used from the sealer thread only."""

    def __init__(self, directory: Path, syslog_address: str = ""):
        self.directory = directory
        self._syslog = _syslog_handler(syslog_address) if syslog_address else None

    def write(self, checkpoint: Checkpoint, key: bytes) -> None:
        line = checkpoint.signed_line(key)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o750)
        path = self.directory / f"audit-checkpoints-{datetime.now(UTC):%Y-%m}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        journal.info("audit checkpoint %s", line)
        if self._syslog is not None:
            self._syslog.handle(
                journal.makeRecord(
                    journal.name, logging.INFO, __file__, 0, "audit checkpoint %s", (line,), None
                )
            )


def read_checkpoints(paths: Iterable[Path], key: bytes) -> Iterator[ParsedCheckpoint]:
    """Every checkpoint in the files under ``paths`` (directories are searched recursively)."""
    for base in paths:
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]
        for path in files:
            with path.open(encoding="utf-8", errors="replace") as handle:
                for number, line in enumerate(handle, 1):
                    parsed = parse_checkpoint_line(line, key, f"{path}:{number}")
                    if parsed is not None:
                        yield parsed
