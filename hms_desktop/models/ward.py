"""Qt models of the ward workspace: the bed board (with drag-to-transfer), the MAR's doses,
the due-now list and the vitals grid. Each holds ``hms_contract`` models and lives on the GUI
thread; loading happens elsewhere (the workspace's task runner), which hands rows in.

Status colours follow the house palette and are never the only signal: every status has a
word and a symbol (the board's tiles, the dose table's status column).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hms_contract.mar import ScheduledDoseRead
from hms_contract.nursing import DueItem, VitalsRow
from hms_contract.wards import BedRead
from hms_desktop.models.ward_alerts import alert_sentences
from hms_desktop.qt import (
    QT_TRANSLATE_NOOP,
    QAbstractListModel,
    QAbstractTableModel,
    QBrush,
    QColor,
    QMimeData,
    QModelIndex,
    QObject,
    Qt,
    Signal,
    translate,
)

BED_MIME = "application/x-hms-admission"

# status → (word, symbol, colour). Free green, occupied blue, cleaning amber, blocked grey.
BED_STATUS = {
    "free": (QT_TRANSLATE_NOOP("BedStatus", "Free"), "○", "#2e7d32"),
    "occupied": (QT_TRANSLATE_NOOP("BedStatus", "Occupied"), "●", "#1f5fa8"),
    "cleaning": (QT_TRANSLATE_NOOP("BedStatus", "Cleaning"), "◐", "#b26a00"),
    "blocked": (QT_TRANSLATE_NOOP("BedStatus", "Blocked"), "⊘", "#6b7280"),
}
DOSE_STATUS = {
    "scheduled": (QT_TRANSLATE_NOOP("DoseStatus", "Due"), "◷", "#1f5fa8"),
    "given": (QT_TRANSLATE_NOOP("DoseStatus", "Given"), "✓", "#2e7d32"),
    "held": (QT_TRANSLATE_NOOP("DoseStatus", "Held"), "‖", "#b26a00"),
    "refused": (QT_TRANSLATE_NOOP("DoseStatus", "Refused"), "✗", "#b26a00"),
    "missed": (QT_TRANSLATE_NOOP("DoseStatus", "Missed"), "!", "#c62828"),
    "cancelled": (QT_TRANSLATE_NOOP("DoseStatus", "Cancelled"), "–", "#6b7280"),
}
OVERDUE = (QT_TRANSLATE_NOOP("DoseStatus", "OVERDUE"), "⚠", "#c62828")
BedRole = Qt.ItemDataRole.UserRole + 1


def bed_status_text(status: str) -> str:
    word, symbol, _ = BED_STATUS.get(status, (status, "•", ""))
    return f"{symbol} {translate('BedStatus', word)}"


def dose_status_text(dose: ScheduledDoseRead) -> str:
    word, symbol, _ = (
        OVERDUE if dose.overdue else DOSE_STATUS.get(dose.status, (dose.status, "•", ""))
    )
    context = "DoseStatus"
    return f"{symbol} {translate(context, word)}"


def _local(moment: datetime | None, fmt: str = "%H:%M") -> str:
    return moment.strftime(fmt) if moment else ""


class BedBoardModel(QAbstractListModel):
    """The beds of the board, one item per bed (``BedRole`` → ``BedRead``).

    Drag-and-drop: an occupied bed drags its admission; dropping it on another bed emits
    ``sig_transfer_requested(admission_id, bed_id)`` — the workspace confirms and calls the
    server; the model itself changes only when the board is reloaded."""

    sig_transfer_requested = Signal(int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.beds: list[BedRead] = []

    def set_beds(self, beds: Sequence[BedRead]) -> None:
        self.beginResetModel()
        self.beds = list(beds)
        self.endResetModel()

    def bed_at(self, row: int) -> BedRead | None:
        return self.beds[row] if 0 <= row < len(self.beds) else None

    def row_of_bed(self, bed_id: int) -> int | None:
        return next((n for n, b in enumerate(self.beds) if b.id == bed_id), None)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.beds)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        bed = self.bed_at(index.row())
        if bed is None:
            return None
        if role == BedRole:
            return bed
        if role == Qt.ItemDataRole.DisplayRole:
            return bed.label
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return ", ".join(self.describe(bed))
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(self.describe(bed))
        return None

    def describe(self, bed: BedRead) -> list[str]:
        """What a screen reader (one line) and the tooltip (one fact a line) say about a
        tile: everything the tile shows, with its alerts in full sentences."""
        parts = [
            translate("BedBoard", "Bed {label}").format(label=bed.label),
            bed_status_text(bed.status),
        ]
        if bed.patient_name:
            parts.append(bed.patient_name)
        if bed.days_in:
            parts.append(translate("BedBoard", "day {n}").format(n=bed.days_in))
        parts.extend(alert_sentences(bed))
        if bed.blocked_reason:
            parts.append(bed.blocked_reason)
        return parts

    # -- drag and drop -----------------------------------------------------------------------
    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        bed = self.bed_at(index.row())
        if bed is None:
            return base | Qt.ItemFlag.ItemIsDropEnabled
        if bed.status == "occupied" and bed.admission_id is not None:
            base |= Qt.ItemFlag.ItemIsDragEnabled
        if bed.status == "free":
            base |= Qt.ItemFlag.ItemIsDropEnabled
        return base

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [BED_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        bed = self.bed_at(indexes[0].row()) if indexes else None
        if bed is not None and bed.admission_id is not None:
            mime.setData(
                BED_MIME, json.dumps({"admission_id": bed.admission_id, "bed_id": bed.id}).encode()
            )
        return mime

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: QModelIndex
    ) -> bool:
        target = self.bed_at(parent.row()) if parent.isValid() else None
        return data.hasFormat(BED_MIME) and target is not None and target.status == "free"

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: QModelIndex
    ) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        payload = json.loads(bytes(data.data(BED_MIME)).decode())
        target = self.bed_at(parent.row())
        assert target is not None
        self.sig_transfer_requested.emit(int(payload["admission_id"]), target.id)
        # The server decides; the board is reloaded from its answer, so nothing moves here.
        return False


class DoseTableModel(QAbstractTableModel):
    """The MAR's doses: time, medicine, dose, route, status (word + symbol; overdue red)."""

    HEADERS = (
        QT_TRANSLATE_NOOP("Mar", "Due"),
        QT_TRANSLATE_NOOP("Mar", "Medicine"),
        QT_TRANSLATE_NOOP("Mar", "Dose"),
        QT_TRANSLATE_NOOP("Mar", "Route"),
        QT_TRANSLATE_NOOP("Mar", "Status"),
        QT_TRANSLATE_NOOP("Mar", "Recorded"),
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doses: list[ScheduledDoseRead] = []

    def set_doses(self, doses: Sequence[ScheduledDoseRead]) -> None:
        self.beginResetModel()
        self.doses = list(doses)
        self.endResetModel()

    def dose_at(self, row: int) -> ScheduledDoseRead | None:
        return self.doses[row] if 0 <= row < len(self.doses) else None

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.doses)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return translate("Mar", self.HEADERS[section])
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        dose = self.dose_at(index.row())
        if dose is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                _local(dose.due_at, "%a %H:%M"),
                dose.drug_name,
                f"{dose.dose.normalize():f} {dose.unit}",
                dose.route,
                dose_status_text(dose),
                " ".join(
                    x
                    for x in (
                        _local(dose.administered_at),
                        dose.recorded_by_name or "",
                        f"({dose.reason})" if dose.reason else "",
                    )
                    if x
                ),
            )[column]
        if role == Qt.ItemDataRole.ForegroundRole and column == 4:
            colour = OVERDUE[2] if dose.overdue else DOSE_STATUS.get(dose.status, ("", "", ""))[2]
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.BackgroundRole and dose.overdue:
            return QBrush(QColor(198, 40, 40, 28))
        return None


