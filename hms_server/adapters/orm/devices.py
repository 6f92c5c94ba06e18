"""Bedside-device messages received over HL7 v2 (ORU^R01), one row per message.

Every message is kept: stored ones point at the vitals they became, the others wait in the
review list (``status`` unmatched, malformed or rejected) until a nurse looks at them. The
(sending application, control id) pair is unique, so a monitor that resends a message whose
acknowledgement it missed gets the same answer and the reading is not stored twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base

DEVICE_MESSAGE_STATUSES = ("stored", "unmatched", "malformed", "rejected")


class DeviceMessage(Base):
    __tablename__ = "device_messages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('stored','unmatched','malformed','rejected')", name="status_code"
        ),
        Index(
            "uq_device_messages_sender_control",
            "sending_application",
            "control_id",
            unique=True,
            postgresql_where=text("control_id IS NOT NULL"),
        ),
        Index(
            "ix_device_messages_review",
            "received_at",
            postgresql_where=text("status <> 'stored' AND reviewed_at IS NULL"),
        ),
        Index("ix_device_messages_patient", "patient_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    sending_application: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    sending_facility: Mapped[str | None] = mapped_column(String(64))
    control_id: Mapped[str | None] = mapped_column(String(64))
    message_type: Mapped[str | None] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_detail: Mapped[str | None] = mapped_column(String(500))
    #: The message as received (clinical data: readable only with the review permission).
    raw: Mapped[str] = mapped_column(Text, nullable=False)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admissions.id"))
    vitals_id: Mapped[int | None] = mapped_column(ForeignKey("vital_signs.id"))
    reviewed_at: Mapped[datetime | None]
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_note: Mapped[str | None] = mapped_column(String(500))
