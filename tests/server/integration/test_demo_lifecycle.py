"""``hms-server demo`` end to end: it starts the embedded database, the server and the bundled
SMS/SMTP simulators, messages visibly go out through them, and a Ctrl-C from the terminal
(SIGINT to the whole foreground process group) stops everything cleanly and quietly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


def test_the_demo_sends_messages_and_stops_cleanly_on_ctrl_c(tmp_path):
    data_dir, port = tmp_path / "pgdata", _free_port()
    log = tmp_path / "demo.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    with log.open("wb") as out:
        # Its own session, like a shell job: the Ctrl-C below reaches the whole group.
        demo = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hms_server.cli",
                "demo",
                "--data-dir",
                str(data_dir),
                "--port",
                str(port),
                "--patients",
                "20",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 600
            while "Press Ctrl-C" not in log.read_text(errors="replace"):
                assert demo.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, "the demo did not start in time"
                time.sleep(1)
            assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).status_code == 200
            assert len(_processes_mentioning("messaging.sms_simulator")) >= 1
            # The seeded bookings' confirmations go out through the SMS simulator.
            while "SMS   to " not in log.read_text(errors="replace"):
                assert time.monotonic() < deadline, "no message went out"
                time.sleep(1)
        finally:
            if demo.poll() is None:  # a demo that failed to start has already exited
                os.killpg(demo.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
            demo.wait(120)
    text = log.read_text(errors="replace")
    assert demo.returncode == 0, text
    assert "Stopped the desktop, the server, the simulators and the embedded database." in text
    assert "Traceback" not in text and "CancelledError" not in text, text
    assert _processes_mentioning(str(data_dir)) == []  # PostgreSQL is gone
    assert _processes_mentioning(f"--port {port}") == []  # and the server
    assert not (data_dir / "postmaster.pid").exists()
