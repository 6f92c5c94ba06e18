"""Sign-in safety (issue 8, medium): a lock per (account, address) with a much higher
account-wide ceiling and doubling lock times, administrators alerted, the idle-lock
re-authentication throttled the same way, and the same answers for unknown and known names.

Each address is a TestClient of its own (``client=(host, port)``) on the same application.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from hms_server.adapters.uow import Actor
from hms_server.services.users import create_user
from tests.conftest import TEST_PASSWORD, totp_now
from tests.wiring import wired_uow

WRONG = "Wrong-Guess-4711"


def _login(client: TestClient, username: str, password: str, totp: str | None = None):
    body = {"username": username, "password": password}
    if totp:
        body["totp"] = totp
    return client.post("/api/v1/auth/login", json=body)


@pytest.fixture
def from_address(app) -> Iterator:  # type: ignore[no-untyped-def]
    """``from_address("10.0.0.7")`` → a client whose requests come from that address."""
    clients: list[TestClient] = []

    def make(host: str, application=None) -> TestClient:  # type: ignore[no-untyped-def]
        made = TestClient(application or app, raise_server_exceptions=False, client=(host, 40000))
        clients.append(made)
        return made

    yield make
    for made in clients:
        made.close()


def test_an_attacker_elsewhere_cannot_lock_staff_out(from_address, make_user, settings):
    """Before: five wrong passwords from any address locked the account everywhere (423 for
    its owner too). Now only the attacker's address is locked."""
    victim, password = make_user("doctor")
    attacker = from_address("203.0.113.66")
    answers = [
        _login(attacker, victim, WRONG).status_code for _ in range(settings.lockout_threshold)
    ]
    assert answers[-1] == 423
    assert _login(attacker, victim, password).status_code == 423  # the pair stays locked
    assert _login(from_address("10.1.2.3"), victim, password).status_code == 200


def _answers(client: TestClient, username: str, n: int) -> list[tuple[int, str, str, str]]:
    out = []
    for _ in range(n):
        r = _login(client, username, WRONG)
        body = r.json()
        out.append(
            (
                r.status_code,
                body["code"],
                re.sub(r"\d+", "N", body["detail"]),
                "retry" if "Retry-After" in r.headers else "",
            )
        )
    return out


def test_unknown_and_known_usernames_get_the_same_answers(from_address, make_user, settings):
    """Before: a known account answered 423 after five failures while an unknown name kept
    answering 401, which told an attacker which usernames exist."""
    known, _ = make_user("nurse")
    unknown = "nobody_" + known
    n = settings.lockout_threshold + 2
    known_answers = _answers(from_address("198.51.100.10"), known, n)
    unknown_answers = _answers(from_address("198.51.100.11"), unknown, n)
    assert known_answers == unknown_answers
    assert [a[0] for a in known_answers] == [401] * (settings.lockout_threshold - 1) + [423] * 3


@pytest.fixture
def strict_app(fresh_db):  # type: ignore[no-untyped-def]
    """A server with small limits: 3 failures lock a pair for 1 s (doubling to 8 s); 6
    failures from anywhere within a minute lock the account; 12 from one address throttle
    that address."""
    from hms_server.app import create_app

    settings = fresh_db.settings(
        lockout_threshold=3,
        lockout_seconds=1,
        lockout_max_seconds=8,
        account_failure_ceiling=6,
        account_window_seconds=60,
        address_failure_limit=12,
    )
    application = create_app(settings)
    with TestClient(application, raise_server_exceptions=False):  # runs the lifespan
        yield application, fresh_db, settings


def _user(database, settings, role: str = "pharmacist") -> tuple[str, str | None]:
    username = f"{role[:5]}_{time.monotonic_ns() % 10**9}"
    created = create_user(
        wired_uow(database.owner_session_factory(), Actor.system("t")),
        settings,
        username=username,
        full_name="Target Person",
        roles=[role],
        password=TEST_PASSWORD,
    )
    return username, created.user.totp_secret


def test_lock_times_double_with_each_lock_of_the_same_pair(strict_app, from_address):
    application, database, settings = strict_app
    username, _ = _user(database, settings)
    attacker = from_address("192.0.2.50", application)
    for _ in range(3):
        first = _login(attacker, username, WRONG)
    assert first.status_code == 423 and int(first.headers["Retry-After"]) == 1
    time.sleep(1.2)
    for _ in range(3):
        second = _login(attacker, username, WRONG)
    assert second.status_code == 423 and int(second.headers["Retry-After"]) == 2
    time.sleep(2.2)
    for _ in range(3):
        third = _login(attacker, username, WRONG)
    assert int(third.headers["Retry-After"]) == 4


