"""Messaging admin: failed/dead message visibility, manual retry, reminder settings.

The dispatcher that sends due messages is a background worker of the application (started
by ``hms_server.bootstrap`` when ``HMS_SMS_GATEWAY_URL`` or ``HMS_SMTP_HOST`` is set)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from hms_contract.common import Page
from hms_contract.messaging import (
    MessageRead,
    MessageStatus,
    ReminderSettingsRead,
    ReminderSettingsUpdate,
)
from hms_server.api.deps import RequestContext, Require
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import messaging as service

log = logging.getLogger("hms_server.messaging")

MessagingAdmin = Annotated[RequestContext, Depends(Require(Perm.MESSAGING_ADMIN))]


router = APIRouter(prefix="/messages", tags=["messaging"], responses=PROBLEM_RESPONSES)


def _read(message: object) -> MessageRead:
    view = MessageRead.model_validate(message)
    return view.model_copy(update={"recipient": service.mask_recipient(view.recipient)})


@router.get("", operation_id="list_messages")
def list_messages(
    ctx: MessagingAdmin,
    status: Annotated[MessageStatus | None, Query(description="e.g. failed or dead")] = None,
    channel: Annotated[str | None, Query(pattern=r"^(sms|email)$")] = None,
    appointment_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    patient_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[MessageRead]:
    """Outgoing messages, newest first. Recipients are masked and message text is omitted."""
    rows, total = service.list_messages(
        ctx.uow(),
        status=status,
        channel=channel,
        appointment_id=appointment_id,
        patient_id=patient_id,
        limit=limit,
        offset=offset,
    )
    return Page[MessageRead](items=[_read(m) for m in rows], total=total)


@router.get("/settings", operation_id="get_reminder_settings")
def get_reminder_settings(ctx: MessagingAdmin) -> ReminderSettingsRead:
    """When reminders go out (hours before the appointment) and whether confirmations do."""
    return ReminderSettingsRead.model_validate(service.get_reminder_settings(ctx.uow()))


@router.put("/settings", operation_id="update_reminder_settings")
def update_reminder_settings(
    body: ReminderSettingsUpdate, ctx: MessagingAdmin
) -> ReminderSettingsRead:
    """Change the reminder schedule; ``version`` must match (else 409)."""
    return ReminderSettingsRead.model_validate(
        service.update_reminder_settings(
            ctx.uow(),
            version=body.version,
            reminder_hours=body.reminder_hours,
            send_confirmations=body.send_confirmations,
        )
    )


@router.post("/{message_id}/retry", operation_id="retry_message")
def retry_message(
    message_id: Annotated[int, Path(ge=1, le=2**62)], ctx: MessagingAdmin
) -> MessageRead:
    """Queue a failed, dead or expired message for sending again now (409 otherwise)."""
    return _read(service.retry_message(ctx.uow(), message_id))
