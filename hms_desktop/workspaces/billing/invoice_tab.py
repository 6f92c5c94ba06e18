"""One invoice: its lines, the insurance split, totals, discounts and credit notes, and the
actions its state allows (a draft is edited and finalised; a finalised invoice is paid,
credited and printed). The workspace runs the actions; this widget only shows and asks."""

from __future__ import annotations

from typing import Any

from hms_contract.billing import InvoiceRead
from hms_desktop.models.billing import InvoiceLinesTableModel, format_amount, status_text
from hms_desktop.qt import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.record_table import make_record_table

TOTALS = (
    ("subtotal", "Subtotal"),
    ("discount", "Discount"),
    ("tax", "Tax"),
    ("total", "Total"),
    ("payer_due", "Insurer pays"),
    ("patient_due", "Patient pays"),
    ("paid", "Paid"),
    ("credited", "Credited"),
    ("balance", "Balance due"),
)


class InvoiceTab(QWidget):
    """Shows one ``InvoiceRead``. Signals carry what the clerk asked for: finalise, pay,
    discount, remove a line, apply a policy, credit note, print, discard, apply credit."""

    sig_finalize_requested = Signal(object)
    sig_payment_requested = Signal(object)
    sig_discount_requested = Signal(object)
    sig_remove_line_requested = Signal(object, int)
    sig_policy_requested = Signal(object, object)
    sig_credit_note_requested = Signal(object)
    sig_print_requested = Signal(object)
    sig_discard_requested = Signal(object)
    sig_apply_credit_requested = Signal(object)

    def __init__(
        self,
        minor_unit: int,
        parent: QWidget | None = None,
        *,
        allowed: frozenset[str] = frozenset({"edit", "pay"}),
    ) -> None:
        super().__init__(parent)
        self.minor_unit = minor_unit
        self.allowed = allowed
        self.invoice: InvoiceRead | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        head = QHBoxLayout()
        self.title = QLabel(self.tr("No invoice open"), self)
        self.title.setProperty("role", "title")
        self.title.setAccessibleName(self.tr("Invoice number and status"))
        head.addWidget(self.title, 1)
        head.addWidget(QLabel(self.tr("Insurance:"), self))
        self.policy = QComboBox(self)
        self.policy.setAccessibleName(self.tr("Insurance policy applied"))
        self.policy.setToolTip(
            self.tr(
                "Apply one of the patient's policies; the split into "
                "insurer and patient parts is shown at once"
            )
        )
        self.policy.setMinimumWidth(240)
        head.addWidget(self.policy)
        layout.addLayout(head)

        self.lines = InvoiceLinesTableModel(minor_unit, self)
        self.table = make_record_table(self, self.tr("Invoice lines"), self.lines)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((30, 80, 110, 0, 36, 72, 64, 44, 76, 72, 72)):
            if width:
                self.table.setColumnWidth(column, width)
            else:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)

        bottom = QHBoxLayout()
        self.notes = QLabel("", self)
        self.notes.setWordWrap(True)
        self.notes.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.notes.setAccessibleName(self.tr("Discounts, tax and credit notes"))
        bottom.addWidget(self.notes, 1)
        totals = QFrame(self)
        totals.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(totals)
        self.total_labels: dict[str, QLabel] = {}
        for row, (key, text) in enumerate(TOTALS):
            name = QLabel(self.tr(text), totals)
            value = QLabel("", totals)
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            value.setAccessibleName(self.tr(text))
            value.setMinimumWidth(110)
            if key in ("total", "balance"):
                name.setStyleSheet("font-weight: 600")
                value.setStyleSheet("font-weight: 600")
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            self.total_labels[key] = value
        bottom.addWidget(totals)
        layout.addLayout(bottom)

        # Two rows (money on the first, editing on the second) so the tab stays narrow.
        actions, edits = QHBoxLayout(), QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip in (
            (
                "finalize",
                self.tr("Finalise"),
                self.tr("Give the invoice its number and freeze it (Ctrl+Return)"),
            ),
            ("pay", self.tr("Take payment…"), self.tr("Cash, card or transfer (Ctrl+M)")),
            (
                "discount",
                self.tr("Discount…"),
                self.tr("On a line or the whole invoice; large ones need a manager"),
            ),
            (
                "remove",
                self.tr("Remove line"),
                self.tr("Take the selected line off the draft (its charge stays unbilled)"),
            ),
            (
                "credit",
                self.tr("Apply credit"),
                self.tr("Use the patient's deposit or credit on this invoice"),
            ),
            (
                "credit_note",
                self.tr("Credit note…"),
                self.tr("Take money off a finalised invoice (all of it voids it)"),
            ),
            ("print", self.tr("Print…"), self.tr("Preview and print the invoice (Ctrl+P)")),
            (
                "discard",
                self.tr("Discard draft"),
                self.tr("Delete the draft; its charges are unbilled again"),
            ),
        ):
            button = QPushButton(text, self)
            button.setToolTip(tip)
            button.setAccessibleName(text.rstrip("…"))
            row = edits if key in ("discount", "remove", "credit_note", "discard") else actions
            row.addWidget(button)
            self.buttons[key] = button
        for row in (actions, edits):
            row.addStretch(1)
            layout.addLayout(row)

        self.buttons["finalize"].clicked.connect(lambda: self._emit(self.sig_finalize_requested))
        self.buttons["pay"].clicked.connect(lambda: self._emit(self.sig_payment_requested))
        self.buttons["discount"].clicked.connect(lambda: self._emit(self.sig_discount_requested))
        self.buttons["credit"].clicked.connect(lambda: self._emit(self.sig_apply_credit_requested))
        self.buttons["credit_note"].clicked.connect(
            lambda: self._emit(self.sig_credit_note_requested)
        )
        self.buttons["print"].clicked.connect(lambda: self._emit(self.sig_print_requested))
        self.buttons["discard"].clicked.connect(lambda: self._emit(self.sig_discard_requested))
        self.buttons["remove"].clicked.connect(self._on_remove_clicked)
        self.policy.activated.connect(self._on_policy_activated)
        # A role sees only the actions it may take (a manager reads and prints).
        for key in ("finalize", "discount", "remove", "credit_note", "discard"):
            self.buttons[key].setVisible("edit" in allowed)
        for key in ("pay", "credit"):
            self.buttons[key].setVisible("pay" in allowed)
        self.set_invoice(None)

    def _emit(self, signal: Any) -> None:
        if self.invoice is not None:
            signal.emit(self.invoice)

    def set_policies(self, policies: list[Any]) -> None:
        """The patient's policies (``PolicyRead``) to choose from."""
        self.policy.blockSignals(True)
        self.policy.clear()
        self.policy.addItem(self.tr("None (self-pay)"), None)
        for policy in policies:
            eligibility = {"eligible": "✓", "not_eligible": "✗"}.get(policy.eligibility, "?")
            self.policy.addItem(
                f"{policy.payer_name} · {policy.plan_name} · {policy.member_number} {eligibility}",
                policy.id,
            )
        self.policy.blockSignals(False)
        self._select_policy()

    def _select_policy(self) -> None:
        current = self.invoice.policy_id if self.invoice else None
        index = self.policy.findData(current)
        self.policy.setCurrentIndex(max(index, 0))

    def set_invoice(self, invoice: InvoiceRead | None) -> None:
        self.invoice = invoice
        self.lines.set_rows(invoice.lines if invoice else [])
        insured = bool(invoice and invoice.policy_id)
        for column in (9, 10):  # the insurer's and the patient's share: only when insured
            self.table.setColumnHidden(column, not insured)
        if invoice is not None and invoice.lines:
            # Codes identify the item: never elided. Measured from the longest code (cheaper
            # than resizeColumnToContents, which lays out every one of 500 rows).
            longest = max((line.code for line in invoice.lines), key=len)
            width = self.table.fontMetrics().horizontalAdvance(longest) + 24
            self.table.setColumnWidth(2, max(self.table.columnWidth(2), width))
        mu = self.minor_unit
        if invoice is None:
            self.title.setText(self.tr("No invoice open"))
            for label in self.total_labels.values():
                label.setText("")
            self.notes.setText("")
        else:
            number = invoice.number or self.tr("Draft")
            self.title.setText(
                f"{number} — {status_text(invoice.status)}"
                + (f" · {invoice.patient_name}" if invoice.patient_name else "")
            )
            for key, label in self.total_labels.items():
                value = getattr(invoice, key)
                sign = "−" if key in ("discount", "paid", "credited") and value else ""
                label.setText(f"{sign}{format_amount(value, mu)} {invoice.currency}")
            self.notes.setText(self._notes(invoice))
            self._select_policy()
        draft = invoice is not None and invoice.status == "draft"
        open_ = invoice is not None and invoice.status in ("finalised", "partly_paid")
        final = invoice is not None and invoice.status in ("finalised", "partly_paid", "paid")
        pending = bool(invoice and any(d.status == "pending" for d in invoice.discounts))
        self.buttons["finalize"].setEnabled(draft and not pending and bool(invoice.lines))
        self.buttons["discount"].setEnabled(draft)
        self.buttons["remove"].setEnabled(draft)
        self.buttons["discard"].setEnabled(draft)
        self.policy.setEnabled(draft)
        self.buttons["pay"].setEnabled(open_ and bool(invoice and invoice.patient_balance > 0))
        self.buttons["credit"].setEnabled(open_)
        self.buttons["credit_note"].setEnabled(final)
        self.buttons["print"].setEnabled(invoice is not None)

    def _notes(self, invoice: InvoiceRead) -> str:
        mu, parts = self.minor_unit, []
        for tax in invoice.tax_lines:
            parts.append(
                self.tr("Tax {cat} {rate} %: {tax} on {base}").format(
                    cat=tax.tax_category,
                    rate=f"{tax.tax_rate.normalize():f}",
                    tax=format_amount(tax.tax, mu),
                    base=format_amount(tax.taxable, mu),
                )
            )
        for discount in invoice.discounts:
            state = {
                "pending": self.tr("waiting for a manager's approval"),
                "approved": self.tr("applied"),
                "rejected": self.tr("rejected"),
            }.get(discount.status, discount.status)
            parts.append(
                self.tr("Discount {amount} ({reason}): {state}").format(
                    amount=format_amount(discount.amount, mu), reason=discount.reason, state=state
                )
            )
        if invoice.policy_id:
            parts.append(
                self.tr("Insurer {payer}: co-payment {copay}, deductible {ded}").format(
                    payer=invoice.payer_name or "",
                    copay=format_amount(invoice.copay, mu),
                    ded=format_amount(invoice.deductible, mu),
                )
            )
        for note in invoice.credit_notes:
            parts.append(
                self.tr("Credit note {n}: {amount} ({reason})").format(
                    n=note.number, amount=format_amount(note.amount, mu), reason=note.reason
                )
            )
        return "<br>".join(parts)

    def _on_remove_clicked(self) -> None:
        index = self.table.currentIndex()
        if self.invoice is not None and index.isValid():
            self.sig_remove_line_requested.emit(self.invoice, self.lines.row_item(index.row()).id)

    def _on_policy_activated(self, _index: int) -> None:
        if self.invoice is not None and self.policy.currentData() != self.invoice.policy_id:
            self.sig_policy_requested.emit(self.invoice, self.policy.currentData())
