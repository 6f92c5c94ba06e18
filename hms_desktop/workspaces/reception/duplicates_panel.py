"""Reception's duplicates review: records flagged as possibly one person (e.g. a self-booking
that possibly matched an existing patient), and merges waiting for confirmation."""

from __future__ import annotations

from hms_contract.duplicates import DuplicateFlagRead, MergeRead
from hms_desktop.api.duplicates import DuplicatesApi
from hms_desktop.api.patients import PatientsApi
from hms_desktop.models.clinical import RowsTableModel
from hms_desktop.models.patients import duplicate_reasons_text, full_name
from hms_desktop.plurals import plural
from hms_desktop.qt import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QShortcut,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
    translate,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.reception.merge_dialog import MIN_REASON, MergeDialog

EVENT_TYPES = (
    "patient.duplicate_flagged",
    "patient.duplicate_resolved",
    "patient.merge_pending",
    "patient.merge_undone",
    "patient.merged",
)
_C = "DuplicatesPanel"
_SOURCE = {"self_booking": "booked online", "registration": "registered at the desk"}


def _born(p) -> str:
    return p.date_of_birth.isoformat()


def _who(p) -> str:
    """Two lines, so the pair fits a narrow pane without cutting anything short."""
    return f"{full_name(p)}\n{p.mrn} · {translate(_C, 'born')} {_born(p)}"


def flag_columns() -> list[tuple[str, object]]:
    return [
        (translate(_C, "New record"), lambda f: _who(f.patient)),
        (translate(_C, "Possible match"), lambda f: _who(f.candidate)),
        (
            translate(_C, "Why"),
            lambda f: "{why}\n{when}, {how}".format(
                why=duplicate_reasons_text(f.reasons),
                when=f.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                how=translate(_C, _SOURCE.get(f.source, f.source)),
            ),
        ),
    ]


def merge_columns() -> list[tuple[str, object]]:
    return [
        (translate(_C, "Keep"), lambda m: f"{full_name(m.survivor)} · {m.survivor.mrn}"),
        (translate(_C, "Merge away"), lambda m: f"{full_name(m.duplicate)} · {m.duplicate.mrn}"),
        (translate(_C, "Reason"), lambda m: m.reason),
        (
            translate(_C, "Recorded"),
            lambda m: m.requested_at.astimezone().strftime("%Y-%m-%d %H:%M"),
        ),
    ]


