"""Leave tab: requests by status (pending first), and approving or declining the selected one
with a note. Approving over rostered shifts is refused and the shifts are listed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hms_contract.common import Page
from hms_contract.staff import LeaveRead, StaffRead
from hms_desktop.api.staff import StaffApi
from hms_desktop.models.staff import LEAVE_KIND_TEXT, STATUS_TEXT, Col, RowsModel
from hms_desktop.qt import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QLineEdit,
    QPushButton,
    QShortcut,
    QWidget,
)
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.staff.common import StaffPanel
from hms_desktop.workspaces.staff.dialogs import FileLeaveDialog


def _date(value: Any) -> str:
    return value.strftime("%a %d %b %Y")


class LeaveTab(StaffPanel):
    STATUSES = (
        ("pending", "Pending"),
        ("approved", "Approved"),
        ("declined", "Declined"),
        (None, "All"),
    )

    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None = None):
        super().__init__(context, staff, parent)
        top = QHBoxLayout()
        self.status = QComboBox(self)
        for key, text in self.STATUSES:
            self.status.addItem(self.tr(text), key)
        self.status.setAccessibleName(self.tr("Leave status"))
        self.count = QLabel(self)
        top.addWidget(QLabel(self.tr("Show"), self))
        top.addWidget(self.status)
        top.addStretch(1)
        top.addWidget(self.count)
        self.layout_.addLayout(top)
        self.model = RowsModel(
            [
                Col(self.tr("Name"), lambda r: r.staff_name),
                Col(self.tr("Kind"), lambda r: self.tr(LEAVE_KIND_TEXT[r.kind])),
                Col(self.tr("From"), lambda r: _date(r.starts_on)),
                Col(self.tr("To"), lambda r: _date(r.ends_on)),
                Col(self.tr("Days"), lambda r: str(r.days), right=True),
                Col(self.tr("Status"), lambda r: self.tr(STATUS_TEXT[r.status])),
                Col(self.tr("Reason / note"), lambda r: r.decision_note or r.reason or ""),
            ],
            self,
        )
        self.table = make_record_table(self, self.tr("Leave requests"), self.model)
        keep_columns_whole(self.table, (0, 1, 2, 3, 4, 5))
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.problem)
        actions = QHBoxLayout()
        self.note = QLineEdit(self)
        self.note.setPlaceholderText(self.tr("Note to the employee (optional)"))
        self.note.setAccessibleName(self.tr("Decision note"))
        self.approve_button = QPushButton(self.tr("Approve"), self)
        self.approve_button.setToolTip(self.tr("Approve the selected request (Ctrl+Return)"))
        self.decline_button = QPushButton(self.tr("Decline"), self)
        self.decline_button.setToolTip(self.tr("Decline the selected request (Ctrl+D)"))
        self.file_button = QPushButton(self.tr("File leave…"), self)
        self.file_button.setToolTip(self.tr("Record leave for someone, e.g. a sick call (Ctrl+N)"))
        actions.addWidget(self.file_button)
        actions.addWidget(self.note, 1)
        actions.addWidget(self.approve_button)
        actions.addWidget(self.decline_button)
        self.layout_.addLayout(actions)
        self.people: list[StaffRead] = []
        self.status.currentIndexChanged.connect(self.reload)
        self.file_button.clicked.connect(self.file_leave)
        QShortcut(QKeySequence("Ctrl+N"), self, activated=self.file_leave)
        self.approve_button.clicked.connect(lambda: self.decide("approve"))
        self.decline_button.clicked.connect(lambda: self.decide("decline"))
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=lambda: self.decide("approve"))
        QShortcut(QKeySequence("Ctrl+D"), self, activated=lambda: self.decide("decline"))

    def set_people(self, people: list[StaffRead]) -> None:
        self.people = people

    def file_leave(self) -> None:
        if not self.people:
            return
        dialog = FileLeaveDialog(self.people, datetime.now(self.zone).date(), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.submit_leave(dialog.values())

    def submit_leave(self, values: dict[str, Any]) -> None:
        self.run(lambda: self.staff.file_leave(values), lambda _leave: self.reload())

    def reload(self) -> None:
        status = self.status.currentData()
        self.run(lambda: self.staff.leave_requests(status=status, limit=500), self._show)

    def _show(self, page: Page[LeaveRead]) -> None:
        self.model.set_rows(page.items)
        self.count.setText(self.tr("{n} requests").format(n=page.total))
        if page.items:
            self.table.selectRow(0)

    def selected(self) -> LeaveRead | None:
        index = self.table.currentIndex()
        return self.model.row_item(index.row()) if index.isValid() else None

    def select_leave(self, leave_id: int) -> None:
        row = self.model.find_row(lambda r: r.id == leave_id)
        if row >= 0:
            self.table.selectRow(row)

    def decide(self, decision: str) -> None:
        leave = self.selected()
        if leave is None or leave.status != "pending":
            return
        note = self.note.text().strip() or None
        self.run(
            lambda: self.staff.decide_leave(
                leave.id, version=leave.version, decision=decision, note=note
            ),
            self._decided,
        )

    def _decided(self, leave: LeaveRead) -> None:
        self.note.clear()
        self.context.show_status(
            self.tr("{name}: leave {status}.").format(
                name=leave.staff_name, status=self.tr(STATUS_TEXT[leave.status]).lower()
            )
        )
        self.reload()
