"""No patient data in logs: a server run at INFO level, used for registration, search,
reads, bad input and a failing request, logs none of the patient's identifying values."""

from __future__ import annotations

import os
import subprocess
import time

import httpx

from tests.conftest import TEST_PASSWORD
from tests.server.integration.test_cli import HMS, _free_port, _run
from tests.server.integration.test_resilience import private_database

__all__ = ["private_database"]


def test_server_logs_hold_no_names_phones_or_mrns(private_database):
    _, url = private_database
    _run(
        "create-user",
        "rita",
        "--role",
        "receptionist",
        "--password-stdin",
        "--database-url",
        url,
        stdin=TEST_PASSWORD + "\n",
    )
    port = _free_port()
    env = {**os.environ, "HMS_LOG_LEVEL": "DEBUG", "HMS_JWT_SECRET": "logs-" + "k" * 40}
    server = subprocess.Popen(
        [*HMS, "run", "--port", str(port), "--database-url", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/api/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        token = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "rita", "password": TEST_PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        patient = httpx.post(
            f"{base}/api/v1/patients",
            headers=headers,
            json={
                "given_name": "Quintessa",
                "family_name": "Zwolinska-Ueberall",
                "date_of_birth": "1971-03-14",
                "sex": "female",
                "phone": "+48 601 777 932",
                "national_id": "ZX99887766",
            },
        ).json()
        httpx.get(f"{base}/api/v1/patients", params={"q": "Zwolinska"}, headers=headers)
        httpx.get(f"{base}/api/v1/patients", params={"q": "601777932"}, headers=headers)
        httpx.get(f"{base}/api/v1/patients/by-mrn/{patient['mrn']}", headers=headers)
        httpx.patch(
            f"{base}/api/v1/patients/{patient['id']}",
            headers=headers,
            json={"version": 999, "family_name": "Zwolinska-Ueberall-Nowak"},
        )
        httpx.post(
            f"{base}/api/v1/patients",
            headers=headers,
            json={
                "given_name": "Quintessa",
                "family_name": "Zwolinska-Ueberall",
                "date_of_birth": "2999-01-01",
                "sex": "robot",
            },
        )
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    assert "POST /api/v1/patients 201" in output, "the access log ran at this level"
    for secret in (
        "Quintessa",
        "Zwolinska",
        "601777932",
        "601 777 932",
        "ZX99887766",
        "1971-03-14",
        patient["mrn"],
    ):
        assert secret not in output, f"{secret!r} leaked into the server log"
