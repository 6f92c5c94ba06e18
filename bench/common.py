"""Shared benchmark plumbing: a throw-away embedded database and a real server process."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

HMS = [sys.executable, "-m", "hms_server.cli"]
BENCH_PASSWORD = "Bench-Harbor-Lantern-42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples_ms: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples_ms):7.2f} ms  p95 {percentile(samples_ms, 95):7.2f}"
        f" ms  max {max(samples_ms):7.2f} ms  (n={len(samples_ms)})"
    )


@dataclass
class BenchServer:
    url: str
    database_url: str
    process: subprocess.Popen[bytes]

    def login(self, username: str, password: str = BENCH_PASSWORD) -> dict[str, str]:
        response = httpx.post(
            f"{self.url}/api/v1/auth/login", json={"username": username, "password": password}
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@contextmanager
def embedded_database(keep_dir: str | None = None) -> Iterator[str]:
    """Start a private embedded PostgreSQL, migrate it, yield the owner URL."""
    base = Path(keep_dir) if keep_dir else Path(tempfile.mkdtemp(prefix="hms-bench-"))
    data = base / "pgdata"
    url = (
        subprocess.run([*HMS, "db", "up", str(data)], check=True, capture_output=True, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    subprocess.run([*HMS, "migrate", "--database-url", url], check=True, capture_output=True)
    try:
        yield url
    finally:
        subprocess.run([*HMS, "db", "down", str(data)], capture_output=True)
        if not keep_dir:
            shutil.rmtree(base, ignore_errors=True)


def create_user(database_url: str, username: str, role: str) -> None:
    subprocess.run(
        [
            *HMS,
            "create-user",
            username,
            "--role",
            role,
            "--password-stdin",
            "--database-url",
            database_url,
        ],
        input=BENCH_PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )


@contextmanager
def running_server(database_url: str, workers: int = 1) -> Iterator[BenchServer]:
    port = free_port()
    env = {**os.environ, "HMS_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [
            *HMS,
            "run",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--database-url",
            database_url,
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("server did not start")
        time.sleep(0.2)
    try:
        yield BenchServer(url=url, database_url=database_url, process=process)
    finally:
        process.terminate()
        process.wait(10)
