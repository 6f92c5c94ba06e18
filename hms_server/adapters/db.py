"""Engines and the least-privilege runtime database role.

Migrations and admin CLI commands run as the database owner (the URL the operator gives).
The HTTP server connects as ``<database>_app``: a login role that owns nothing, may not
UPDATE or DELETE the audit log, and gets only the table privileges the application needs.
"""

from __future__ import annotations

import re
import secrets
import time

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from hms_server.domain.errors import ConfigurationError

__all__ = ["ConfigurationError"]


def normalize_url(url: str) -> URL:
    """Accept libpq-style URLs (``postgresql://``) and use the psycopg 3 driver."""
    if not url:
        raise ConfigurationError(
            "No database URL: pass --database-url or set HMS_DATABASE_URL "
            "(e.g. the URL printed by 'hms-server db up DIR')."
        )
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


# A pooled connection idle longer than this is tested before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0


def make_engine(url: str | URL, *, pool_size: int = 10, **kwargs: object) -> Engine:
    """An engine that survives database restarts: stale pooled connections are re-tested.

    Only connections that sat idle in the pool for ``PING_AFTER_IDLE_SECONDS`` are tested
    (SQLAlchemy's ``pool_pre_ping`` tests every checkout, and a request checks out two or
    three times: that was a round trip each). A connection used a moment ago that died since
    fails like a request in flight at the moment of the failure would (503, and the client
    retries); SQLAlchemy then invalidates the rest of the pool, so one failure per worker at
    most, and the idle ones are tested anyway.
    """
    engine = create_engine(
        url if isinstance(url, URL) else normalize_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        **kwargs,
    )
    dialect = engine.dialect

    def ping_if_idle(
        dbapi_connection: DBAPIConnection,
        record: ConnectionPoolEntry,
        _proxy: PoolProxiedConnection,
    ) -> None:
        checked_in = record.info.get("checked_in_at")
        if checked_in is not None and time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out (or opens) another one.
            raise DisconnectionError("a pooled connection no longer answers") from exc

    event.listen(engine, "connect", _stamp_checkin)  # a new connection needs no test
    event.listen(engine, "checkin", _stamp_checkin)
    event.listen(engine, "checkout", ping_if_idle)
    return engine


def _stamp_checkin(_dbapi_connection: object, record: ConnectionPoolEntry) -> None:
    record.info["checked_in_at"] = time.monotonic()


def runtime_role_name(owner_url: URL) -> str:
    """Role name per database, so several HMS databases can share one cluster safely."""
    db = owner_url.database or "hms"
    return (re.sub(r"[^a-z0-9_]", "_", db.lower()) + "_app")[:63]


_CREDENTIALS_DDL = """
CREATE TABLE IF NOT EXISTS hms_runtime_credentials (
    role_name text PRIMARY KEY,
    password text NOT NULL
)
"""


def ensure_runtime_role(owner_engine: Engine) -> str:
    """Create (or re-grant) the runtime role; returns its name. Run as the owner after migrating.

    The generated password is kept in an owner-only table so that ``run`` needs nothing but
    the owner URL; the runtime role itself cannot read that table.
    """
    role = runtime_role_name(owner_engine.url)
    with owner_engine.begin() as conn:
        conn.execute(text(_CREDENTIALS_DDL))
        exists = conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).scalar()
        stored = conn.execute(
            text("SELECT password FROM hms_runtime_credentials WHERE role_name = :r"),
            {"r": role},
        ).scalar()
        password = stored or secrets.token_urlsafe(24)
        quoted = conn.execute(text("SELECT quote_ident(:r)"), {"r": role}).scalar_one()
        pw_literal = conn.execute(text("SELECT quote_literal(:p)"), {"p": password}).scalar_one()
        if exists:
            # Only what a CREATEROLE (non-superuser) owner may change; the role was created
            # without superuser, replication or RLS-bypass and nothing here grants them.
            conn.execute(text(f"ALTER ROLE {quoted} LOGIN NOINHERIT PASSWORD {pw_literal}"))
        else:
            conn.execute(
                text(
                    f"CREATE ROLE {quoted} LOGIN NOINHERIT NOCREATEDB NOCREATEROLE "
                    f"PASSWORD {pw_literal}"
                )
            )
        if not stored:
            conn.execute(
                text("INSERT INTO hms_runtime_credentials(role_name, password) VALUES (:r, :p)"),
                {"r": role, "p": password},
            )
        db = conn.execute(text("SELECT quote_ident(current_database())")).scalar_one()
        for stmt in (
            f"GRANT CONNECT ON DATABASE {db} TO {quoted}",
            f"GRANT USAGE ON SCHEMA public TO {quoted}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
            # The audit trail and its seal are append-only for the application.
            f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {quoted}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_seal FROM {quoted}",
            f"REVOKE ALL ON hms_runtime_credentials FROM {quoted}",
            f"REVOKE ALL ON alembic_version FROM {quoted}",
            f"GRANT SELECT ON alembic_version TO {quoted}",
        ):
            conn.execute(text(stmt))
    return role


def runtime_url(owner_url: str, explicit_runtime_url: str = "") -> URL:
    """URL of the runtime role: the explicit one if configured, else derived from the owner's."""
    if explicit_runtime_url:
        return normalize_url(explicit_runtime_url)
    owner = normalize_url(owner_url)
    role = runtime_role_name(owner)
    engine = make_engine(owner, pool_size=1)
    try:
        with engine.connect() as conn:
            password = conn.execute(
                text("SELECT password FROM hms_runtime_credentials WHERE role_name = :r"),
                {"r": role},
            ).scalar()
    except Exception as exc:  # table missing: never migrated
        raise ConfigurationError(
            "The database has no runtime role yet: run 'hms-server migrate' first."
        ) from exc
    finally:
        engine.dispose()
    if not password:
        raise ConfigurationError("The database has no runtime role yet: run 'hms-server migrate'.")
    return owner.set(username=role, password=password)
