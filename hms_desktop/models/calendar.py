"""Table models behind the reception calendar: one column per doctor.

Day: a row per slot time; a cell is the appointment at that time (status symbol, word and
colour) or the free/closed slot. A booked appointment can be dragged onto a free slot of the
same doctor (the reschedule API keeps the doctor); the model only validates the drop and
asks for the move with ``sig_move_requested`` — the server does the moving.
Week: a row per day; a cell counts booked, checked-in and free places. Data is loaded on a
worker by ``load_day``/``load_week`` and handed in whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hms_contract.scheduling import AppointmentRead, DoctorRead, SlotRead
from hms_desktop.api.scheduling import SchedulingApi
from hms_desktop.models.appointments import status_colour, status_text
from hms_desktop.qt import (
    QAbstractTableModel,
    QColor,
    QMimeData,
    QModelIndex,
    Qt,
    Signal,
    translate,
)

ACTIVE = ("booked", "checked_in", "in_consultation", "completed")
FREE_COLOUR = "#2e7d32"
APPOINTMENT_MIME = "application/x-hms-appointment"


@dataclass
class DayData:
    """One day of the calendar as loaded on a worker: doctors, each one's slots (by doctor
    id) and the day's appointments."""

    day: date
    doctors: list[DoctorRead]
    slots: dict[int, list[SlotRead]]
    appointments: list[AppointmentRead]


@dataclass
class WeekData:
    start: date
    doctors: list[DoctorRead]
    # (doctor_id, day) -> {"free": n, "booked": n, "checked_in": n, ...}
    counts: dict[tuple[int, date], dict[str, int]] = field(default_factory=dict)


def load_day(scheduling_api: SchedulingApi, day: date, department_id: int | None = None) -> DayData:
    """Doctors, each one's slots, and the day's appointments (runs on a worker)."""
    doctors = scheduling_api.doctors(department_id=department_id)
    slots = {d.id: scheduling_api.slots(d.id, day) for d in doctors}
    appointments = scheduling_api.all_appointments(day=day, department_id=department_id)
    return DayData(day, doctors, slots, appointments)


def load_week(
    scheduling_api: SchedulingApi, start: date, department_id: int | None = None
) -> WeekData:
    """Counts per doctor and day for the 7 days from ``start`` (runs on a worker)."""
    doctors = scheduling_api.doctors(department_id=department_id)
    data = WeekData(start, doctors)
    end = start + timedelta(days=6)
    for appointment in scheduling_api.all_appointments(
        day=start, date_to=end, department_id=department_id
    ):
        key = (appointment.doctor_id, appointment.start.date())
        bucket = data.counts.setdefault(key, {})
        bucket[appointment.status] = bucket.get(appointment.status, 0) + 1
    for doctor in doctors:
        for offset in range(7):
            day = start + timedelta(days=offset)
            free = sum(1 for s in scheduling_api.slots(doctor.id, day) if s.available)
            data.counts.setdefault((doctor.id, day), {})["free"] = free
    return data


def _tint(colour: QColor, dark: bool = False) -> QColor:
    tinted = QColor(colour)
    tinted.setAlpha(70 if dark else 40)
    return tinted


