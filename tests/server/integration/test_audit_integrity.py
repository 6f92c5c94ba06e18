"""Audit trail: written with the action, append-only for the runtime role, tamper-evident."""

from __future__ import annotations

import time

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from hms_server.adapters.audit_key import load_audit_key
from hms_server.adapters.audit_sealer import seal_all_pending, seal_lag
from hms_server.adapters.uow import Actor
from hms_server.cli import main as cli
from hms_server.services.users import create_user
from tests.conftest import TEST_PASSWORD
from tests.wiring import wired_uow


def _runtime_conninfo(database) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy.engine import make_url

    return (
        make_url(database.runtime_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def _seed_entries(database, n: int = 3) -> None:  # type: ignore[no-untyped-def]
    """Audited actions, then one pass of the sealer (which a server runs continuously)."""
    for i in range(n):
        create_user(
            wired_uow(database.owner_session_factory(), Actor.system("t")),
            database.settings(),
            username=f"audited{i}",
            full_name="A",
            roles=["nurse"],
            password=TEST_PASSWORD,
        )
    seal(database)


def seal(database) -> int:  # type: ignore[no-untyped-def]
    """Seal every row written so far. A transaction still running elsewhere on the shared
    test cluster (another fixture's server) holds the commit-safe horizon back for a moment,
    so one pass may leave rows unsealed: wait until none is left, as a running sealer would."""
    key = load_audit_key(database.settings())
    deadline = time.monotonic() + 30
    total = 0
    with database.owner_engine.connect() as conn:
        while True:
            total += seal_all_pending(conn, key)
            left = seal_lag(conn).unsealed
            conn.commit()
            if left == 0 or time.monotonic() > deadline:
                return total
            time.sleep(0.1)


def test_runtime_role_cannot_update_or_delete_audit_rows(fresh_db):
    _seed_entries(fresh_db, 1)
    with psycopg.connect(_runtime_conninfo(fresh_db), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] >= 1
        for statement in (
            "UPDATE audit_log SET action = 'x'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_runtime_role_is_not_superuser_nor_owner(fresh_db):
    with psycopg.connect(_runtime_conninfo(fresh_db), autocommit=True) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (False, False, False)
        owned = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tableowner = current_user"
        ).fetchone()[0]
        assert owned == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM hms_runtime_credentials")


def test_verify_command_passes_on_an_intact_chain(fresh_db):
    _seed_entries(fresh_db)
    result = CliRunner().invoke(cli, ["audit", "verify", "--database-url", fresh_db.owner_url])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_direct_sql_update_is_reported_by_verify(fresh_db):
    _seed_entries(fresh_db)
    with fresh_db.owner_engine.begin() as conn:
        target = conn.execute(
            text("SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 1")
        ).scalar_one()
        conn.execute(
            text("UPDATE audit_log SET username = 'someone_else' WHERE id = :i"), {"i": target}
        )
    result = CliRunner().invoke(cli, ["audit", "verify", "--database-url", fresh_db.owner_url])
    assert result.exit_code != 0
    assert f"entry {target}" in result.output


def test_direct_sql_delete_is_reported_by_verify(fresh_db):
    _seed_entries(fresh_db)
    with fresh_db.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
    result = CliRunner().invoke(cli, ["audit", "verify", "--database-url", fresh_db.owner_url])
    assert result.exit_code != 0
    assert "entry 2" in result.output
