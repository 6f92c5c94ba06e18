"""Messaging admin shapes (pydantic only)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MessageStatus = Literal["queued", "sending", "sent", "failed", "dead", "cancelled", "expired"]


class MessageRead(BaseModel):
    """One outbox message as admins see it: recipient masked, no message text."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: Literal["sms", "email", "hl7"]
    recipient: str = Field(description="Masked, e.g. +44••••••0123")
    template: str
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime
    expires_at: datetime | None
    last_error: str | None
    provider_message_id: str | None
    patient_id: int | None
    appointment_id: int | None
    created_at: datetime
    sent_at: datetime | None


class ReminderSettingsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reminder_hours: list[int] = Field(description="Hours before the appointment, e.g. [24]")
    send_confirmations: bool
    version: int


class ReminderSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reminder_hours: list[int] = Field(max_length=5)
    send_confirmations: bool = True
    version: int = Field(ge=1)
