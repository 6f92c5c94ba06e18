"""Does the database HMS uses let anyone in without a password? (``hms-server check``)

``trust`` in pg_hba.conf lets any user or process that reaches the server connect as any
role, the superuser included (issue 8 found the embedded cluster set up that way). The rules
are read from ``pg_hba_file_rules`` when the role may (superusers, ``pg_read_all_settings``);
otherwise a connection is attempted with no password at all, and PostgreSQL 16's
``system_user`` tells trust (NULL) from peer or certificate authentication.
"""

from __future__ import annotations

import tempfile

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from hms_server.adapters.db import make_engine, normalize_url


def _rules(url: URL) -> list[str] | None:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT line_number, type, database, user_name, address "
                    "FROM pg_hba_file_rules WHERE auth_method = 'trust' "
                    "ORDER BY line_number"
                )
            ).all()
    except DBAPIError:
        return None  # not allowed to read the rules
    finally:
        engine.dispose()
    return [
        f"pg_hba.conf line {n} '{kind} {','.join(dbs or [])} {','.join(users or [])}"
        f"{' ' + address if address else ''}' uses trust"
        for n, kind, dbs, users, address in rows
    ]


def _probe_without_password(url: URL) -> str | None:
    """Connect with no password from anywhere (none given, none in a password file)."""
    plain = url.set(drivername="postgresql", password=None)
    query = {k: v for k, v in plain.query.items() if k != "passfile"}
    with tempfile.NamedTemporaryFile("w", prefix="hms-nopass-") as empty:
        conninfo = plain.set(query={**query, "passfile": empty.name}).render_as_string(
            hide_password=False
        )
        try:
            with psycopg.connect(conninfo, password="", connect_timeout=5) as conn:
                try:
                    how = conn.execute("SELECT system_user").fetchone()
                except psycopg.Error:
                    return (
                        "a connection without a password was accepted (trust, or peer "
                        "authentication: check pg_hba.conf)"
                    )
        except psycopg.Error:
            return None
    if how is not None and how[0] is None:
        return "a connection without a password was accepted (trust)"
    return None


def trust_findings(database_url: str) -> list[str]:
    """One short phrase per way in without a password; empty when there is none."""
    url = normalize_url(database_url)
    rules = _rules(url)
    if rules is not None:
        return rules
    found = _probe_without_password(url)
    return [found] if found else []