class DismissDialog(QDialog):
    """Two different people: the note that says why (required)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Not the same person"))
        self.setAccessibleName(self.windowTitle())
        layout = QVBoxLayout(self)
        label = QLabel(self.tr("Why are these two different people? (required)"), self)
        self.note_edit = QPlainTextEdit(self)
        self.note_edit.setAccessibleName(self.tr("Why they are different people"))
        self.note_edit.setPlaceholderText(self.tr("e.g. Twin sisters; checked ID at the desk"))
        label.setBuddy(self.note_edit)
        self.error = QLabel(self)
        self.error.setProperty("role", "error")
        self.error.hide()
        row = QHBoxLayout()
        row.addStretch(1)
        cancel = QPushButton(self.tr("Cancel"), self)
        cancel.clicked.connect(self.reject)
        ok = QPushButton(self.tr("Close the flag"), self)
        ok.setToolTip(self.tr("Mark as different people (Ctrl+Enter)"))
        ok.setShortcut("Ctrl+Return")
        ok.setDefault(True)
        ok.clicked.connect(self.submit)
        for button in (cancel, ok):
            button.setAccessibleName(button.text())
            row.addWidget(button)
        for widget in (label, self.note_edit, self.error):
            layout.addWidget(widget)
        layout.addLayout(row)

    def note(self) -> str:
        return self.note_edit.toPlainText().strip()

    def submit(self) -> None:
        if len(self.note()) < MIN_REASON:
            self.error.setText(
                self.tr("Give the reason in at least {n} characters.").format(n=MIN_REASON)
            )
            self.error.show()
            return
        self.accept()


class DuplicatesPanel(QWidget):
    """Open duplicate flags (top) and pending merges (below), with their actions.

    ``Compare and merge…`` opens ``MergeDialog`` for the selected flag; ``Not the same
    person…`` closes it with a note; a pending merge is confirmed or undone here too.
    Signals: ``sig_loaded()``, ``sig_changed(str)`` after an action (a status line).
    GUI thread; requests through ``context.tasks``; reloads on duplicate/merge events.
    """

    sig_loaded = Signal()
    sig_changed = Signal(str)

    def __init__(
        self,
        context: WorkspaceContext,
        patients: PatientsApi,
        duplicates: DuplicatesApi,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context, self.tasks = context, context.tasks
        self.patients_api, self.api = patients, duplicates
        self.loading = False
        self.dialog: QDialog | None = None
        self._generation = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        self.flags_label = QLabel(self)
        self.flags_label.setProperty("role", "subtitle")
        self.flags_label.setAccessibleName(self.tr("Records to review"))
        self.flags_model = RowsTableModel(flag_columns(), parent=self)
        self.flags_table = make_record_table(self, self.tr("Possible duplicates"), self.flags_model)
        keep_columns_whole(self.flags_table, (0, 1))
        self.flags_table.setWordWrap(True)
        # Rows follow their wrapped text when the pane is resized.
        self.flags_table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.flags_table.doubleClicked.connect(lambda _i: self.compare_selected())
        self.flags_table.selectionModel().currentRowChanged.connect(self._update_actions)
        flag_row = QHBoxLayout()
        self.compare_button = QPushButton(self.tr("Compare and merge…"), self)
        self.compare_button.setToolTip(
            self.tr("Compare the two records side by side and merge them (Ctrl+M)")
        )
        self.compare_button.clicked.connect(self.compare_selected)
        self.dismiss_button = QPushButton(self.tr("Not the same person…"), self)
        self.dismiss_button.setToolTip(
            self.tr("Close the flag, saying why they are different people")
        )
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.refresh_button.setToolTip(self.tr("Load the lists again"))
        self.refresh_button.clicked.connect(self.reload)
        for button in (self.compare_button, self.dismiss_button):
            flag_row.addWidget(button)
        flag_row.addStretch(1)
        flag_row.addWidget(self.refresh_button)

        merges_title = QLabel(self.tr("Merges waiting for confirmation"), self)
        merges_title.setStyleSheet("font-weight: 600;")
        self.merges_model = RowsTableModel(merge_columns(), parent=self)
        self.merges_table = make_record_table(self, self.tr("Pending merges"), self.merges_model)
        keep_columns_whole(self.merges_table, (0, 1))
        self.merges_table.selectionModel().currentRowChanged.connect(self._update_actions)
        self.merges_table.doubleClicked.connect(lambda _i: self.open_pending())
        merge_row = QHBoxLayout()
        self.confirm_button = QPushButton(self.tr("Confirm merge"), self)
        self.confirm_button.setToolTip(
            self.tr("Carry out the selected merge; it cannot be undone afterwards")
        )
        self.confirm_button.clicked.connect(lambda: self.decide("confirm"))
        self.undo_button = QPushButton(self.tr("Undo merge"), self)
        self.undo_button.setToolTip(
            self.tr("Withdraw the selected merge; both records stay as they are")
        )
        self.undo_button.clicked.connect(lambda: self.decide("undo"))
        for button in (self.confirm_button, self.undo_button):
            merge_row.addWidget(button)
        merge_row.addStretch(1)
        for button in (
            self.compare_button,
            self.dismiss_button,
            self.refresh_button,
            self.confirm_button,
            self.undo_button,
        ):
            button.setAccessibleName(button.text().rstrip("…"))
        self.problem = ProblemLabel(self)

        layout.addWidget(self.flags_label)
        layout.addWidget(self.flags_table, 3)
        layout.addLayout(flag_row)
        layout.addSpacing(6)
        layout.addWidget(merges_title)
        layout.addWidget(self.merges_table, 2)
        layout.addLayout(merge_row)
        layout.addWidget(self.problem)
        QShortcut(
            QKeySequence("Ctrl+M"),
            self,
            activated=self.compare_selected,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        context.events().subscribe(("patient.",), self._on_server_event)
        self._update_actions()

    # -- loading -----------------------------------------------------------------------
    def reload(self) -> None:
        self._generation += 1
        generation, api = self._generation, self.api
        self.loading = True
        self.tasks.run(
            lambda: (api.flags(status="open", limit=200), api.merges(status="pending", limit=200)),
            lambda lists: self._on_loaded(generation, lists),
            lambda exc: self._on_failed(generation, exc),
            owner=self,
        )

    def _on_loaded(self, generation: int, lists) -> None:
        if generation != self._generation:
            return
        self.loading = False
        flags, merges = lists
        self.flags_model.set_rows(list(flags.items))
        self.merges_model.set_rows(list(merges.items))
        self.flags_table.resizeRowsToContents()
        self.flags_label.setText(
            plural(
                flags.total,
                self.tr("%n pair of records to review", "", flags.total),
                self.tr("%n pairs of records to review", "", flags.total),
            )
            if flags.total
            else self.tr("No possible duplicates to review.")
        )
        self.problem.clear()
        self._update_actions()
        self.sig_loaded.emit()

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.loading = False
        self.problem.show_error(exc)
        self.sig_loaded.emit()

    def _on_server_event(self, event_type: str, _data: dict) -> None:
        if event_type in EVENT_TYPES:
            self.reload()

    # -- selection ---------------------------------------------------------------------
    def selected_flag(self) -> DuplicateFlagRead | None:
        index = self.flags_table.currentIndex()
        return self.flags_model.row_item(index.row()) if index.isValid() else None

    def selected_merge(self) -> MergeRead | None:
        index = self.merges_table.currentIndex()
        return self.merges_model.row_item(index.row()) if index.isValid() else None

    def _update_actions(self, *_args) -> None:
        has_flag, has_merge = self.selected_flag() is not None, self.selected_merge() is not None
        self.compare_button.setEnabled(has_flag)
        self.dismiss_button.setEnabled(has_flag)
        self.confirm_button.setEnabled(has_merge)
        self.undo_button.setEnabled(has_merge)

    # -- actions -----------------------------------------------------------------------
    def compare_selected(self) -> MergeDialog | None:
        flag = self.selected_flag()
        if flag is None:
            return None
        return self._open_merge(flag.candidate.id, flag.patient.id, flag=flag)

    def open_pending(self) -> MergeDialog | None:
        merge = self.selected_merge()
        if merge is None:
            return None
        return self._open_merge(merge.survivor.id, merge.duplicate.id, pending=merge)

    def _open_merge(self, first: int, second: int, **kwargs) -> MergeDialog:
        dialog = MergeDialog(
            self.context, self.patients_api, self.api, first, second, parent=self, **kwargs
        )
        dialog.sig_merge_changed.connect(self._on_merge_changed)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def dismiss_selected(self) -> DismissDialog | None:
        flag = self.selected_flag()
        if flag is None:
            return None
        dialog = DismissDialog(self)
        api = self.api

        def dismiss() -> None:
            note = dialog.note()
            self.tasks.run(
                lambda: api.dismiss(flag.id, version=flag.version, note=note),
                lambda _f: self._after(self.tr("Flag closed: different people.")),
                self.problem.show_error,
                owner=self,
            )

        dialog.accepted.connect(dismiss)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def decide(self, action: str) -> None:
        merge = self.selected_merge()
        if merge is None:
            return
        api = self.api
        work = (
            (lambda: api.confirm_merge(merge.id, version=merge.version))
            if action == "confirm"
            else (lambda: api.undo_merge(merge.id, version=merge.version))
        )
        self.tasks.run(work, self._on_merge_changed, self.problem.show_error, owner=self)

    def _on_merge_changed(self, merge: MergeRead) -> None:
        texts = {
            "pending": self.tr("Merge recorded; confirm it to carry it out."),
            "undone": self.tr("Merge undone: {mrn} stays a record of its own."),
            "confirmed": self.tr("Merged {mrn} into {keep}."),
        }
        self._after(texts[merge.status].format(mrn=merge.duplicate.mrn, keep=merge.survivor.mrn))

    def _after(self, status: str) -> None:
        self.sig_changed.emit(status)
        self.reload()
