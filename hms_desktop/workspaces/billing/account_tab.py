"""The patient's account: unbilled charges (tick the ones to invoice), invoices, payments and
the money summary. Emits what the clerk asks for; the workspace runs it."""

from __future__ import annotations

from typing import Any

from hms_contract.payments import AccountRead
from hms_desktop.models.billing import (
    ChargesTableModel,
    InvoicesTableModel,
    PaymentsTableModel,
    format_amount,
)
from hms_desktop.qt import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.record_table import make_record_table


def _button(parent: QWidget, text: str, tip: str, name: str) -> QPushButton:
    button = QPushButton(text, parent)
    button.setToolTip(tip)
    button.setAccessibleName(name)
    return button


class AccountTab(QWidget):
    """Signals: ``sig_invoice_requested(charge_ids)``, ``sig_charge_requested()``,
    ``sig_reverse_requested(charge)``, ``sig_invoice_opened(invoice_id)``,
    ``sig_deposit_requested()``, ``sig_refund_requested(payment)``,
    ``sig_statement_requested()``, ``sig_receipt_requested(payment)``. GUI thread only."""

    sig_invoice_requested = Signal(list)
    sig_charge_requested = Signal()
    sig_reverse_requested = Signal(object)
    sig_invoice_opened = Signal(int)
    sig_deposit_requested = Signal()
    sig_refund_requested = Signal(object)
    sig_statement_requested = Signal()
    sig_receipt_requested = Signal(object)

    def __init__(self, minor_unit: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.minor_unit = minor_unit
        self.account: AccountRead | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        self.summary = QLabel(self.tr("Choose a patient to see their account."), self)
        self.summary.setAccessibleName(self.tr("Account summary"))
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        splitter = QSplitter(Qt.Orientation.Vertical, self)

        charges_box = QGroupBox(self.tr("Unbilled charges"), splitter)
        charges_layout = QVBoxLayout(charges_box)
        self.charges = ChargesTableModel(minor_unit, self)
        self.charges_table = make_record_table(
            charges_box, self.tr("Unbilled charges"), self.charges
        )
        self._fit(self.charges_table, (24, 82, 96, 0, 38, 72, 72, 84))
        charges_layout.addWidget(self.charges_table)
        row = QHBoxLayout()
        self.invoice_button = _button(
            charges_box,
            self.tr("Invoice ticked charges"),
            self.tr("Make a draft invoice of the ticked charges (Ctrl+I)"),
            self.tr("Invoice ticked charges"),
        )
        self.charge_button = _button(
            charges_box,
            self.tr("Add charge…"),
            self.tr("A manual charge from the price list, with a reason (Ctrl+Shift+C)"),
            self.tr("Add charge"),
        )
        self.reverse_button = _button(
            charges_box,
            self.tr("Reverse charge…"),
            self.tr("Take back the selected unbilled charge"),
            self.tr("Reverse charge"),
        )
        for button in (self.invoice_button, self.charge_button, self.reverse_button):
            row.addWidget(button)
        row.addStretch(1)
        charges_layout.addLayout(row)

        invoices_box = QGroupBox(self.tr("Invoices"), splitter)
        invoices_layout = QVBoxLayout(invoices_box)
        self.invoices = InvoicesTableModel(minor_unit, self)
        self.invoices_table = make_record_table(invoices_box, self.tr("Invoices"), self.invoices)
        self._fit(self.invoices_table, (128, 92, 84, 80, 80, 0))
        self.invoices_table.activated.connect(self._on_invoices_activated)
        self.invoices_table.setToolTip(self.tr("Double-click (or Enter) to open the invoice"))
        invoices_layout.addWidget(self.invoices_table)

        payments_box = QGroupBox(self.tr("Payments, deposits and refunds"), splitter)
        payments_layout = QVBoxLayout(payments_box)
        self.payments = PaymentsTableModel(minor_unit, self)
        self.payments_table = make_record_table(payments_box, self.tr("Payments"), self.payments)
        self._fit(self.payments_table, (128, 122, 66, 92, 72, 72, 0))
        payments_layout.addWidget(self.payments_table)
        row = QHBoxLayout()
        self.deposit_button = _button(
            payments_box,
            self.tr("Deposit…"),
            self.tr("Take an advance onto the account (e.g. at admission)"),
            self.tr("Take deposit"),
        )
        self.refund_button = _button(
            payments_box,
            self.tr("Refund…"),
            self.tr("Refund the selected payment from the account credit"),
            self.tr("Refund payment"),
        )
        self.receipt_button = _button(
            payments_box,
            self.tr("Print receipt"),
            self.tr("Print the selected receipt again"),
            self.tr("Print receipt"),
        )
        self.statement_button = _button(
            payments_box,
            self.tr("Statement…"),
            self.tr("Print the patient's statement (Ctrl+Shift+P)"),
            self.tr("Print statement"),
        )
        for button in (
            self.deposit_button,
            self.refund_button,
            self.receipt_button,
            self.statement_button,
        ):
            row.addWidget(button)
        row.addStretch(1)
        payments_layout.addLayout(row)
        splitter.setSizes([260, 170, 170])
        layout.addWidget(splitter, 1)

        self.invoice_button.clicked.connect(self.request_invoice)
        self.charge_button.clicked.connect(self.sig_charge_requested)
        self.reverse_button.clicked.connect(self._on_reverse_clicked)
        self.deposit_button.clicked.connect(self.sig_deposit_requested)
        self.refund_button.clicked.connect(self._on_refund_clicked)
        self.receipt_button.clicked.connect(self._on_receipt_clicked)
        self.statement_button.clicked.connect(self.sig_statement_requested)
        self.set_account(None, [])

    @staticmethod
    def _fit(table: Any, widths: tuple[int, ...]) -> None:
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for column, width in enumerate(widths):
            if width:
                table.setColumnWidth(column, width)
            else:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)

    # -- state ---------------------------------------------------------------------------
    def set_account(self, account: AccountRead | None, charges: list[Any]) -> None:
        self.account = account
        self.charges.set_rows(charges)
        self.invoices.set_rows(account.invoices if account else [])
        self.payments.set_rows(account.payments if account else [])
        has = account is not None
        for button in (self.charge_button, self.deposit_button, self.statement_button):
            button.setEnabled(has)
        self.invoice_button.setEnabled(bool(charges))
        self.reverse_button.setEnabled(bool(charges))
        self.refund_button.setEnabled(bool(account and account.payments))
        self.receipt_button.setEnabled(bool(account and account.payments))
        if account is None:
            self.summary.setText(self.tr("Choose a patient to see their account."))
            return
        mu = self.minor_unit
        self.summary.setText(
            self.tr(
                "<b>Unbilled</b> {unbilled} ({n}) · <b>Patient owes</b> {owed} · "
                "<b>Insurers owe</b> {payer} · <b>Credit</b> {credit} · <b>Balance</b> {balance} "
                "{currency}"
            ).format(
                unbilled=format_amount(account.unbilled, mu),
                n=account.unbilled_count,
                owed=format_amount(account.outstanding, mu),
                payer=format_amount(account.payer_outstanding, mu),
                credit=format_amount(account.credit, mu),
                balance=format_amount(account.balance, mu),
                currency=account.currency,
            )
        )

    def request_invoice(self) -> None:
        ids = self.charges.checked_ids()
        if ids:
            self.sig_invoice_requested.emit(ids)

    def _selected(self, table: Any, model: Any) -> Any:
        index = table.currentIndex()
        return model.row_item(index.row()) if index.isValid() else None

    def _on_reverse_clicked(self) -> None:
        charge = self._selected(self.charges_table, self.charges)
        if charge is not None:
            self.sig_reverse_requested.emit(charge)

    def _on_refund_clicked(self) -> None:
        payment = self._selected(self.payments_table, self.payments)
        if payment is not None:
            self.sig_refund_requested.emit(payment)

    def _on_receipt_clicked(self) -> None:
        payment = self._selected(self.payments_table, self.payments)
        if payment is not None:
            self.sig_receipt_requested.emit(payment)

    def _on_invoices_activated(self, index: Any) -> None:
        if index.isValid():
            self.sig_invoice_opened.emit(self.invoices.row_item(index.row()).id)
