"""Administrators' review lists as incrementally fetched tables: emergency chart accesses
(break the glass) and the message outbox."""

from __future__ import annotations

from datetime import datetime

from hms_contract.clinical import BreakGlassRead
from hms_contract.common import Page
from hms_contract.messaging import MessageRead
from hms_desktop.api.oversight import OversightApi
from hms_desktop.models.paged import Column, PagedTableModel
from hms_desktop.qt import QT_TRANSLATE_NOOP, QColor, Qt, translate
from hms_desktop.tasks import TaskRunner

_C = "OversightModels"

# Colour is never the only signal: every status has a symbol and a word.
MESSAGE_STATUS = {
    "queued": (QT_TRANSLATE_NOOP(_C, "Queued"), "◷", "#b26a00"),
    "sending": (QT_TRANSLATE_NOOP(_C, "Sending"), "➔", "#1f5fa8"),
    "sent": (QT_TRANSLATE_NOOP(_C, "Sent"), "✓", "#2e7d32"),
    "failed": (QT_TRANSLATE_NOOP(_C, "Failed, will retry"), "↻", "#b26a00"),
    "dead": (QT_TRANSLATE_NOOP(_C, "Failed for good"), "✗", "#c62828"),
    "cancelled": (QT_TRANSLATE_NOOP(_C, "Cancelled"), "⊘", "#6b7280"),
    "expired": (QT_TRANSLATE_NOOP(_C, "Expired"), "⊘", "#6b7280"),
}
TEMPLATES = {
    "appointment_confirmation": QT_TRANSLATE_NOOP(_C, "Booking confirmation"),
    "appointment_rescheduled": QT_TRANSLATE_NOOP(_C, "Appointment moved"),
    "appointment_reminder": QT_TRANSLATE_NOOP(_C, "Reminder"),
    "appointment_cancelled": QT_TRANSLATE_NOOP(_C, "Cancellation"),
    "waitlist_offer": QT_TRANSLATE_NOOP(_C, "Waitlist offer"),
}
RETRYABLE = ("failed", "dead", "expired")


def local_text(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else ""


def message_status_text(status: str) -> str:
    word, symbol, _colour = MESSAGE_STATUS.get(status, (status, "•", ""))
    return f"{symbol} {translate(_C, word)}"


class BreakGlassTableModel(PagedTableModel):
    """Emergency accesses (``BreakGlassRead``): when, who, whom, why, how often used,
    from where, and the review. ``set_filters(unreviewed=True)`` shows the open ones."""

    def __init__(self, tasks: TaskRunner, api: OversightApi, parent=None) -> None:
        def t(text: str) -> str:
            return translate(_C, text)

        columns = [
            Column("granted_at", t("When"), render=lambda g: local_text(g.granted_at)),
            Column(
                "full_name", t("Who"), render=lambda g: g.full_name or g.username or f"#{g.user_id}"
            ),
            Column("patient_name", t("Patient"), render=_patient),
            Column("reason", t("Why")),
            Column("access_count", t("Chart reads")),
            Column("workstation", t("Workstation")),
            Column("reviewed_at", t("Reviewed"), render=_review),
        ]

        def fetch(
            filters: dict, _sort: str | None, limit: int, offset: int
        ) -> Page[BreakGlassRead]:
            return api.break_glass(
                unreviewed=bool(filters.get("unreviewed")), limit=limit, offset=offset
            )

        super().__init__(tasks, fetch, columns, parent=parent)


def _patient(g: BreakGlassRead) -> str:
    return " · ".join(x for x in (g.patient_mrn, g.patient_name) if x) or f"#{g.patient_id}"


def _review(g: BreakGlassRead) -> str:
    if g.reviewed_at is None:
        return translate(_C, "◷ Not reviewed")
    by = translate(_C, "✓ {when} by {who}").format(
        when=local_text(g.reviewed_at), who=g.reviewed_by or "?"
    )
    return f"{by}: {g.review_note}" if g.review_note else by


class MessagesTableModel(PagedTableModel):
    """The outbox (``MessageRead``): created, channel, masked recipient, what, status (word,
    symbol, colour), attempts, next attempt, sent, last error."""

    def __init__(self, tasks: TaskRunner, api: OversightApi, parent=None) -> None:
        def t(text: str) -> str:
            return translate(_C, text)

        columns = [
            Column("created_at", t("Queued"), render=lambda m: local_text(m.created_at)),
            Column("channel", t("Channel"), render=lambda m: m.channel.upper()),
            Column("recipient", t("To")),
            Column(
                "template",
                t("Message"),
                render=lambda m: translate(_C, TEMPLATES.get(m.template, m.template)),
            ),
            Column("status", t("Status"), render=lambda m: message_status_text(m.status)),
            Column("attempts", t("Attempts")),
            Column(
                "next_attempt_at",
                t("Next attempt"),
                render=lambda m: (
                    local_text(m.next_attempt_at) if m.status in ("queued", "failed") else ""
                ),
            ),
            Column("sent_at", t("Sent"), render=lambda m: local_text(m.sent_at)),
            Column("last_error", t("Last error")),
        ]

        def fetch(filters: dict, _sort: str | None, limit: int, offset: int) -> Page[MessageRead]:
            return api.messages(status=filters.get("status"), limit=limit, offset=offset)

        super().__init__(tasks, fetch, columns, parent=parent)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and index.isValid()
            and self.columns[index.column()].key == "status"
        ):
            colour = MESSAGE_STATUS.get(self.row_item(index.row()).status, ("", "", ""))[2]
            return QColor(colour) if colour else None
        return super().data(index, role)
