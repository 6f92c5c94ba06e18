"""Today's queue board: the table (``models.queue.QueueTableModel``) with a summary line and
the staff's queue actions on the selected patient (call, start, complete)."""

from __future__ import annotations

from hms_contract.scheduling import QueueBoardRead, QueueEntryRead
from hms_desktop.api.scheduling import SchedulingApi
from hms_desktop.models.queue import QueueTableModel, queue_action_allowed
from hms_desktop.qt import (
    QT_TRANSLATE_NOOP,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QPushButton,
    QShortcut,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
    translate,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext

REFRESH_MS = 60_000

# (action, button text, tooltip with its shortcut, shortcut)
_QUEUE_ACTIONS = (
    (
        "call",
        QT_TRANSLATE_NOOP("QueueBoard", "Call"),
        QT_TRANSLATE_NOOP("QueueBoard", "Call the selected patient in (Ctrl+Shift+C)"),
        "Ctrl+Shift+C",
    ),
    (
        "start",
        QT_TRANSLATE_NOOP("QueueBoard", "Start consultation"),
        QT_TRANSLATE_NOOP("QueueBoard", "With the doctor now: open the encounter (Ctrl+Shift+S)"),
        "Ctrl+Shift+S",
    ),
    (
        "complete",
        QT_TRANSLATE_NOOP("QueueBoard", "Complete"),
        QT_TRANSLATE_NOOP("QueueBoard", "Consultation over: close the encounter (Ctrl+Shift+D)"),
        "Ctrl+Shift+D",
    ),
)


class QueueBoard(QWidget):
    """The day's queue with a summary line and the staff's actions on the selected row.

    Reloads on ``reload()`` (events) and every minute (waiting times grow). Actions run on
    the task runner; the board then reloads and keeps the same patient selected.
    Signals: ``sig_loaded()`` after each load, ``sig_action_done(action, entry)`` after a
    successful call/start/complete. GUI thread only.
    """

    sig_loaded = Signal()
    sig_action_done = Signal(str, object)

    def __init__(
        self, context: WorkspaceContext, scheduling: SchedulingApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.tasks, self.api = context.tasks, scheduling
        self.loading = False
        self.busy = False
        self._generation = 0
        self._keep_selected: int | None = None
        self._failure: BaseException | None = None  # shown again after the next load
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
        self.table = make_record_table(self, self.tr("Queue"), self.model)
        keep_columns_whole(self.table, QueueTableModel.WHOLE_COLUMNS)
        self.table.selectionModel().currentRowChanged.connect(self._update_actions)
        layout.addWidget(self.table, 1)

        self.action_buttons: dict[str, QPushButton] = {}
        actions = QHBoxLayout()
        for key, text, tip, keys in _QUEUE_ACTIONS:
            button = QPushButton(translate("QueueBoard", text), self)
            button.setAccessibleName(translate("QueueBoard", text))
            button.setToolTip(translate("QueueBoard", tip))
            button.clicked.connect(lambda _c=False, k=key: self.run_action(k))
            QShortcut(
                QKeySequence(keys),
                self,
                activated=lambda k=key: self.run_action(k),
                context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
            )
            self.action_buttons[key] = button
            actions.addWidget(button)
        actions.addStretch(1)
        layout.addLayout(actions)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()
        self._update_actions()

    def reload(self, *, quiet: bool = False) -> None:
        self._generation += 1
        generation, api = self._generation, self.api
        self.loading = True
        self.tasks.run(
            lambda: api.queue(),
            lambda board: self._on_loaded(generation, board),
            lambda exc: self._on_failed(generation, exc),
            quiet=quiet,
            owner=self,
        )

    def selected_entry(self) -> QueueEntryRead | None:
        index = self.table.currentIndex()
        return self.model.items[index.row()] if index.isValid() else None

    def select_entry(self, entry_id: int) -> bool:
        row = self.model.row_of(entry_id)
        if row >= 0:
            self.table.selectRow(row)
        return row >= 0

    def run_action(self, action: str) -> None:
        """Call, start or complete the selected entry (ignored when its status forbids it)."""
        entry = self.selected_entry()
        if self.busy or not queue_action_allowed(action, entry):
            return
        assert entry is not None
        entry_id, api = entry.id, self.api
        self.busy = True
        self._update_actions()
        self.problem.clear()
        self.tasks.run(
            lambda: api.queue_action(entry_id, action),
            lambda done: self._on_action_done(action, done),
            self._on_action_failed,
            owner=self,
        )

    # -- slots -------------------------------------------------------------------------
    def _on_action_done(self, action: str, entry: QueueEntryRead) -> None:
        self.busy = False
        self._keep_selected = entry.id
        self.sig_action_done.emit(action, entry)
        self.reload()

    def _on_action_failed(self, exc: BaseException) -> None:
        # Most likely someone else moved this patient on (409): show why, then the truth.
        self.busy = False
        selected = self.selected_entry()
        self._keep_selected = selected.id if selected else None
        self._failure = exc
        self.problem.show_error(exc)
        self.reload()

    def _on_timer_timeout(self) -> None:
        if self.isVisible():
            self.reload(quiet=True)

    def _on_loaded(self, generation: int, board: QueueBoardRead) -> None:
        if generation != self._generation:
            return
        self.loading = False
        selected = self.selected_entry()
        keep = self._keep_selected or (selected.id if selected else None)
        self._keep_selected = None
        if self._failure is None:
            self.problem.clear()
        self._failure = None
        self.model.set_items(board.items)
        if keep is not None:
            self.select_entry(keep)
        summary = board.summary
        text = self.tr("Waiting {w} · called {c} · in consultation {i} · done {d}").format(
            w=summary.waiting, c=summary.called, i=summary.in_consultation, d=summary.done
        )
        if summary.average_wait_minutes is not None:
            text += "  ·  " + self.tr("average wait {n} min").format(
                n=round(summary.average_wait_minutes)
            )
        self.summary_label.setText(text)
        self._update_actions()
        self.sig_loaded.emit()

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.loading = False
        self.problem.show_error(exc)

    def _update_actions(self, *_args) -> None:
        entry = self.selected_entry()
        for key, button in self.action_buttons.items():
            button.setEnabled(not self.busy and queue_action_allowed(key, entry))
