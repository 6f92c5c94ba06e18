"""Foundation figures: login round trip, GET /me latency, server RSS at idle, desktop start.

Run: .venv/bin/python bench/foundation.py [--requests 500]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_PASSWORD, create_user, embedded_database, running_server, summary


def desktop_start_to_login_ms() -> float | None:
    """Time from process start to the login window being shown (offscreen)."""
    code = (
        "import time; t0=time.perf_counter();"
        "from hms_desktop.main import measure_startup_to_login;"
        "print(measure_startup_to_login(t0))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=60)
    if result.returncode != 0:
        return None
    try:
        return float(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return (time.perf_counter() - started) * 1000


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
                    r = client.post("/api/v1/auth/login",
                                    json={"username": "bench_nurse", "password": BENCH_PASSWORD})
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
    print(f"  desktop start → login   {startup:7.1f} ms" if startup is not None else
          "  desktop start → login   (hms_desktop.main.measure_startup_to_login unavailable)")


if __name__ == "__main__":
    main()
