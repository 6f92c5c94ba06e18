"""The outgoing-message outbox, reminder settings, and the public booking page's rate-limit
counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import aliased

from hms_server.adapters.orm.messaging import BookingRateLimit, Message, MessagingSettingsRow
from hms_server.adapters.repositories import Repository


class MessageRepository(Repository):
    def settings(self, *, lock: bool = False) -> MessagingSettingsRow:
        row = self.session.get(MessagingSettingsRow, 1)
        if row is None:  # a database migrated before the seed row existed
            row = self.add(MessagingSettingsRow(id=1, reminder_hours=[24], send_confirmations=True))
        if lock:
            self.session.refresh(row, with_for_update=True)
        return row

    def get(self, message_id: int, *, lock: bool = False) -> Message | None:
        return self.session.get(Message, message_id, with_for_update=lock)

    def cancel_pending(self, appointment_id: int, templates: Sequence[str]) -> int:
        """Cancel an appointment's not-yet-sent messages (those in flight are left alone)."""
        result = self.session.execute(
            update(Message)
            .where(
                Message.appointment_id == appointment_id,
                Message.status.in_(("queued", "failed")),
                Message.template.in_(templates),
            )
            .values(status="cancelled", last_error=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def expire_due(self, now: datetime) -> int:
        result = self.session.execute(
            update(Message)
            .where(Message.status.in_(("queued", "failed")), Message.expires_at <= now)
            .values(status="expired", last_error="expired before it could be sent")
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def claim_due(
        self, channels: list[str], now: datetime, lease: timedelta, batch_size: int
    ) -> list[Message]:
        """Due messages of ``channels`` (and ones whose claim lease ran out), locked with
        SKIP LOCKED so parallel dispatchers never take the same row.

        HL7 ADT messages of one patient must arrive in order (an A02 before its A01 would be
        refused): only the oldest pending one per patient and endpoint is due."""
        earlier = aliased(Message)
        in_order = ~exists().where(
            earlier.channel == "hl7",
            earlier.patient_id == Message.patient_id,
            earlier.recipient == Message.recipient,
            earlier.id < Message.id,
            earlier.status.in_(("queued", "sending", "failed")),
        )
        return list(
            self.session.scalars(
                select(Message)
                .where(
                    Message.channel.in_(channels),
                    or_(Message.channel != "hl7", in_order),
                    or_(
                        and_(
                            Message.status.in_(("queued", "failed")), Message.next_attempt_at <= now
                        ),
                        and_(Message.status == "sending", Message.claimed_at < now - lease),
                    ),
                )
                .order_by(Message.next_attempt_at, Message.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            )
        )

    def search(
        self,
        *,
        status: str | None,
        channel: str | None,
        appointment_id: int | None,
        patient_id: int | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Message], int]:
        query = select(Message)
        for column, value in (
            (Message.status, status),
            (Message.channel, channel),
            (Message.appointment_id, appointment_id),
            (Message.patient_id, patient_id),
        ):
            if value is not None:
                query = query.where(column == value)
        return self.page(query, [Message.created_at.desc(), Message.id.desc()], limit, offset)

    def move_patient(self, loser_id: int, survivor_id: int) -> None:
        self.session.execute(
            update(Message)
            .where(Message.patient_id == loser_id)
            .values(patient_id=survivor_id)
            .execution_options(synchronize_session=False)
        )


class RateLimitRepository(Repository):
    def database_now(self) -> datetime | None:
        """Database time, so every server process judges windows by the same clock."""
        return self.session.scalar(select(func.now()))

    def hit(self, key: str, now: datetime, window_seconds: int) -> tuple[int, datetime]:
        """Count one hit in ``key``'s fixed window (atomically); (hits, window start)."""
        table = BookingRateLimit.__table__
        window_over = table.c.window_start <= now - timedelta(seconds=window_seconds)
        statement = insert(BookingRateLimit).values(key=key, window_start=now, hits=1)
        row = self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[BookingRateLimit.key],
                set_={
                    "hits": case((window_over, 1), else_=table.c.hits + 1),
                    "window_start": case((window_over, now), else_=table.c.window_start),
                },
            ).returning(BookingRateLimit.hits, BookingRateLimit.window_start)
        ).one()
        return int(row.hits), row.window_start

    def forget_before(self, cutoff: datetime) -> None:
        self.session.execute(delete(BookingRateLimit).where(BookingRateLimit.window_start < cutoff))
