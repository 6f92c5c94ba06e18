"""Today's queue: token, patient, doctor, status (word, symbol and colour), waiting time."""

from __future__ import annotations

from hms_desktop.api.scheduling import parse_time
from hms_desktop.qt import (
    QT_TRANSLATE_NOOP,
    QAbstractItemView,
    QAbstractTableModel,
    QColor,
    QFont,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QModelIndex,
    QPushButton,
    Qt,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
    translate,
)
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.problems import ProblemLabel

QUEUE_STATUS = {
    "waiting": (QT_TRANSLATE_NOOP("QueueStatus", "Waiting"), "⏳", "#b26a00"),
    "called": (QT_TRANSLATE_NOOP("QueueStatus", "Called"), "📣", "#1f5fa8"),
    "in_consultation": (QT_TRANSLATE_NOOP("QueueStatus", "In consultation"), "▶", "#6a3fb5"),
    "done": (QT_TRANSLATE_NOOP("QueueStatus", "Done"), "✓", "#2e7d32"),
    "left": (QT_TRANSLATE_NOOP("QueueStatus", "Left"), "⊘", "#6b7280"),
}
REFRESH_MS = 60_000


def queue_status_text(status: str) -> str:
    text, symbol, _ = QUEUE_STATUS.get(status, (status, "•", ""))
    return f"{symbol} {translate('QueueStatus', text)}"


class QueueTableModel(QAbstractTableModel):
    """Rows of ``GET /queue`` (token order). GUI thread only."""

    HEADERS = (QT_TRANSLATE_NOOP("QueueTableModel", "Token"),
               QT_TRANSLATE_NOOP("QueueTableModel", "Patient"),
               QT_TRANSLATE_NOOP("QueueTableModel", "Doctor"),
               QT_TRANSLATE_NOOP("QueueTableModel", "Appointment"),
               QT_TRANSLATE_NOOP("QueueTableModel", "Status"),
               QT_TRANSLATE_NOOP("QueueTableModel", "Waiting"))

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.items: list[dict] = []

    def set_items(self, items: list[dict]) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return translate("QueueTableModel", self.HEADERS[section])
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item, column = self.items[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            values = (
                str(item.get("token", "")),
                f"{item.get('patient_name') or ''}  {item.get('patient_mrn') or ''}".strip(),
                item.get("doctor_name") or "",
                parse_time(item["appointment_start"]).strftime("%H:%M")
                if item.get("appointment_start") else translate("QueueTableModel", "walk-in"),
                queue_status_text(item.get("status", "")),
                translate("QueueTableModel", "{n} min").format(n=item.get("waiting_minutes", 0)),
            )
            return values[column]
        if role == Qt.ItemDataRole.ForegroundRole and column == 4:
            colour = QUEUE_STATUS.get(item.get("status", ""), ("", "", ""))[2]
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.FontRole and column == 0:
            font = QFont()
            font.setBold(True)
            font.setPointSize(font.pointSize() + 3)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 5):
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.UserRole:
            return item
        return None


class QueueBoard(QWidget):
    """The day's queue with a summary line; reloads on ``reload()`` (events) and every
    minute (waiting times grow). ``sig_loaded()`` after each load. GUI thread only."""

    sig_loaded = Signal()

    def __init__(self, tasks: TaskRunner, scheduling_api, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks, self.api = tasks, scheduling_api
        self.loading = False
        self._generation = 0
        self.model = QueueTableModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.summary_label = QLabel(self)
        self.summary_label.setAccessibleName(self.tr("Queue summary"))
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.refresh_button.setAccessibleName(self.tr("Refresh the queue"))
        self.refresh_button.setToolTip(self.tr("Load the queue again (F5)"))
        self.refresh_button.clicked.connect(self.reload)
        top.addWidget(self.summary_label, 1)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName(self.tr("Queue"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

    def reload(self, *, quiet: bool = False) -> None:
        self._generation += 1
        generation, api = self._generation, self.api
        self.loading = True
        self.tasks.run(lambda: api.queue(), lambda board: self._on_loaded(generation, board),
                       lambda exc: self._on_failed(generation, exc), quiet=quiet, owner=self)

    def _on_timer_timeout(self) -> None:
        if self.isVisible():
            self.reload(quiet=True)

    def _on_loaded(self, generation: int, board: dict) -> None:
        if generation != self._generation:
            return
        self.loading = False
        self.problem.clear()
        self.model.set_items(board.get("items", []))
        summary = board.get("summary") or {}
        text = self.tr("Waiting {w} · called {c} · in consultation {i} · done {d}").format(
            w=summary.get("waiting", 0), c=summary.get("called", 0),
            i=summary.get("in_consultation", 0), d=summary.get("done", 0))
        if summary.get("average_wait_minutes") is not None:
            text += "  ·  " + self.tr("average wait {n} min").format(
                n=round(summary["average_wait_minutes"]))
        self.summary_label.setText(text)
        self.sig_loaded.emit()

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.loading = False
        self.problem.show_error(exc)
