"""HA rig: PostgreSQL under Patroni + etcd with synchronous replication, HMS on top; the
primary is killed under write load.

Run (as root on Debian 12 with ``apt install patroni etcd-server haproxy postgresql-15``):
    .venv/bin/python bench/ha_failover.py [--writers 6] [--seconds 40] [--kill-after 8]

On loopback only: one etcd, two Patroni nodes (PostgreSQL 15 from Debian, run as the
``postgres`` user, ``synchronous_mode: true``), HAProxy routing a primary port and a replica
port by Patroni's REST API (``installers/haproxy/patroni-haproxy.cfg``), and one
``hms-server run --workers 2`` connected through HAProxy. Writers register patients with
Idempotency-Keys (retrying with the same key on any failure, like the desktop); after
``--kill-after`` seconds the primary node (Patroni and PostgreSQL) is killed with SIGKILL.

Checks, printed as a table: the replica was promoted and how long writes were unavailable;
every acknowledged (2xx) write is present afterwards, none doubled; the server reconnected by
itself; the audit chain verifies (with the sealer's checkpoints); the killed node rejoins as
a replica and the replica port (HMS_DATABASE_REPLICA_URL) answers reads. Exits non-zero if
any check fails.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from common import HMS, free_port

REPO = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORD = "Bench-Harbor-Lantern-42"


def patroni_config(base: Path, name: str, pg_port: int, api_port: int, etcd_port: int,
                   secret: str) -> Path:
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
  pgpass: {base / f'{name}.pgpass'}
  authentication:
    superuser: {{username: postgres, password: "{secret}"}}
    replication: {{username: replicator, password: "{secret}"}}
    rewind: {{username: postgres, password: "{secret}"}}
  parameters:
    unix_socket_directories: "{sock}"
""")
    return config


class Rig:
    def __init__(self, base: Path):
        self.base = base
        self.secret = secrets.token_hex(12)
        self.etcd_port, self.etcd_peer = free_port(), free_port()
        self.nodes = {n: (free_port(), free_port()) for n in ("node1", "node2")}
        self.primary_port, self.replica_port = free_port(), free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs = base / "logs"
        self.logs.mkdir()

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                                env={**os.environ, **(env or {})},
                                                start_new_session=True)

    def start_etcd(self) -> None:
        self._spawn("etcd", [
            "etcd", "--name", "e1", "--data-dir", str(self.base / "etcd"),
            "--listen-client-urls", f"http://127.0.0.1:{self.etcd_port}",
            "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_port}",
            "--listen-peer-urls", f"http://127.0.0.1:{self.etcd_peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.etcd_peer}",
            "--initial-cluster", f"e1=http://127.0.0.1:{self.etcd_peer}"])

    def start_node(self, name: str) -> None:
        pg_port, api_port = self.nodes[name]
        config = self.base / f"{name}.yml"
        if not config.exists():
            patroni_config(self.base, name, pg_port, api_port, self.etcd_port, self.secret)
        shutil.chown(self.base, "postgres")
        for path in self.base.iterdir():
            if path.name not in ("logs", "etcd"):
                shutil.chown(path, "postgres")
        self._spawn(name, ["runuser", "-u", "postgres", "--", "patroni", str(config)])

    def start_haproxy(self) -> None:
        (n1, a1), (n2, a2) = self.nodes["node1"], self.nodes["node2"]
        self._spawn("haproxy", ["haproxy", "-db", "-f",
                                str(REPO / "installers/haproxy/patroni-haproxy.cfg")], env={
            "HMS_PG_PRIMARY_BIND": f"127.0.0.1:{self.primary_port}",
            "HMS_PG_REPLICA_BIND": f"127.0.0.1:{self.replica_port}",
            "HMS_PG_NODE1": f"127.0.0.1:{n1}", "HMS_PG_NODE1_API": str(a1),
            "HMS_PG_NODE2": f"127.0.0.1:{n2}", "HMS_PG_NODE2_API": str(a2)})

    def role(self, name: str) -> str:
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.nodes[name][1]}/patroni", timeout=1)
            return str(answer.json().get("role", "?"))
        except (httpx.HTTPError, ValueError):
            return "down"

    def sync_standby(self) -> str | None:
        try:
            cluster = httpx.get(f"http://127.0.0.1:{self.nodes['node1'][1]}/cluster",
                                timeout=1).json()
        except (httpx.HTTPError, ValueError):
            return None
        return next((m["name"] for m in cluster.get("members", [])
                     if m.get("role") == "sync_standby"), None)

    def kill_node(self, name: str) -> None:
        pid_file = self.base / name / "postmaster.pid"
        postmaster = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        if postmaster:
            with contextlib.suppress(ProcessLookupError):
                os.kill(postmaster, signal.SIGKILL)

    def superuser_url(self, port: int, database: str = "postgres") -> str:
        return f"postgresql://postgres:{self.secret}@127.0.0.1:{port}/{database}"

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
        # Patroni's postgres may outlive a killed Patroni: stop what is left by its pid file.
        for name in self.nodes:
            pid_file = self.base / name / "postmaster.pid"
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)


