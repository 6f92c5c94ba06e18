"""Reliability: the server survives a database restart, and a killed server loses no
acknowledged write."""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pyotp
import pytest

from tests.conftest import TEST_PASSWORD
from tests.server.integration.test_cli import HMS, _free_port, _run


@pytest.fixture
def private_database():  # type: ignore[no-untyped-def]
    base = Path(tempfile.mkdtemp(prefix="hms-resilience-"))
    data = base / "pgdata"
    url = _run("db", "up", str(data)).stdout.strip().splitlines()[-1]
    assert _run("migrate", "--database-url", url).returncode == 0
    yield data, url
    _run("db", "down", str(data))
    shutil.rmtree(base, ignore_errors=True)


def _start_server(url: str, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "HMS_JWT_SECRET": "resilience-" + "k" * 40}
    process = subprocess.Popen(
        [*HMS, "run", "--port", str(port), "--database-url", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code:
                return process
        except httpx.HTTPError:
            assert time.monotonic() < deadline and process.poll() is None, "no server"
            time.sleep(0.2)


def test_server_survives_a_database_restart(private_database):
    data, url = private_database
    _run(
        "create-user",
        "nina",
        "--role",
        "nurse",
        "--password-stdin",
        "--database-url",
        url,
        stdin=TEST_PASSWORD + "\n",
    )
    port = _free_port()
    server = _start_server(url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        login = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "nina", "password": TEST_PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert _run("db", "down", str(data)).returncode == 0
        down = httpx.get(f"{base}/api/v1/health", timeout=10)
        assert down.status_code == 503
        assert down.json()["status"] == "degraded"
        during = httpx.get(f"{base}/api/v1/me", headers=headers, timeout=10)
        assert during.status_code == 503
        assert during.json()["code"] == "database_unavailable"
        assert _run("db", "up", str(data)).returncode == 0
        deadline = time.monotonic() + 20
        while httpx.get(f"{base}/api/v1/health", timeout=10).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert httpx.get(f"{base}/api/v1/me", headers=headers).status_code == 200
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(10)


def test_no_acknowledged_write_is_lost_when_the_server_is_killed(private_database):
    _, url = private_database
    created = _run(
        "create-user",
        "root_admin",
        "--role",
        "admin",
        "--password-stdin",
        "--database-url",
        url,
        stdin=TEST_PASSWORD + "\n",
    )
    secret = created.stdout.split("secret=")[1].split("&")[0]
    port = _free_port()
    server = _start_server(url, port)
    base = f"http://127.0.0.1:{port}"
    login = httpx.post(
        f"{base}/api/v1/auth/login",
        json={
            "username": "root_admin",
            "password": TEST_PASSWORD,
            "totp": pyotp.TOTP(secret).now(),
        },
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    acknowledged: list[str] = []

    def create(i: int) -> None:
        name = f"load_user_{i}"
        try:
            response = httpx.post(
                f"{base}/api/v1/users",
                headers=headers,
                timeout=10,
                json={
                    "username": name,
                    "full_name": "Load",
                    "roles": ["nurse"],
                    "password": TEST_PASSWORD,
                },
            )
        except httpx.HTTPError:
            return
        if 200 <= response.status_code < 300:
            acknowledged.append(name)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(create, i) for i in range(120)]
        # Kill mid-load: once some writes are acknowledged (how long that takes depends on
        # the machine, not on the rule under test), while others are still in flight.
        deadline = time.monotonic() + 60
        while len(acknowledged) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)
        concurrent.futures.wait(futures)
    server.wait(10)
    assert acknowledged, "the load ran before the kill"
    server = _start_server(url, port)
    try:
        login = httpx.post(
            f"{base}/api/v1/auth/login",
            json={
                "username": "root_admin",
                "password": TEST_PASSWORD,
                "totp": pyotp.TOTP(secret).at(time.time() + 30),
            },
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for name in acknowledged:
            found = httpx.get(f"{base}/api/v1/users", params={"q": name}, headers=headers)
            assert any(u["username"] == name for u in found.json()["items"]), name
    finally:
        server.terminate()
        server.wait(10)
    verify = _run("audit", "verify", "--database-url", url)
    assert verify.returncode == 0, verify.stderr


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip("POSIX signals")