class DueListModel(QAbstractListModel):
    """The ward's due-now list, soonest first. Each item reads on two lines, when and
    whom, then what (so a narrow pane never cuts the medicine off)::

        OVERDUE · 14:00 · Bed 03 · Smith, J
        ℞ Amoxicillin 500 mg oral
    """

    # Glyphs the shipped DejaVu Sans has (an emoji pill is an empty box without an emoji font).
    KINDS = {"dose": "℞", "task": "✎", "vitals": "♥"}

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.items: list[DueItem] = []

    def set_items(self, items: Sequence[DueItem]) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def item_at(self, row: int) -> DueItem | None:
        return self.items[row] if 0 <= row < len(self.items) else None

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.items)

    def lines(self, item: DueItem) -> tuple[str, str]:
        """(when and whom, what) of one item."""
        late = translate("DueList", "OVERDUE · ") if item.overdue else ""
        who = (
            f"{late}{_local(item.due_at)} · {translate('DueList', 'Bed')} "
            f"{item.bed_label} · {item.patient_name}"
        )
        return who, f"{self.KINDS.get(item.kind, '•')} {item.title}"

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self.item_at(index.row())
        if item is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return "\n".join(self.lines(item))
        if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
            return " · ".join(self.lines(item))
        if role == Qt.ItemDataRole.ForegroundRole and item.overdue:
            return QBrush(QColor("#c62828"))
        return None


class VitalsGridModel(QAbstractTableModel):
    """Vitals of the admission, newest first, with NEWS2 and where they came from."""

    COLUMNS = (
        ("recorded_at", QT_TRANSLATE_NOOP("Vitals", "Time")),
        ("bp", QT_TRANSLATE_NOOP("Vitals", "BP")),
        ("heart_rate_bpm", QT_TRANSLATE_NOOP("Vitals", "HR")),
        ("respiratory_rate", QT_TRANSLATE_NOOP("Vitals", "RR")),
        ("spo2_pct", QT_TRANSLATE_NOOP("Vitals", "SpO₂ %")),
        ("temperature_c", QT_TRANSLATE_NOOP("Vitals", "Temp °C")),
        ("news2", QT_TRANSLATE_NOOP("Vitals", "NEWS2")),
        ("source", QT_TRANSLATE_NOOP("Vitals", "Source")),
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[VitalsRow] = []

    def set_rows(self, rows: Sequence[VitalsRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return translate("Vitals", self.COLUMNS[section][1])
        return None

    def _text(self, row: VitalsRow, key: str) -> str:
        if key == "recorded_at":
            return _local(row.recorded_at, "%d %b %H:%M")
        if key == "bp":
            return f"{row.systolic_mmhg}/{row.diastolic_mmhg}" if row.systolic_mmhg else ""
        if key == "news2":
            if row.news2 is None:
                return ""
            return f"{row.news2}{'' if row.news2_complete else '*'}"
        if key == "source":
            return (
                translate("Vitals", "Monitor {id}").format(id=row.device_id)
                if row.source == "device"
                else row.recorded_by_name or ""
            )
        value = getattr(row, key)
        flag = row.flags.get(key)
        return "" if value is None else f"{value}{' ' + flag if flag else ''}"

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        key = self.COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, key)
        if role == Qt.ItemDataRole.ForegroundRole:
            abnormal = (
                key in row.flags
                or (key == "bp" and "systolic_mmhg" in row.flags)
                or (key == "news2" and (row.news2 or 0) >= 5)
            )
            return QBrush(QColor("#c62828")) if abnormal else None
        return None
