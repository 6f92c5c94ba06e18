"""patients: demographics, MRN sequence, accent-insensitive search indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 06:29:35.727791
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# unaccent() is only STABLE (its dictionary could change), so it cannot appear in an index or
# a generated column. This wrapper pins the dictionary and is declared IMMUTABLE; if the
# unaccent rules are ever changed, REINDEX the patients indexes.
HMS_UNACCENT = """
CREATE OR REPLACE FUNCTION hms_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""


def upgrade() -> None:
    op.execute(HMS_UNACCENT)
    op.execute("CREATE SEQUENCE patient_mrn_seq START WITH 1")
    op.create_table(
        "patients",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("mrn", sa.String(length=32), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("birth_date_estimated", sa.Boolean(), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("national_id", sa.String(length=64), nullable=True),
        sa.Column("address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "next_of_kin",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("preferred_language", sa.String(length=35), nullable=True),
        sa.Column(
            "insurance",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("merged_into_id", sa.BigInteger(), nullable=True),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "search_name",
            sa.Text(),
            sa.Computed("lower(hms_unaccent(given_name || ' ' || family_name))", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "given_norm",
            sa.Text(),
            sa.Computed("lower(hms_unaccent(given_name))", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "family_norm",
            sa.Text(),
            sa.Computed("lower(hms_unaccent(family_name))", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "phone_digits",
            sa.Text(),
            sa.Computed(r"nullif(regexp_replace(phone, '\D', '', 'g'), '')", persisted=True),
            nullable=True,
        ),
        sa.Column(
            "national_id_norm",
            sa.Text(),
            sa.Computed(
                "nullif(upper(regexp_replace(national_id, '[^0-9A-Za-z]', '', 'g')), '')",
                persisted=True,
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "sex IN ('male','female','other','unknown')", name=op.f("ck_patients_sex_code")
        ),
        sa.CheckConstraint(
            "merged_into_id IS NULL OR merged_into_id <> id",
            name=op.f("ck_patients_not_self_merged"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(next_of_kin) = 'array'", name=op.f("ck_patients_next_of_kin_array")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(insurance) = 'array'", name=op.f("ck_patients_insurance_array")
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["patients.id"], name=op.f("fk_patients_merged_into_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("mrn", name=op.f("uq_patients_mrn")),
    )
    op.create_index(
        "ix_patients_search_name_trgm",
        "patients",
        ["search_name"],
        postgresql_using="gin",
        postgresql_ops={"search_name": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_patients_family_norm_prefix",
        "patients",
        ["family_norm"],
        postgresql_ops={"family_norm": "text_pattern_ops"},
    )
    op.create_index(
        "ix_patients_given_norm_prefix",
        "patients",
        ["given_norm"],
        postgresql_ops={"given_norm": "text_pattern_ops"},
    )
    op.create_index("ix_patients_phone_digits", "patients", ["phone_digits"])
    op.create_index(
        "ix_patients_phone_digits_rev",
        "patients",
        [sa.text("reverse(phone_digits) text_pattern_ops")],
    )
    op.create_index("ix_patients_date_of_birth", "patients", ["date_of_birth"])
    op.create_index("ix_patients_national_id_norm", "patients", ["national_id_norm"])
    op.create_index(
        "ix_patients_list_order",
        "patients",
        ["family_norm", "given_norm", "id"],
        postgresql_where=sa.text("merged_into_id IS NULL"),
    )
    op.create_index(
        "ix_patients_merged_into_id",
        "patients",
        ["merged_into_id"],
        postgresql_where=sa.text("merged_into_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("patients")
    op.execute("DROP SEQUENCE IF EXISTS patient_mrn_seq")
    op.execute("DROP FUNCTION IF EXISTS hms_unaccent(text)")
