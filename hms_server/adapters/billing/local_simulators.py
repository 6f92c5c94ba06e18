"""Start the insurer and card gateway simulators as their own processes (for the demo; the
tests do the same) and tell the server where they are through ``HMS_*`` settings."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass


@dataclass
class RunningSimulator:
    process: subprocess.Popen[str]
    url: str
    control: str


def start_simulator(module: str, *args: str, timeout: float = 60) -> RunningSimulator:
    """Run ``hms_server.adapters.billing.<module>`` and wait for its ``READY`` line.

    Its stderr goes to a temporary file, not a pipe: nobody reads a pipe during a long
    demo, and a full one would block the simulator. When it does not start, the error
    carries the simulator's own last words."""
    # The child keeps its own descriptor of the file after ours is closed.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", f"hms_server.adapters.billing.{module}", *args],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            start_new_session=True,
        )  # the demo stops it
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(
                process.stdout.readline()  # type: ignore[union-attr]
            ),
            daemon=True,
        )
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith("READY "):
            process.kill()
            process.wait()
            errors.seek(0)
            said = errors.read().decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{module} did not start: " + (" / ".join(said) or "no output"))
    info = json.loads(line[0][len("READY ") :])
    return RunningSimulator(process, info["url"], f"http://127.0.0.1:{info['port']}")


def stop_simulator(simulator: RunningSimulator) -> None:
    simulator.process.terminate()
    try:
        simulator.process.wait(10)
    except subprocess.TimeoutExpired:
        simulator.process.kill()


def demo_billing_environment(
    server_url: str, *, auto_confirm_seconds: float = 4
) -> tuple[dict[str, str], list[RunningSimulator]]:
    """Both simulators for a demo server at ``server_url``: the environment to start the
    server with, and the processes to stop afterwards. The terminal confirms every card
    payment by itself after ``auto_confirm_seconds`` (the demo has no customer)."""
    api_key, secret = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
    payer = start_simulator("payer_simulator")
    try:
        # ``--name=value``: a random token may begin with "-", which argparse would
        # otherwise read as an option of its own (and the simulator would refuse to start).
        gateway = start_simulator(
            "gateway_simulator",
            f"--api-key={api_key}",
            f"--webhook-secret={secret}",
            f"--webhook-url={server_url}/api/v1/payments/gateway-webhook",
            f"--auto-confirm-seconds={auto_confirm_seconds}",
        )
    except BaseException:
        stop_simulator(payer)
        raise
    env = {
        "HMS_PAYER_FHIR_URL": payer.url,
        "HMS_CARD_GATEWAY_URL": gateway.url,
        "HMS_CARD_GATEWAY_API_KEY": api_key,
        "HMS_CARD_GATEWAY_WEBHOOK_SECRET": secret,
    }
    return env, [payer, gateway]
