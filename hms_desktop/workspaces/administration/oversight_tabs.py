"""Administration tabs for what must be watched: emergency chart accesses to review (who
opened whose chart, why, when, how often, reviewed by whom) and the message outbox (queued,
sent, failed, retry)."""

from __future__ import annotations

from hms_contract.clinical import BreakGlassRead
from hms_contract.messaging import MessageRead
from hms_desktop.api.oversight import OversightApi
from hms_desktop.models.oversight import (
    MESSAGE_STATUS,
    RETRYABLE,
    BreakGlassTableModel,
    MessagesTableModel,
)
from hms_desktop.plurals import plural
from hms_desktop.qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    translate,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext


class ReviewDialog(QDialog):
    """Mark an emergency access as reviewed, with an optional note."""

    def __init__(self, grant: BreakGlassRead, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Review emergency access"))
        self.setAccessibleName(self.windowTitle())
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        summary = QLabel(
            self.tr("{who} opened the chart of {whom} on {when}.\nReason given: {why}").format(
                who=grant.full_name or grant.username or grant.user_id,
                whom=" · ".join(x for x in (grant.patient_mrn, grant.patient_name) if x),
                when=grant.granted_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                why=grant.reason,
            ),
            self,
        )
        summary.setWordWrap(True)
        layout.addWidget(summary)
        self.note_edit = QPlainTextEdit(self)
        self.note_edit.setAccessibleName(self.tr("Review note"))
        self.note_edit.setPlaceholderText(self.tr("Optional: what the review found"))
        self.note_edit.setMaximumHeight(80)
        layout.addWidget(self.note_edit)
        row = QHBoxLayout()
        row.addStretch(1)
        cancel = QPushButton(self.tr("Cancel"), self)
        cancel.clicked.connect(self.reject)
        ok = QPushButton(self.tr("Mark reviewed"), self)
        ok.setDefault(True)
        ok.clicked.connect(self.accept)
        for button in (cancel, ok):
            button.setAccessibleName(button.text())
            row.addWidget(button)
        layout.addLayout(row)

    def note(self) -> str | None:
        return self.note_edit.toPlainText().strip() or None


class BreakGlassTab(QWidget):
    """The review queue of emergency accesses; unreviewed ones first by default."""

    def __init__(
        self, context: WorkspaceContext, api: OversightApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context, self.api = context, api
        self.dialog: QDialog | None = None
        self.model = BreakGlassTableModel(context.tasks, api, self)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.unreviewed_check = QCheckBox(self.tr("Only those not reviewed yet"), self)
        self.unreviewed_check.setChecked(True)
        self.unreviewed_check.setAccessibleName(self.tr("Only unreviewed emergency accesses"))
        self.unreviewed_check.toggled.connect(lambda _on: self.reload())
        self.review_button = QPushButton(self.tr("Mark reviewed…"), self)
        self.review_button.setAccessibleName(self.tr("Mark reviewed"))
        self.review_button.setToolTip(self.tr("Record that you reviewed the selected access"))
        self.review_button.clicked.connect(self.review_selected)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.refresh_button.setAccessibleName(self.tr("Refresh the review list"))
        self.refresh_button.clicked.connect(self.reload)
        top.addWidget(self.unreviewed_check)
        top.addStretch(1)
        top.addWidget(self.review_button)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        self.table = make_record_table(self, self.tr("Emergency accesses"), self.model)
        keep_columns_whole(self.table, (0, 1, 2, 4))
        self.table.setWordWrap(True)  # the reason is read in full
        self.model.rowsInserted.connect(lambda *_a: self.table.resizeRowsToContents())
        self.table.selectionModel().currentRowChanged.connect(self._update_actions)
        layout.addWidget(self.table, 1)
        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "subtitle")
        self.count_label.setAccessibleName(self.tr("Number of emergency accesses"))
        layout.addWidget(self.count_label)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self.model.sig_total_changed.connect(self._on_total)
        self.model.sig_load_failed.connect(self.problem.show_error)
        self.model.modelReset.connect(self._update_actions)
        self._update_actions()

    @property
    def loading(self) -> bool:
        return self.model.loading

    def reload(self) -> None:
        self.problem.clear()
        self.model.set_filters(unreviewed=self.unreviewed_check.isChecked() or None)

    def _on_total(self, total: int) -> None:
        if self.unreviewed_check.isChecked():
            text = plural(
                total,
                self.tr("%n emergency access to review", "", total),
                self.tr("%n emergency accesses to review", "", total),
            )
        else:
            text = plural(
                total,
                self.tr("%n emergency access", "", total),
                self.tr("%n emergency accesses", "", total),
            )
        self.count_label.setText(text)

    def selected(self) -> BreakGlassRead | None:
        index = self.table.currentIndex()
        return self.model.row_item(index.row()) if index.isValid() else None

    def _update_actions(self, *_args) -> None:
        grant = self.selected()
        self.review_button.setEnabled(grant is not None and grant.reviewed_at is None)

    def review_selected(self) -> ReviewDialog | None:
        grant = self.selected()
        if grant is None:
            return None
        dialog = ReviewDialog(grant, self)
        api, grant_id = self.api, grant.id

        def review() -> None:
            note = dialog.note()
            self.context.tasks.run(
                lambda: api.review_break_glass(grant_id, note),
                lambda _g: self._after_review(),
                self.problem.show_error,
                owner=self,
            )

        dialog.accepted.connect(review)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _after_review(self) -> None:
        self.context.show_status(self.tr("Marked as reviewed."))
        self.reload()


class OutboxTab(QWidget):
    """Outgoing SMS and e-mail: filter by status, retry a failed one."""

    def __init__(
        self, context: WorkspaceContext, api: OversightApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context, self.api = context, api
        self.model = MessagesTableModel(context.tasks, api, self)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.status_combo = QComboBox(self)
        self.status_combo.setAccessibleName(self.tr("Message status"))
        self.status_combo.addItem(self.tr("All messages"), None)
        for status, (word, symbol, _colour) in MESSAGE_STATUS.items():
            self.status_combo.addItem(f"{symbol} {translate('OversightModels', word)}", status)
        self.status_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.retry_button = QPushButton(self.tr("Retry now"), self)
        self.retry_button.setAccessibleName(self.tr("Retry the selected message now"))
        self.retry_button.setToolTip(self.tr("Send a failed, dead or expired message again"))
        self.retry_button.clicked.connect(self.retry_selected)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.refresh_button.setAccessibleName(self.tr("Refresh the outbox"))
        self.refresh_button.clicked.connect(self.reload)
        top.addWidget(QLabel(self.tr("Show:"), self))
        top.addWidget(self.status_combo)
        top.addStretch(1)
        top.addWidget(self.retry_button)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        self.table = make_record_table(self, self.tr("Outgoing messages"), self.model)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._update_actions)
        layout.addWidget(self.table, 1)
        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "subtitle")
        self.count_label.setAccessibleName(self.tr("Number of messages"))
        layout.addWidget(self.count_label)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self.model.sig_total_changed.connect(
            lambda n: self.count_label.setText(
                plural(n, self.tr("%n message", "", n), self.tr("%n messages", "", n))
            )
        )
        self.model.sig_load_failed.connect(self.problem.show_error)
        self.model.modelReset.connect(self._update_actions)
        context.events().subscribe(("message.",), lambda _t, _d: self.reload())
        self._update_actions()

    @property
    def loading(self) -> bool:
        return self.model.loading

    def reload(self) -> None:
        self.problem.clear()
        self.model.set_filters(status=self.status_combo.currentData())

    def selected(self) -> MessageRead | None:
        index = self.table.currentIndex()
        return self.model.row_item(index.row()) if index.isValid() else None

    def _update_actions(self, *_args) -> None:
        message = self.selected()
        self.retry_button.setEnabled(message is not None and message.status in RETRYABLE)

    def retry_selected(self) -> None:
        message = self.selected()
        if message is None or message.status not in RETRYABLE:
            return
        api, message_id = self.api, message.id
        self.context.tasks.run(
            lambda: api.retry_message(message_id),
            lambda _m: self._after_retry(),
            self.problem.show_error,
            owner=self,
        )

    def _after_retry(self) -> None:
        self.context.show_status(self.tr("Queued again; it goes out within a minute."))
        self.reload()
