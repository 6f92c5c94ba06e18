"""reference data versions: which version of each reference dataset is loaded (the data itself
is loaded by ``hms-server migrate`` / ``reference-data load``, never by a migration); the
single-row ``messaging_settings.id`` loses the serial default the ORM never declared.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reference_data_versions",
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dataset", name=op.f("pk_reference_data_versions")),
    )
    # A SmallInteger primary key became SMALLSERIAL in 0005; the table has exactly one row
    # (id = 1, CHECK), so the sequence was never meant to exist.
    op.execute("ALTER TABLE messaging_settings ALTER COLUMN id DROP DEFAULT")
    op.execute("DROP SEQUENCE IF EXISTS messaging_settings_id_seq")


def downgrade() -> None:
    op.execute(
        "CREATE SEQUENCE IF NOT EXISTS messaging_settings_id_seq AS smallint "
        "OWNED BY messaging_settings.id"
    )
    op.execute("SELECT setval('messaging_settings_id_seq', 1)")
    op.execute(
        "ALTER TABLE messaging_settings ALTER COLUMN id "
        "SET DEFAULT nextval('messaging_settings_id_seq')"
    )
    op.drop_table("reference_data_versions")
