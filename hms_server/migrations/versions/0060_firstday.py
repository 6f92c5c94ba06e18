"""first day: duplicate flags and the merge journal (pending merges can be undone until
confirmed), drug synonyms and brand names, a longer interaction-rule source (a citation), and
the prescriber's registration number on doctors.

Revision ID: 0060
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0060"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patient_duplicate_flags",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Numeric(3, 2), nullable=False),
        sa.Column("reasons", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("resolution_note", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open','dismissed','merged')",
            name=op.f("ck_patient_duplicate_flags_status_code"),
        ),
        sa.CheckConstraint(
            "source IN ('self_booking','registration')",
            name=op.f("ck_patient_duplicate_flags_source_code"),
        ),
        sa.CheckConstraint(
            "patient_id <> candidate_id", name=op.f("ck_patient_duplicate_flags_two_records")
        ),
        sa.CheckConstraint(
            "score >= 0 AND score <= 1", name=op.f("ck_patient_duplicate_flags_score_range")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_duplicate_flags_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["patients.id"],
            name=op.f("fk_patient_duplicate_flags_candidate_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_user_id"],
            ["users.id"],
            name=op.f("fk_patient_duplicate_flags_resolved_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_duplicate_flags")),
    )
    op.create_index(
        op.f("ix_patient_duplicate_flags_patient_id"), "patient_duplicate_flags", ["patient_id"]
    )
    op.create_index(
        op.f("ix_patient_duplicate_flags_candidate_id"), "patient_duplicate_flags", ["candidate_id"]
    )
    op.create_index(
        "ix_patient_duplicate_flags_status_created",
        "patient_duplicate_flags",
        ["status", "created_at"],
    )
    op.create_index(
        "uq_patient_duplicate_flags_open_pair",
        "patient_duplicate_flags",
        [sa.text("least(patient_id, candidate_id)"), sa.text("greatest(patient_id, candidate_id)")],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )

    op.create_table(
        "patient_merges",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("survivor_id", sa.BigInteger(), nullable=False),
        sa.Column("duplicate_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("flag_id", sa.BigInteger(), nullable=True),
        sa.Column("requested_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("decided_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending','confirmed','undone')", name=op.f("ck_patient_merges_status_code")
        ),
        sa.CheckConstraint(
            "survivor_id <> duplicate_id", name=op.f("ck_patient_merges_two_records")
        ),
        sa.CheckConstraint(
            "length(btrim(reason)) >= 5", name=op.f("ck_patient_merges_reason_given")
        ),
        sa.CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)",
            name=op.f("ck_patient_merges_decided_when_done"),
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"], ["patients.id"], name=op.f("fk_patient_merges_survivor_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_id"], ["patients.id"], name=op.f("fk_patient_merges_duplicate_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["flag_id"],
            ["patient_duplicate_flags.id"],
            name=op.f("fk_patient_merges_flag_id_patient_duplicate_flags"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_user_id"],
            ["users.id"],
            name=op.f("fk_patient_merges_requested_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_patient_merges_decided_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_merges")),
    )
    op.create_index(op.f("ix_patient_merges_survivor_id"), "patient_merges", ["survivor_id"])
    op.create_index(op.f("ix_patient_merges_duplicate_id"), "patient_merges", ["duplicate_id"])
    op.create_index(
        "ix_patient_merges_status_requested", "patient_merges", ["status", "requested_at"]
    )
    op.create_index(
        "uq_patient_merges_pending_duplicate",
        "patient_merges",
        ["duplicate_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_patient_merges_pending_survivor",
        "patient_merges",
        ["survivor_id"],
        postgresql_where=sa.text("status = 'pending'"),
    )

    op.add_column(
        "drugs",
        sa.Column(
            "synonyms", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
    )
    op.add_column(
        "drugs",
        sa.Column(
            "brand_names",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.alter_column(
        "drug_interactions",
        "source",
        type_=sa.String(length=300),
        existing_type=sa.String(length=120),
        existing_nullable=True,
    )
    op.add_column("doctors", sa.Column("registration_number", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("doctors", "registration_number")
    op.execute("UPDATE drug_interactions SET source = left(source, 120)")
    op.alter_column(
        "drug_interactions",
        "source",
        type_=sa.String(length=120),
        existing_type=sa.String(length=300),
        existing_nullable=True,
    )
    op.drop_column("drugs", "brand_names")
    op.drop_column("drugs", "synonyms")
    op.drop_table("patient_merges")
    op.drop_table("patient_duplicate_flags")
