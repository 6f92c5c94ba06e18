"""Appointment confirmations and reminders through the outgoing-message outbox.

Enqueueing happens inside the booking transaction (``on_appointment_changed`` handles the
scheduling ``AppointmentChanged`` event, subscribed in ``hms_server.bootstrap``), so a message
exists exactly when its appointment does.
Sending happens later, outside any transaction: ``dispatch_due_messages`` claims due rows
with ``SELECT ... FOR UPDATE SKIP LOCKED`` (any number of server processes may run it),
hands snapshots to the channel adapters, and records the outcome. A transient failure is
retried after 1, 5, 15 and 60 minutes, then the message is ``dead`` and an admin sees it.

Message text names the hospital, doctor, time and booking reference — never the patient —
and stored errors hold provider codes only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hms_server.adapters.messaging.base import (
    MessageAdapter,
    OutgoingMessage,
    PermanentSendError,
    TransientSendError,
)
from hms_server.adapters.messaging.sms_http import normalize_phone
from hms_server.adapters.orm.base import touch, utcnow
from hms_server.adapters.orm.messaging import (
    MESSAGE_STATUSES,
    Message,
    MessagingSettingsRow,
)
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import Appointment
from hms_server.adapters.repositories.appointments import (
    AppointmentRepository,
    WaitlistRepository,
)
from hms_server.adapters.repositories.messaging import MessageRepository
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.repositories.scheduling import SchedulingRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.domain.events import AppointmentChanged, PatientsMerged, WaitlistOffered
from hms_server.domain.hospital import Hospital
from hms_server.domain.versioning import check_version

log = logging.getLogger("hms_server.messaging")

CATEGORY = "messaging"
#: Waits after the 1st, 2nd, 3rd, 4th failed attempt; the 5th failure is final (``dead``).
BACKOFF_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=60),
)
MAX_ATTEMPTS = len(BACKOFF_SCHEDULE) + 1
#: A claimed message whose dispatcher died is claimed again after this long.
CLAIM_LEASE = timedelta(minutes=5)
MAX_REMINDER_HOURS = 24 * 14
RETRYABLE_STATUSES = ("failed", "dead", "expired")


def next_retry_delay(attempts: int, retry_after: float | None = None) -> timedelta | None:
    """How long to wait after the ``attempts``-th failed attempt, or ``None`` to give up.

    A gateway's own ``Retry-After`` hint lengthens the wait but never shortens it.
    """
    if attempts < 1:
        raise ValueError("attempts counts the failed attempt just made (>= 1)")
    if attempts > len(BACKOFF_SCHEDULE):
        return None
    delay = BACKOFF_SCHEDULE[attempts - 1]
    if retry_after is not None and retry_after > delay.total_seconds():
        delay = timedelta(seconds=min(retry_after, 24 * 3600))
    return delay


# --- templates -----------------------------------------------------------------------------

_SUBJECTS = {
    "appointment_confirmation": "Your appointment is booked",
    "appointment_rescheduled": "Your appointment has moved",
    "appointment_reminder": "Appointment reminder",
    "appointment_cancelled": "Your appointment is cancelled",
    "waitlist_offer": "An earlier appointment is free for you",
}
TEMPLATES = tuple(_SUBJECTS)


@dataclass(frozen=True)
class AppointmentFacts:
    """What message text may say about an appointment (no patient identity)."""

    starts_at: datetime
    doctor: str
    department: str
    location: str | None
    reference: str


def _when(at: datetime, hospital: Hospital) -> str:
    local = hospital.local(at)
    return f"{local:%a} {local.day} {local:%b %Y} at {local:%H:%M}"


def render(template: str, facts: AppointmentFacts, hospital: Hospital) -> tuple[str, str]:
    """``(subject, body)`` of a message; the body suits SMS and plain-text e-mail alike."""
    when, doctor = _when(facts.starts_at, hospital), f"{facts.doctor} ({facts.department})"
    where = f" Location: {facts.location}." if facts.location else ""
    ref = f" Ref {facts.reference}."
    cancel = (
        f" To cancel, visit {hospital.booking_url} or call us."
        if hospital.booking_url
        else " To cancel, call us or use the booking page."
    )
    lead = f"{hospital.name}: "
    if template == "appointment_confirmation":
        body = f"{lead}your appointment with {doctor} is booked for {when}.{where}{ref}{cancel}"
    elif template == "appointment_rescheduled":
        body = f"{lead}your appointment with {doctor} has moved to {when}.{where}{ref}{cancel}"
    elif template == "appointment_reminder":
        body = f"{lead}reminder: appointment with {doctor} on {when}.{where}{ref}{cancel}"
    elif template == "appointment_cancelled":
        body = f"{lead}your appointment with {doctor} on {when} is cancelled.{ref}"
    elif template == "waitlist_offer":
        # ``reference`` carries when the offer lapses (a waitlist offer has no booking yet).
        call = f" call {hospital.phone}" if hospital.phone else " call us"
        body = (
            f"{lead}a place with {doctor} is free on {when}.{where} We hold it for you "
            f"until {facts.reference}: to take it,{call}."
        )
    else:
        raise ValueError(f"unknown template {template!r}")
    return _SUBJECTS[template], body


# --- enqueueing (inside the booking transaction) ---------------------------------------------


def _facts(uow: UnitOfWork, appointment: Appointment) -> AppointmentFacts:
    scheduling_rows = uow.repo(SchedulingRepository)
    doctor = scheduling_rows.doctor(appointment.doctor_id)
    department = scheduling_rows.department(doctor.department_id) if doctor else None
    return AppointmentFacts(
        starts_at=appointment.starts_at,
        doctor=doctor.display_name if doctor else "your doctor",
        department=department.name if department else "clinic",
        location=appointment.location or (department.location if department else None),
        reference=appointment.booking_reference,
    )


def _channels(patient: Patient | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if patient is None:
        return out
    phone = normalize_phone(patient.phone or "")
    if phone:
        out.append(("sms", phone))
    if patient.email and "@" in patient.email:
        out.append(("email", patient.email.strip()))
    return out


def _enqueue(
    uow: UnitOfWork,
    appointment: Appointment,
    template: str,
    facts: AppointmentFacts,
    recipients: list[tuple[str, str]],
    due: datetime,
    expires: datetime | None,
    now: datetime,
) -> int:
    messages = uow.repo(MessageRepository)
    subject, body = render(template, facts, uow.hospital)
    for channel, recipient in recipients:
        messages.stage(
            Message(
                channel=channel,
                recipient=recipient,
                template=template,
                subject=subject if channel == "email" else None,
                body=body,
                patient_id=appointment.patient_id,
                appointment_id=appointment.id,
                status="queued",
                attempts=0,
                next_attempt_at=due,
                expires_at=expires,
                created_at=now,
            )
        )
    return len(recipients)


def cancel_pending_messages(
    uow: UnitOfWork, appointment_id: int, templates: Sequence[str] = TEMPLATES
) -> int:
    """Cancel an appointment's not-yet-sent messages (those in flight are left alone)."""
    return uow.repo(MessageRepository).cancel_pending(appointment_id, templates)


