"""Backups restore: backup then restore into an empty database gives identical data."""

from __future__ import annotations

import uuid

from click.testing import CliRunner
from sqlalchemy import text

from hms_server.adapters.db import make_engine
from hms_server.adapters.uow import Actor
from hms_server.cli import main as cli
from hms_server.services.users import create_user
from tests.conftest import TEST_PASSWORD
from tests.wiring import wired_uow


def _fingerprint(engine) -> dict[str, tuple[int, str]]:  # type: ignore[no-untyped-def]
    """Row count and an order-independent checksum of every application table."""
    with engine.connect() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema='public' "
                    "AND table_type='BASE TABLE' AND table_name <> 'hms_runtime_credentials' "
                    "ORDER BY 1"
                )
            )
            .scalars()
            .all()
        )
        result = {}
        for table in tables:
            row = conn.execute(
                text(
                    f"SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY "
                    f"md5(t::text))), '') FROM \"{table}\" t"
                )
            ).one()
            result[table] = (row[0], row[1])
        return result


def test_backup_then_restore_into_empty_database_is_identical(fresh_db, pg_cluster, tmp_path):
    for i in range(3):
        create_user(
            wired_uow(fresh_db.owner_session_factory(), Actor.system("t")),
            fresh_db.settings(),
            username=f"backup_user{i}",
            full_name="B",
            roles=["nurse"],
            password=TEST_PASSWORD,
        )
    dump = tmp_path / "hms.dump"
    runner = CliRunner()
    made = runner.invoke(cli, ["backup", str(dump), "--database-url", fresh_db.owner_url])
    assert made.exit_code == 0, made.output
    target = f"restored_{uuid.uuid4().hex[:8]}"
    pg_cluster.execute(f'CREATE DATABASE "{target}"')
    pg_cluster.created.append(target)
    target_url = pg_cluster.url_for(target)
    restored = runner.invoke(cli, ["restore", str(dump), "--database-url", target_url])
    assert restored.exit_code == 0, restored.output
    target_engine = make_engine(target_url, pool_size=1)
    try:
        original = _fingerprint(fresh_db.owner_engine)
        copy = _fingerprint(target_engine)
        assert original == copy
        assert original["users"][0] == 3
    finally:
        target_engine.dispose()
    verify = runner.invoke(cli, ["audit", "verify", "--database-url", target_url])
    assert verify.exit_code == 0, verify.output
    check = runner.invoke(cli, ["check", "--database-url", target_url])
    assert check.exit_code == 0, check.output


def test_restore_refuses_a_non_empty_database(fresh_db, tmp_path):
    dump = tmp_path / "hms.dump"
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["backup", str(dump), "--database-url", fresh_db.owner_url]).exit_code
        == 0
    )
    again = runner.invoke(cli, ["restore", str(dump), "--database-url", fresh_db.owner_url])
    assert again.exit_code != 0
    assert "not empty" in again.output
