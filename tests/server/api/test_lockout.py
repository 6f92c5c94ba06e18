"""Brute-force protection: per-account lockout and per-address throttling, both time-limited."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD


def _login(client, username, password):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_repeated_bad_passwords_lock_the_account_then_it_unlocks(client, make_user, settings):
    username, password = make_user("billing_clerk")
    statuses = [
        _login(client, username, "Wrong-Guess-123").status_code
        for _ in range(settings.lockout_threshold)
    ]
    assert statuses[:-1] == [401] * (settings.lockout_threshold - 1)
    assert statuses[-1] == 423
    locked = _login(client, username, password)  # even the right password waits
    assert locked.status_code == 423
    assert locked.json()["code"] == "account_locked"
    assert 1 <= int(locked.headers["Retry-After"]) <= settings.lockout_seconds
    time.sleep(int(locked.headers["Retry-After"]) + 0.2)
    assert _login(client, username, password).status_code == 200


def test_lockout_of_one_account_does_not_affect_another(client, make_user, settings):
    victim, _ = make_user("nurse")
    other, other_password = make_user("nurse")
    for _ in range(settings.lockout_threshold):
        _login(client, victim, "Wrong-Guess-123")
    assert _login(client, other, other_password).status_code == 200


@pytest.fixture
def throttled_client(fresh_db):  # type: ignore[no-untyped-def]
    from hms_server.app import create_app

    app = create_app(
        fresh_db.settings(address_failure_limit=3, address_window_seconds=2, lockout_threshold=100)
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, fresh_db


def test_address_throttle_answers_429_with_retry_after_then_recovers(throttled_client):
    client, database = throttled_client
    from hms_server.adapters.uow import Actor
    from hms_server.services.users import create_user
    from tests.wiring import wired_uow

    create_user(
        wired_uow(database.owner_session_factory(), Actor.system("t")),
        database.settings(),
        username="throttle_me",
        full_name="T",
        roles=["nurse"],
        password=TEST_PASSWORD,
    )
    for i in range(3):
        assert _login(client, f"ghost{i}", "Wrong-Guess-123").status_code == 401
    refused = _login(client, "throttle_me", TEST_PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_attempts"
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 2
    time.sleep(wait + 0.2)
    assert _login(client, "throttle_me", TEST_PASSWORD).status_code == 200
