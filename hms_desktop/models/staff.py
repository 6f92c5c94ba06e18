"""Qt item models of the staff workspace: the paged staff directory, short lists (leave,
pay runs, payslips, reviews) and the roster week grid (one row per person, one column per
day, each cell the person's shifts that day). GUI thread only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hms_contract.staff import ShiftRead
from hms_desktop.models.paged import Column, PagedTableModel
from hms_desktop.qt import (
    QAbstractTableModel,
    QBrush,
    QColor,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    translate,
)
from hms_desktop.tasks import TaskRunner

_Index = QModelIndex | QPersistentModelIndex
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _t(text: str) -> str:
    return translate("StaffModels", text)


SHIFT_KIND_TEXT = {"day": "Day", "evening": "Evening", "night": "Night", "on_call": "On call"}
# Pale fills so the kind stands out; the cell always says the kind in words too.
SHIFT_KIND_COLOUR = {
    "day": "#fff4d6",
    "evening": "#e3ecfb",
    "night": "#e4def5",
    "on_call": "#dff3e6",
}
EMPLOYMENT_TEXT = {
    "full_time": "Full time",
    "part_time": "Part time",
    "contract": "Contract",
    "locum": "Locum",
}
LEAVE_KIND_TEXT = {
    "annual": "Annual",
    "sick": "Sick",
    "unpaid": "Unpaid",
    "maternity": "Maternity",
    "paternity": "Paternity",
    "study": "Study",
    "compassionate": "Compassionate",
}
STATUS_TEXT = {
    "pending": "Pending",
    "approved": "Approved",
    "declined": "Declined",
    "cancelled": "Cancelled",
    "draft": "Draft",
    "final": "Final",
}


def staff_columns() -> list[Column]:
    return [
        Column("employee_number", _t("Employee no.")),
        Column("full_name", _t("Name")),
        Column("job_title", _t("Job title")),
        Column("department_name", _t("Department")),
        Column("active", _t("Status"), render=lambda s: _t("Active") if s.active else _t("Left")),
    ]


class StaffTableModel(PagedTableModel):
    """The staff directory, fetched 50 at a time as the list scrolls."""

    def __init__(self, tasks: TaskRunner, fetch: Any, parent: Any = None) -> None:
        super().__init__(tasks, fetch, staff_columns(), parent=parent)


@dataclass(frozen=True)
class Col:
    """A column of ``RowsModel``: header, text of a row, right-aligned (amounts)."""

    title: str
    text: Callable[[Any], str]
    right: bool = False


class RowsModel(QAbstractTableModel):
    """A short list that arrives whole (leave, pay runs, payslips, reviews)."""

    def __init__(self, columns: list[Col], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_item(self, row: int) -> Any:
        return self.rows[row]

    def find_row(self, key: Callable[[Any], bool]) -> int:
        return next((i for i, row in enumerate(self.rows) if key(row)), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        if role == Qt.ItemDataRole.TextAlignmentRole and self.columns[section].right:
            return int(_RIGHT)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return column.text(self.rows[index.row()])
        if role == Qt.ItemDataRole.TextAlignmentRole and column.right:
            return int(_RIGHT)
        if role == Qt.ItemDataRole.UserRole:
            return self.rows[index.row()]
        return None


@dataclass
class RosterRow:
    staff_id: int
    name: str
    job_title: str
    cells: list[list[ShiftRead]]


def shift_text(shift: Any, zone: ZoneInfo) -> str:
    """``Night 20:00–08:00`` in the hospital's zone (a ``ShiftRead`` or ``ShiftClash``)."""
    start = shift.starts_at.astimezone(zone)
    end = shift.ends_at.astimezone(zone)
    return f"{_t(SHIFT_KIND_TEXT[shift.kind])} {start:%H:%M}–{end:%H:%M}"


class RosterWeekModel(QAbstractTableModel):
    """Rows: people with shifts this week (by name); column 0 the name, then one column per
    day. A cell lists the shifts *starting* that day in the hospital's zone, kind in words
    and hours, on a pale fill of the kind's colour."""

    def __init__(self, zone: ZoneInfo, parent: Any = None) -> None:
        super().__init__(parent)
        self.zone = zone
        self.start = date.today()
        self.days = 7
        self.rows: list[RosterRow] = []

    def set_week(self, start: date, shifts: list[ShiftRead], days: int = 7) -> None:
        self.beginResetModel()
        self.start, self.days = start, days
        people: dict[int, RosterRow] = {}
        for shift in shifts:
            day = (shift.starts_at.astimezone(self.zone).date() - start).days
            if not 0 <= day < days:
                continue
            row = people.setdefault(
                shift.staff_id,
                RosterRow(
                    shift.staff_id, shift.staff_name, shift.job_title, [[] for _ in range(days)]
                ),
            )
            row.cells[day].append(shift)
        self.rows = sorted(people.values(), key=lambda r: r.name.lower())
        self.endResetModel()

    def shifts_at(self, index: _Index) -> list[ShiftRead]:
        if not index.isValid() or index.column() == 0:
            return []
        return list(self.rows[index.row()].cells[index.column() - 1])

    def day_of(self, column: int) -> date:
        return self.start + timedelta(days=column - 1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.days + 1

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section == 0:
            return _t("Staff")
        return self.day_of(section).strftime("%a %d %b")

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if index.column() == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                return row.name
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{row.name} — {row.job_title}"
            return None
        shifts = row.cells[index.column() - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            # Kind over hours: a week of days fits a 1280-pixel window without eliding.
            return "\n".join(shift_text(s, self.zone).replace(" ", "\n", 1) for s in shifts)
        if role == Qt.ItemDataRole.ToolTipRole and shifts:
            return "\n".join(
                f"{shift_text(s, self.zone)} · {s.unit_name}" + (f" · {s.note}" if s.note else "")
                for s in shifts
            )
        if role == Qt.ItemDataRole.BackgroundRole and shifts:
            return QBrush(QColor(SHIFT_KIND_COLOUR[shifts[0].kind]))
        if role == Qt.ItemDataRole.ForegroundRole and shifts:
            return QBrush(QColor("#1f2933"))
        return None


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%d %b %Y %H:%M") if value else ""
