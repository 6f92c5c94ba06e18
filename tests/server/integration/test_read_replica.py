"""HMS_DATABASE_REPLICA_URL: read-only work (the management reports) gets sessions on the
replica, as the runtime role (a streaming replica is a physical copy, so the role and its
password are the same); audit rows of that work still go to the primary."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hms_server.bootstrap import build_runtime
from tests.server.scheduling_factories import make_patient


def test_read_only_sessions_use_the_replica_url_as_the_runtime_role(db):
    # Any second URL to the same data stands in for a replica here; the rig in
    # bench/ha_failover.py runs the real thing (a Patroni standby behind HAProxy).
    replica_url = db.owner_url
    runtime = build_runtime(db.settings(database_replica_url=replica_url))
    try:
        assert runtime.read_only_session_factory is not None
        with runtime.read_only_sessions()() as session:
            role = session.execute(text("SELECT current_user")).scalar_one()
        assert role.endswith("_app")
    finally:
        runtime.close()


def test_without_a_replica_read_only_work_uses_the_primary(db):
    runtime = build_runtime(db.settings())
    try:
        assert runtime.read_only_session_factory is None
        assert runtime.read_only_sessions() is runtime.session_factory
    finally:
        runtime.close()


def test_reports_read_from_the_replica_and_audit_on_the_primary(
    db, fresh_db, client, headers_for, settings
):
    """A server with ``HMS_DATABASE_REPLICA_URL`` answers reports from the replica (here a
    second database that has not "caught up": it lacks the registrations the primary has)
    while the report run's audit row is written to the primary."""
    from fastapi.testclient import TestClient

    from hms_server.app import create_app

    day = date(2012, 5, 14)  # a day no other test uses
    owner = db.owner_session_factory()
    patients = [make_patient(owner, settings) for _ in range(2)]
    with owner() as session:
        session.execute(
            text("UPDATE patients SET created_at = :at WHERE id = ANY(:ids)"),
            {"at": datetime(2012, 5, 14, 10, tzinfo=ZoneInfo(settings.hospital_timezone)),
             "ids": patients},
        )  # fmt: skip
        session.commit()
    params = {"start": day.isoformat(), "end": day.isoformat(), "grouping": "day"}
    headers = headers_for("manager")

    def runs(database) -> int:  # type: ignore[no-untyped-def]
        with database.owner_engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM audit_log WHERE action = 'report.run'")
                ).scalar_one()
            )

    primary = client.get("/api/v1/reports/activity", params=params, headers=headers)
    assert primary.status_code == 200, primary.text
    assert primary.json()["totals"]["registrations"] == 2

    before_primary, before_replica = runs(db), runs(fresh_db)
    app = create_app(db.settings(database_replica_url=fresh_db.owner_url))
    with TestClient(app, raise_server_exceptions=False) as replica_client:
        lagging = replica_client.get("/api/v1/reports/activity", params=params, headers=headers)
    assert lagging.status_code == 200, lagging.text
    assert lagging.json()["totals"]["registrations"] == 0  # read on the replica
    assert runs(db) == before_primary + 1  # audited on the primary
    assert runs(fresh_db) == before_replica


def test_the_replica_session_cannot_write(db):
    from hms_server.adapters.queries.reports import ReportQueries
    from hms_server.adapters.uow import Actor

    runtime = build_runtime(db.settings(database_replica_url=db.owner_url))
    try:
        with runtime.uow(Actor.system("test")) as uow, uow.read_only(ReportQueries) as q:
            assert q.session is not uow.session
            isolation = q.session.execute(text("SHOW transaction_isolation")).scalar_one()
            read_only = q.session.execute(text("SHOW transaction_read_only")).scalar_one()
            assert (isolation, read_only) == ("repeatable read", "on")
            with pytest.raises(DBAPIError, match="read-only transaction"):
                q.session.execute(text("CREATE TEMP TABLE nope (x int)"))
    finally:
        runtime.close()
