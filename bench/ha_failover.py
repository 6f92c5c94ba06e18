"""HA rig: PostgreSQL under Patroni + etcd with synchronous replication, two HMS servers on
top; the primary node is killed under write load.

Run (as root on Debian 12; ``make bench`` installs ``patroni etcd-server haproxy
postgresql-15`` first):
    .venv/bin/python bench/ha_failover.py [--writers 6] [--seconds 45] [--kill-after 10]

On loopback only: one etcd, three Patroni nodes (PostgreSQL 15 from Debian, run as the
``postgres`` user, ``synchronous_mode: true``), HAProxy routing a primary port and a replica
port by Patroni's REST API (``installers/haproxy/patroni-haproxy.cfg``, unchanged), and two
``hms-server run`` processes (same JWT secret and audit key, state folders of their own)
connected through HAProxy's primary port. Writers, half on each server, register patients
with Idempotency-Keys and retry with the same key on any failure, as the desktop does. After
``--kill-after`` seconds every process of the primary node (Patroni, the postmaster and its
backends) gets SIGKILL at once, as if the machine had lost power.

Checks, printed as a table (exit 1 if any fails): the synchronous standby was promoted (how
long it took); how long no write was acknowledged, and the first acknowledged write sent
after the kill; every acknowledged (2xx) write is present afterwards and none is doubled;
both servers reconnected by themselves (health 200, writes through each after the kill);
``hms-server audit verify`` with both servers' checkpoints; the killed node rejoins as a
replica (pg_rewind) and the replica port (HMS_DATABASE_REPLICA_URL) reads a standby.

Why HAProxy rather than libpq's multi-host URL with ``target_session_attrs=read-write``:
HAProxy asks Patroni, which answers ``/primary`` 200 only on the node that holds the leader
key, whereas libpq accepts any node that is not in recovery -- including an old primary cut
off from etcd that has not demoted itself yet. HAProxy also closes the sessions of a node it
marks down, so pooled connections fail fast instead of waiting for TCP keepalives.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import csv
import io
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HMS, free_port

REPO = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORD = "Bench-Harbor-Lantern-42"
NODES = ("node1", "node2", "node3")
TOOLS = ("patroni", "etcd", "haproxy")


def patroni_config(
    base: Path, name: str, pg_port: int, api_port: int, etcd_port: int, secret: str
) -> Path:
    """A loopback Patroni node. ttl 10 s / loop_wait 1 s makes failover quick enough for a
    rig; production keeps Patroni's defaults (30 s / 10 s, see docs/operations-scale.md)."""
    data = base / name
    sock = base / f"{name}-sock"
    sock.mkdir()
    config = base / f"{name}.yml"
    config.write_text(f"""
scope: hms
name: {name}
restapi:
  listen: 127.0.0.1:{api_port}
  connect_address: 127.0.0.1:{api_port}
etcd3:
  hosts: 127.0.0.1:{etcd_port}
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 200
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        hot_standby: "on"
  initdb:
    - encoding: UTF8
    - data-checksums
  pg_hba:
    - local all postgres peer
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
postgresql:
  listen: 127.0.0.1:{pg_port}
  connect_address: 127.0.0.1:{pg_port}
  data_dir: {data}
  bin_dir: {PG_BIN}
  pgpass: {base / f"{name}.pgpass"}
  authentication:
    superuser: {{username: postgres, password: "{secret}"}}
    replication: {{username: replicator, password: "{secret}"}}
    rewind: {{username: postgres, password: "{secret}"}}
  parameters:
    unix_socket_directories: "{sock}"
""")
    return config


