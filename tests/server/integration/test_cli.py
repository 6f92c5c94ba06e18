"""The operator's commands, run as real processes the way hospital IT runs them."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_PASSWORD

HMS = [sys.executable, "-m", "hms_server.cli"]


def _run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HMS, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def embedded_dir():  # type: ignore[no-untyped-def]
    path = Path(tempfile.mkdtemp(prefix="hms-cli-")) / "pgdata"
    yield path
    _run("db", "down", str(path))
    shutil.rmtree(path.parent, ignore_errors=True)


def test_db_up_migrate_create_user_check_and_verify(embedded_dir):
    up = _run("db", "up", str(embedded_dir))
    assert up.returncode == 0, up.stderr
    url = up.stdout.strip().splitlines()[-1]
    assert url.startswith("postgresql://")
    env = {"HMS_DATABASE_URL": url}
    assert _run("migrate", env=env).returncode == 0
    assert _run("check", env=env).returncode == 0
    # 'migrate' loaded the reference data; loading it again with unchanged files is a no-op.
    reference = _run("reference-data", "load", env=env)
    assert reference.returncode == 0, reference.stderr
    assert sorted(line.split(":")[0] for line in reference.stdout.splitlines()) == [
        "drug_interactions",
        "formulary",
        "lab_catalogue",
    ]
    assert all(": current " in line for line in reference.stdout.splitlines())
    weak = _run(
        "create-user",
        "bob",
        "--role",
        "doctor",
        "--password-stdin",
        stdin="password1234\n",
        env=env,
    )  # 12+: the minimum since issue 8
    assert weak.returncode != 0 and "common" in weak.stderr
    admin = _run(
        "create-user",
        "ada",
        "--role",
        "admin",
        "--full-name",
        "Ada L",
        "--password-stdin",
        stdin=TEST_PASSWORD + "\n",
        env=env,
    )
    assert admin.returncode == 0, admin.stderr
    assert "otpauth://totp/" in admin.stdout
    bad_role = _run(
        "create-user",
        "eve",
        "--role",
        "surgeon",
        "--password-stdin",
        stdin=TEST_PASSWORD + "\n",
        env=env,
    )
    assert bad_role.returncode != 0 and "surgeon" in bad_role.stderr
    assert _run("disable-user", "ada", env=env).returncode == 0
    verify = _run("audit", "verify", env=env)
    assert verify.returncode == 0 and "intact" in verify.stdout
    # Running 'db up' again on the same folder just prints the URL of the running server.
    again = _run("db", "up", str(embedded_dir))
    assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == url
    down = _run("db", "down", str(embedded_dir))
    assert down.returncode == 0 and "stopped" in down.stdout
    assert _run("check", env=env).returncode != 0


def test_check_reports_unmigrated_database(fresh_db, pg_cluster):
    import uuid

    name = f"empty_{uuid.uuid4().hex[:8]}"
    pg_cluster.execute(f'CREATE DATABASE "{name}"')
    pg_cluster.created.append(name)
    result = _run("check", "--database-url", pg_cluster.url_for(name))
    assert result.returncode != 0
    assert "migrate" in result.stderr


def test_missing_database_url_is_a_clear_error():
    result = _run("migrate", env={"HMS_DATABASE_URL": ""})
    assert result.returncode != 0
    assert "database URL" in result.stderr


def test_run_refuses_plain_http_on_a_network_address(fresh_db):
    result = _run(
        "run",
        "--host",
        "0.0.0.0",  # noqa: S104
        "--port",
        str(_free_port()),
        "--database-url",
        fresh_db.owner_url,
        timeout=30,
    )
    assert result.returncode == 2
    assert "refusing plain HTTP" in result.stderr


def test_run_serves_https_with_the_lan_ca_and_refuses_old_tls(fresh_db, tmp_path):
    init = _run("tls", "init", str(tmp_path / "tls"), "--name", "localhost", "--name", "127.0.0.1")
    assert init.returncode == 0, init.stderr
    port = _free_port()
    server = subprocess.Popen(
        [
            *HMS,
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--tls-cert",
            str(tmp_path / "tls/server.pem"),
            "--tls-key",
            str(tmp_path / "tls/server-key.pem"),
            "--database-url",
            fresh_db.owner_url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ca_file = str(tmp_path / "tls/ca.pem")
        ca = ssl.create_default_context(cafile=ca_file)
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"https://127.0.0.1:{port}/api/v1/health", verify=ca)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert response.status_code == 200
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=3)
        with pytest.raises(httpx.ConnectError):  # not trusted without the pinned LAN CA
            httpx.get(f"https://127.0.0.1:{port}/api/v1/health")
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(ca_file)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"https://127.0.0.1:{port}/api/v1/health", verify=old)
    finally:
        server.terminate()
        server.wait(10)
