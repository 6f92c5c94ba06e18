"""The engine tests a pooled connection before handing it out only when it sat idle: a
connection the database closed meanwhile is replaced without the request noticing, and a
busy pool pays no round trip per checkout."""

from __future__ import annotations

from sqlalchemy import text

from hms_server.adapters import db as db_module
from hms_server.adapters.db import make_engine


def _backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_an_idle_connection_the_database_closed_is_replaced_on_checkout(fresh_db, monkeypatch):
    engine = make_engine(fresh_db.owner_url, pool_size=1)
    try:
        first = _backend_pid(engine)
        with fresh_db.owner_engine.begin() as conn:  # the server ends that session
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first})
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
        second = _backend_pid(engine)  # no error: the dead one was tested and replaced
        assert second != first
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_handed_out_without_a_ping(fresh_db, monkeypatch):
    engine = make_engine(fresh_db.owner_url, pool_size=1)
    pings: list[object] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(
        engine.dialect, "do_ping", lambda conn: pings.append(conn) or real_ping(conn)
    )
    try:
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 60.0)
        for _ in range(5):
            _backend_pid(engine)
        assert pings == []
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
        _backend_pid(engine)
        assert len(pings) == 1
    finally:
        engine.dispose()
