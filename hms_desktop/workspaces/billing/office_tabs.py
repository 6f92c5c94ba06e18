"""The back-office tabs: the claims worklist (to submit, rejected, awaiting remittance),
receivables ageing, and the approvals queue (for approvers). Each loads on the task runner
and shows problems inline."""

from __future__ import annotations

from datetime import date
from typing import Any

from hms_desktop.api.billing import BillingApi
from hms_desktop.models.billing import AgeingTableModel, ApprovalsTableModel, ClaimsTableModel
from hms_desktop.qt import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import make_record_table


def _stretch_last(table: Any, widths: tuple[int, ...]) -> None:
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)


class _Loading(QWidget):
    """A tab that loads through the task runner; ``loading`` is true while it waits."""

    def __init__(self, tasks: TaskRunner, billing: BillingApi, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.tasks, self.billing = tasks, billing
        self.loading = False
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 4, 0, 0)
        self.problem = ProblemLabel(self)

    def load(self, work: Any, done: Any) -> None:
        self.loading = True
        self.problem.clear()

        def finished(value: Any) -> None:
            self.loading = False
            done(value)

        def failed(exc: BaseException) -> None:
            self.loading = False
            self.problem.show_error(exc)

        self.tasks.run(work, finished, failed, owner=self)


class ClaimsTab(_Loading):
    """Claims by worklist and payer. Signals ask the workspace to submit the payer's ready
    claims, post a remittance, resolve a rejection, or print the summary."""

    sig_submit_requested = Signal(int)
    sig_remittance_requested = Signal(object)
    sig_resolve_requested = Signal(object, str)
    sig_print_requested = Signal(list, str)

    WORKLISTS = (
        ("to_submit", "To submit"),
        ("rejected", "Rejected"),
        ("awaiting_remittance", "Awaiting remittance"),
        ("submitted", "Submitted"),
        (None, "All claims"),
    )

    def __init__(
        self, tasks: TaskRunner, billing: BillingApi, minor_unit: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(tasks, billing, parent)
        row = QHBoxLayout()
        self.worklist = QComboBox(self)
        for key, text in self.WORKLISTS:
            self.worklist.addItem(self.tr(text), key)
        self.worklist.setAccessibleName(self.tr("Claims worklist"))
        self.payer = QComboBox(self)
        self.payer.addItem(self.tr("All payers"), None)
        self.payer.setAccessibleName(self.tr("Payer"))
        row.addWidget(QLabel(self.tr("Worklist"), self))
        row.addWidget(self.worklist)
        row.addWidget(QLabel(self.tr("Payer"), self))
        row.addWidget(self.payer, 1)
        self.layout_.addLayout(row)
        self.model = ClaimsTableModel(minor_unit, self)
        self.table = make_record_table(self, self.tr("Claims"), self.model)
        _stretch_last(self.table, (52, 132, 150, 120, 120, 78, 78, 78, 78))
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.problem)
        actions = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip in (
            (
                "submit",
                self.tr("Submit to payer"),
                self.tr("Send the chosen payer's ready claims as one batch"),
            ),
            ("remit", self.tr("Post remittance…"), self.tr("The payer paid the selected claim")),
            (
                "bill",
                self.tr("Bill patient…"),
                self.tr("Move the rejected amount to the patient's part"),
            ),
            (
                "write_off",
                self.tr("Write off…"),
                self.tr("Ask a manager to write the rejected amount off"),
            ),
            ("print", self.tr("Print summary"), self.tr("Print the listed claims")),
        ):
            button = QPushButton(text, self)
            button.setToolTip(tip)
            button.setAccessibleName(text.rstrip("…"))
            actions.addWidget(button)
            self.buttons[key] = button
        actions.addStretch(1)
        self.layout_.addLayout(actions)
        self.worklist.currentIndexChanged.connect(lambda _i: self.reload())
        self.payer.currentIndexChanged.connect(lambda _i: self.reload())
        self.buttons["submit"].clicked.connect(self._on_submit_clicked)
        self.buttons["remit"].clicked.connect(
            lambda: self._selected_emit(self.sig_remittance_requested)
        )
        self.buttons["bill"].clicked.connect(lambda: self._resolve("bill_patient"))
        self.buttons["write_off"].clicked.connect(lambda: self._resolve("write_off"))
        self.buttons["print"].clicked.connect(self._on_print_clicked)

    def reload(self) -> None:
        worklist, payer = self.worklist.currentData(), self.payer.currentData()
        self.load(
            lambda: self.billing.claims(worklist=worklist, payer_id=payer),
            lambda page: self.model.set_rows(page.items),
        )

    def load_payers(self) -> None:
        def show(page: Any) -> None:
            current = self.payer.currentData()
            self.payer.blockSignals(True)
            self.payer.clear()
            self.payer.addItem(self.tr("All payers"), None)
            for payer in page.items:
                self.payer.addItem(payer.name, payer.id)
            self.payer.setCurrentIndex(max(self.payer.findData(current), 0))
            self.payer.blockSignals(False)
            self.reload()

        self.load(self.billing.payers, show)

    def _selected(self) -> Any:
        index = self.table.currentIndex()
        return self.model.row_item(index.row()) if index.isValid() else None

    def _selected_emit(self, signal: Any) -> None:
        claim = self._selected()
        if claim is not None:
            signal.emit(claim)

    def _resolve(self, action: str) -> None:
        claim = self._selected()
        if claim is not None:
            self.sig_resolve_requested.emit(claim, action)

    def _on_submit_clicked(self) -> None:
        payer = self.payer.currentData()
        if payer is None:
            claim = self._selected()
            payer = claim.payer_id if claim is not None else None
        if payer is None:
            self.problem.show_text(self.tr("Choose a payer (or a claim of that payer)."))
            return
        self.sig_submit_requested.emit(payer)

    def _on_print_clicked(self) -> None:
        if self.model.rows:
            self.sig_print_requested.emit(list(self.model.rows), self.payer.currentText())


