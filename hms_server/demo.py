"""``make demo``: embedded PostgreSQL, demo data, the server, and the desktop, one command.

Ctrl-C stops the desktop, the server and the embedded database, in that order.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx

from hms_server.adapters import embedded


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


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


def run_demo(data_dir: Path, *, port: int, patients: int, with_desktop: bool) -> None:
    from hms_server.cli import migrate_database
    from hms_server.seed.demo import DEMO_ADMIN_TOTP_SECRET, DEMO_PASSWORD, DEMO_USERS

    click.echo(f"Starting embedded PostgreSQL in {data_dir} ...")
    database_url = embedded.start(data_dir)
    click.echo("Migrating ...")
    migrate_database(database_url)
    click.echo(f"Seeding the demo hospital ({patients} patients; skipped if already there) ...")
    env = {**os.environ, "HMS_DATABASE_URL": database_url}
    subprocess.run([*_script("hms-server"), "seed-demo", "--patients", str(patients)],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    # Billing: the insurer (FHIR) and card gateway simulators, each its own process.
    from hms_server.adapters.billing.local_simulators import (
        demo_billing_environment,
        stop_simulator,
    )

    billing_env, simulators = demo_billing_environment(url)
    env.update(billing_env)
    server = subprocess.Popen([*_script("hms-server"), "run", "--port", str(port)], env=env)
    desktop: subprocess.Popen[bytes] | None = None
    try:
        _wait_healthy(url, server)
        click.echo("")
        click.echo(f"HMS demo is running at {url}  (API docs: {url}/docs)")
        click.echo(f"Insurer simulator (FHIR): {billing_env['HMS_PAYER_FHIR_URL']}; card "
                   f"terminal simulator: {billing_env['HMS_CARD_GATEWAY_URL']} (confirms card "
                   "payments by itself after 4 s)")
        click.echo(f"Sign in with any of these users; password for all: {DEMO_PASSWORD}")
        for username, full_name, roles in DEMO_USERS:
            click.echo(f"  {username:<11} {', '.join(roles):<14} {full_name}")
        click.echo(f"The admin account also needs a one-time code: TOTP secret "
                   f"{DEMO_ADMIN_TOTP_SECRET} (any authenticator app, or\n"
                   f"  .venv/bin/python -c \"import pyotp; "
                   f"print(pyotp.TOTP('{DEMO_ADMIN_TOTP_SECRET}').now())\")")
        if with_desktop and _has_display():
            click.echo("Opening hms-desktop ...")
            desktop = subprocess.Popen([*_script("hms-desktop"), "--server", url])
        else:
            if with_desktop:
                click.echo("\nNo display found (DISPLAY/WAYLAND_DISPLAY unset), so the desktop "
                           "cannot open here. The server keeps running.")
            click.echo("Screenshot tour of the desktop (saves one PNG per workspace):")
            click.echo(f"  echo '{DEMO_PASSWORD}' | QT_QPA_PLATFORM=offscreen .venv/bin/"
                       f"hms-desktop --server {url} --user reception --password-stdin "
                       "--screenshot-dir screenshots")
        click.echo("\nPress Ctrl-C to stop everything.")
        while server.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("\nStopping ...")
    finally:
        for proc in (desktop, server):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT if os.name != "nt" else signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for simulator in simulators:
            stop_simulator(simulator)
        embedded.stop(data_dir)
        click.echo("Stopped the desktop, the server, the simulators and the embedded database.")
