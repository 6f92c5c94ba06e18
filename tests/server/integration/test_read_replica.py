"""HMS_DATABASE_REPLICA_URL: read-only work gets sessions on the replica, as the runtime role
(a streaming replica is a physical copy, so the role and its password are the same)."""

from __future__ import annotations

from sqlalchemy import text

from hms_server.bootstrap import build_runtime


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