def enqueue_appointment_messages(
    uow: UnitOfWork, event: str, appointment: Appointment, *, now: datetime | None = None
) -> int:
    """Queue what an appointment event should tell the patient; returns messages queued.

    ``booked``: a confirmation now and one reminder per configured hours-before that is
    still in the future. ``rescheduled``: old reminders cancelled, a "moved" notice and new
    reminders. ``cancelled``: pending reminders cancelled and a cancellation notice.
    """
    messages = uow.repo(MessageRepository)
    now = now or utcnow()
    messages.flush()  # the appointment needs its id
    if event in ("rescheduled", "cancelled"):
        cancel_pending_messages(uow, appointment.id)
    if event not in ("booked", "rescheduled", "cancelled"):
        return 0
    recipients = _channels(uow.repo(PatientRepository).get(appointment.patient_id))
    if not recipients or appointment.starts_at <= now:
        return 0
    settings = messages.settings()
    facts = _facts(uow, appointment)
    queued = 0
    if event == "cancelled":
        return _enqueue(
            uow,
            appointment,
            "appointment_cancelled",
            facts,
            recipients,
            now,
            appointment.starts_at,
            now,
        )
    if settings.send_confirmations:
        template = "appointment_confirmation" if event == "booked" else "appointment_rescheduled"
        queued += _enqueue(
            uow, appointment, template, facts, recipients, now, appointment.starts_at, now
        )
    for hours in sorted(set(settings.reminder_hours or []), reverse=True):
        due = appointment.starts_at - timedelta(hours=hours)
        if due > now:
            queued += _enqueue(
                uow,
                appointment,
                "appointment_reminder",
                facts,
                recipients,
                due,
                appointment.starts_at,
                now,
            )
    return queued