def wait_for(predicate, timeout: float, what: str) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)
    return time.monotonic() - started


def hms(*args: str, stdin: str | None = None) -> str:
    return subprocess.run([*HMS, *args], check=True, capture_output=True, text=True,
                          input=stdin).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--kill-after", type=float, default=8)
    args = parser.parse_args()
    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("patroni", "etcd", "haproxy")) \
            or not PG_BIN.exists():
        print("not run: needs root and 'apt install patroni etcd-server haproxy postgresql-15'")
        return
    base = Path(tempfile.mkdtemp(prefix="hms-ha-"))
    os.chmod(base, 0o755)  # noqa: S103  (the postgres user must reach its data folders)
    rig = Rig(base)
    server: subprocess.Popen[bytes] | None = None
    results: list[tuple[str, str, bool]] = []
    try:
        rig.start_etcd()
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{rig.etcd_port}/health",
                                   timeout=1).status_code == 200, 30, "etcd")
        rig.start_node("node1")
        wait_for(lambda: rig.role("node1") in ("master", "primary"), 90, "the first primary")
        rig.start_node("node2")
        wait_for(lambda: rig.sync_standby() == "node2", 120, "the synchronous standby")
        rig.start_haproxy()
        owner_pw = secrets.token_hex(12)
        admin = rig.superuser_url(rig.primary_port)
        # HAProxy starts with every server up until its checks say otherwise.
        wait_for(lambda: _is_primary(admin), 30, "HAProxy → primary")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE hms LOGIN CREATEROLE PASSWORD '{owner_pw}'")
            conn.execute("CREATE DATABASE hms OWNER hms")
        url = f"postgresql://hms:{owner_pw}@127.0.0.1:{rig.primary_port}/hms"
        replica_url = f"postgresql://hms:{owner_pw}@127.0.0.1:{rig.replica_port}/hms"
        hms("migrate", "--database-url", url)
        hms("create-user", "ha_clerk", "--role", "receptionist", "--password-stdin",
            "--database-url", url, stdin=PASSWORD + "\n")
        state = base / "state"
        port = free_port()
        server = subprocess.Popen(
            [*HMS, "run", "--port", str(port), "--workers", "2", "--database-url", url],
            env={**os.environ, "HMS_STATE_DIR": str(state),
                 "HMS_AUDIT_CHECKPOINT_SECONDS": "2",
                 "HMS_DATABASE_REPLICA_URL": replica_url},
            stdout=(rig.logs / "hms.log").open("ab"), stderr=subprocess.STDOUT)
        api = f"http://127.0.0.1:{port}"
        wait_for(lambda: _healthy(api), 90, "hms-server")
        token = httpx.post(f"{api}/api/v1/auth/login", json={
            "username": "ha_clerk", "password": PASSWORD}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        acked: dict[str, int] = {}
        failures: list[float] = []
        lock = threading.Lock()
        killed_at: list[float] = []
        recovered: list[float] = []  # answers to requests sent after the kill
        deadline = time.monotonic() + args.seconds

        def writer(w: int) -> None:
            n = 0
            while time.monotonic() < deadline:
                key = f"ha-{w}-{n}"
                body = {"given_name": "Ha", "family_name": f"Failover{w}x{n}".translate(
                    str.maketrans("0123456789", "abcdefghij")), "date_of_birth": "1975-05-05",
                    "sex": "female", "confirm_new": True}
                while True:  # retry with the same key until acknowledged (the desktop does)
                    sent = time.monotonic()
                    try:
                        response = httpx.post(f"{api}/api/v1/patients", json=body, timeout=15,
                                              headers={**headers, "Idempotency-Key": key})
                        if response.status_code == 201:
                            with lock:
                                acked[key] = response.json()["id"]
                                if killed_at and sent > killed_at[0]:
                                    recovered.append(time.monotonic())
                            break
                    except httpx.HTTPError:
                        pass
                    with lock:
                        failures.append(time.monotonic())
                    if time.monotonic() > deadline + 60:
                        return
                    time.sleep(0.25)
                n += 1

        with concurrent.futures.ThreadPoolExecutor(args.writers) as pool:
            futures = [pool.submit(writer, w) for w in range(args.writers)]
            time.sleep(args.kill_after)
            leader = next(n for n in rig.nodes if rig.role(n) in ("master", "primary"))
            before_kill = len(acked)
            killed_at.append(time.monotonic())
            rig.kill_node(leader)
            survivor = next(n for n in rig.nodes if n != leader)
            promoted_in = wait_for(lambda: rig.role(survivor) in ("master", "primary"), 60,
                                   "the standby's promotion")
            for future in futures:
                future.result()
        outage = (min(recovered) if recovered else float("nan")) - killed_at[0]
        results.append(("primary killed (SIGKILL: Patroni + PostgreSQL)", leader, True))
        results.append(("standby promoted after", f"{promoted_in:.1f} s", True))
        results.append(("writes unavailable for", f"{outage:.1f} s "
                        f"({len([f for f in failures if f >= killed_at[0]])} failed tries, "
                        "all retried with their keys)", True))
        results.append(("acknowledged writes", str(len(acked)), len(acked) > before_kill))
        with psycopg.connect(url) as conn:
            present = dict(conn.execute(
                "SELECT family_name, count(*) FROM patients WHERE family_name LIKE 'Failover%%' "
                "GROUP BY family_name").fetchall())
            ids = {r[0] for r in conn.execute("SELECT id FROM patients").fetchall()}
        lost = [k for k, i in acked.items() if i not in ids]
        doubled = [name for name, count in present.items() if count > 1]
        results.append(("acknowledged writes lost", str(len(lost)), not lost))
        results.append(("writes doubled by retries", str(len(doubled)), not doubled))
        results.append(("server reconnected by itself", "yes" if _healthy(api) else "no",
                        _healthy(api)))
        wait_for(lambda: httpx.get(f"{api}/api/v1/health").json()["audit"]["unsealed"] == 0,
                 30, "the sealer to catch up")
        time.sleep(3)  # one more checkpoint interval
        verify = subprocess.run([*HMS, "audit", "verify", "--checkpoints",
                                 str(state / "audit-checkpoints"), "--database-url", url],
                                capture_output=True, text=True,
                                env={**os.environ, "HMS_STATE_DIR": str(state)})
        results.append(("audit verify --checkpoints", (verify.stdout or verify.stderr).strip(),
                        verify.returncode == 0))
        rig.start_node(leader)
        rejoined = wait_for(lambda: rig.role(leader) == "replica", 120, "the old primary rejoining")
        results.append(("old primary rejoined as replica after", f"{rejoined:.1f} s", True))
        wait_for(lambda: _can_connect(replica_url), 30, "the replica port")
        with psycopg.connect(replica_url) as conn:
            in_recovery = conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
            replica_count = conn.execute("SELECT count(*) FROM patients").fetchone()[0]
        results.append(("replica port (HMS_DATABASE_REPLICA_URL) reads a standby",
                        f"in recovery: {in_recovery}, {replica_count} patients", in_recovery))
    finally:
        if server is not None:
            server.terminate()
            server.wait(20)
        rig.stop()
        keep = os.environ.get("HMS_HA_KEEP")
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
    print("| check | result | ok |\n| --- | --- | --- |")
    for check, value, ok in results:
        print(f"| {check} | {value} | {'yes' if ok else 'NO'} |")
    if not all(ok for _, _, ok in results):
        sys.exit(1)


def _can_connect(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _is_primary(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            return not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]  # type: ignore[index]
    except psycopg.Error:
        return False


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/api/v1/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