class ReceivablesTab(_Loading):
    """Open receivables by age: 0–30, 31–60, 61–90, 90+ days since the invoice date."""

    def __init__(
        self, tasks: TaskRunner, billing: BillingApi, minor_unit: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(tasks, billing, parent)
        self.minor_unit = minor_unit
        self.caption = QLabel("", self)
        self.caption.setAccessibleName(self.tr("Receivables as of"))
        self.layout_.addWidget(self.caption)
        self.model = AgeingTableModel(minor_unit, self)
        self.table = make_record_table(self, self.tr("Receivables ageing"), self.model)
        _stretch_last(self.table, (120, 90, 140, 140))
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.problem)
        refresh = QPushButton(self.tr("Refresh"), self)
        refresh.setToolTip(self.tr("Reload the ageing (F5)"))
        refresh.setAccessibleName(self.tr("Refresh receivables"))
        refresh.clicked.connect(lambda: self.reload())
        row = QHBoxLayout()
        row.addWidget(refresh)
        row.addStretch(1)
        self.layout_.addLayout(row)

    def reload(self, as_of: date | None = None) -> None:
        def show(ageing: Any) -> None:
            self.model.set_rows(ageing.buckets)
            self.caption.setText(
                self.tr("Open receivables as of {day}: {total} {c}").format(
                    day=ageing.as_of.isoformat(), total=f"{ageing.total:,}", c=ageing.currency
                )
            )

        self.load(lambda: self.billing.ageing(as_of), show)


class ApprovalsTab(_Loading):
    """Requests waiting for a second user's decision (discounts, refunds, write-offs)."""

    sig_decided = Signal()
    sig_invoice_opened = Signal(int)

    def __init__(
        self,
        tasks: TaskRunner,
        billing: BillingApi,
        minor_unit: int,
        *,
        can_decide: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tasks, billing, parent)
        self.model = ApprovalsTableModel(minor_unit, self)
        self.table = make_record_table(self, self.tr("Approvals waiting"), self.model)
        self.table.setToolTip(self.tr("Double-click (or Enter) to open the invoice"))
        self.table.activated.connect(self._on_table_activated)
        _stretch_last(self.table, (124, 84, 84, 150, 140, 170))
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.problem)
        row = QHBoxLayout()
        self.approve_button = QPushButton(self.tr("Approve"), self)
        self.approve_button.setToolTip(self.tr("Approve the selected request (Ctrl+Shift+A)"))
        self.reject_button = QPushButton(self.tr("Reject"), self)
        self.reject_button.setToolTip(self.tr("Reject the selected request"))
        for button in (self.approve_button, self.reject_button):
            button.setAccessibleName(button.text())
            button.setEnabled(can_decide)
            row.addWidget(button)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.approve_button.clicked.connect(lambda: self.decide(True))
        self.reject_button.clicked.connect(lambda: self.decide(False))

    def reload(self) -> None:
        self.load(lambda: self.billing.approvals(), lambda page: self.model.set_rows(page.items))

    def _on_table_activated(self, index: Any) -> None:
        approval = self.model.row_item(index.row()) if index.isValid() else None
        if approval is not None and approval.invoice_id is not None:
            self.sig_invoice_opened.emit(approval.invoice_id)

    def decide(self, approve: bool) -> None:
        index = self.table.currentIndex()
        if not index.isValid():
            return
        approval = self.model.row_item(index.row())

        def done(_value: Any) -> None:
            self.sig_decided.emit()
            self.reload()

        self.load(lambda: self.billing.decide(approval.id, approve=approve), done)
