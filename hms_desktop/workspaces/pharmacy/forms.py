"""Short, focused dialogs of the pharmacy workspace: a reason (send back, recall,
quarantine), a quantity with a reason (adjust, write off), and the base they share: inline
problems, one default button, the request off the GUI thread."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from hms_desktop.qt import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel

QUANTITY_PATTERN = r"^-?\d{1,9}(\.\d{1,3})?$"


def parse_quantity(text: str, *, allow_negative: bool = False) -> Decimal | None:
    """A quantity typed by the user, or ``None`` if it is not one."""
    text = text.strip()
    if not re.match(QUANTITY_PATTERN, text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if value == 0 or (value < 0 and not allow_negative):
        return None
    return value


class PharmacyFormDialog(QDialog):
    """A form with Cancel / <action>; Enter presses the action. Subclasses fill ``form``,
    implement ``validate()`` (inline messages) and ``request()`` (the blocking call, run on
    the task runner). Emits ``sig_saved(result)`` when the server accepted it."""

    sig_saved = Signal(object)

    def __init__(self, tasks: Any, title: str, action: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.busy = False
        self.result_value: Any = None
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setMinimumWidth(460)
        outer = QVBoxLayout(self)
        self.body = QWidget(self)
        self.form = QFormLayout(self.body)
        self.form.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.body)
        self.problem = ProblemLabel(self)
        outer.addWidget(self.problem)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(6)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(self.tr("Sending"))
        self.progress.hide()
        outer.addWidget(self.progress)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.setToolTip(self.tr("Close without saving (Esc)"))
        self.cancel_button.clicked.connect(self.reject)
        self.submit_button = QPushButton(action, self)
        self.submit_button.setAccessibleName(action)
        self.submit_button.setDefault(True)
        self.submit_button.setToolTip(self.tr("{action} (Enter)").format(action=action))
        self.submit_button.clicked.connect(self.submit)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.submit_button)
        outer.addLayout(buttons)

    def validate(self) -> bool:
        return True

    def request(self) -> Callable[[], Any]:
        raise NotImplementedError

    def submit(self) -> None:
        if self.busy:
            return
        self.problem.clear()
        if not self.validate():
            return
        self._set_busy(True)
        self.tasks.run(self.request(), on_done=self._on_done, on_error=self._on_failed, owner=self)

    def _on_done(self, result: Any) -> None:
        self._set_busy(False)
        self.result_value = result
        self.sig_saved.emit(result)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.problem.show_error(exc)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.body.setEnabled(not busy)
        self.submit_button.setEnabled(not busy)
        self.progress.setVisible(busy)


class ReasonDialog(PharmacyFormDialog):
    """Ask for a reason, then run ``send(reason)``."""

    def __init__(
        self,
        tasks: Any,
        title: str,
        action: str,
        prompt: str,
        send: Callable[[str], Any],
        parent: QWidget | None = None,
    ):
        super().__init__(tasks, title, action, parent)
        self._send = send
        label = QLabel(prompt, self)
        label.setWordWrap(True)
        self.form.addRow(label)
        self.reason_edit = QPlainTextEdit(self)
        self.reason_edit.setAccessibleName(self.tr("Reason"))
        self.reason_edit.setMaximumHeight(90)
        self.form.addRow(self.tr("Reason"), self.reason_edit)

    def validate(self) -> bool:
        if len(self.reason_edit.toPlainText().strip()) < 3:
            self.problem.show_text(self.tr("Please give a reason."))
            self.reason_edit.setFocus()
            return False
        return True

    def request(self) -> Callable[[], Any]:
        reason = self.reason_edit.toPlainText().strip()
        return lambda: self._send(reason)


class QuantityReasonDialog(PharmacyFormDialog):
    """A quantity (signed for adjustments) with a reason and, for write-offs, a reason
    code; runs ``send(quantity, reason, code)``."""

    def __init__(
        self,
        tasks: Any,
        title: str,
        action: str,
        *,
        unit: str,
        signed: bool,
        send: Callable[[Decimal, str, str | None], Any],
        codes: list[tuple[str, str]] | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(tasks, title, action, parent)
        self._send = send
        self._signed = signed
        self.quantity_edit = QLineEdit(self)
        self.quantity_edit.setAccessibleName(self.tr("Quantity"))
        self.quantity_edit.setPlaceholderText(
            self.tr("e.g. -5 or 12") if signed else self.tr("e.g. 10")
        )
        self.form.addRow(self.tr("Quantity ({unit})").format(unit=unit), self.quantity_edit)
        self.code_combo: QComboBox | None = None
        if codes:
            self.code_combo = QComboBox(self)
            self.code_combo.setAccessibleName(self.tr("Reason code"))
            for key, text in codes:
                self.code_combo.addItem(text, key)
            self.form.addRow(self.tr("Why"), self.code_combo)
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setAccessibleName(self.tr("Reason"))
        self.form.addRow(self.tr("Reason"), self.reason_edit)

    def validate(self) -> bool:
        if parse_quantity(self.quantity_edit.text(), allow_negative=self._signed) is None:
            self.problem.show_text(self.tr("Enter a quantity other than zero, e.g. 12."))
            self.quantity_edit.setFocus()
            return False
        if len(self.reason_edit.text().strip()) < 3:
            self.problem.show_text(self.tr("Please give a reason."))
            self.reason_edit.setFocus()
            return False
        return True

    def request(self) -> Callable[[], Any]:
        quantity = parse_quantity(self.quantity_edit.text(), allow_negative=self._signed)
        reason = self.reason_edit.text().strip()
        code = self.code_combo.currentData() if self.code_combo is not None else None
        assert quantity is not None
        return lambda: self._send(quantity, reason, code)