class DayCalendarModel(QAbstractTableModel):
    """Rows are slot times (``HH:MM``), columns doctors. ``cell(row, column)`` returns
    ``("appointment", AppointmentRead)``, ``("free", SlotRead)``, ``("closed", SlotRead)``
    or ``(None, None)``. GUI thread only.

    Drag and drop: booked appointments drag as ``APPOINTMENT_MIME`` (``{id, doctor_id,
    version}``); a drop on a free slot in the same doctor's column emits
    ``sig_move_requested(appointment, slot)`` and changes nothing here.
    """

    sig_move_requested = Signal(object, object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.data_: DayData | None = None
        self._times: list[str] = []
        self._cells: dict[tuple[int, int], tuple[str | None, Any]] = {}

    def set_day(self, data: DayData) -> None:
        self.beginResetModel()
        self.data_ = data
        cells: dict[tuple[int, str], tuple[str | None, Any]] = {}
        times: set[str] = set()
        for column, doctor in enumerate(data.doctors):
            for slot in data.slots.get(doctor.id, []):
                hhmm = slot.start.strftime("%H:%M")
                times.add(hhmm)
                cells[(column, hhmm)] = ("free" if slot.available else "closed", slot)
        index = {doctor.id: column for column, doctor in enumerate(data.doctors)}
        for appointment in sorted(data.appointments, key=lambda a: a.status in ACTIVE):
            column = index.get(appointment.doctor_id)
            if column is None:
                continue
            hhmm = appointment.start.strftime("%H:%M")
            times.add(hhmm)
            # Active appointments are placed last, so they win over a cancelled one.
            cells[(column, hhmm)] = ("appointment", appointment)
        self._times = sorted(times)
        row_of = {t: r for r, t in enumerate(self._times)}
        self._cells = {(row_of[t], c): v for (c, t), v in cells.items()}
        self.endResetModel()

    @property
    def doctors(self) -> list[DoctorRead]:
        return self.data_.doctors if self.data_ else []

    def time_at(self, row: int) -> str:
        return self._times[row]

    def cell(self, row: int, column: int) -> tuple[str | None, Any]:
        return self._cells.get((row, column), (None, None))

    def find_appointment(self, appointment_id: int) -> QModelIndex:
        for (row, column), (kind, item) in self._cells.items():
            if kind == "appointment" and item.id == appointment_id:
                return self.index(row, column)
        return QModelIndex()

    def find_free(self) -> QModelIndex:
        for row in range(len(self._times)):
            for column in range(len(self.doctors)):
                if self.cell(row, column)[0] == "free":
                    return self.index(row, column)
        return QModelIndex()

    def appointment_by_id(self, appointment_id: object) -> AppointmentRead | None:
        return next(
            (
                item
                for kind, item in self._cells.values()
                if kind == "appointment" and item.id == appointment_id
            ),
            None,
        )

    # -- drag and drop -----------------------------------------------------------------
    def flags(self, index):
        flags = super().flags(index)
        kind, item = self.cell(index.row(), index.column()) if index.isValid() else (None, None)
        if kind == "appointment" and item.status == "booked":
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        elif kind == "free":
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        return flags

    def mimeTypes(self) -> list[str]:
        return [APPOINTMENT_MIME]

    def supportedDropActions(self):
        return Qt.DropAction.MoveAction

    def mimeData(self, indexes) -> QMimeData | None:
        for index in indexes:
            kind, item = self.cell(index.row(), index.column())
            if kind == "appointment":
                mime = QMimeData()
                payload = {"id": item.id, "doctor_id": item.doctor_id, "version": item.version}
                mime.setData(APPOINTMENT_MIME, json.dumps(payload).encode())
                return mime
        return None

    def move_target(
        self, mime: QMimeData, parent: QModelIndex
    ) -> tuple[AppointmentRead, SlotRead] | None:
        """``(appointment, free slot)`` when dropping ``mime`` on ``parent`` is a valid move:
        a booked appointment shown here (the same version), onto a free slot of its doctor."""
        if not parent.isValid() or not mime.hasFormat(APPOINTMENT_MIME):
            return None
        try:
            payload = json.loads(bytes(mime.data(APPOINTMENT_MIME)).decode())
        except ValueError:
            return None
        appointment = self.appointment_by_id(payload.get("id"))
        kind, slot = self.cell(parent.row(), parent.column())
        if (
            appointment is None
            or appointment.status != "booked"
            or appointment.version != payload.get("version")
            or kind != "free"
            or self.doctors[parent.column()].id != appointment.doctor_id
        ):
            return None
        return appointment, slot

    def canDropMimeData(self, mime, action, row, column, parent) -> bool:
        return self.move_target(mime, parent) is not None

    def dropMimeData(self, mime, action, row, column, parent) -> bool:
        target = self.move_target(mime, parent)
        if target is not None:
            self.sig_move_requested.emit(*target)
        # Nothing moves until the server agrees; the calendar reloads after it does.
        return False

    # -- QAbstractTableModel -----------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._times)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.doctors)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.doctors):
            doctor = self.doctors[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{doctor.full_name} — {doctor.department}"
            return f"{doctor.full_name}\n{doctor.department}"
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._times):
            return self._times[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        kind, item = self.cell(index.row(), index.column())
        if kind is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if kind == "appointment":
                name = item.patient_name or translate("Calendar", "Patient #{id}").format(
                    id=item.patient_id
                )
                return f"{status_text(item.status)} · {name}"
            if kind == "free":
                return translate("Calendar", "+ Free")
            return translate("Calendar", "— closed")
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(kind, item)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._tooltip(kind, item)
        if role == Qt.ItemDataRole.BackgroundRole:
            if kind == "appointment":
                colour = status_colour(item.status)
                return _tint(colour) if colour else None
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if kind == "free":
                return QColor(FREE_COLOUR)
            if kind == "closed":
                return QColor("#8a93a0")
            return None
        if role == Qt.ItemDataRole.UserRole:
            return item
        return None

    def _tooltip(self, kind: str, item: AppointmentRead | SlotRead) -> str:
        start = item.start.strftime("%H:%M")
        end = item.end.strftime("%H:%M")
        if isinstance(item, AppointmentRead):
            lines = [
                f"{start}–{end}  {status_text(item.status)}",
                item.patient_name or "",
                translate("Calendar", "MRN {mrn}").format(mrn=item.patient_mrn or "—"),
                item.doctor_name or "",
            ]
            if item.cancel_reason:
                lines.append(
                    translate("Calendar", "Reason: {reason}").format(reason=item.cancel_reason)
                )
            return "\n".join(line for line in lines if line)
        if kind == "free":
            return translate(
                "Calendar",
                "{start}–{end} free: press Enter to book, or drop "
                "this doctor's appointment here to move it",
            ).format(start=start, end=end)
        return translate("Calendar", "{start}–{end} not bookable").format(start=start, end=end)


class WeekCalendarModel(QAbstractTableModel):
    """Rows are the 7 days, columns doctors; cells count booked, checked-in and free."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.data_: WeekData | None = None

    def set_week(self, data: WeekData) -> None:
        self.beginResetModel()
        self.data_ = data
        self.endResetModel()

    @property
    def doctors(self) -> list[DoctorRead]:
        return self.data_.doctors if self.data_ else []

    def day_at(self, row: int) -> date:
        assert self.data_ is not None
        return self.data_.start + timedelta(days=row)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() or self.data_ is None else 7

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.doctors)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.doctors):
            doctor = self.doctors[section]
            return f"{doctor.full_name}\n{doctor.department}"
        if orientation == Qt.Orientation.Vertical and self.data_ and 0 <= section < 7:
            return self.day_at(section).strftime("%a %d %b")
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.data_ is None:
            return None
        doctor = self.doctors[index.column()]
        counts = self.data_.counts.get((doctor.id, self.day_at(index.row())), {})
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            booked = sum(counts.get(s, 0) for s in ACTIVE)
            parts = [translate("Calendar", "● {n} booked").format(n=booked)]
            if counts.get("checked_in"):
                parts.append(translate("Calendar", "✔ {n} arrived").format(n=counts["checked_in"]))
            parts.append(translate("Calendar", "+ {n} free").format(n=counts.get("free", 0)))
            return "\n".join(parts)
        if role == Qt.ItemDataRole.BackgroundRole and counts.get("free"):
            return _tint(QColor(FREE_COLOUR))
        return None
