"""``make demo``: embedded PostgreSQL, demo data, the bundled SMS and SMTP simulators, the
server wired to them, and the desktop — one command.

The simulators stand in for the hospital's SMS gateway and mail relay; every message the
server sends (booking confirmations, reminders, waitlist offers) is printed here as it
arrives, so a visitor sees them go out. Ctrl-C or SIGTERM stops the desktop, the server, the
simulators and the embedded database, in that order, quietly. The children run in their own
process group, so the terminal's Ctrl-C reaches only this process, which stops them in turn.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx

from hms_server.adapters import embedded
from hms_server.adapters.billing.local_simulators import (
    RunningSimulator,
    demo_billing_environment,
    stop_simulator,
)

DEMO_SMS_API_KEY = "demo-sms-key"  # the local simulator's key; nothing leaves the machine
# The demo hospital's letterhead, so printouts show what a real one's would (an address, a
# phone, an e-mail). Settings the user exported take precedence.
DEMO_LETTERHEAD = {
    "HMS_HOSPITAL_ADDRESS": "12 Harbour Road, Springfield 40100",
    "HMS_HOSPITAL_PHONE": "+1 555 0100",
    "HMS_HOSPITAL_EMAIL": "front-desk@demo-hospital.example",
}

# Shared libraries Qt's xcb platform plugin needs on Linux, and the Debian/Ubuntu package of
# each (the Makefile's DEMO_APT_PACKAGES installs them when run as root).
QT_XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libX11-xcb.so.1": "libx11-xcb1",
}


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def missing_qt_libraries() -> list[str]:
    """Shared libraries Qt's xcb plugin cannot find here (Linux; empty elsewhere or when
    ``ldd`` is not available)."""
    if not sys.platform.startswith("linux") or shutil.which("ldd") is None:
        return []
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return []
    qt = Path(spec.origin).parent / "Qt"
    missing: set[str] = set()
    for library in (qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6"):
        if not library.exists():
            continue
        out = subprocess.run(
            ["ldd", str(library)], capture_output=True, text=True, check=False
        ).stdout
        missing |= {line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line}
    return sorted(missing)


def install_hint(libraries: list[str]) -> str:
    packages = sorted({QT_XCB_PACKAGES.get(lib, lib) for lib in libraries})
    return "sudo apt-get install " + " ".join(packages)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException("hms-server exited during start-up; see messages above.")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise click.ClickException("hms-server did not become healthy within a minute.")


def _script(name: str) -> list[str]:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    return [found] if found else [sys.executable, "-m", f"hms_{name.split('-')[1]}.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(
    args: list[str], env: dict[str, str] | None = None, **kwargs: Any
) -> subprocess.Popen[bytes]:
    """A child in its own process group (the terminal's Ctrl-C reaches only the demo)."""
    if os.name == "nt":
        flags = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        return subprocess.Popen(args, env=env, creationflags=flags, **kwargs)
    return subprocess.Popen(args, env=env, start_new_session=True, **kwargs)


def _ready(proc: subprocess.Popen[bytes], what: str, seconds: float = 20) -> dict[str, Any]:
    """The ``READY {json}`` line a simulator prints once it serves."""
    assert proc.stdout is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode(errors="replace").strip()
        if line.startswith("READY "):
            return dict(json.loads(line[6:]))
        if not line and proc.poll() is not None:
            break
    raise click.ClickException(f"The {what} simulator did not start.")


@dataclass
class Simulators:
    """The SMS gateway and SMTP relay simulators the demo server sends through."""

    sms: subprocess.Popen[bytes]
    smtp: subprocess.Popen[bytes]
    sms_url: str
    sms_control: str
    smtp_port: int
    smtp_control: str
    seen: dict[str, int] = field(default_factory=lambda: {"sms": 0, "email": 0})

    def server_env(self) -> dict[str, str]:
        """Settings that point the server's messaging at the simulators."""
        return {
            "HMS_SMS_GATEWAY_URL": self.sms_url,
            "HMS_SMS_API_KEY": DEMO_SMS_API_KEY,
            "HMS_SMTP_HOST": "127.0.0.1",
            "HMS_SMTP_PORT": str(self.smtp_port),
            "HMS_MESSAGING_DISPATCH_INTERVAL_SECONDS": "3",
        }

    def new_messages(self) -> Iterator[str]:
        """One printable line per message the simulators received since the last call."""
        for channel, control in (("sms", self.sms_control), ("email", self.smtp_control)):
            try:
                received = httpx.get(f"{control}/_sim/messages", timeout=2).json()["messages"]
            except (httpx.HTTPError, ValueError, KeyError):
                continue
            for item in received[self.seen[channel] :]:
                yield describe_message(channel, item)
            self.seen[channel] = len(received)

    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [self.sms, self.smtp]


def describe_message(channel: str, item: dict[str, Any]) -> str:
    """``SMS  to +44••••0123: St Mary's: your appointment ...`` (recipient masked)."""
    if channel == "sms":
        to, text = str(item.get("to", "")), str(item.get("text", ""))
    else:
        to = ", ".join(str(r) for r in item.get("rcpt_tos", []))
        text = f"{item.get('subject') or ''} — {item.get('body') or ''}".strip(" —")
    masked = to[:3] + "•" * max(0, len(to) - 7) + to[-4:] if len(to) > 7 else to
    label = "SMS  " if channel == "sms" else "Email"
    return f"  {label} to {masked}: {text}"


def start_simulators() -> Simulators:
    python = sys.executable
    sms = _spawn(
        [
            python,
            "-m",
            "hms_server.adapters.messaging.sms_simulator",
            "--port",
            "0",
            "--api-key",
            DEMO_SMS_API_KEY,
        ],
        stdout=subprocess.PIPE,
    )
    smtp_port = _free_port()
    smtp = _spawn(
        [
            python,
            "-m",
            "hms_server.adapters.messaging.smtp_simulator",
            "--port",
            str(smtp_port),
            "--control-port",
            "0",
        ],
        stdout=subprocess.PIPE,
    )
    sms_info, smtp_info = _ready(sms, "SMS"), _ready(smtp, "SMTP")
    sms_url = str(sms_info["url"])
    return Simulators(
        sms,
        smtp,
        sms_url,
        sms_url.rsplit("/v1/", 1)[0],
        smtp_port,
        f"http://127.0.0.1:{smtp_info['control_port']}",
    )


class StopRequested(Exception):
    """SIGTERM (or SIGINT) asked the demo to stop."""


def _on_stop_signal(_signum: int, _frame: object) -> None:
    raise StopRequested


def _stop(proc: subprocess.Popen[bytes] | None, *, interrupt: bool = False) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        if interrupt and os.name != "nt":
            proc.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully on SIGINT
        else:
            proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def run_demo(data_dir: Path, *, port: int, patients: int, with_desktop: bool) -> None:
    from hms_server.cli import migrate_database
    from hms_server.seed.demo import DEMO_ADMIN_TOTP_SECRET, DEMO_PASSWORD, DEMO_USERS

    previous = {sig: signal.signal(sig, _on_stop_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    server: subprocess.Popen[bytes] | None = None
    desktop: subprocess.Popen[bytes] | None = None
    simulators: Simulators | None = None
    billing_simulators: list[RunningSimulator] = []
    started_database = False
    try:
        click.echo(f"Starting embedded PostgreSQL in {data_dir} ...")
        database_url = embedded.start(data_dir)
        started_database = True
        click.echo("Migrating ...")
        migrate_database(database_url)
        click.echo(f"Seeding the demo hospital ({patients} patients; skipped if already there) ...")
        env = {**os.environ, "HMS_DATABASE_URL": database_url}
        subprocess.run(
            [*_script("hms-server"), "seed-demo", "--patients", str(patients)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        click.echo("Starting the SMS gateway and mail relay simulators ...")
        simulators = start_simulators()
        url = f"http://127.0.0.1:{port}"
        # Billing: the insurer (FHIR) and card gateway simulators, each its own process.
        click.echo("Starting the insurer and card gateway simulators ...")
        billing_env, billing_simulators = demo_billing_environment(url)
        server = _spawn(
            [*_script("hms-server"), "run", "--port", str(port)],
            env={**DEMO_LETTERHEAD, **env, **simulators.server_env(), **billing_env},
        )
        _wait_healthy(url, server)
        click.echo("")
        click.echo(f"HMS demo is running at {url}  (API docs: {url}/docs)")
        click.echo(
            f"Insurer simulator (FHIR): {billing_env['HMS_PAYER_FHIR_URL']}; card "
            f"terminal simulator: {billing_env['HMS_CARD_GATEWAY_URL']} (confirms card "
            "payments by itself after 4 s)"
        )
        click.echo(f"Sign in with any of these users; password for all: {DEMO_PASSWORD}")
        for username, full_name, roles in DEMO_USERS:
            click.echo(f"  {username:<11} {', '.join(roles):<14} {full_name}")
        click.echo(
            f"The admin account also needs a one-time code: TOTP secret "
            f"{DEMO_ADMIN_TOTP_SECRET} (any authenticator app, or\n"
            f'  .venv/bin/python -c "import pyotp; '
            f"print(pyotp.TOTP('{DEMO_ADMIN_TOTP_SECRET}').now())\")"
        )
        click.echo(
            f"Messages go out through the bundled simulators (SMS {simulators.sms_url}, "
            f"SMTP 127.0.0.1:{simulators.smtp_port}) and are printed below; the "
            "admin's Messages tab shows the outbox."
        )
        desktop = _open_desktop(url, with_desktop, DEMO_PASSWORD)
        click.echo("\nPress Ctrl-C to stop everything.")
        while server.poll() is None:
            _print_messages(list(simulators.new_messages()))
            time.sleep(1.0)
        click.echo("hms-server stopped; see its messages above.")
    except (StopRequested, KeyboardInterrupt):
        click.echo("\nStopping ...")
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up
        _stop(desktop)
        _stop(server, interrupt=True)
        for proc in simulators.processes() if simulators else []:
            _stop(proc)
        for simulator in billing_simulators:
            stop_simulator(simulator)
        stopped_database = True
        if started_database:
            try:
                embedded.stop(data_dir)
            except subprocess.CalledProcessError:
                stopped_database = False
                click.echo(
                    "The embedded database is still shutting down; if it keeps running, "
                    f"stop it with: hms-server db down {data_dir}"
                )
        if stopped_database:
            click.echo("Stopped the desktop, the server, the simulators and the embedded database.")
        for sig, handler in previous.items():
            signal.signal(sig, handler)


MAX_LINES_AT_ONCE = 4


def _print_messages(lines: list[str]) -> None:
    """What the simulators received; a burst (the seeded bookings' confirmations at start)
    is summarised rather than flooding the terminal."""
    for line in lines[:MAX_LINES_AT_ONCE]:
        click.echo(line)
    if len(lines) > MAX_LINES_AT_ONCE:
        click.echo(
            f"  … and {len(lines) - MAX_LINES_AT_ONCE} more (the admin's Messages tab "
            "lists them all)"
        )


def _open_desktop(url: str, with_desktop: bool, password: str) -> subprocess.Popen[bytes] | None:
    if with_desktop and _has_display():
        missing = missing_qt_libraries()
        if missing:
            click.echo(
                "\nThe desktop cannot open here: Qt's display plugin needs "
                f"{', '.join(missing)}. Install them with\n  {install_hint(missing)}\n"
                "(or run `make demo` as root, which installs them), then start it with\n"
                f"  .venv/bin/hms-desktop --server {url}\nThe server keeps running."
            )
            return None
        click.echo("Opening hms-desktop ...")
        return _spawn([*_script("hms-desktop"), "--server", url])
    if with_desktop:
        click.echo(
            "\nNo display found (DISPLAY/WAYLAND_DISPLAY unset), so the desktop "
            "cannot open here. The server keeps running."
        )
    click.echo("Screenshot tour of the desktop (saves one PNG per workspace):")
    click.echo(
        f"  echo '{password}' | QT_QPA_PLATFORM=offscreen .venv/bin/"
        f"hms-desktop --server {url} --user reception --password-stdin "
        "--screenshot-dir screenshots"
    )
    return None
