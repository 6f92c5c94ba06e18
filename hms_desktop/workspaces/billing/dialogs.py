"""Short, focused dialogs of the billing workspace: take a payment (cash with change due, card
through the gateway with a waiting state, bank transfer), discount, credit note, refund,
manual charge, and a reason prompt. Inputs are checked inline before anything is sent; every
request runs on the task runner; server problems show inside the dialog with their code.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hms_contract.billing import ChargeCreate, DiscountCreate
from hms_contract.payments import PaymentCreate
from hms_desktop.api.billing import BillingApi
from hms_desktop.models.billing import format_amount, parse_amount
from hms_desktop.qt import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.problems import ProblemLabel

CARD_POLL_MS = 1000


class _Form(QDialog):
    """A dialog with a form, an inline problem line and OK/Cancel; ``submit`` does the work
    on the task runner and closes on success."""

    def __init__(self, tasks: TaskRunner, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.setWindowTitle(title)
        self.setModal(True)
        self.layout_ = QVBoxLayout(self)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.problem = ProblemLabel(self)
        self.layout_.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)
        self.result_value: Any = None

    def field(self, label: str, widget: QWidget, name: str, tip: str = "") -> QWidget:
        widget.setAccessibleName(name)
        if tip:
            widget.setToolTip(tip)
        self.form.addRow(label, widget)
        return widget

    def run(self, work: Callable[[], Any]) -> None:
        self.problem.clear()
        self.ok_button.setEnabled(False)
        self.tasks.run(work, self._on_done, self._on_failed, owner=self)

    def _on_done(self, value: Any) -> None:
        self.result_value = value
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        self.problem.show_error(exc)
        self.problem.show()

    def complain(self, text: str) -> None:
        self.problem.show_text(text)
        self.problem.show()

    def submit(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


def amount_edit(parent: QWidget, value: Decimal | None, minor_unit: int) -> QLineEdit:
    edit = QLineEdit(format_amount(value, minor_unit).replace(",", "") if value else "", parent)
    edit.setPlaceholderText("0." + "0" * minor_unit if minor_unit else "0")
    return edit


class PaymentDialog(_Form):
    """Take money for an invoice (or a deposit): cash shows the change due as the tendered
    amount is typed; card through the integrated terminal waits for the gateway's answer
    (cancel stops waiting); bank transfer and a stand-alone card terminal take a reference.

    ``result_value`` is the ``PaymentRead`` (or, for the terminal, the settled
    ``CardIntentRead``)."""

    sig_waiting_changed = Signal(bool)

    def __init__(
        self,
        tasks: TaskRunner,
        billing: BillingApi,
        *,
        invoice_id: int | None,
        patient_id: int,
        amount: Decimal,
        currency: str,
        minor_unit: int,
        terminal: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tasks, self.tr("Take payment"), parent)
        self.billing, self.invoice_id, self.patient_id = billing, invoice_id, patient_id
        self.minor_unit, self.currency = minor_unit, currency
        self.intent_id: int | None = None
        self.amount = self.field(
            self.tr("Amount ({c})").format(c=currency),
            amount_edit(self, amount, minor_unit),
            self.tr("Amount"),
            self.tr("What the patient pays now"),
        )
        self.method_group = QButtonGroup(self)
        box = QWidget(self)
        row = QVBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.methods: dict[str, QRadioButton] = {}
        choices = [
            ("cash", self.tr("Cash")),
            ("terminal", self.tr("Card (terminal)")),
            ("card", self.tr("Card (stand-alone slip)")),
            ("bank_transfer", self.tr("Bank transfer")),
        ]
        for key, text in choices:
            if key == "terminal" and not terminal:
                continue
            button = QRadioButton(text, box)
            button.setAccessibleName(text)
            self.method_group.addButton(button)
            self.methods[key] = button
            row.addWidget(button)
        self.methods["cash"].setChecked(True)
        self.form.addRow(self.tr("Method"), box)
        self.tendered = self.field(
            self.tr("Cash tendered"),
            amount_edit(self, None, minor_unit),
            self.tr("Cash tendered"),
            self.tr("What the patient handed over; the change is shown"),
        )
        self.change = QLabel("", self)
        self.change.setAccessibleName(self.tr("Change due"))
        self.form.addRow(self.tr("Change due"), self.change)
        self.reference = self.field(
            self.tr("Reference"),
            QLineEdit(self),
            self.tr("Reference"),
            self.tr("Bank reference or card slip number"),
        )
        self.waiting = QWidget(self)
        waiting = QVBoxLayout(self.waiting)
        self.waiting_label = QLabel(
            self.tr("Waiting for the customer to confirm on the terminal…"), self.waiting
        )
        self.waiting_label.setAccessibleName(self.tr("Card payment status"))
        progress = QProgressBar(self.waiting)
        progress.setRange(0, 0)
        progress.setAccessibleName(self.tr("Waiting for the terminal"))
        self.stop_button = QPushButton(self.tr("Stop waiting"), self.waiting)
        self.stop_button.setToolTip(self.tr("The customer walked away: cancel the card payment"))
        self.stop_button.clicked.connect(self._on_stop_clicked)
        waiting.addWidget(self.waiting_label)
        waiting.addWidget(progress)
        waiting.addWidget(self.stop_button)
        self.waiting.hide()
        self.layout_.insertWidget(1, self.waiting)
        self._poll = QTimer(self)
        self._poll.setInterval(CARD_POLL_MS)
        self._poll.timeout.connect(self._on_poll_timeout)
        self.tendered.textChanged.connect(self._update)
        self.amount.textChanged.connect(self._update)
        self.method_group.buttonToggled.connect(lambda *_: self._update())
        self._update()

    def method(self) -> str:
        return next(key for key, button in self.methods.items() if button.isChecked())

    def _update(self) -> None:
        cash = self.method() == "cash"
        self.tendered.setEnabled(cash)
        self.reference.setEnabled(self.method() in ("card", "bank_transfer"))
        amount = parse_amount(self.amount.text(), self.minor_unit)
        tendered = parse_amount(self.tendered.text(), self.minor_unit)
        if cash and amount is not None and tendered is not None and tendered >= amount:
            self.change.setText(
                f"{format_amount(tendered - amount, self.minor_unit)} {self.currency}"
            )
        else:
            self.change.setText("—")

    def submit(self) -> None:
        amount = parse_amount(self.amount.text(), self.minor_unit)
        if amount is None or amount <= 0:
            self.complain(
                self.tr("Enter a positive amount with at most {n} decimals.").format(
                    n=self.minor_unit
                )
            )
            return
        method = self.method()
        if method == "terminal":
            self.run(
                lambda: self.billing.start_card_payment(
                    invoice_id=self.invoice_id, patient_id=self.patient_id, amount=amount
                )
            )
            return
        tendered = None
        if method == "cash" and self.tendered.text().strip():
            tendered = parse_amount(self.tendered.text(), self.minor_unit)
            if tendered is None or tendered < amount:
                self.complain(self.tr("The cash tendered must cover the amount."))
                return
        body = PaymentCreate(
            invoice_id=self.invoice_id,
            patient_id=None if self.invoice_id else self.patient_id,
            amount=amount,
            method=method,  # type: ignore[arg-type]
            kind="payment" if self.invoice_id else "deposit",
            reference=self.reference.text().strip() or None,
            tendered=tendered,
        )
        self.run(lambda: self.billing.pay(body))

    def _on_done(self, value: Any) -> None:
        if getattr(value, "gateway_intent_id", None) and value.status == "pending":
            self.intent_id = value.id
            self.waiting.show()
            self.buttons.hide()
            self.sig_waiting_changed.emit(True)
            self._poll.start()
            return
        super()._on_done(value)

    def _on_poll_timeout(self) -> None:
        intent_id = self.intent_id
        if intent_id is not None:
            self.tasks.run(
                lambda: self.billing.card_payment(intent_id),
                self._on_card_status,
                lambda _exc: None,
                quiet=True,
                owner=self,
            )

    def _on_card_status(self, intent: Any) -> None:
        if intent.status == "pending":
            return
        self._poll.stop()
        self.sig_waiting_changed.emit(False)
        if intent.status == "succeeded":
            self.result_value = intent
            self.accept()
            return
        self.waiting.hide()
        self.buttons.show()
        self.ok_button.setEnabled(True)
        self.complain(
            self.tr("The card payment did not go through ({reason}).").format(
                reason=intent.failure_reason or intent.status
            )
        )
        self.intent_id = None

    def _on_stop_clicked(self) -> None:
        intent_id = self.intent_id
        if intent_id is not None:
            self.tasks.run(
                lambda: self.billing.cancel_card_payment(intent_id),
                self._on_card_status,
                self._on_failed,
                owner=self,
            )

    def reject(self) -> None:
        if self.intent_id is not None:
            self._on_stop_clicked()
        self._poll.stop()
        super().reject()


class DiscountDialog(_Form):
    """A discount on the whole invoice or one line; tells the clerk when it will need a
    manager's approval (above the configured thresholds)."""

    def __init__(
        self,
        tasks: TaskRunner,
        billing: BillingApi,
        *,
        invoice_id: int,
        lines: list[tuple[int, str]],
        minor_unit: int,
        threshold_text: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tasks, self.tr("Discount"), parent)
        self.billing, self.invoice_id, self.minor_unit = billing, invoice_id, minor_unit
        self.target = QComboBox(self)
        self.target.addItem(self.tr("Whole invoice"), None)
        for line_id, text in lines:
            self.target.addItem(text, line_id)
        self.field(self.tr("On"), self.target, self.tr("Discount target"))
        self.kind = QComboBox(self)
        self.kind.addItem(self.tr("Percentage"), "percent")
        self.kind.addItem(self.tr("Amount"), "amount")
        self.field(self.tr("Kind"), self.kind, self.tr("Discount kind"))
        self.value = self.field(
            self.tr("Value"),
            QLineEdit(self),
            self.tr("Discount value"),
            self.tr("A percentage (e.g. 10) or an amount"),
        )
        self.reason = self.field(
            self.tr("Reason"),
            QLineEdit(self),
            self.tr("Reason"),
            self.tr("Why (recorded and shown to the approver)"),
        )
        hint = QLabel(threshold_text, self)
        hint.setWordWrap(True)
        hint.setProperty("role", "subtitle")
        self.form.addRow("", hint)

    def submit(self) -> None:
        kind = self.kind.currentData()
        digits = 2 if kind == "percent" else self.minor_unit
        value = parse_amount(self.value.text(), digits)
        if value is None or value <= 0 or (kind == "percent" and value > 100):
            self.complain(self.tr("Enter a percentage up to 100 or a positive amount."))
            return
        if len(self.reason.text().strip()) < 3:
            self.complain(self.tr("Give a reason."))
            return
        body = DiscountCreate(
            line_id=self.target.currentData(),
            kind=kind,
            value=value,
            reason=self.reason.text().strip(),
        )
        self.run(lambda: self.billing.add_discount(self.invoice_id, body))


