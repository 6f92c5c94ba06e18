"""The queue (``GET /queue``): how an entry's status looks everywhere (reception board,
doctor's list), which queue actions its status allows, and the board's table model. The
server is the authority; this only shows state and enables buttons."""

from __future__ import annotations

from typing import Any

from hms_contract.scheduling import QueueEntryRead
from hms_desktop.qt import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QColor,
    QFont,
    QModelIndex,
    Qt,
    translate,
)

# Colour is never the only signal: each status has a word and a symbol as well.
QUEUE_STATUS = {
    "waiting": (QT_TRANSLATE_NOOP("QueueStatus", "Waiting"), "◷", "#b26a00"),
    "called": (QT_TRANSLATE_NOOP("QueueStatus", "Called"), "➔", "#1f5fa8"),
    "in_consultation": (QT_TRANSLATE_NOOP("QueueStatus", "In consultation"), "▶", "#6a3fb5"),
    "done": (QT_TRANSLATE_NOOP("QueueStatus", "Done"), "✓", "#2e7d32"),
    "left": (QT_TRANSLATE_NOOP("QueueStatus", "Left"), "⊘", "#6b7280"),
}

# Mirrors the server's QUEUE_TRANSITIONS for the three actions the desktop offers.
_ALLOWED_FROM = {
    "call": ("waiting", "called"),
    "start": ("waiting", "called"),
    "complete": ("in_consultation",),
}


def queue_status_text(status: str | None) -> str:
    """``◷ Waiting``: symbol and translated word for a queue status."""
    text, symbol, _ = QUEUE_STATUS.get(str(status), (str(status), "•", ""))
    return f"{symbol} {translate('QueueStatus', text)}"


def queue_status_colour(status: str | None) -> QColor | None:
    colour = QUEUE_STATUS.get(str(status), ("", "", ""))[2]
    return QColor(colour) if colour else None


def queue_action_allowed(action: str, entry: QueueEntryRead | None) -> bool:
    """Whether ``action`` (call, start, complete) makes sense for ``entry``'s status."""
    return entry is not None and entry.status in _ALLOWED_FROM.get(action, ())


class QueueTableModel(QAbstractTableModel):
    """Rows of ``GET /queue`` (``QueueEntryRead``, token order): token, patient, MRN, doctor,
    appointment time (or walk-in), status (word, symbol and colour), waiting time.
    ``WHOLE_COLUMNS`` identify the patient and are never elided. GUI thread only."""

    WHOLE_COLUMNS = (0, 1, 2, 5, 6)

    HEADERS = (
        QT_TRANSLATE_NOOP("QueueTableModel", "Token"),
        QT_TRANSLATE_NOOP("QueueTableModel", "Patient"),
        QT_TRANSLATE_NOOP("QueueTableModel", "MRN"),
        QT_TRANSLATE_NOOP("QueueTableModel", "Doctor"),
        QT_TRANSLATE_NOOP("QueueTableModel", "Appointment"),
        QT_TRANSLATE_NOOP("QueueTableModel", "Status"),
        QT_TRANSLATE_NOOP("QueueTableModel", "Waiting"),
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.items: list[QueueEntryRead] = []

    def set_items(self, items: list[QueueEntryRead]) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def row_of(self, entry_id: int | None) -> int:
        """The row showing queue entry ``entry_id``, or -1."""
        return next((row for row, item in enumerate(self.items) if item.id == entry_id), -1)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return translate("QueueTableModel", self.HEADERS[section])
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item, column = self.items[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            values = (
                str(item.token),
                item.patient_name or "",
                item.patient_mrn or "",
                item.doctor_name or "",
                item.appointment_start.strftime("%H:%M")
                if item.appointment_start
                else translate("QueueTableModel", "walk-in"),
                queue_status_text(item.status),
                translate("QueueTableModel", "{n} min").format(n=item.waiting_minutes),
            )
            return values[column]
        if role == Qt.ItemDataRole.ForegroundRole and column == 5:
            return queue_status_colour(item.status)
        if role == Qt.ItemDataRole.FontRole and column == 0:
            font = QFont()
            font.setBold(True)
            font.setPointSize(font.pointSize() + 3)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 6):
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.UserRole:
            return item
        return None
