"""Load: an outpatient morning at 50, 100, 200 and 400 simulated staff (locust, headless).

Run: .venv/bin/python bench/load_morning.py [--users 50,100,200,400] [--duration 60]
     [--workers 4] [--patients 2000] [--readme]

Sets up an embedded PostgreSQL with the demo hospital (``seed-demo``: doctors with schedules,
patients, charts), starts a real ``hms-server run --workers N``, and for each user count runs
the locust scenarios of ``bench/load/areas/`` against it while sampling, every 0.5 s,
``pg_stat_activity`` (backends waiting on any lock, and on advisory locks) and the audit
sealer's lag from ``GET /api/v1/health``. Prints one table per level (p50/p95/p99 per
operation, errors, throughput) and, with ``--readme``, writes them into bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import HMS, embedded_database, running_server
from load.prepare import PASSWORD as STAFF_PASSWORD
from load.prepare import prepare_staff

HERE = Path(__file__).resolve().parent
README_START = "<!-- load-morning:start -->"
README_END = "<!-- load-morning:end -->"
CPU_SETTLE_SECONDS = 10  # after the ramp-up, before the CPU window opens


def prepare_data(url: str, path: Path, staff: dict[str, object]) -> dict[str, object]:
    """What the simulated staff need: accounts, doctors, MRNs, phones, patients, drugs."""
    with psycopg.connect(url) as conn:
        patients = conn.execute("SELECT id, mrn, phone FROM patients ORDER BY id").fetchall()
        drugs = conn.execute(
            "SELECT id FROM drugs WHERE generic_name IN ('Paracetamol', 'Amlodipine', "
            "'Omeprazole', 'Metformin', 'Atorvastatin')"
        ).fetchall()
        names = conn.execute(
            "SELECT DISTINCT lower(left(family_name, 4)) FROM patients LIMIT 200"
        ).fetchall()
    data = {
        "password": STAFF_PASSWORD,
        "accounts": {"receptionist": staff["receptionist"], "doctor": staff["doctor"]},
        "doctors": staff["doctors"],
        "patient_ids": [pid for pid, _, _ in patients],
        "mrns": [mrn for _, mrn, _ in patients if mrn],
        "phones": [
            "".join(ch for ch in phone if ch.isdigit())[-7:]
            for _, _, phone in patients
            if phone and sum(c.isdigit() for c in phone) >= 7
        ],
        "drug_ids": [d for (d,) in drugs],
        "name_fragments": [n for (n,) in names if len(n) >= 3],
    }
    path.write_text(json.dumps(data))
    return data


def tree_cpu_seconds(root: psutil.Process) -> float:
    """CPU time (user + system) of a process, its live children, and the children it has
    already reaped (a postmaster reaps its backends, uvicorn its workers)."""
    try:
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
        return total
    except psutil.Error:
        return 0.0


@dataclass
class CpuMeter:
    """CPU seconds spent by the server, PostgreSQL and the load generator in a window of the
    steady state (after every user has signed in: sign-in hashes a password on purpose). On
    a machine shared with other work, CPU per request is the figure that does not depend on
    what else is running; the wall-clock latencies do."""

    server: psutil.Process
    postgres: psutil.Process
    locust: psutil.Process | None = None
    start: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    result: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def locate_postgres(url: str) -> psutil.Process:
        with psycopg.connect(url) as conn:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
            return psutil.Process(psutil.Process(backend).ppid())

    def _now(self) -> tuple[float, float, float, float]:
        locust = tree_cpu_seconds(self.locust) if self.locust else 0.0
        return (
            tree_cpu_seconds(self.server),
            tree_cpu_seconds(self.postgres),
            locust,
            time.monotonic(),
        )

    def measure(
        self, locust: psutil.Process, begin_after: float, end_after: float, stop: threading.Event
    ) -> None:
        """In a thread: snapshot at ``begin_after`` and ``end_after`` seconds from now."""
        self.locust, self.result = locust, {}
        if stop.wait(begin_after):
            return
        self.start = self._now()
        if stop.wait(end_after - begin_after):
            return
        server, postgres, locust_cpu, wall = (
            b - a for a, b in zip(self.start, self._now(), strict=True)
        )
        self.result = {"server": server, "postgres": postgres, "locust": locust_cpu, "wall": wall}


@dataclass
class Sampler:
    """pg_stat_activity lock waits and the audit sealer's lag, sampled in a thread."""

    url: str
    server_url: str
    lock_waits: list[int] = field(default_factory=list)
    advisory_waits: list[int] = field(default_factory=list)
    seal_lag: list[float] = field(default_factory=list)
    unsealed: list[int] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    sessions: list[int] = field(default_factory=list)  # pg_stat_database.sessions
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self, server_pid: int) -> threading.Thread:
        def loop() -> None:
            with psycopg.connect(self.url, autocommit=True) as conn, httpx.Client() as http:
                while not self._stop.wait(0.5):
                    waits, advisory = conn.execute(
                        "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), "
                        "count(*) FILTER (WHERE wait_event_type = 'Lock' AND "
                        "wait_event = 'advisory') FROM pg_stat_activity "
                        "WHERE datname = current_database()"
                    ).fetchone()
                    self.lock_waits.append(waits)
                    self.advisory_waits.append(advisory)
                    self.sessions.append(
                        conn.execute(
                            "SELECT sessions FROM pg_stat_database "
                            "WHERE datname = current_database()"
                        ).fetchone()[0]
                    )
                    try:
                        audit = (
                            http.get(f"{self.server_url}/api/v1/health", timeout=5)
                            .json()
                            .get("audit", {})
                        )
                        self.seal_lag.append(float(audit.get("seal_lag_seconds", 0)))
                        self.unsealed.append(int(audit.get("unsealed", 0)))
                    except (httpx.HTTPError, ValueError):
                        pass
                    try:
                        proc = psutil.Process(server_pid)
                        self.rss_mb.append(
                            sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
                            / 2**20
                        )
                    except psutil.Error:
                        pass

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()


