"""The insurer and card gateway simulators as real processes, and an HMS server wired to
them (the gateway must reach the server's webhook, so that one is a real uvicorn)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from hms_server.adapters.billing import local_simulators

API_KEY = "sim-gateway-key-" + "k" * 16
WEBHOOK_SECRET = "whsec-" + "s" * 32


@dataclass
class Simulator:
    process: subprocess.Popen[str]
    url: str  # base URL (the payer's is its /fhir endpoint)
    control: str

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.post(self.control + path, json=body or {}, timeout=15)
        response.raise_for_status()
        return response.json()

    def get(self, path: str) -> Any:
        return httpx.get(self.control + path, timeout=15).json()


def start_simulator(module: str, *args: str) -> Simulator:
    """The product's own launcher (the demo's), so the tests start them the same way."""
    running = local_simulators.start_simulator(module, *args)
    return Simulator(running.process, running.url, running.control)


def stop_simulator(sim: Simulator) -> None:
    sim.process.terminate()
    try:
        sim.process.wait(10)
    except subprocess.TimeoutExpired:
        sim.process.kill()
        sim.process.wait(5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a loopback port for the block; its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:  # pragma: no cover
        raise RuntimeError("server did not start")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
