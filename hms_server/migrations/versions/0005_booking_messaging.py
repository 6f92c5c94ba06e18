"""Booking and messaging: the outgoing-message outbox, reminder settings, and the rate-limit
counters of the public self-booking page.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "status IN ('queued','sending','failed')"


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("template", sa.String(length=48), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=True),
        sa.Column("appointment_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('sms','email')", name=op.f("ck_messages_channel_code")),
        sa.CheckConstraint(
            "status IN ('queued','sending','sent','failed','dead','cancelled','expired')",
            name=op.f("ck_messages_status_code"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_messages_attempts_positive")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_messages_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_messages_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(
        "ix_messages_due", "messages", ["next_attempt_at"], postgresql_where=sa.text(PENDING)
    )
    op.create_index("ix_messages_status_created", "messages", ["status", "created_at"])
    op.create_index(op.f("ix_messages_patient_id"), "messages", ["patient_id"])
    op.create_index(op.f("ix_messages_appointment_id"), "messages", ["appointment_id"])

    op.create_table(
        "messaging_settings",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column(
            "reminder_hours",
            sa.ARRAY(sa.Integer()),
            server_default=sa.text("'{24}'"),
            nullable=False,
        ),
        sa.Column(
            "send_confirmations", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_messaging_settings_single_row")),
        sa.CheckConstraint(
            "cardinality(reminder_hours) <= 5", name=op.f("ck_messaging_settings_reminder_count")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_settings")),
    )
    op.execute(
        "INSERT INTO messaging_settings (id, reminder_hours, send_confirmations, version) "
        "VALUES (1, '{24}', true, 1)"
    )

    op.create_table(
        "booking_rate_limits",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_booking_rate_limits")),
    )


def downgrade() -> None:
    op.drop_table("booking_rate_limits")
    op.drop_table("messaging_settings")
    op.drop_index(op.f("ix_messages_appointment_id"), table_name="messages")
    op.drop_index(op.f("ix_messages_patient_id"), table_name="messages")
    op.drop_index("ix_messages_status_created", table_name="messages")
    op.drop_index("ix_messages_due", table_name="messages")
    op.drop_table("messages")
