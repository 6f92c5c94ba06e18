"""Stateless scale-out: two ``hms-server run`` processes behind HAProxy (the configuration
shipped in ``installers/haproxy/``) on loopback. Sessions, idempotency keys, sign-in
throttling and live events work whichever server a request lands on; killing one server
under load loses and doubles nothing."""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import TEST_PASSWORD
from tests.server.integration.test_cli import HMS, _free_port, _run

REPO = Path(__file__).resolve().parents[3]
HAPROXY_CFG = REPO / "installers" / "haproxy" / "hms-haproxy.cfg"
DEMO_PASSWORD = "Demo-Ward-2026!"

pytestmark = pytest.mark.skipif(
    shutil.which("haproxy") is None, reason="haproxy not installed (make test installs it)"
)


@dataclass
class Cluster:
    url: str  # through the proxy
    app: dict[str, str]  # server name -> direct URL
    processes: dict[str, subprocess.Popen[str]]
    database_url: str


def _wait_healthy(url: str, process: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not become healthy"
        assert process is None or process.poll() is None, "process exited"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    base = Path(tempfile.mkdtemp(prefix="hms-scale-"))
    data = base / "pgdata"
    url = _run("db", "up", str(data)).stdout.strip().splitlines()[-1]
    processes: dict[str, subprocess.Popen[str]] = {}
    try:
        assert _run("migrate", "--database-url", url).returncode == 0
        assert _run("seed-demo", "--patients", "20", "--database-url", url).returncode == 0
        _run(
            "create-user",
            "throttled",
            "--role",
            "nurse",
            "--password-stdin",
            "--database-url",
            url,
            stdin=TEST_PASSWORD + "\n",
        )
        # Same JWT secret and audit key on every server (the conftest's key is in the env).
        env = {**os.environ, "HMS_JWT_SECRET": "scale-out-" + "s" * 40}
        apps = {}
        for name in ("app1", "app2"):
            port = _free_port()
            processes[name] = subprocess.Popen(
                [*HMS, "run", "--port", str(port), "--database-url", url],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            apps[name] = f"127.0.0.1:{port}"
        proxy_port = _free_port()
        processes["haproxy"] = subprocess.Popen(
            ["haproxy", "-db", "-f", str(HAPROXY_CFG)],
            env={
                **os.environ,
                "HMS_PROXY_BIND": f"127.0.0.1:{proxy_port}",
                "HMS_APP1": apps["app1"],
                "HMS_APP2": apps["app2"],
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, address in apps.items():
            _wait_healthy(f"http://{address}", processes[name])
        proxy = f"http://127.0.0.1:{proxy_port}"
        # Both servers in rotation (the health check needs two passes, 1 s apart).
        deadline = time.monotonic() + 30
        while {
            httpx.get(f"{proxy}/api/v1/health").headers.get("X-Served-By") for _ in range(6)
        } != {"app1", "app2"}:
            assert time.monotonic() < deadline, "proxy does not use both servers"
            time.sleep(0.5)
        yield Cluster(proxy, {n: f"http://{a}" for n, a in apps.items()}, processes, url)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        _run("db", "down", str(data))
        shutil.rmtree(base, ignore_errors=True)


def _login(url: str, username: str = "reception", password: str = DEMO_PASSWORD) -> dict:
    response = httpx.post(
        f"{url}/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return response.json()


def _auth(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_a_session_started_on_one_server_works_on_the_other(cluster):
    tokens = _login(cluster.app["app1"])
    me = httpx.get(f"{cluster.app['app2']}/api/v1/me", headers=_auth(tokens))
    assert me.status_code == 200 and me.json()["username"] == "reception"
    refreshed = httpx.post(
        f"{cluster.app['app2']}/api/v1/auth/refresh",
        json={"refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 200, refreshed.text
    # The old refresh token is spent everywhere: replaying it on server 1 is refused.
    replay = httpx.post(
        f"{cluster.app['app1']}/api/v1/auth/refresh",
        json={"refresh_token": tokens["refresh_token"]},
    )
    assert replay.status_code == 401
    served = {
        httpx.get(f"{cluster.url}/api/v1/me", headers=_auth(refreshed.json())).headers[
            "X-Served-By"
        ]
        for _ in range(8)
    }
    assert served == {"app1", "app2"}


def test_an_idempotency_key_replays_on_the_other_server(cluster):
    headers = {**_auth(_login(cluster.url)), "Idempotency-Key": uuid.uuid4().hex}
    body = {
        "given_name": "Ida",
        "family_name": "Scaleout"
        + uuid.uuid4().hex[:6].translate(str.maketrans("0123456789", "abcdefghij")),
        "date_of_birth": "1970-03-04",
        "sex": "female",
        "confirm_new": True,
    }
    first = httpx.post(f"{cluster.app['app1']}/api/v1/patients", json=body, headers=headers)
    again = httpx.post(f"{cluster.app['app2']}/api/v1/patients", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["id"] == again.json()["id"]
    with psycopg.connect(cluster.database_url) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM patients WHERE family_name = %s", (body["family_name"],)
            ).fetchone()[0]
            == 1
        )


def test_sign_in_failures_count_on_every_server(cluster):
    for i in range(5):  # the default threshold: 5 failures, spread over both servers
        server = cluster.app["app1" if i % 2 else "app2"]
        wrong = httpx.post(
            f"{server}/api/v1/auth/login",
            json={"username": "throttled", "password": "wrong-" + "x" * 12},
        )
        assert wrong.status_code in (401, 423)
    for server in cluster.app.values():
        locked = httpx.post(
            f"{server}/api/v1/auth/login", json={"username": "throttled", "password": TEST_PASSWORD}
        )
        assert locked.status_code in (423, 429), locked.text


def test_a_desktop_on_one_server_receives_events_caused_on_the_other(cluster):
    reception = _auth(_login(cluster.url))
    received: list[str] = []
    connected = threading.Event()

    def listen() -> None:
        with httpx.stream(
            "GET",
            f"{cluster.app['app1']}/api/v1/events",
            headers=reception,
            timeout=httpx.Timeout(20, read=20),
        ) as stream:
            for line in stream.iter_lines():
                if line.startswith(": connected"):
                    connected.set()
                if line.startswith("event: "):
                    received.append(line.removeprefix("event: "))
                    if "appointment.booked" in received:
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert connected.wait(15)
    app2 = cluster.app["app2"]
    doctor = httpx.get(f"{app2}/api/v1/doctors", headers=reception).json()["items"][0]
    patient = httpx.get(f"{app2}/api/v1/patients", params={"limit": 1}, headers=reception).json()[
        "items"
    ][0]
    for offset in range(2, 30):
        day = (date.today() + timedelta(days=offset)).isoformat()
        slots = httpx.get(
            f"{app2}/api/v1/slots",
            headers=reception,
            params={"doctor_id": doctor["id"], "date": day},
        ).json()["items"]
        free = [s for s in slots if s["available"]]
        if free:
            break
    booked = httpx.post(
        f"{app2}/api/v1/appointments",
        headers=reception,
        json={"patient_id": patient["id"], "doctor_id": doctor["id"], "start": free[0]["start"]},
    )
    assert booked.status_code == 201, booked.text
    listener.join(15)
    assert "appointment.booked" in received


def test_killing_one_server_under_load_loses_and_doubles_nothing(cluster):
    headers = _auth(_login(cluster.url))
    family = "Killtest" + uuid.uuid4().hex[:6].translate(str.maketrans("0123456789", "abcdefghij"))
    answers: dict[str, set[int]] = {}
    lock = threading.Lock()

    def register(i: int) -> None:
        key = f"{family}-{i}"
        body = {
            "given_name": f"P{chr(97 + i % 26)}",
            "family_name": family,
            "date_of_birth": "1990-01-01",
            "sex": "male",
            "confirm_new": True,
        }

        def post() -> httpx.Response | None:
            try:
                return httpx.post(
                    f"{cluster.url}/api/v1/patients",
                    json=body,
                    timeout=20,
                    headers={**headers, "Idempotency-Key": key},
                )
            except httpx.HTTPError:
                return None

        # The desktop retries with the same key until it gets an answer (how many tries that
        # takes depends on how loaded the machine is, not on the rule under test).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            response = post()
            if response is not None and response.status_code == 201:
                with lock:
                    answers.setdefault(key, set()).add(response.json()["id"])
                while i % 3 == 0 and time.monotonic() < deadline:
                    again = post()  # some clients retry although they got the answer
                    if again is not None and again.status_code == 201:
                        with lock:
                            answers[key].add(again.json()["id"])
                        break
                    time.sleep(0.3)
                return
            time.sleep(0.3)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(register, i) for i in range(90)]
        time.sleep(1.0)
        os.kill(cluster.processes["app1"].pid, signal.SIGKILL)
        concurrent.futures.wait(futures)
    for future in futures:
        future.result()
    assert len(answers) == 90, "every request got an answer"
    assert all(len(ids) == 1 for ids in answers.values()), "a retry never creates a second"
    with psycopg.connect(cluster.database_url) as conn:
        stored = conn.execute(
            "SELECT count(*) FROM patients WHERE family_name = %s", (family,)
        ).fetchone()[0]
    assert stored == 90
    # The proxy took the dead server out: everything now lands on the survivor.
    assert {httpx.get(f"{cluster.url}/api/v1/health").headers["X-Served-By"] for _ in range(5)} == {
        "app2"
    }
    verify = _run("audit", "verify", "--database-url", cluster.database_url)
    assert verify.returncode == 0, verify.stderr
