"""Audit log sealed off the request path: plain rows (sequence id + inserting xid) and a
separate chain table appended by one background sealer under a keyed HMAC.

The old per-row SHA-256 chain (computed under a global lock on every request) is dropped;
the sealer seals the existing rows first, in their old id order, under the server's key.

Revision ID: 0050
Revises: 0006
Create Date: 2026-12-01 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0050"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE audit_log_id_seq AS bigint OWNED BY audit_log.id")
    op.execute("SELECT setval('audit_log_id_seq', coalesce(max(id), 0) + 1, false) FROM audit_log")
    op.execute("ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq')")
    # Rows written before this revision count as one old, finished transaction ('1'), so the
    # sealer chains them first and in their original order.
    op.execute("ALTER TABLE audit_log ADD COLUMN xid xid8")
    op.execute("UPDATE audit_log SET xid = '1'")
    op.execute(
        "ALTER TABLE audit_log ALTER COLUMN xid SET NOT NULL, "
        "ALTER COLUMN xid SET DEFAULT pg_current_xact_id()"
    )
    op.create_index("ix_audit_log_xid", "audit_log", ["xid", "id"])
    op.drop_column("audit_log", "prev_hash")
    op.drop_column("audit_log", "hash")
    op.create_table(
        "audit_seal",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("audit_id", sa.BigInteger(), nullable=False),
        sa.Column("audit_xid", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_seal")),
        sa.UniqueConstraint("audit_id", name=op.f("uq_audit_seal_audit_id")),
    )
    op.execute("ALTER TABLE audit_seal ALTER COLUMN audit_xid TYPE xid8 USING audit_xid::xid8")
    # The chain starts at 1 and has no holes: a deleted seal row is a visible break.
    op.create_check_constraint("seq_positive", "audit_seal", "seq > 0")


def downgrade() -> None:
    op.drop_table("audit_seal")
    op.add_column("audit_log", sa.Column("hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.drop_index("ix_audit_log_xid", table_name="audit_log")
    op.drop_column("audit_log", "xid")
    op.execute("ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT")
    op.execute("DROP SEQUENCE audit_log_id_seq")