def test_the_account_wide_ceiling_spares_the_owners_workstation_and_alerts_admins(
    strict_app, from_address
):
    application, database, settings = strict_app
    username, _ = _user(database, settings)
    owner = from_address("10.20.0.5", application)
    assert _login(owner, username, TEST_PASSWORD).status_code == 200  # her usual desk
    for n, host in enumerate(("192.0.2.1", "192.0.2.2", "192.0.2.3")):
        bot = from_address(host, application)
        for _ in range(2):
            answer = _login(bot, username, WRONG)
        assert answer.status_code == (423 if n == 2 else 401)
    # Locked everywhere now, even at a new address with the right password ...
    assert (
        _login(from_address("10.20.0.99", application), username, TEST_PASSWORD).status_code == 423
    )
    # ... but not at the workstation its owner signed in from.
    assert _login(owner, username, TEST_PASSWORD).status_code == 200

    admin_name, secret = _user(database, settings, role="admin")
    admin = _login(
        from_address("10.20.0.1", application), admin_name, TEST_PASSWORD, totp_now(secret or "")
    )
    assert admin.status_code == 200, admin.text
    headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
    desk = from_address("10.20.0.1", application)
    alerts = desk.get("/api/v1/security-alerts", params={"open": True}, headers=headers)
    assert alerts.status_code == 200, alerts.text
    kinds = {(a["kind"], a["username"]) for a in alerts.json()["items"]}
    assert ("account_ceiling", username) in kinds
    with database.owner_engine.connect() as conn:
        published = conn.execute(
            text("SELECT count(*) FROM outbox_events WHERE type = 'security.alert'")
        ).scalar_one()
        audited = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'alert.raise'")
        ).scalar_one()
    assert published == audited == 1
    ceiling = next(a for a in alerts.json()["items"] if a["kind"] == "account_ceiling")
    done = desk.post(f"/api/v1/security-alerts/{ceiling['id']}/acknowledge", headers=headers)
    assert done.status_code == 200 and done.json()["acknowledged_at"]
    left = desk.get("/api/v1/security-alerts", params={"open": True}, headers=headers).json()
    assert ceiling["id"] not in [a["id"] for a in left["items"]]

    # The admin clears the locks once the attack is dealt with.
    target = desk.get("/api/v1/users", params={"q": username}, headers=headers).json()
    unlocked = desk.post(f"/api/v1/users/{target['items'][0]['id']}/unlock", headers=headers)
    assert unlocked.status_code == 200
    assert (
        _login(from_address("10.20.0.99", application), username, TEST_PASSWORD).status_code == 200
    )


def test_an_unknown_name_raises_no_alert_but_a_spraying_address_does(strict_app, from_address):
    application, database, _settings = strict_app
    bot = from_address("192.0.2.77", application)
    for _ in range(3):
        _login(bot, "no_such_user_x", WRONG)
    with database.owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM security_alerts")).scalar_one() == 0
    sprayed = [_login(bot, f"guess_{n}", WRONG).status_code for n in range(10)]
    assert sprayed[-1] == 429  # the address throttle
    with database.owner_engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, address FROM security_alerts")).all()
    assert [tuple(r) for r in rows] == [("address_throttled", "192.0.2.77")]


def _reauthenticate(client: TestClient, headers: dict[str, str], password: str):
    return client.post("/api/v1/auth/reauthenticate", json={"password": password}, headers=headers)


def test_reauthenticate_is_throttled_and_too_many_failures_end_the_session(
    strict_app, from_address
):
    """Before: 15 wrong passwords in a row at the idle lock, then the right one worked."""
    application, database, settings = strict_app
    username, _ = _user(database, settings)
    desk = from_address("10.30.0.4", application)
    signed_in = _login(desk, username, TEST_PASSWORD)
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert _reauthenticate(desk, headers, TEST_PASSWORD).status_code == 204
    answers = [_reauthenticate(desk, headers, WRONG) for _ in range(settings.lockout_threshold)]
    assert [a.status_code for a in answers] == [401] * settings.lockout_threshold
    assert [a.json()["code"] for a in answers][:-1] == ["invalid_credentials"] * 2
    assert answers[-1].json()["code"] == "session_ended"
    # The right password no longer helps, and the token and refresh token are dead.
    assert _reauthenticate(desk, headers, TEST_PASSWORD).status_code == 401
    assert desk.get("/api/v1/me", headers=headers).status_code == 401
    refreshed = desk.post(
        "/api/v1/auth/refresh", json={"refresh_token": signed_in.json()["refresh_token"]}
    )
    assert refreshed.status_code == 401
    with database.owner_engine.connect() as conn:
        reason = conn.execute(
            text(
                "SELECT revoked_reason FROM auth_sessions s JOIN users u ON u.id = s.user_id "
                "WHERE u.username = :u"
            ),
            {"u": username},
        ).scalar_one()
        kinds = [
            r[0]
            for r in conn.execute(
                text("SELECT kind FROM security_alerts WHERE username = :u"), {"u": username}
            )
        ]
    assert reason == "unlock_failures" and "reauthenticate_locked" in kinds
