"""ehr: encounters, notes (versioned), vitals, allergies, problems, labs, documents, care team,
break-the-glass grants; formulary, interaction table, prescriptions. The reference data in those
tables (formulary, interactions, lab catalogue) is not loaded here: migrations never read data
files; ``hms-server migrate`` loads it afterwards (``adapters.reference_data``).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "prescription_overrides",
    "prescription_items",
    "prescriptions",
    "drug_interactions",
    "drugs",
    "break_glass_grants",
    "care_team_members",
    "patient_documents",
    "lab_results",
    "lab_orders",
    "lab_tests",
    "problems",
    "allergies",
    "vital_signs",
    "clinical_note_versions",
    "clinical_notes",
    "encounters",
)


def upgrade() -> None:
    op.execute("CREATE SEQUENCE prescription_number_seq START WITH 1")
    op.create_table(
        "drug_interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("side_a", sa.String(length=120), nullable=False),
        sa.Column("side_b", sa.String(length=120), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=True),
        sa.CheckConstraint(
            "severity IN ('contraindicated','major','moderate','minor')",
            name=op.f("ck_drug_interactions_severity_code"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drug_interactions")),
    )
    op.create_table(
        "drugs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("generic_name", sa.String(length=200), nullable=False),
        sa.Column("ingredients", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("form", sa.String(length=64), nullable=False),
        sa.Column("strength", sa.String(length=100), nullable=True),
        sa.Column("route", sa.String(length=32), nullable=False),
        sa.Column("atc_code", sa.String(length=8), nullable=True),
        sa.Column("therapeutic_class", sa.String(length=8), nullable=True),
        sa.Column("class_name", sa.String(length=120), nullable=True),
        sa.Column(
            "allergy_groups",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("essential", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drugs")),
        sa.UniqueConstraint("code", name=op.f("uq_drugs_code")),
    )
    op.create_table(
        "lab_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("loinc", sa.String(length=16), nullable=True),
        sa.Column("specimen", sa.String(length=64), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("ref_low", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("ref_high", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("critical_low", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("critical_high", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("value_type", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_tests")),
        sa.UniqueConstraint("code", name=op.f("uq_lab_tests_code")),
    )
    op.create_table(
        "allergies",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("substance", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reaction", sa.String(length=500), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("onset_date", sa.Date(), nullable=True),
        sa.Column("recorded_by_user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "recorded_at",
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
        sa.CheckConstraint(
            "category IN ('medication', 'food', 'environment', 'biologic')",
            name=op.f("ck_allergies_category_code"),
        ),
        sa.CheckConstraint(
            "kind IN ('allergy','intolerance')", name=op.f("ck_allergies_kind_code")
        ),
        sa.CheckConstraint(
            "severity IN ('mild', 'moderate', 'severe')", name=op.f("ck_allergies_severity_code")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'inactive', 'resolved', 'entered_in_error')",
            name=op.f("ck_allergies_status_code"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_allergies_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"],
            ["users.id"],
            name=op.f("fk_allergies_recorded_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allergies")),
    )
    op.create_index("ix_allergies_patient", "allergies", ["patient_id"], unique=False)
    op.create_table(
        "break_glass_grants",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workstation", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("review_note", sa.String(length=1000), nullable=True),
        sa.CheckConstraint(
            "expires_at > granted_at", name=op.f("ck_break_glass_grants_expires_after_granted")
        ),
        sa.CheckConstraint(
            "length(btrim(reason)) > 0", name=op.f("ck_break_glass_grants_reason_present")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_break_glass_grants_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_user_id"],
            ["users.id"],
            name=op.f("fk_break_glass_grants_reviewed_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_break_glass_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_grants")),
    )
    op.create_index(
        "ix_break_glass_grants_granted", "break_glass_grants", ["granted_at"], unique=False
    )
    op.create_index(
        "ix_break_glass_grants_user_patient",
        "break_glass_grants",
        ["user_id", "patient_id", "expires_at"],
        unique=False,
    )
    op.create_table(
        "care_team_members",
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("added_by_user_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_user_id"],
            ["users.id"],
            name=op.f("fk_care_team_members_added_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_care_team_members_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_care_team_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("patient_id", "user_id", name=op.f("pk_care_team_members")),
    )
    op.create_index(
        "ix_care_team_members_user", "care_team_members", ["user_id", "patient_id"], unique=False
    )
    op.create_table(
        "encounters",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("clinician_user_id", sa.BigInteger(), nullable=False),
        sa.Column("appointment_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('outpatient', 'inpatient', 'emergency', 'telehealth', 'home')",
            name=op.f("ck_encounters_kind_code"),
        ),
        sa.CheckConstraint(
            "status IN ('in_progress', 'finished', 'cancelled')",
            name=op.f("ck_encounters_status_code"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at", name=op.f("ck_encounters_period_order")
        ),
        sa.ForeignKeyConstraint(
            ["clinician_user_id"], ["users.id"], name=op.f("fk_encounters_clinician_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_encounters_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encounters")),
    )
    op.create_index(
        "ix_encounters_appointment",
        "encounters",
        ["appointment_id"],
        unique=False,
        postgresql_where=sa.text("appointment_id IS NOT NULL"),
    )
    op.create_index(
        "ix_encounters_clinician_started",
        "encounters",
        ["clinician_user_id", "started_at"],
        unique=False,
    )
    op.create_index(
        "ix_encounters_patient_started",
        "encounters",
        ["patient_id", sa.literal_column("started_at DESC")],
        unique=False,
    )
    op.create_table(
        "clinical_notes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("author_user_id", sa.BigInteger(), nullable=False),
        sa.Column("note_type", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "note_type IN ('soap', 'progress', 'consult', 'procedure', 'discharge', 'nursing')",
            name=op.f("ck_clinical_notes_note_type_code"),
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"], ["users.id"], name=op.f("fk_clinical_notes_author_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_clinical_notes_encounter_id_encounters"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_clinical_notes_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_notes")),
    )
    op.create_index("ix_clinical_notes_encounter", "clinical_notes", ["encounter_id"], unique=False)
    op.create_index(
        "ix_clinical_notes_patient_created",
        "clinical_notes",
        ["patient_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_table(
        "lab_orders",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("test_id", sa.Integer(), nullable=False),
        sa.Column("ordered_by_user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "ordered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "priority IN ('routine', 'urgent', 'stat')", name=op.f("ck_lab_orders_priority_code")
        ),
        sa.CheckConstraint(
            "status IN ('ordered', 'resulted', 'cancelled')", name=op.f("ck_lab_orders_status_code")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_lab_orders_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["ordered_by_user_id"],
            ["users.id"],
            name=op.f("fk_lab_orders_ordered_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_lab_orders_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["test_id"], ["lab_tests.id"], name=op.f("fk_lab_orders_test_id_lab_tests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_orders")),
    )
    op.create_index(
        "ix_lab_orders_patient_ordered",
        "lab_orders",
        ["patient_id", sa.literal_column("ordered_at DESC")],
        unique=False,
    )
    op.create_table(
        "patient_documents",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "uploaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_patient_documents_size_positive")),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_patient_documents_encounter_id_encounters"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_documents_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"],
            ["users.id"],
            name=op.f("fk_patient_documents_uploaded_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_documents")),
    )
    op.create_index(
        "ix_patient_documents_patient",
        "patient_documents",
        ["patient_id", sa.literal_column("uploaded_at DESC")],
        unique=False,
    )
    op.create_table(
        "prescriptions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("prescriber_user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.String(length=1000), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'cancelled')",
            name=op.f("ck_prescriptions_status_code"),
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_prescriptions_encounter_id_encounters"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_prescriptions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["prescriber_user_id"],
            ["users.id"],
            name=op.f("fk_prescriptions_prescriber_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescriptions")),
        sa.UniqueConstraint("number", name=op.f("uq_prescriptions_number")),
    )
    op.create_index(
        "ix_prescriptions_patient_active",
        "prescriptions",
        ["patient_id"],
        unique=False,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_prescriptions_patient_created",
        "prescriptions",
        ["patient_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_table(
        "problems",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("icd10_code", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("onset_date", sa.Date(), nullable=True),
        sa.Column("resolved_date", sa.Date(), nullable=True),
        sa.Column("notes", sa.String(length=1000), nullable=True),
        sa.Column("recorded_by_user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "recorded_at",
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
        sa.CheckConstraint(
            "status IN ('active', 'inactive', 'resolved', 'entered_in_error')",
            name=op.f("ck_problems_status_code"),
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_problems_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_problems_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"],
            ["users.id"],
            name=op.f("fk_problems_recorded_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problems")),
    )
    op.create_index("ix_problems_patient", "problems", ["patient_id"], unique=False)
    op.create_table(
        "vital_signs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("recorded_by_user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("systolic_mmhg", sa.SmallInteger(), nullable=True),
        sa.Column("diastolic_mmhg", sa.SmallInteger(), nullable=True),
        sa.Column("heart_rate_bpm", sa.SmallInteger(), nullable=True),
        sa.Column("respiratory_rate", sa.SmallInteger(), nullable=True),
        sa.Column("temperature_c", sa.Numeric(precision=4, scale=1), nullable=True),
        sa.Column("spo2_pct", sa.SmallInteger(), nullable=True),
        sa.Column("weight_kg", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("height_cm", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("bmi", sa.Numeric(precision=4, scale=1), nullable=True),
        sa.Column(
            "flags",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("notes", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_vital_signs_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_vital_signs_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"],
            ["users.id"],
            name=op.f("fk_vital_signs_recorded_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vital_signs")),
    )
    op.create_index("ix_vital_signs_encounter", "vital_signs", ["encounter_id"], unique=False)
    op.create_index(
        "ix_vital_signs_patient_recorded",
        "vital_signs",
        ["patient_id", sa.literal_column("recorded_at DESC")],
        unique=False,
    )
    op.create_table(
        "clinical_note_versions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("note_id", sa.BigInteger(), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=False),
        sa.Column("subjective", sa.Text(), nullable=True),
        sa.Column("objective", sa.Text(), nullable=True),
        sa.Column("assessment", sa.Text(), nullable=True),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("amendment_reason", sa.String(length=500), nullable=True),
        sa.Column("author_user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by_user_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_clinical_note_versions_author_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["clinical_notes.id"],
            name=op.f("fk_clinical_note_versions_note_id_clinical_notes"),
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_user_id"],
            ["users.id"],
            name=op.f("fk_clinical_note_versions_signed_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_note_versions")),
        sa.UniqueConstraint("note_id", "version_no", name="uq_clinical_note_versions_note_version"),
    )
    op.create_table(
        "lab_results",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("test_id", sa.Integer(), nullable=False),
        sa.Column("value_numeric", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("value_text", sa.String(length=500), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("ref_low", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("ref_high", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("flag", sa.String(length=4), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("resulted_by_user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "resulted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "value_numeric IS NOT NULL OR value_text IS NOT NULL",
            name=op.f("ck_lab_results_has_value"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["lab_orders.id"], name=op.f("fk_lab_results_order_id_lab_orders")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_lab_results_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["resulted_by_user_id"],
            ["users.id"],
            name=op.f("fk_lab_results_resulted_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["test_id"], ["lab_tests.id"], name=op.f("fk_lab_results_test_id_lab_tests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_results")),
        sa.UniqueConstraint("order_id", name=op.f("uq_lab_results_order_id")),
    )
    op.create_index(
        "ix_lab_results_patient_resulted",
        "lab_results",
        ["patient_id", sa.literal_column("resulted_at DESC")],
        unique=False,
    )
    op.create_table(
        "prescription_items",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("prescription_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("drug_id", sa.Integer(), nullable=False),
        sa.Column("dose", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("route", sa.String(length=32), nullable=False),
        sa.Column("frequency", sa.String(length=64), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("instructions", sa.String(length=500), nullable=True),
        sa.CheckConstraint("dose > 0", name=op.f("ck_prescription_items_dose_positive")),
        sa.CheckConstraint(
            "duration_days IS NULL OR duration_days > 0",
            name=op.f("ck_prescription_items_duration_positive"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_prescription_items_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["drug_id"], ["drugs.id"], name=op.f("fk_prescription_items_drug_id_drugs")
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescriptions.id"],
            name=op.f("fk_prescription_items_prescription_id_prescriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescription_items")),
    )
    op.create_index(
        "ix_prescription_items_prescription",
        "prescription_items",
        ["prescription_id"],
        unique=False,
    )
    op.create_table(
        "prescription_overrides",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("prescription_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("conflicts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescriptions.id"],
            name=op.f("fk_prescription_overrides_prescription_id_prescriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_prescription_overrides_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescription_overrides")),
    )
    op.create_index(
        op.f("ix_prescription_overrides_prescription_id"),
        "prescription_overrides",
        ["prescription_id"],
        unique=False,
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    op.execute("DROP SEQUENCE IF EXISTS prescription_number_seq")
