"""Messaging and self-booking state: the outgoing-message outbox, reminder settings, and the
rate-limit counters of the public booking page.

The outbox row is written in the same transaction as the appointment change that causes it,
so a confirmation exists exactly when the booking does. Dispatchers in any number of server
processes claim rows with ``SELECT ... FOR UPDATE SKIP LOCKED``; see ``services.messaging``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base

MESSAGE_CHANNELS = ("sms", "email", "hl7")
# queued: waiting for its time; sending: claimed by a dispatcher (lease in claimed_at);
# failed: a transient failure, retried at next_attempt_at; dead: given up (admin may retry);
# sent; cancelled: its appointment was cancelled or moved; expired: too late to be useful.
MESSAGE_STATUSES = ("queued", "sending", "sent", "failed", "dead", "cancelled", "expired")
PENDING_STATUSES = ("queued", "sending", "failed")


def _in(values: tuple[str, ...]) -> str:
    return ",".join(f"'{v}'" for v in values)


class Message(Base):
    """One outgoing SMS or e-mail. ``last_error`` holds provider codes and error classes
    only, never patient names or message text."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(f"channel IN ({_in(MESSAGE_CHANNELS)})", name="channel_code"),
        CheckConstraint(f"status IN ({_in(MESSAGE_STATUSES)})", name="status_code"),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
        # The dispatcher's claim query: due pending rows in time order.
        Index(
            "ix_messages_due",
            "next_attempt_at",
            postgresql_where=text(f"status IN ({_in(PENDING_STATUSES)})"),
        ),
        Index("ix_messages_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    template: Mapped[str] = mapped_column(String(48), nullable=False)
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="queued")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(nullable=False)
    # Not worth sending after this (e.g. a reminder once the appointment has started).
    expires_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column()


class MessagingSettingsRow(Base):
    """The single row of reminder settings an admin can change at run time."""

    __tablename__ = "messaging_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("cardinality(reminder_hours) <= 5", name="reminder_count"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1, autoincrement=False)
    # Hours before the appointment at which reminders go out, e.g. {24} or {72, 24, 2}.
    reminder_hours: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), nullable=False, server_default=text("'{24}'")
    )
    send_confirmations: Mapped[bool] = mapped_column(nullable=False, server_default=text("true"))
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class BookingRateLimit(Base):
    """Fixed-window request counters for the public booking page, shared by every server
    process. ``key`` is e.g. ``addr:book:10.0.0.7`` or ``mrn:<hmac>`` (never a raw MRN)."""

    __tablename__ = "booking_rate_limits"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(nullable=False)
    hits: Mapped[int] = mapped_column(Integer, nullable=False)