def on_appointment_changed(uow: UnitOfWork, event: AppointmentChanged) -> None:
    """Handles ``AppointmentChanged`` inside the booking transaction."""
    appointment = uow.repo(AppointmentRepository).get(event.appointment_id)
    if appointment is not None:
        enqueue_appointment_messages(uow, event.change, appointment)


def on_waitlist_offered(uow: UnitOfWork, event: WaitlistOffered) -> None:
    """Handles ``WaitlistOffered`` inside the transaction that freed the slot: tell the
    waiting patient (SMS and e-mail, as for bookings) that a place is held for them until
    the offer lapses; the message expires with the offer."""
    entry = uow.repo(WaitlistRepository).get(event.waitlist_id)
    if entry is None or entry.offered_start is None or entry.offered_doctor_id is None:
        return
    recipients = _channels(uow.repo(PatientRepository).get(entry.patient_id))
    now = utcnow()
    if not recipients:
        return
    scheduling_rows = uow.repo(SchedulingRepository)
    doctor = scheduling_rows.doctor(entry.offered_doctor_id)
    department = scheduling_rows.department(doctor.department_id) if doctor else None
    until = entry.offer_expires_at or entry.offered_start
    facts = AppointmentFacts(
        starts_at=entry.offered_start,
        doctor=doctor.display_name if doctor else "your doctor",
        department=department.name if department else "clinic",
        location=department.location if department else None,
        reference=_when(until, uow.hospital),
    )
    subject, body = render("waitlist_offer", facts, uow.hospital)
    messages = uow.repo(MessageRepository)
    for channel, recipient in recipients:
        messages.stage(
            Message(
                channel=channel,
                recipient=recipient,
                template="waitlist_offer",
                subject=subject if channel == "email" else None,
                body=body,
                patient_id=entry.patient_id,
                appointment_id=None,
                status="queued",
                attempts=0,
                next_attempt_at=now,
                expires_at=until,
                created_at=now,
            )
        )
    uow.audit(
        CATEGORY,
        "message.queue",
        patient_id=entry.patient_id,
        detail={
            "template": "waitlist_offer",
            "waitlist_id": entry.id,
            "channels": [c for c, _r in recipients],
        },
    )


def move_messages_on_merge(uow: UnitOfWork, event: PatientsMerged) -> None:
    """Messages (sent or queued) follow the surviving record of a patient merge."""
    uow.repo(MessageRepository).move_patient(event.loser_id, event.survivor_id)


# --- dispatching (outside transactions) -----------------------------------------------------


