"""Faults between the server and PostgreSQL under write load: the network between them drops
(every connection cut mid-transaction, new ones refused for a while). Clients see a clear
503 ``database_unavailable`` meanwhile, the server recovers by itself, and a before/after
audit of the data shows nothing acknowledged was lost and no retried request was doubled."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from tests.conftest import TEST_PASSWORD
from tests.server.integration.test_cli import HMS, _free_port, _run
from tests.server.integration.test_resilience import private_database  # noqa: F401


class CuttableLink:
    """A TCP → Unix-socket forwarder standing in for the network between server and
    database; ``cut()`` resets every open connection and refuses new ones until ``heal()``."""

    def __init__(self, unix_socket: str):
        self.target = unix_socket
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.target)
            with self.lock:
                self.pairs.append((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up.clear()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for client, server in pairs:
            for s in (client, server):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def heal(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.listener.close()
        self.cut()


def _unix_socket(url: str) -> str:
    parsed = make_url(url)
    folder = parsed.query.get("host") or parsed.host
    port = parsed.port or 5432
    return str(Path(str(folder)) / f".s.PGSQL.{port}")


def test_network_drop_between_server_and_database_loses_and_doubles_nothing(private_database):  # noqa: F811
    _, url = private_database
    created = _run(
        "create-user",
        "net_admin",
        "--role",
        "admin",
        "--password-stdin",
        "--database-url",
        url,
        stdin=TEST_PASSWORD + "\n",
    )
    secret = created.stdout.split("secret=")[1].split("&")[0]
    link = CuttableLink(_unix_socket(url))
    # Keep the embedded cluster's password file: every connection needs its password.
    passfile = {k: v for k, v in make_url(url).query.items() if k == "passfile"}
    linked = (
        make_url(url)
        .set(host="127.0.0.1", port=link.port, query=passfile)
        .render_as_string(hide_password=False)
    )
    port = _free_port()
    server = subprocess.Popen(
        [*HMS, "run", "--port", str(port), "--database-url", linked],
        env={**os.environ, "HMS_JWT_SECRET": "netdrop-" + "n" * 40},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None
            time.sleep(0.2)
        import pyotp

        login = httpx.post(
            f"{base}/api/v1/auth/login",
            json={
                "username": "net_admin",
                "password": TEST_PASSWORD,
                "totp": pyotp.TOTP(secret).now(),
            },
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        with psycopg.connect(url) as conn:
            users_before = conn.execute("SELECT count(*) FROM users").fetchone()[0]
        answers: dict[str, set[int]] = {}
        unavailable: list[int] = []
        lock = threading.Lock()

        def create(i: int) -> None:
            key = f"netdrop-{i}"
            body = {
                "username": f"netdrop_{i}",
                "full_name": "Net Drop",
                "roles": ["nurse"],
                "password": TEST_PASSWORD,
            }
            for _ in range(60):  # the desktop retries with the same key
                try:
                    response = httpx.post(
                        f"{base}/api/v1/users",
                        json=body,
                        timeout=15,
                        headers={**headers, "Idempotency-Key": key},
                    )
                except httpx.HTTPError:
                    time.sleep(0.3)
                    continue
                if response.status_code == 201:
                    with lock:
                        answers.setdefault(key, set()).add(response.json()["id"])
                    return
                with lock:
                    unavailable.append(response.status_code)
                time.sleep(0.3)

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(create, i) for i in range(60)]
            time.sleep(1.5)
            link.cut()  # mid-transaction for whatever is in flight
            cut_at = time.monotonic()
            time.sleep(2.0)
            during = httpx.get(f"{base}/api/v1/health", timeout=10)
            assert during.status_code == 503 and during.json()["status"] == "degraded"
            link.heal()
            while httpx.get(f"{base}/api/v1/health", timeout=10).status_code != 200:
                time.sleep(0.2)
            recovered_in = time.monotonic() - cut_at - 2.0
            concurrent.futures.wait(futures)
        assert recovered_in < 10
        assert set(unavailable) <= {503}, unavailable
        assert len(answers) == 60, "every request was acknowledged in the end"
        assert all(len(ids) == 1 for ids in answers.values())
        with psycopg.connect(url) as conn:
            users_after = conn.execute("SELECT count(*) FROM users").fetchone()[0]
            stored = conn.execute(
                "SELECT count(*) FROM users WHERE username LIKE 'netdrop_%'"
            ).fetchone()[0]
        assert stored == 60 and users_after == users_before + 60
    finally:
        server.terminate()
        server.wait(10)
        link.close()
    verify = _run("audit", "verify", "--database-url", url)
    assert verify.returncode == 0, verify.stderr