class AmountReasonDialog(_Form):
    """An amount (optional when ``amount_optional``) and a reason: credit notes, refunds,
    remittances (the reason is then the payer's reference)."""

    def __init__(
        self,
        tasks: TaskRunner,
        title: str,
        *,
        minor_unit: int,
        amount: Decimal | None,
        work: Callable[[Decimal | None, str], Any],
        amount_optional: bool = False,
        reason_label: str | None = None,
        hint: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tasks, title, parent)
        self.minor_unit, self.work, self.amount_optional = minor_unit, work, amount_optional
        self.amount = self.field(
            self.tr("Amount"),
            amount_edit(self, amount, minor_unit),
            self.tr("Amount"),
            self.tr("Leave empty for everything still owed") if amount_optional else "",
        )
        self.reason = self.field(
            reason_label or self.tr("Reason"), QLineEdit(self), reason_label or self.tr("Reason")
        )
        if hint:
            label = QLabel(hint, self)
            label.setWordWrap(True)
            label.setProperty("role", "subtitle")
            self.form.addRow("", label)

    def submit(self) -> None:
        text = self.amount.text().strip()
        amount = None
        if text or not self.amount_optional:
            amount = parse_amount(text, self.minor_unit)
            if amount is None or amount <= 0:
                self.complain(
                    self.tr("Enter a positive amount with at most {n} decimals.").format(
                        n=self.minor_unit
                    )
                )
                return
        if len(self.reason.text().strip()) < 2:
            self.complain(self.tr("This field is required."))
            return
        reason = self.reason.text().strip()
        self.run(lambda: self.work(amount, reason))