def run_level(
    users: int,
    duration: int,
    spawn_rate: int,
    server_url: str,
    data_path: Path,
    out: Path,
    meter: CpuMeter,
) -> list[dict[str, str]]:
    prefix = out / f"u{users}"
    env = {**os.environ, "HMS_LOAD_DATA": str(data_path)}
    ramp = -(-users // spawn_rate)
    with open(f"{prefix}_locust.log", "w", encoding="utf-8") as log:
        # --reset-stats: the figures cover the steady state after every user has signed in.
        locust = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(HERE / "load" / "locustfile.py"),
                "--headless",
                "-u",
                str(users),
                "-r",
                str(spawn_rate),
                "-t",
                f"{duration + ramp}s",
                "--reset-stats",
                "--host",
                server_url,
                "--csv",
                str(prefix),
                "--only-summary",
                "--stop-timeout",
                "10",
                "--loglevel",
                "WARNING",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        stop = threading.Event()
        window = threading.Thread(
            target=meter.measure,
            args=(psutil.Process(locust.pid), ramp + CPU_SETTLE_SECONDS, ramp + duration - 1, stop),
        )
        window.start()
        try:
            locust.wait(timeout=duration + ramp + 300)
        finally:
            stop.set()
            window.join()
            if locust.poll() is None:
                locust.kill()
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def format_level(
    users: int,
    rows: list[dict[str, str]],
    sampler: Sampler,
    duration: int,
    cpu: dict[str, float],
    load: tuple[float, float],
) -> str:
    lines = [
        f"**{users} users** ({duration} s steady state after ramp-up)",
        "",
        "| operation | requests | errors | req/s | p50 ms | p95 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        name = "**all**" if row["Name"] == "Aggregated" else row["Name"]
        lines.append(
            f"| {name} | {row['Request Count']} | {row['Failure Count']} | "
            f"{float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | "
            f"{row['99%']} |"
        )
    avg = statistics.fmean
    lines += [
        "",
        f"lock waits in pg_stat_activity: avg {avg(sampler.lock_waits or [0]):.2f}, "
        f"max {max(sampler.lock_waits or [0])} (advisory: max "
        f"{max(sampler.advisory_waits or [0])}); audit seal lag: max "
        f"{max(sampler.seal_lag or [0]):.2f} s, unsealed max "
        f"{max(sampler.unsealed or [0])}; server RSS "
        f"{min(sampler.rss_mb or [0]):.0f}–{max(sampler.rss_mb or [0]):.0f} MB; "
        f"database sessions opened: "
        f"{(sampler.sessions[-1] - sampler.sessions[0]) if sampler.sessions else 0}",
    ]
    total = next((int(r["Request Count"]) for r in rows if r["Name"] == "Aggregated"), 0)
    if total and cpu:
        in_window = total * cpu["wall"] / duration  # requests are spread evenly in the steady state
        per = {k: 1000 * v / in_window for k, v in cpu.items() if k != "wall"}
        busy = (cpu["server"] + cpu["postgres"]) / cpu["wall"]
        lines.append(
            f"CPU per request: server {per['server']:.1f} ms, PostgreSQL "
            f"{per['postgres']:.1f} ms, locust {per['locust']:.1f} ms; server + PostgreSQL "
            f"used {busy:.2f} of {os.cpu_count()} cores; machine load average "
            f"{load[0]:.1f} before, {load[1]:.1f} after"
        )
    lines.append("")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = HERE / "README.md"
    content = readme.read_text()
    start, end = content.index(README_START), content.index(README_END)
    readme.write_text(content[: start + len(README_START)] + "\n" + text + "\n" + content[end:])


def run_levels(
    url: str, data_path: Path, levels: list[int], args: argparse.Namespace, out: Path
) -> list[str]:
    sections = []
    with running_server(url, workers=args.workers) as server:
        meter = CpuMeter(psutil.Process(server.process.pid), CpuMeter.locate_postgres(url))
        for users in levels:
            sampler = Sampler(url, server.url)
            thread = sampler.run(server.process.pid)
            load_before = os.getloadavg()[0]
            rows = run_level(
                users, args.duration, args.spawn_rate, server.url, data_path, out, meter
            )
            cpu = meter.result
            sampler.stop()
            thread.join(5)
            section = format_level(
                users, rows, sampler, args.duration, cpu, (load_before, os.getloadavg()[0])
            )
            print(section, flush=True)
            sections.append(section)
    return sections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", default="50,100,200,400")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--readme", action="store_true")
    parser.add_argument(
        "--database-url", default="", help="a database prepared earlier (staff accounts, seed data)"
    )
    parser.add_argument(
        "--data", default="", help="with --database-url: its data file (prepare_data's JSON)"
    )
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="hms-load-"))
    os.environ.setdefault("HMS_STATE_DIR", str(out / "state"))
    levels = [int(u) for u in args.users.split(",")]
    with contextlib.ExitStack() as stack:
        if args.database_url:  # prepared earlier: compare server settings on the same data
            url, data_path = args.database_url, Path(args.data)
        else:
            url = stack.enter_context(embedded_database())
            subprocess.run(
                [*HMS, "seed-demo", "--patients", str(args.patients), "--database-url", url],
                check=True,
                capture_output=True,
            )
            data_path = out / "data.json"
            # One account per simulated person (3/5 of the staff at reception, 2/5 doctors).
            top = max(levels)
            staff = prepare_staff(url, receptionists=top * 3 // 5 + 1, doctors=max(10, top // 10))
            prepare_data(url, data_path, staff)
        sections = run_levels(url, data_path, levels, args, out)
    if args.readme:
        write_readme("\n".join(sections))
    print(f"locust CSVs in {out}")


if __name__ == "__main__":
    main()
