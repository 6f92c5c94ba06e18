"""Migration 0010 downgrades and upgrades again cleanly on a database holding billing data,
and the billing ORM models agree with it (autogenerate finds no difference)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

import hms_server.adapters.orm  # noqa: F401  (registers every table)
from hms_server.adapters.migrations import alembic_config
from hms_server.adapters.orm.base import Base

BILLING_TABLES = {
    "price_items",
    "charges",
    "invoices",
    "invoice_lines",
    "payments",
    "payment_allocations",
    "credit_notes",
    "claims",
    "patient_policies",
    "cash_sessions",
    "billing_counters",
    "card_intents",
    "gateway_events",
}


def _run(engine, action: str, target: str) -> None:  # type: ignore[no-untyped-def]
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, target)


def test_billing_migration_goes_down_and_up_with_data(fresh_db):
    engine = fresh_db.owner_engine
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO billing_counters (series, year, last_number) VALUES ('INV', 2026, 7)")
        )
        conn.execute(
            text(
                "INSERT INTO price_items (code, name, category, unit_price, "
                "tax_rate, tax_category, effective_from, active, created_at, "
                "updated_at, version) VALUES ('CONS', 'Consultation', "
                "'consultation', 50, 0, 'exempt', '2026-01-01', true, now(), now(), "
                "1)"
            )
        )
    _run(engine, "downgrade", "0030")
    assert not BILLING_TABLES & set(inspect(engine).get_table_names())
    _run(engine, "upgrade", "head")
    assert set(inspect(engine).get_table_names()) >= BILLING_TABLES
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [
        d for d in diff if "billing" in repr(d) or any(t in repr(d) for t in BILLING_TABLES)
    ] == []
