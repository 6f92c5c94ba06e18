"""Read-side indexes the management reports need on other areas' tables (migration 0080).

Reports cut the history by time: invoices by the day they were issued, payments by when
they were received, patients by when they were registered, appointments by when they were
due. Without these a 30-day revenue report read every invoice and payment ever made
(0.8 s at 400k invoices, see ``bench/reports.py``). The appointment index carries the doctor
and status so the activity report counts from the index alone (an index-only scan), not
from the wide appointment rows. Declared here, next to the reports that need them, so the
owning areas' models stay as they are; they are ordinary indexes of those tables.
"""

from __future__ import annotations

from sqlalchemy import Index

from hms_server.adapters.orm.billing import Invoice, Payment
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import Appointment

REPORT_INDEXES = (
    Index("ix_invoices_issued_on", Invoice.issued_on),
    Index("ix_payments_received_at", Payment.received_at),
    Index("ix_patients_created_at", Patient.created_at),
    Index(
        "ix_appointments_start_report",
        Appointment.starts_at,
        postgresql_include=["doctor_id", "status"],
    ),
)