class ChargeDialog(_Form):
    """A manual charge: find the item in the price list, quantity, reason."""

    def __init__(
        self,
        tasks: TaskRunner,
        billing: BillingApi,
        *,
        patient_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tasks, self.tr("Add a charge"), parent)
        self.billing, self.patient_id = billing, patient_id
        self.search = self.field(
            self.tr("Find"),
            QLineEdit(self),
            self.tr("Find price item"),
            self.tr("Code or name; press Enter"),
        )
        self.item = QComboBox(self)
        self.field(self.tr("Item"), self.item, self.tr("Price item"))
        self.quantity = self.field(self.tr("Quantity"), QLineEdit("1", self), self.tr("Quantity"))
        self.reason = self.field(
            self.tr("Reason"),
            QLineEdit(self),
            self.tr("Reason"),
            self.tr("Manual charges need a reason (audited)"),
        )
        self.search.returnPressed.connect(self._on_search_return_pressed)
        self._on_search_return_pressed()

    def _on_search_return_pressed(self) -> None:
        q = self.search.text().strip() or None
        self.tasks.run(
            lambda: self.billing.price_items(q, limit=50),
            self._on_items_loaded,
            self._on_failed,
            owner=self,
        )

    def _on_items_loaded(self, page: Any) -> None:
        self.item.clear()
        for item in page.items:
            self.item.addItem(f"{item.code} — {item.name} ({item.unit_price})", item.code)

    def submit(self) -> None:
        code = self.item.currentData()
        quantity = parse_amount(self.quantity.text(), 3)
        if not code:
            self.complain(self.tr("Choose an item from the price list."))
            return
        if quantity is None or quantity <= 0:
            self.complain(self.tr("Enter a positive quantity."))
            return
        if len(self.reason.text().strip()) < 3:
            self.complain(self.tr("Give a reason."))
            return
        body = ChargeCreate(
            patient_id=self.patient_id,
            price_item_code=code,
            quantity=quantity,
            reason=self.reason.text().strip(),
        )
        self.run(lambda: self.billing.add_charge(body))


class ReasonDialog(_Form):
    """Just a reason (reversing a charge, billing a rejected claim to the patient, asking
    for a write-off): ``work(reason)`` runs on the task runner."""

    def __init__(
        self,
        tasks: TaskRunner,
        title: str,
        work: Callable[[str], Any],
        *,
        hint: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tasks, title, parent)
        self.work = work
        self.reason = self.field(
            self.tr("Reason"),
            QLineEdit(self),
            self.tr("Reason"),
            self.tr("Recorded with the action (audited)"),
        )
        if hint:
            label = QLabel(hint, self)
            label.setWordWrap(True)
            self.form.addRow("", label)

    def submit(self) -> None:
        reason = self.reason.text().strip()
        if len(reason) < 3:
            self.complain(self.tr("Give a reason (at least 3 characters)."))
            return
        self.run(lambda: self.work(reason))
