"""Foundation figures: login round trip, GET /me latency, server RSS at idle, desktop start.

Run: .venv/bin/python bench/foundation.py [--requests 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_PASSWORD, create_user, embedded_database, running_server, summary


def desktop_start_to_login_ms(runs: int = 5) -> float | None:
    """Median time from process start to the login window on screen (offscreen Qt)."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HMS_STARTUP_PROBE": "1",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    samples = []
    for _ in range(runs):
        started = time.time()
        result = subprocess.run(
            [sys.executable, "-m", "hms_desktop.main"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        shown = [line for line in result.stdout.splitlines() if line.startswith("HMS_LOGIN_SHOWN")]
        if not shown:
            return None
        samples.append((float(shown[-1].split()[1]) - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with embedded_database() as url:
        create_user(url, "bench_nurse", "nurse")
        with running_server(url) as server:
            time.sleep(1.0)
            rss_mb = psutil.Process(server.process.pid).memory_info().rss / 2**20
            with httpx.Client(base_url=server.url) as client:
                logins = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    r = client.post(
                        "/api/v1/auth/login",
                        json={"username": "bench_nurse", "password": BENCH_PASSWORD},
                    )
                    logins.append((time.perf_counter() - t0) * 1000)
                    r.raise_for_status()
                headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
                me = []
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    client.get("/api/v1/me", headers=headers).raise_for_status()
                    me.append((time.perf_counter() - t0) * 1000)
    print("foundation")
    print(f"  login round trip        {summary(logins)}")
    print(f"  GET /api/v1/me          {summary(me)}")
    print(f"  server RSS at idle      {rss_mb:7.1f} MiB (one worker)")
    startup = desktop_start_to_login_ms()
    print(
        f"  desktop start → login   {startup:7.1f} ms (median of 5, offscreen)"
        if startup is not None
        else "  desktop start → login   (probe failed)"
    )


if __name__ == "__main__":
    main()
