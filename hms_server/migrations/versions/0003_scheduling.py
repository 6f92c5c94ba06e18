"""Scheduling: departments, doctors, weekly templates, exceptions, appointment types,
appointments, waitlist and the consultation queue.

The two exclusion constraints on ``appointments`` make double booking impossible whatever
the application does: one per doctor *place* (``overbook_slot`` 0 = regular, 1..N = overbook
places) and one per patient, both ignoring cancelled and no-show rows. ``btree_gist`` (0001)
provides the ``=`` operator class for the integer columns inside the GiST index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 06:29:35.757178
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPOINTMENT_TYPES = [
    {"code": "new", "name": "New patient consultation", "duration_minutes": 15},
    {"code": "follow_up", "name": "Follow-up", "duration_minutes": 10},
    {"code": "procedure", "name": "Procedure", "duration_minutes": 30},
]


def upgrade() -> None:
    op.create_table(
        "appointment_types",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("duration_minutes", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 5 AND 480", name=op.f("ck_appointment_types_duration")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_appointment_types")),
    )
    op.create_table(
        "departments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("location", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("name", name=op.f("uq_departments_name")),
    )
    op.create_table(
        "doctors",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("department_id", sa.BigInteger(), nullable=False),
        sa.Column("specialty", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_doctors_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_doctors_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doctors")),
        sa.UniqueConstraint("user_id", name=op.f("uq_doctors_user_id")),
    )
    op.create_index(op.f("ix_doctors_department_id"), "doctors", ["department_id"], unique=False)
    op.create_table(
        "appointments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("doctor_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overbook_slot", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("type_code", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("location", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("booking_reference", sa.String(length=16), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
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
        postgresql.ExcludeConstraint(
            (sa.column("doctor_id"), "="),
            (sa.column("overbook_slot"), "="),
            (sa.text("tstzrange(starts_at, ends_at, '[)')"), "&&"),
            where=sa.text("status NOT IN ('cancelled','no_show')"),
            using="gist",
            name="ex_appointments_doctor_slot",
        ),
        postgresql.ExcludeConstraint(
            (sa.column("patient_id"), "="),
            (sa.text("tstzrange(starts_at, ends_at, '[)')"), "&&"),
            where=sa.text("status NOT IN ('cancelled','no_show')"),
            using="gist",
            name="ex_appointments_patient_overlap",
        ),
        sa.CheckConstraint("source IN ('staff','self')", name=op.f("ck_appointments_source_code")),
        sa.CheckConstraint(
            "status IN ('booked','checked_in','in_consultation','completed','cancelled','no_show')",
            name=op.f("ck_appointments_status_code"),
        ),
        sa.CheckConstraint(
            "overbook_slot BETWEEN 0 AND 10", name=op.f("ck_appointments_overbook_range")
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_appointments_time_order")),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["doctors.id"], name=op.f("fk_appointments_doctor_id_doctors")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_appointments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["type_code"],
            ["appointment_types.code"],
            name=op.f("fk_appointments_type_code_appointment_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("booking_reference", name=op.f("uq_appointments_booking_reference")),
    )
    op.create_index(
        "ix_appointments_doctor_start", "appointments", ["doctor_id", "starts_at"], unique=False
    )
    op.create_index(
        "ix_appointments_patient_start", "appointments", ["patient_id", "starts_at"], unique=False
    )
    op.create_index("ix_appointments_start", "appointments", ["starts_at"], unique=False)
    op.create_table(
        "schedule_exceptions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("doctor_id", sa.BigInteger(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("end_time", sa.Time(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('leave','holiday','cancelled_session','other')",
            name=op.f("ck_schedule_exceptions_kind_code"),
        ),
        sa.CheckConstraint(
            "(start_time IS NULL) = (end_time IS NULL)",
            name=op.f("ck_schedule_exceptions_times_paired"),
        ),
        sa.CheckConstraint(
            "start_time IS NULL OR start_time < end_time",
            name=op.f("ck_schedule_exceptions_time_order"),
        ),
        sa.CheckConstraint("starts_on <= ends_on", name=op.f("ck_schedule_exceptions_date_order")),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name=op.f("fk_schedule_exceptions_doctor_id_doctors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_exceptions")),
    )
    op.create_index(
        op.f("ix_schedule_exceptions_doctor_id"), "schedule_exceptions", ["doctor_id"], unique=False
    )
    op.create_table(
        "schedule_templates",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("doctor_id", sa.BigInteger(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("slot_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("overbook_places", sa.SmallInteger(), nullable=False),
        sa.Column("location", sa.String(length=100), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "overbook_places BETWEEN 0 AND 10", name=op.f("ck_schedule_templates_overbook_range")
        ),
        sa.CheckConstraint(
            "slot_minutes BETWEEN 5 AND 240", name=op.f("ck_schedule_templates_slot_length")
        ),
        sa.CheckConstraint("start_time < end_time", name=op.f("ck_schedule_templates_time_order")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from <= valid_to",
            name=op.f("ck_schedule_templates_valid_order"),
        ),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_schedule_templates_weekday_range")
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name=op.f("fk_schedule_templates_doctor_id_doctors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_templates")),
    )
    op.create_index(
        op.f("ix_schedule_templates_doctor_id"), "schedule_templates", ["doctor_id"], unique=False
    )
    op.create_table(
        "queue_entries",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("appointment_id", sa.BigInteger(), nullable=True),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("doctor_id", sa.BigInteger(), nullable=False),
        sa.Column("queue_date", sa.Date(), nullable=False),
        sa.Column("token", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('waiting','called','in_consultation','done','left')",
            name=op.f("ck_queue_entries_status_code"),
        ),
        sa.CheckConstraint("token >= 1", name=op.f("ck_queue_entries_token_positive")),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_queue_entries_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["doctors.id"], name=op.f("fk_queue_entries_doctor_id_doctors")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_queue_entries_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_entries")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_queue_entries_appointment_id")),
        sa.UniqueConstraint("doctor_id", "queue_date", "token", name="uq_queue_entries_token"),
    )
    op.create_index(
        "ix_queue_entries_date_doctor", "queue_entries", ["queue_date", "doctor_id"], unique=False
    )
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("doctor_id", sa.BigInteger(), nullable=True),
        sa.Column("department_id", sa.BigInteger(), nullable=True),
        sa.Column("type_code", sa.String(length=32), nullable=False),
        sa.Column("earliest_date", sa.Date(), nullable=False),
        sa.Column("latest_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("offered_doctor_id", sa.BigInteger(), nullable=True),
        sa.Column("offered_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offered_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("appointment_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('waiting','offered','booked','cancelled')",
            name=op.f("ck_waitlist_entries_status_code"),
        ),
        sa.CheckConstraint(
            "doctor_id IS NOT NULL OR department_id IS NOT NULL",
            name=op.f("ck_waitlist_entries_target"),
        ),
        sa.CheckConstraint(
            "earliest_date <= latest_date", name=op.f("ck_waitlist_entries_date_order")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_waitlist_entries_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_waitlist_entries_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["doctors.id"], name=op.f("fk_waitlist_entries_doctor_id_doctors")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_waitlist_entries_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["type_code"],
            ["appointment_types.code"],
            name=op.f("fk_waitlist_entries_type_code_appointment_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    op.create_index(
        op.f("ix_waitlist_entries_patient_id"), "waitlist_entries", ["patient_id"], unique=False
    )
    op.create_index(
        "ix_waitlist_entries_status_created",
        "waitlist_entries",
        ["status", "created_at"],
        unique=False,
    )
    types = sa.table(
        "appointment_types",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("duration_minutes", sa.SmallInteger),
    )
    op.bulk_insert(types, APPOINTMENT_TYPES)


def downgrade() -> None:
    for table in (
        "waitlist_entries",
        "queue_entries",
        "appointments",
        "schedule_templates",
        "schedule_exceptions",
        "appointment_types",
        "doctors",
        "departments",
    ):
        op.drop_table(table)