class Rig:
    """etcd, the Patroni nodes and HAProxy as child processes in a temporary folder."""

    def __init__(self, base: Path):
        self.base = base
        self.secret = secrets.token_hex(12)
        self.etcd_port, self.etcd_peer = free_port(), free_port()
        self.nodes = {n: (free_port(), free_port()) for n in NODES}
        self.primary_port, self.replica_port = free_port(), free_port()
        self.stats_port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs = base / "logs"
        self.logs.mkdir()

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )

    def start_etcd(self) -> None:
        self.spawn(
            "etcd",
            [
                "etcd",
                "--name",
                "e1",
                "--data-dir",
                str(self.base / "etcd"),
                "--listen-client-urls",
                f"http://127.0.0.1:{self.etcd_port}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{self.etcd_port}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{self.etcd_peer}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{self.etcd_peer}",
                "--initial-cluster",
                f"e1=http://127.0.0.1:{self.etcd_peer}",
            ],
        )

    def start_node(self, name: str) -> None:
        pg_port, api_port = self.nodes[name]
        config = self.base / f"{name}.yml"
        if not config.exists():
            patroni_config(self.base, name, pg_port, api_port, self.etcd_port, self.secret)
        shutil.chown(self.base, "postgres")
        for path in self.base.iterdir():
            if path.name not in ("logs", "etcd"):
                shutil.chown(path, "postgres")
        self.spawn(name, ["runuser", "-u", "postgres", "--", "patroni", str(config)])

    def start_haproxy(self) -> None:
        """The shipped configuration as it is, plus a stats page (a second ``-f`` file) so the
        rig can wait for HAProxy's own view: it starts with every server up until checked."""
        stats = self.base / "stats.cfg"
        stats.write_text(
            f"listen stats\n    mode http\n    bind 127.0.0.1:{self.stats_port}\n"
            "    stats enable\n    stats uri /stats\n"
        )
        env = {
            "HMS_PG_PRIMARY_BIND": f"127.0.0.1:{self.primary_port}",
            "HMS_PG_REPLICA_BIND": f"127.0.0.1:{self.replica_port}",
        }
        for i, (pg_port, api_port) in enumerate(self.nodes.values(), start=1):
            env[f"HMS_PG_NODE{i}"] = f"127.0.0.1:{pg_port}"
            env[f"HMS_PG_NODE{i}_API"] = str(api_port)
        self.spawn(
            "haproxy",
            [
                "haproxy",
                "-db",
                "-f",
                str(REPO / "installers/haproxy/patroni-haproxy.cfg"),
                "-f",
                str(stats),
            ],
            env=env,
        )

    def haproxy_up(self, backend: str) -> set[str]:
        """Servers HAProxy currently routes ``backend`` to."""
        answer = httpx.get(f"http://127.0.0.1:{self.stats_port}/stats;csv", timeout=2)
        rows = csv.DictReader(io.StringIO(answer.text.lstrip("# ")))
        return {
            r["svname"]
            for r in rows
            if r["pxname"] == backend and r["svname"] in self.nodes and r["status"].startswith("UP")
        }

    def patroni(self, name: str) -> dict[str, object]:
        answer = httpx.get(f"http://127.0.0.1:{self.nodes[name][1]}/patroni", timeout=1)
        return dict(answer.json())

    def role(self, name: str) -> str:
        try:
            return str(self.patroni(name).get("role", "?"))
        except (httpx.HTTPError, ValueError):
            return "down"

    def members(self) -> dict[str, dict[str, object]]:
        for name in self.nodes:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                cluster = httpx.get(
                    f"http://127.0.0.1:{self.nodes[name][1]}/cluster", timeout=1
                ).json()
                return {m["name"]: m for m in cluster.get("members", [])}
        return {}

    def leader(self) -> str | None:
        return next((n for n, m in self.members().items() if m.get("role") == "leader"), None)

    def sync_standby(self) -> str | None:
        return next((n for n, m in self.members().items() if m.get("role") == "sync_standby"), None)

    def kill_node(self, name: str) -> int:
        """SIGKILL every process of the node at once (Patroni, postmaster, backends, WAL
        sender): what a power cut does. Returns how many processes were killed."""
        victims: list[psutil.Process] = []
        with contextlib.suppress(psutil.NoSuchProcess):
            root = psutil.Process(self.processes[name].pid)
            victims += [root, *root.children(recursive=True)]
        pid_file = self.base / name / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, psutil.NoSuchProcess):
            postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
            victims += [postmaster, *postmaster.children(recursive=True)]
        unique = {p.pid: p for p in victims}
        for process in unique.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
        return len(unique)

    def superuser_url(self, port: int, database: str = "postgres") -> str:
        return f"postgresql://postgres:{self.secret}@127.0.0.1:{port}/{database}"

    def stop(self) -> None:
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(30)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
            if name in self.nodes:  # a postgres that outlived its Patroni
                pid_file = self.base / name / "postmaster.pid"
                with contextlib.suppress(OSError, ValueError, ProcessLookupError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> float:
    started = time.monotonic()
    while True:
        with contextlib.suppress(httpx.HTTPError, psycopg.Error, OSError, ValueError, KeyError):
            if predicate():
                return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def hms(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        [*HMS, *args], check=True, capture_output=True, text=True, input=stdin
    ).stdout


@dataclass
class WriteLog:
    """What the writers saw; shared by their threads under ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    # Idempotency key -> (patient id, server, when acknowledged).
    acked: dict[str, tuple[str, int, float]] = field(default_factory=dict)
    ack_times: list[float] = field(default_factory=list)
    failures: list[tuple[float, str]] = field(default_factory=list)
    sent_after_kill_acked: list[tuple[float, int]] = field(default_factory=list)
    killed_at: float | None = None


def writer(number: int, api: str, server: int, token: str, deadline: float, log: WriteLog) -> None:
    """Register patients one after another; retry each with its key until acknowledged."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=api, headers=headers, timeout=15) as client:
        n = 0
        while time.monotonic() < deadline:
            key = f"ha-{number}-{n}"
            family = f"Failover{number}x{n}".translate(str.maketrans("0123456789", "abcdefghij"))
            body = {
                "given_name": "Ha",
                "family_name": family,
                "date_of_birth": "1975-05-05",
                "sex": "female",
                "confirm_new": True,
            }
            while True:
                sent = time.monotonic()
                try:
                    response = client.post(
                        "/api/v1/patients", json=body, headers={"Idempotency-Key": key}
                    )
                    if response.status_code == 201:
                        now = time.monotonic()
                        with log.lock:
                            log.acked[key] = (response.json()["id"], server, now)
                            log.ack_times.append(now)
                            if log.killed_at is not None and sent > log.killed_at:
                                log.sent_after_kill_acked.append((now, server))
                        break
                    outcome = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                with log.lock:
                    log.failures.append((time.monotonic(), outcome))
                if time.monotonic() > deadline + 90:
                    return
                time.sleep(0.25)
            n += 1


def start_server(
    base: Path, name: str, url: str, replica_url: str, secrets_env: dict[str, str], logs: Path
) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    state = base / f"state-{name}"
    process = subprocess.Popen(
        [*HMS, "run", "--port", str(port), "--workers", "2", "--database-url", url],
        env={
            **os.environ,
            **secrets_env,
            "HMS_STATE_DIR": str(state),
            "HMS_AUDIT_CHECKPOINT_SECONDS": "2",
            "HMS_DATABASE_REPLICA_URL": replica_url,
        },
        stdout=(logs / f"hms-{name}.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}", state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=45)
    parser.add_argument("--kill-after", type=float, default=10)
    args = parser.parse_args()
    missing = [t for t in TOOLS if not shutil.which(t)] + (
        [] if PG_BIN.exists() else ["postgresql-15"]
    )
    if os.geteuid() != 0 or missing:
        sys.exit(
            f"needs root and 'apt install patroni etcd-server haproxy postgresql-15' "
            f"(missing: {', '.join(missing) or 'root'}); 'make bench' installs them"
        )
    base = Path(tempfile.mkdtemp(prefix="hms-ha-"))
    os.chmod(base, 0o755)  # noqa: S103  (the postgres user must reach its data folders)
    rig = Rig(base)
    servers: list[subprocess.Popen[bytes]] = []
    results: list[tuple[str, str, bool]] = []
    started = time.monotonic()
    try:
        rig.start_etcd()
        wait_for(
            lambda: (
                httpx.get(f"http://127.0.0.1:{rig.etcd_port}/health", timeout=1).status_code == 200
            ),
            30,
            "etcd",
        )
        rig.start_node("node1")
        wait_for(lambda: rig.role("node1") in ("master", "primary"), 90, "the first primary")
        for name in NODES[1:]:
            rig.start_node(name)
        wait_for(
            lambda: (
                rig.sync_standby() is not None
                and all(m.get("state") in ("running", "streaming") for m in rig.members().values())
                and len(rig.members()) == len(NODES)
            ),
            180,
            "two standbys streaming, one synchronous",
        )
        rig.start_haproxy()
        wait_for(
            lambda: (
                rig.haproxy_up("postgres_primary") == {"node1"}
                and rig.haproxy_up("postgres_replicas") == set(NODES[1:])
            ),
            30,
            "HAProxy: node1 primary, the others replicas",
        )
        owner_pw = secrets.token_hex(12)
        with psycopg.connect(rig.superuser_url(rig.primary_port), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE hms LOGIN CREATEROLE PASSWORD '{owner_pw}'")
            conn.execute("CREATE DATABASE hms OWNER hms")
        url = f"postgresql://hms:{owner_pw}@127.0.0.1:{rig.primary_port}/hms"
        replica_url = f"postgresql://hms:{owner_pw}@127.0.0.1:{rig.replica_port}/hms"
        hms("migrate", "--database-url", url)
        hms(
            "create-user",
            "ha_clerk",
            "--role",
            "receptionist",
            "--password-stdin",
            "--database-url",
            url,
            stdin=PASSWORD + "\n",
        )
        shared = {
            "HMS_JWT_SECRET": secrets.token_hex(32),
            "HMS_AUDIT_KEY": secrets.token_hex(32),
            "HMS_LOG_LEVEL": "INFO",
        }
        apis, states = [], []
        for name in ("a", "b"):
            process, api, state = start_server(base, name, url, replica_url, shared, rig.logs)
            servers.append(process)
            apis.append(api)
            states.append(state)
        for api in apis:
            wait_for(lambda api=api: _healthy(api), 120, f"hms-server at {api}")
        print(f"rig up in {time.monotonic() - started:.0f} s; writing", flush=True)
        token = httpx.post(
            f"{apis[0]}/api/v1/auth/login", json={"username": "ha_clerk", "password": PASSWORD}
        ).json()["access_token"]

        log = WriteLog()
        deadline = time.monotonic() + args.seconds
        with concurrent.futures.ThreadPoolExecutor(args.writers) as pool:
            futures = [
                pool.submit(writer, w, apis[w % 2], w % 2, token, deadline, log)
                for w in range(args.writers)
            ]
            time.sleep(args.kill_after)
            old_leader = rig.leader() or "?"
            standby = rig.sync_standby() or "?"
            with log.lock:
                before_kill = len(log.acked)
                log.killed_at = time.monotonic()
            killed = rig.kill_node(old_leader)
            promoted_in = wait_for(
                lambda: rig.role(standby) in ("master", "primary"), 90, f"{standby}'s promotion"
            )
            routed_in = wait_for(
                lambda: rig.haproxy_up("postgres_primary") == {standby},
                30,
                "HAProxy routing to the new primary",
            )
            for future in futures:
                future.result()
        killed_at = log.killed_at
        after = sorted(log.sent_after_kill_acked)
        first_write = after[0][0] - killed_at if after else float("nan")
        gaps = [
            b - a for a, b in zip(sorted(log.ack_times), sorted(log.ack_times)[1:], strict=False)
        ]
        tries = [f for f in log.failures if f[0] >= killed_at]
        kinds: dict[str, int] = {}
        for _, outcome in tries:
            kinds[outcome] = kinds.get(outcome, 0) + 1
        results.append(
            (
                f"primary {old_leader} killed (SIGKILL, {killed} processes), synchronous standby",
                standby,
                standby != "?",
            )
        )
        results.append(
            ("standby promoted (Patroni role primary) after", f"{promoted_in:.1f} s", True)
        )
        results.append(
            ("HAProxy routing writes to it after", f"{promoted_in + routed_in:.1f} s", True)
        )
        results.append(
            (
                "first acknowledged write sent after the kill, after",
                f"{first_write:.1f} s",
                bool(after),
            )
        )
        results.append(("longest time without an acknowledged write", f"{max(gaps):.1f} s", True))
        results.append(
            (
                "failed tries after the kill (all retried with their keys)",
                f"{len(tries)}: " + ", ".join(f"{k} × {v}" for k, v in sorted(kinds.items())),
                True,
            )
        )
        results.append(
            (
                "acknowledged writes (before the kill / in all)",
                f"{before_kill} / {len(log.acked)}",
                len(log.acked) > before_kill,
            )
        )
        with psycopg.connect(url) as conn:
            present = dict(
                conn.execute(
                    "SELECT family_name, count(*) FROM patients "
                    "WHERE family_name LIKE 'Failover%%' "
                    "GROUP BY family_name"
                ).fetchall()
            )
            ids = {str(r[0]) for r in conn.execute("SELECT id FROM patients").fetchall()}
        lost = [k for k, (i, _, _) in log.acked.items() if str(i) not in ids]
        last_second = [k for k, (_, _, at) in log.acked.items() if killed_at - 1 <= at <= killed_at]
        doubled = [name for name, count in present.items() if count > 1]
        results.append(
            (
                "acknowledged writes lost (of them acknowledged in the last second "
                "before the kill)",
                f"{len(lost)} ({len(set(lost) & set(last_second))} of {len(last_second)})",
                not lost,
            )
        )
        results.append(("writes doubled by retries", str(len(doubled)), not doubled))
        servers_after = {s for _, s in after}
        healthy = [_healthy(api) for api in apis]
        results.append(
            (
                "both servers reconnected by themselves (health 200, writes acked "
                "through each after the kill)",
                f"health {healthy}, servers writing after the kill {sorted(servers_after)}",
                all(healthy) and servers_after == {0, 1},
            )
        )
        wait_for(
            lambda: all(
                httpx.get(f"{api}/api/v1/health", timeout=3).json()["audit"]["unsealed"] == 0
                for api in apis
            ),
            60,
            "the sealer to catch up",
        )
        # Four sealers (2 servers x 2 workers); a health answer comes from any worker.
        sealers = {
            httpx.get(f"{api}/api/v1/health", timeout=3).json()["audit"]["sealer"]
            for api in apis
            for _ in range(12)
        }
        results.append(
            (
                "audit sealers after the failover (12 health answers per server)",
                ", ".join(sorted(sealers)),
                sealers == {"leader", "standby"},
            )
        )
        time.sleep(4)  # two checkpoint intervals
        checkpoint_args = [
            a
            for s in states
            if (s / "audit-checkpoints").exists()
            for a in ("--checkpoints", str(s / "audit-checkpoints"))
        ]
        verify = subprocess.run(
            [*HMS, "audit", "verify", *checkpoint_args, "--database-url", url],
            capture_output=True,
            text=True,
            env={**os.environ, **shared},
        )
        results.append(
            (
                "audit verify (checkpoints of both servers)",
                (verify.stdout or verify.stderr).strip(),
                verify.returncode == 0,
            )
        )
        rig.start_node(old_leader)
        rejoined = wait_for(
            lambda: (
                rig.role(old_leader) == "replica"
                and rig.members()[old_leader].get("state") in ("running", "streaming")
            ),
            180,
            "the old primary rejoining",
        )
        results.append(
            ("old primary rejoined as a streaming replica after", f"{rejoined:.1f} s", True)
        )
        wait_for(
            lambda: old_leader in rig.haproxy_up("postgres_replicas"),
            30,
            "HAProxy routing reads to the rejoined node",
        )
        with psycopg.connect(replica_url) as conn:
            in_recovery = conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]  # type: ignore[index]
            replica_count = conn.execute(
                "SELECT count(*) FROM patients WHERE family_name LIKE 'Failover%%'"
            ).fetchone()[0]  # type: ignore[index]
        results.append(
            (
                "replica port (HMS_DATABASE_REPLICA_URL) reads a standby",
                f"in recovery: {in_recovery}, {replica_count} test patients",
                bool(in_recovery),
            )
        )
    finally:
        for process in servers:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(20)
            if process.poll() is None:
                process.kill()
        rig.stop()
        if os.environ.get("HMS_HA_KEEP"):
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    print(
        f"\nPatroni {_version(['patroni', '--version'])}, "
        f"etcd {_version(['etcd', '--version'])}, {_version(['haproxy', '-v'])}; "
        f"{args.writers} writers on 2 servers, {args.seconds:.0f} s, kill after "
        f"{args.kill_after:.0f} s; load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| check | result | ok |\n| --- | --- | --- |")
    for check, value, ok in results:
        print(f"| {check} | {value} | {'yes' if ok else 'NO'} |")
    if not all(ok for _, _, ok in results):
        sys.exit(1)


def _version(command: list[str]) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
        first = (out.stdout or out.stderr).strip().splitlines()[0]
        return first.replace("patroni ", "").replace("etcd Version: ", "")
    return "?"


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/api/v1/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
