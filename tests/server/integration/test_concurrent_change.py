"""When PostgreSQL rolls a request back as a deadlock's victim, the client is told that two
changes clashed and to try again (503 ``concurrent_change``), not that the database is
unreachable: the deadlock here is real, made with two sessions taking advisory locks in
opposite orders."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from hms_server.adapters.db import make_engine
from hms_server.adapters.repositories import is_deadlock
from hms_server.api import problems


def _real_deadlock(url: str) -> OperationalError:
    engine = make_engine(url, pool_size=2)
    first_holds, second_holds = threading.Event(), threading.Event()
    raised: list[BaseException] = []

    def session(mine: int, theirs: int, i_hold: threading.Event, they_hold: threading.Event):
        try:
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": mine})
                i_hold.set()
                they_hold.wait(10)
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": theirs})
        except OperationalError as exc:
            raised.append(exc)

    keys = (918_273_001, 918_273_002)
    threads = [
        threading.Thread(target=session, args=(keys[0], keys[1], first_holds, second_holds)),
        threading.Thread(target=session, args=(keys[1], keys[0], second_holds, first_holds)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    engine.dispose()
    assert len(raised) == 1, raised  # PostgreSQL broke the cycle by failing exactly one
    assert isinstance(raised[0], OperationalError)
    return raised[0]


def test_a_deadlock_victim_is_told_to_try_again(db):
    exc = _real_deadlock(db.owner_url)
    assert is_deadlock(exc)
    answer = problems._on_database_unavailable(None, exc)  # type: ignore[arg-type]
    body = json.loads(answer.body)
    assert answer.status_code == 503
    assert body["code"] == "concurrent_change"
    assert "nothing was saved" in body["detail"]
    assert answer.headers["Retry-After"] == "1"


@pytest.mark.parametrize("sqlstate", ["08006", None])
def test_a_lost_connection_is_still_database_unavailable(sqlstate):
    class Orig(Exception):
        pass

    orig = Orig("connection lost")
    orig.sqlstate = sqlstate  # type: ignore[attr-defined]
    answer = problems._on_database_unavailable(  # type: ignore[arg-type]
        None, OperationalError("SELECT 1", {}, orig)
    )
    assert answer.status_code == 503
    assert json.loads(answer.body)["code"] == "database_unavailable"
