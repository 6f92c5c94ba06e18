"""Appointments (``GET /appointments``) as an incrementally fetched table, with status text."""

from __future__ import annotations

from datetime import datetime

from hms_contract.common import Page
from hms_contract.scheduling import AppointmentRead
from hms_desktop.api.scheduling import SchedulingApi
from hms_desktop.models.paged import Column, PagedTableModel
from hms_desktop.qt import QT_TRANSLATE_NOOP, QColor, Qt, translate
from hms_desktop.tasks import TaskRunner

# Colour is never the only signal: each status has a word and a symbol as well.
APPOINTMENT_STATUS = {
    "booked": (QT_TRANSLATE_NOOP("AppointmentStatus", "Booked"), "●", "#1f5fa8"),
    "checked_in": (QT_TRANSLATE_NOOP("AppointmentStatus", "Checked in"), "✔", "#b26a00"),
    "in_consultation": (QT_TRANSLATE_NOOP("AppointmentStatus", "In consultation"), "▶", "#6a3fb5"),
    "completed": (QT_TRANSLATE_NOOP("AppointmentStatus", "Done"), "✓", "#2e7d32"),
    "no_show": (QT_TRANSLATE_NOOP("AppointmentStatus", "No-show"), "✗", "#c62828"),
    "cancelled": (QT_TRANSLATE_NOOP("AppointmentStatus", "Cancelled"), "⊘", "#6b7280"),
}


_TYPE_TEXT = {
    "new": QT_TRANSLATE_NOOP("AppointmentType", "New visit"),
    "follow_up": QT_TRANSLATE_NOOP("AppointmentType", "Follow-up"),
    "procedure": QT_TRANSLATE_NOOP("AppointmentType", "Procedure"),
}


def type_text(code: str | None) -> str:
    source = _TYPE_TEXT.get(str(code))
    return translate("AppointmentType", source) if source else str(code or "")


def status_text(status: str | None) -> str:
    """``✔ Checked in``: symbol and translated word for an appointment status."""
    text, symbol, _colour = APPOINTMENT_STATUS.get(str(status), (str(status), "•", ""))
    return f"{symbol} {translate('AppointmentStatus', text)}"


def status_colour(status: str | None) -> QColor | None:
    colour = APPOINTMENT_STATUS.get(str(status), ("", "", ""))[2]
    return QColor(colour) if colour else None


def time_text(value: datetime | None, with_date: bool = False) -> str:
    """A server time as the hospital's wall-clock time (the offset the server sent)."""
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


class AppointmentsTableModel(PagedTableModel):
    """When, doctor, patient, type and status; filtered by ``set_filters(day=..., patient_id=...,
    doctor_id=...)``, sorted by the server (start, status). Rows are ``AppointmentRead``.
    Status cells are coloured and carry a symbol and a word. Lives on the GUI thread; pages
    load on the task runner.
    """

    def __init__(
        self,
        tasks: TaskRunner,
        scheduling_api: SchedulingApi,
        parent=None,
        *,
        show_patient: bool = True,
    ) -> None:
        columns = [
            Column(
                "start",
                translate("AppointmentsTableModel", "When"),
                "start",
                render=lambda item: time_text(item.start, with_date=True),
            ),
            Column("doctor_name", translate("AppointmentsTableModel", "Doctor"), "doctor_id"),
        ]
        if show_patient:
            columns.append(Column("patient_name", translate("AppointmentsTableModel", "Patient")))
        columns += [
            Column(
                "type",
                translate("AppointmentsTableModel", "Type"),
                render=lambda item: type_text(item.type),
            ),
            Column(
                "status",
                translate("AppointmentsTableModel", "Status"),
                "status",
                render=lambda item: status_text(item.status),
            ),
        ]

        def fetch(
            filters: dict, sort: str | None, limit: int, offset: int
        ) -> Page[AppointmentRead]:
            return scheduling_api.appointments(
                limit=limit, offset=offset, sort=sort or "start", **filters
            )

        super().__init__(tasks, fetch, columns, default_sort="start", parent=parent)

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if (
            index.isValid()
            and role == Qt.ItemDataRole.ForegroundRole
            and self.columns[index.column()].key == "status"
        ):
            return status_colour(self.row_item(index.row()).status)
        return super().data(index, role)
