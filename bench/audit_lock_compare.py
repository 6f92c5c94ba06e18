"""Old global audit lock vs the background sealer, side by side in one run (issue 13's table).

Run: .venv/bin/python bench/audit_lock_compare.py [--baseline-ref 4f32352] [--seconds 15]
     [--workers 4]

For each code version -- ``--baseline-ref`` (the last commit with the per-request chain lock,
exported with ``git archive`` into a temporary folder) and the working tree -- it creates an
embedded PostgreSQL, seeds the demo hospital, starts ``hms-server run --workers 4`` of *that*
version, and measures the issue's four loads: patient search with 1 and 32 clients,
registration with 8 and 32 clients (each client a loop of requests, no think time). While a
load runs, ``pg_stat_activity`` is sampled every 0.2 s for backends waiting on an advisory
lock (the old audit lock is one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port, percentile

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "Demo-Ward-2026!"  # seed-demo's shared password
FRAGMENTS = ["mar", "son", "ana", "lee", "kim", "per", "ali", "ber", "ros", "nov"]


@contextmanager
def code_version(ref: str | None) -> Iterator[Path]:
    """The source tree of ``ref`` (exported), or the working tree for ``None``."""
    if ref is None:
        yield REPO
        return
    folder = Path(tempfile.mkdtemp(prefix="hms-baseline-"))
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def hms(source: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run(
        [sys.executable, "-m", "hms_server.cli", *args],
        cwd=source,
        env=env,
        text=True,
        capture_output=True,
        check=True,
        **kwargs,
    )  # type: ignore[call-overload]


async def _loop(
    client: httpx.AsyncClient, deadline: float, request, samples: list[float], errors: list[int]
) -> None:  # type: ignore[no-untyped-def]
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        response = await request(client)
        samples.append((time.perf_counter() - t0) * 1000)
        if response.status_code >= 400:
            errors.append(response.status_code)


async def run_load(
    url: str, headers: dict[str, str], clients: int, seconds: float, kind: str
) -> tuple[list[float], list[int]]:
    async def search(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get(
            "/api/v1/patients", params={"q": random.choice(FRAGMENTS), "limit": 20}
        )

    async def register(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post(
            "/api/v1/patients",
            json={
                "given_name": "Load",
                "family_name": "Test"
                + uuid.uuid4().hex[:8].translate(str.maketrans("0123456789", "ghijklmnop")),
                "date_of_birth": "1980-01-01",
                "sex": "female",
                "confirm_new": True,
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )

    samples: list[float] = []
    errors: list[int] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=60, limits=limits
    ) as client:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(
            *(
                _loop(client, deadline, search if kind == "search" else register, samples, errors)
                for _ in range(clients)
            )
        )
    return samples, errors


def sample_advisory_waits(url: str, stop: threading.Event, out: list[int]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.wait(0.2):
            out.append(
                conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND wait_event = 'advisory' AND datname = current_database()"
                ).fetchone()[0]
            )


@contextmanager
def running_version(source: Path, workers: int) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Embedded database + demo data + ``hms-server run`` of the code in ``source``; yields
    (database URL, server URL, receptionist auth headers)."""
    base = Path(tempfile.mkdtemp(prefix="hms-cmp-"))
    env = {**os.environ, "PYTHONPATH": str(source), "HMS_STATE_DIR": str(base / "state")}
    url = hms(source, "db", "up", str(base / "pgdata")).stdout.strip().splitlines()[-1]
    server = None
    try:
        hms(source, "migrate", "--database-url", url)
        hms(source, "seed-demo", "--patients", "1000", "--database-url", url)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hms_server.cli",
                "run",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--database-url",
                url,
            ],
            cwd=source,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base_url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        token = httpx.post(
            f"{base_url}/api/v1/auth/login", json={"username": "reception", "password": PASSWORD}
        ).json()["access_token"]
        yield url, base_url, {"Authorization": f"Bearer {token}"}
    finally:
        if server is not None:
            server.terminate()
            server.wait(20)
        subprocess.run(
            [sys.executable, "-m", "hms_server.cli", "db", "down", str(base / "pgdata")],
            cwd=source,
            env=env,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def measure(
    target: tuple[str, str, dict[str, str]], kind: str, clients: int, seconds: float
) -> tuple[list[float], list[int], list[int]]:
    url, base_url, headers = target
    stop, waits = threading.Event(), []
    sampler = threading.Thread(target=sample_advisory_waits, args=(url, stop, waits))
    sampler.start()
    samples, errors = asyncio.run(run_load(base_url, headers, clients, seconds, kind))
    stop.set()
    sampler.join()
    return samples, errors, waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-ref", default="4f32352")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    labels = (f"old lock ({args.baseline_ref})", "sealer")
    rows = [
        "| load | code | req/s | p50 ms | p95 ms | backends waiting on an advisory "
        "lock (avg) | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    with (
        code_version(args.baseline_ref) as old,
        code_version(None) as new,
        running_version(old, args.workers) as old_target,
        running_version(new, args.workers) as new_target,
    ):
        targets = (old_target, new_target)
        for kind, clients in (
            ("search", 1),
            ("search", 32),
            ("registration", 8),
            ("registration", 32),
        ):
            # Both versions run each load twice, interleaved old-new-new-old, so a busier
            # moment on the shared machine does not favour one of them.
            runs: dict[int, list[tuple[list[float], list[int], list[int]]]] = {0: [], 1: []}
            for index in (0, 1, 1, 0):
                runs[index].append(measure(targets[index], kind, clients, args.seconds / 2))
            name = "patient search" if kind == "search" else "registration"
            for index, label in enumerate(labels):
                samples = [x for r in runs[index] for x in r[0]]
                errors = [x for r in runs[index] for x in r[1]]
                waits = [x for r in runs[index] for x in r[2]]
                rows.append(
                    f"| {name}, {clients} client{'s' if clients > 1 else ''} | {label} | "
                    f"{len(samples) / args.seconds:.0f} | {statistics.median(samples):.0f}"
                    f" | {percentile(samples, 95):.0f} | "
                    f"{statistics.fmean(waits or [0]):.1f} | {len(errors)} |"
                )
                print(rows[-1], flush=True)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
