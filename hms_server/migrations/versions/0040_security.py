"""Security findings (issue 8): clinic assignments as a basis of chart access, the reason of a
care-team handover, sign-in guards per (username, address) and administrators' alerts.

Revision ID: 0040
Revises: 0050
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0040"
down_revision: str | None = "0050"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALERT_KINDS = ("account_locked", "account_ceiling", "address_throttled", "reauthenticate_locked")


def upgrade() -> None:
    op.add_column("care_team_members", sa.Column("reason", sa.String(length=1000), nullable=True))

    op.create_table(
        "clinic_assignments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("department_id", sa.BigInteger(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            ondelete="CASCADE",
            name=op.f("fk_clinic_assignments_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            ondelete="CASCADE",
            name=op.f("fk_clinic_assignments_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_clinic_assignments_created_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_assignments")),
    )
    op.create_index(
        "uq_clinic_assignments_user_department_day",
        "clinic_assignments",
        ["user_id", "department_id", "on_date"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_index(
        "ix_clinic_assignments_department", "clinic_assignments", ["department_id", "on_date"]
    )

    op.create_table(
        "sign_in_guards",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lock_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "failures >= 0 AND lock_count >= 0", name=op.f("ck_sign_in_guards_counts")
        ),
        sa.PrimaryKeyConstraint("username", "address", name=op.f("pk_sign_in_guards")),
    )
    op.create_index("ix_sign_in_guards_last_failure", "sign_in_guards", ["last_failure_at"])

    op.create_table(
        "security_alerts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_user_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "kind IN ({})".format(",".join(f"'{k}'" for k in ALERT_KINDS)),
            name=op.f("ck_security_alerts_kind_code"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            ondelete="SET NULL",
            name=op.f("fk_security_alerts_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_user_id"],
            ["users.id"],
            ondelete="SET NULL",
            name=op.f("fk_security_alerts_acknowledged_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_alerts")),
    )
    op.create_index("ix_security_alerts_open", "security_alerts", ["acknowledged_at", "last_at"])


def downgrade() -> None:
    op.drop_table("security_alerts")
    op.drop_table("sign_in_guards")
    op.drop_table("clinic_assignments")
    op.drop_column("care_team_members", "reason")
