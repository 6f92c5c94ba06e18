"""Qt models for the clinical workspace: patient search, timeline, vitals, simple row lists.

Long lists (patient search, timeline, vitals) fetch incrementally through
``PagedTableModel``; short per-patient lists (allergies, problems, medications, results,
documents) arrive in one request and sit in ``RowsTableModel``. Abnormal values carry a
word ("high", "critical low") as well as a colour, so the flag never depends on colour.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hms_contract.clinical import TimelineItem, VitalsRead
from hms_contract.common import Page
from hms_contract.patients import PatientPage
from hms_desktop.api.clinical import ClinicalApi
from hms_desktop.api.patients import PatientsApi
from hms_desktop.models.paged import Column, PagedTableModel, _Index
from hms_desktop.models.patients import identity_columns
from hms_desktop.qt import QAbstractTableModel, QColor, QModelIndex, Qt, translate
from hms_desktop.tasks import TaskRunner
from hms_desktop.theme import STATUS_COLOURS

_C = "ClinicalModels"

FLAG_WORDS = {
    "L": "low",
    "H": "high",
    "LL": "critical low",
    "HH": "critical high",
    "A": "abnormal",
    "N": "normal",
}


def flag_word(flag: str | None) -> str:
    """``H`` → ``high`` (translated); empty for no flag."""
    if not flag:
        return ""
    return translate(_C, FLAG_WORDS.get(flag, flag))


def flag_colour(flag: str | None) -> QColor | None:
    if flag in ("LL", "HH"):
        return QColor(STATUS_COLOURS["critical"])
    if flag in ("L", "H", "A"):
        return QColor(STATUS_COLOURS["waiting"])
    return None


def local_time(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """A server time, shown in the workstation's time zone."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone().strftime(fmt)


class PatientSearchModel(PagedTableModel):
    """``GET /patients?q=`` rows (``PatientSummary``) with the identifying columns every
    patient list shows (``models.patients.identity_columns``). Paged by the server."""

    def __init__(self, tasks: TaskRunner, patients_api: PatientsApi, parent=None) -> None:
        columns = identity_columns()

        def fetch(filters: dict, _sort: str | None, limit: int, offset: int) -> PatientPage:
            return patients_api.search(filters.get("q"), limit=limit, offset=offset)

        super().__init__(tasks, fetch, columns, parent=parent)


TIMELINE_KINDS = {
    "encounter": "Visit",
    "note": "Note",
    "vitals": "Vitals",
    "lab_result": "Result",
    "lab_order": "Lab order",
    "prescription": "Prescription",
    "allergy": "Allergy",
    "problem": "Problem",
    "document": "Document",
    "admission": "Admission",
}


class TimelineModel(PagedTableModel):
    """The patient's one chronological timeline (``TimelineItem``), newest first, paged by
    the server. The contract carries no author yet, so "By" stays empty (issue 12 asks the
    server for it)."""

    def __init__(self, tasks: TaskRunner, clinical_api: ClinicalApi, parent=None) -> None:
        columns = [
            Column("at", translate(_C, "When"), render=lambda i: local_time(i.at)),
            Column(
                "kind",
                translate(_C, "What"),
                render=lambda i: translate(_C, TIMELINE_KINDS.get(i.kind, i.kind)),
            ),
            Column("title", translate(_C, "Details"), render=lambda i: i.summary),
            Column("by", translate(_C, "By"), render=lambda i: i.by or ""),
        ]

        def fetch(filters: dict, _sort: str | None, limit: int, offset: int) -> Page[TimelineItem]:
            return clinical_api.timeline(filters["patient_id"], limit=limit, offset=offset)

        super().__init__(tasks, fetch, columns, parent=parent)


VITAL_COLUMNS = (
    ("bp", "BP (mmHg)"),
    ("heart_rate_bpm", "Pulse (/min)"),
    ("respiratory_rate", "Resp (/min)"),
    ("temperature_c", "Temp (°C)"),
    ("spo2_pct", "SpO₂ (%)"),
    ("weight_kg", "Weight (kg)"),
    ("bmi", "BMI"),
)


def _num(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def vital_cell(item: VitalsRead, key: str) -> tuple[str, str | None]:
    """Text (value plus flag word) and the worst flag of one vitals cell."""
    flags = item.flags
    if key == "bp":
        sys_, dia = item.systolic_mmhg, item.diastolic_mmhg
        if sys_ is None and dia is None:
            return "", None
        worst = _worst(flags.get("systolic_mmhg"), flags.get("diastolic_mmhg"))
        text = f"{_num(sys_)}/{_num(dia)}"
    else:
        value = getattr(item, key)
        if value is None:
            return "", None
        worst = flags.get(key)
        text = _num(value)
    if worst and worst != "N":
        text += f" ({flag_word(worst)})"
    return text, worst


def _worst(*flags: str | None) -> str | None:
    rank = {"HH": 4, "LL": 4, "H": 2, "L": 2, "A": 1, "N": 0}
    present = [f for f in flags if f]
    return max(present, key=lambda f: rank.get(f, 0)) if present else None


class VitalsTableModel(PagedTableModel):
    """Recorded vital signs (``VitalsRead``), newest first; abnormal cells coloured and
    worded."""

    def __init__(self, tasks: TaskRunner, clinical_api: ClinicalApi, parent=None) -> None:
        columns = [
            Column(
                "recorded_at", translate(_C, "Taken"), render=lambda i: local_time(i.recorded_at)
            )
        ]
        for key, title in VITAL_COLUMNS:
            columns.append(
                Column(key, translate(_C, title), render=lambda i, k=key: vital_cell(i, k)[0])
            )

        def fetch(filters: dict, _sort: str | None, limit: int, offset: int) -> Page[VitalsRead]:
            return clinical_api.list_vitals(filters["patient_id"], limit=limit, offset=offset)

        super().__init__(tasks, fetch, columns, parent=parent)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and role == Qt.ItemDataRole.ForegroundRole and index.column() > 0:
            key = VITAL_COLUMNS[index.column() - 1][0]
            return flag_colour(vital_cell(self.row_item(index.row()), key)[1])
        return super().data(index, role)


class RowsTableModel(QAbstractTableModel):
    """A short list of contract models that arrives whole; columns are ``(title, render)``.

    ``flag_of(item)`` may return an ``L/H/LL/HH/A`` flag to colour the row's text.
    """

    def __init__(
        self,
        columns: list[tuple[str, Callable[[Any], str]]],
        flag_of: Callable[[Any], str | None] | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.columns = columns
        self._flag_of = flag_of
        self._rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[Any]:
        return list(self._rows)

    def row_item(self, row: int) -> Any:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.columns[index.column()][1](item)
        if role == Qt.ItemDataRole.ForegroundRole and self._flag_of is not None:
            return flag_colour(self._flag_of(item))
        if role == Qt.ItemDataRole.UserRole:
            return item
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section][0]
        return None
