"""My leave: one's own requests (newest period first) with kind, dates, days, status in words
and the manager's note, and "Request leave…" (Ctrl+N) which opens ``RequestLeaveDialog`` and
sends the request on the task runner."""

from __future__ import annotations

from datetime import datetime

from hms_contract.staff import LeaveRead, ShiftRead
from hms_desktop.api.staff import StaffApi
from hms_desktop.models.staff import LEAVE_KIND_TEXT, STATUS_TEXT, Col, RowsModel
from hms_desktop.qt import (
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QPushButton,
    QShortcut,
    QWidget,
    qt_object_alive,
)
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.my_work.common import MyPanel, day_text
from hms_desktop.workspaces.my_work.leave_dialog import RequestLeaveDialog

# A shape beside the word (the word alone carries the meaning; DejaVu has these glyphs).
STATUS_MARK = {"pending": "○", "approved": "✔", "declined": "✖", "cancelled": "–"}


class LeavePanel(MyPanel):
    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None = None):
        super().__init__(context, staff, parent)
        self.dialog: RequestLeaveDialog | None = None
        self.shifts: list[ShiftRead] = []
        top = QHBoxLayout()
        self.request_button = QPushButton(self.tr("Request leave…"), self)
        self.request_button.setToolTip(self.tr("Ask your manager for leave (Ctrl+N)"))
        self.count = QLabel(self)
        top.addWidget(self.request_button)
        top.addStretch(1)
        top.addWidget(self.count)
        self.layout_.addLayout(top)
        self.model = RowsModel(
            [
                Col(self.tr("Kind"), lambda r: self.tr(LEAVE_KIND_TEXT[r.kind])),
                Col(self.tr("From"), lambda r: day_text(r.starts_on)),
                Col(self.tr("To"), lambda r: day_text(r.ends_on)),
                Col(self.tr("Days"), lambda r: str(r.days), right=True),
                Col(
                    self.tr("Status"),
                    lambda r: f"{STATUS_MARK[r.status]} {self.tr(STATUS_TEXT[r.status])}",
                ),
                Col(self.tr("Your reason"), lambda r: r.reason or ""),
                Col(self.tr("Manager's note"), lambda r: r.decision_note or ""),
            ],
            self,
        )
        self.table = make_record_table(self, self.tr("My leave requests"), self.model)
        keep_columns_whole(self.table, (0, 1, 2, 3, 4))
        self.empty = self.empty_note(
            self.tr("You have not asked for leave yet. Use “Request leave…” (Ctrl+N) to ask.")
        )
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.empty, 1)
        self.layout_.addWidget(self.problem)
        self.request_button.clicked.connect(self.request_leave)
        QShortcut(QKeySequence("Ctrl+N"), self, activated=self.request_leave)

    def set_shifts(self, shifts: list[ShiftRead]) -> None:
        """The shifts under My shifts, so the dialog can name those in the chosen days."""
        self.shifts = shifts

    def reload(self) -> None:
        self.run(self.staff.my_leave, self._show)

    def _show(self, rows: list[LeaveRead]) -> None:
        rows = sorted(rows, key=lambda r: (r.starts_on, r.id), reverse=True)
        self.model.set_rows(rows)
        pending = sum(1 for r in rows if r.status == "pending")
        self.count.setText(
            self.tr("{n} requests, {p} waiting for a decision").format(n=len(rows), p=pending)
        )
        self.show_empty(self.table, self.empty, not rows)

    def request_leave(self) -> RequestLeaveDialog:
        """Open the dialog (window-modal); it stays open until the server accepted."""
        dialog = RequestLeaveDialog(datetime.now(self.zone).date(), self.shifts, self.zone, self)
        dialog.sig_submitted.connect(self.submit)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _open_dialog(self) -> RequestLeaveDialog | None:
        """The dialog, if the user has not closed it while the request was on its way."""
        dialog = self.dialog
        return dialog if dialog is not None and qt_object_alive(dialog) else None

    def submit(self, values: dict) -> None:
        self.run(lambda: self.staff.request_leave(values), self._sent, self._refused)

    def _refused(self, exc: BaseException) -> None:
        dialog = self._open_dialog()
        if dialog is not None and dialog.isVisible():
            dialog.show_problem(exc)
        else:
            self.problem.show_error(exc)

    def _sent(self, leave: LeaveRead) -> None:
        dialog = self._open_dialog()
        if dialog is not None and dialog.isVisible():
            dialog.accept()
        self.dialog = None
        self.context.show_status(
            self.tr("Leave requested: {first} – {last}; your manager decides.").format(
                first=day_text(leave.starts_on), last=day_text(leave.ends_on)
            )
        )
        self.reload()