@dataclass
class DispatchReport:
    """What one dispatch pass did (counts only)."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    expired: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Outcome:
    message_id: int
    provider_id: str | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None


UowFactory = Callable[[], UnitOfWork]


def dispatch_due_messages(
    uow_factory: UowFactory,
    adapters: Mapping[str, MessageAdapter],
    now: datetime | None = None,
    *,
    batch_size: int = 50,
    lease: timedelta = CLAIM_LEASE,
) -> DispatchReport:
    """Send every due message of the configured channels once; returns what happened.

    Three short transactions: claim (status ``sending``, attempts + 1) with SKIP LOCKED so
    parallel dispatchers never take the same row; send with no transaction open; record
    each outcome (only if the row is still ours, i.e. not reclaimed after a lease expiry).
    """
    now = now or utcnow()
    report = DispatchReport()
    channels = sorted(adapters)
    uow = uow_factory()
    with uow:
        messages = uow.repo(MessageRepository)
        report.expired = messages.expire_due(now)
        claimed: list[Message] = []
        if channels:
            claimed = messages.claim_due(channels, now, lease, batch_size)
        snapshots = []
        for message in claimed:
            message.status, message.claimed_at = "sending", now
            message.attempts += 1
            snapshots.append(
                OutgoingMessage(
                    message.id, message.channel, message.recipient, message.subject, message.body
                )
            )
        uow.commit()
    report.claimed = len(snapshots)
    if not snapshots:
        return report

    outcomes = [_send(adapters[s.channel], s) for s in snapshots]

    uow = uow_factory()
    with uow:
        for outcome in outcomes:
            row = uow.repo(MessageRepository).get(outcome.message_id, lock=True)
            if row is None or row.status != "sending" or row.claimed_at != now:
                report.skipped += 1
                continue
            row.claimed_at = None
            if outcome.error is None:
                row.status, row.sent_at = "sent", utcnow()
                row.provider_message_id = outcome.provider_id
                row.last_error = None
                report.sent += 1
                continue
            row.last_error = outcome.error[:500]
            delay = (
                None if outcome.permanent else next_retry_delay(row.attempts, outcome.retry_after)
            )
            if delay is None:
                row.status = "dead"
                report.dead += 1
                log.warning(
                    "message %s is dead after %s attempt(s): %s",
                    row.id,
                    row.attempts,
                    row.last_error,
                )
            else:
                row.status, row.next_attempt_at = "failed", now + delay
                report.retrying += 1
            report.errors.append(outcome.error)
        uow.commit()
    return report


def _send(adapter: MessageAdapter, message: OutgoingMessage) -> _Outcome:
    try:
        result = adapter.send(message)
    except PermanentSendError as exc:
        return _Outcome(message.id, error=str(exc) or type(exc).__name__, permanent=True)
    except TransientSendError as exc:
        return _Outcome(
            message.id, error=str(exc) or type(exc).__name__, retry_after=exc.retry_after
        )
    except Exception as exc:  # an adapter bug must not stop the batch; retried as transient
        log.error("messaging adapter %s raised %s", adapter.channel, type(exc).__name__)
        return _Outcome(message.id, error=f"adapter error: {type(exc).__name__}")
    return _Outcome(message.id, provider_id=result.provider_message_id)


class MessageDispatcher:
    """A daemon thread that runs ``dispatch_due_messages`` every ``interval`` seconds.

    Owns nothing but its thread; ``uow_factory`` (``Runtime.uow_factory``) gives one unit
    of work per transaction. Safe to run in every server process (claims use SKIP LOCKED).
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        adapters: Mapping[str, MessageAdapter],
        *,
        interval: float = 5.0,
        batch_size: int = 50,
    ) -> None:
        self._uow_factory = uow_factory
        self._adapters = dict(adapters)
        self._interval = interval
        self._batch_size = batch_size
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _uow(self) -> UnitOfWork:
        return self._uow_factory()

    def run_once(self) -> DispatchReport:
        return dispatch_due_messages(self._uow, self._adapters, batch_size=self._batch_size)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                # Drain a backlog batch by batch, then sleep.
                while not self._stop.is_set():
                    report = self.run_once()
                    if report.claimed < self._batch_size:
                        break
            except Exception as exc:  # the database may be restarting: try again later
                log.warning("message dispatch failed: %s", type(exc).__name__)
            self._stop.wait(self._interval)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="hms-message-dispatcher", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


