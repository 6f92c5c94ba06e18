"""reports: read-side indexes for the management reports (invoices by issue day, payments
by receipt time, patients by registration time, appointments by start with doctor and
status included for index-only counting). See ``hms_server/adapters/orm/reports.py``.

Revision ID: 0080
Revises: 0070
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0080"
down_revision: str | None = "0070"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_invoices_issued_on", "invoices", ["issued_on"])
    op.create_index("ix_payments_received_at", "payments", ["received_at"])
    op.create_index("ix_patients_created_at", "patients", ["created_at"])
    op.create_index(
        "ix_appointments_start_report",
        "appointments",
        ["starts_at"],
        postgresql_include=["doctor_id", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_appointments_start_report", table_name="appointments")
    op.drop_index("ix_patients_created_at", table_name="patients")
    op.drop_index("ix_payments_received_at", table_name="payments")
    op.drop_index("ix_invoices_issued_on", table_name="invoices")