# --- admin use cases ------------------------------------------------------------------------


def list_messages(
    uow: UnitOfWork,
    *,
    status: str | None = None,
    channel: str | None = None,
    appointment_id: int | None = None,
    patient_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Message], int]:
    """Outbox rows, newest first, filtered (all filters AND). Audited as a read."""
    if status is not None and status not in MESSAGE_STATUSES:
        raise ValidationFailedError(f"Unknown status; use one of {', '.join(MESSAGE_STATUSES)}.")
    with uow:
        rows, total = uow.repo(MessageRepository).search(
            status=status,
            channel=channel,
            appointment_id=appointment_id,
            patient_id=patient_id,
            limit=limit,
            offset=offset,
        )
        uow.audit(
            CATEGORY,
            "messages.list",
            patient_id=patient_id,
            detail={"status": status, "count": len(rows)},
        )
        uow.commit()
        return rows, int(total)


def retry_message(uow: UnitOfWork, message_id: int, *, now: datetime | None = None) -> Message:
    """Send a failed, dead or expired message again now, with a fresh set of attempts."""
    now = now or utcnow()
    with uow:
        message = uow.repo(MessageRepository).get(message_id, lock=True)
        if message is None:
            raise NotFoundError(f"No message with id {message_id}.")
        if message.status not in RETRYABLE_STATUSES:
            raise ConflictError(
                f"Only failed, dead or expired messages can be retried "
                f"(this one is {message.status}).",
                extra={"message_status": message.status},
            )
        previous = message.status
        message.status, message.attempts, message.next_attempt_at = "queued", 0, now
        message.claimed_at, message.expires_at = None, None
        uow.audit(
            CATEGORY,
            "message.retry",
            patient_id=message.patient_id,
            detail={"message_id": message.id, "previous_status": previous},
        )
        uow.commit()
        return message


def get_reminder_settings(uow: UnitOfWork) -> MessagingSettingsRow:
    with uow:
        row = uow.repo(MessageRepository).settings()
        uow.commit()
        return row


def update_reminder_settings(
    uow: UnitOfWork, *, version: int, reminder_hours: list[int], send_confirmations: bool
) -> MessagingSettingsRow:
    """Change when reminders go out (applies to appointments booked from now on)."""
    hours = sorted(set(reminder_hours), reverse=True)
    if len(hours) > 5 or any(h < 1 or h > MAX_REMINDER_HOURS for h in hours):
        raise ValidationFailedError(
            f"Give at most 5 reminder times, each 1..{MAX_REMINDER_HOURS} hours before."
        )
    with uow:
        row = uow.repo(MessageRepository).settings(lock=True)
        check_version(row.version, version, "reminder settings")
        row.reminder_hours, row.send_confirmations = hours, send_confirmations
        touch(row)  # saving the settings is an edit even when nothing differs
        uow.audit(
            CATEGORY,
            "reminder_settings.update",
            detail={"reminder_hours": hours, "send_confirmations": send_confirmations},
        )
        uow.commit()
        return row


def mask_recipient(recipient: str) -> str:
    """``+44••••••0123`` / ``j•••@example.org``: enough for support, not a contact detail."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}•••@{domain}"
    if len(recipient) <= 4:
        return "•" * len(recipient)
    return recipient[:3] + "•" * max(0, len(recipient) - 7) + recipient[-4:]


__all__: list[Any] = [
    "BACKOFF_SCHEDULE",
    "DispatchReport",
    "MessageDispatcher",
    "cancel_pending_messages",
    "dispatch_due_messages",
    "enqueue_appointment_messages",
    "list_messages",
    "move_messages_on_merge",
    "next_retry_delay",
    "on_appointment_changed",
    "render",
    "retry_message",
]
