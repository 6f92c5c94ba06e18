"""Short dialogs of the staff workspace: payroll rates, and leave HR files for someone (a
phoned-in sick day). They only collect values; the tab sends them on the task runner."""

from __future__ import annotations

from datetime import date
from typing import Any

from hms_contract.staff import PayrollSettings, StaffRead
from hms_desktop.models.staff import LEAVE_KIND_TEXT
from hms_desktop.qt import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QWidget,
)
from hms_desktop.workspaces.staff.common import pydate, qdate


def _buttons(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class RatesDialog(QDialog):
    """Night-shift allowance per shift, income tax and pension in percent of gross. Values
    are sent as typed; the contract names a bad one."""

    def __init__(self, current: PayrollSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Payroll rates"))
        self.version = current.version
        form = QFormLayout(self)
        self.allowance = QLineEdit(format(current.night_shift_allowance, "f"), self)
        self.tax = QLineEdit(format(current.income_tax_percent, "f"), self)
        self.pension = QLineEdit(format(current.pension_percent, "f"), self)
        for label, widget in (
            (self.tr("Night-shift allowance (per shift)"), self.allowance),
            (self.tr("Income tax (% of gross)"), self.tax),
            (self.tr("Pension (% of gross)"), self.pension),
        ):
            widget.setAccessibleName(label)
            form.addRow(label, widget)
        form.addRow(_buttons(self))

    def values(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "night_shift_allowance": self.allowance.text().strip(),
            "income_tax_percent": self.tax.text().strip(),
            "pension_percent": self.pension.text().strip(),
        }


class FileLeaveDialog(QDialog):
    """Who, which kind, from–to, why."""

    def __init__(self, people: list[StaffRead], today: date, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("File leave"))
        form = QFormLayout(self)
        self.person = QComboBox(self)
        for person in people:
            self.person.addItem(f"{person.full_name} — {person.job_title}", person.id)
        self.kind = QComboBox(self)
        for key, text in LEAVE_KIND_TEXT.items():
            self.kind.addItem(self.tr(text), key)
        self.starts = QDateEdit(self)
        self.ends = QDateEdit(self)
        for edit in (self.starts, self.ends):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("ddd dd MMM yyyy")
            edit.setDate(qdate(today))
        self.reason = QLineEdit(self)
        for label, widget in (
            (self.tr("Staff member"), self.person),
            (self.tr("Kind"), self.kind),
            (self.tr("From"), self.starts),
            (self.tr("To"), self.ends),
            (self.tr("Reason"), self.reason),
        ):
            widget.setAccessibleName(label)
            form.addRow(label, widget)
        form.addRow(_buttons(self))

    def values(self) -> dict[str, Any]:
        return {
            "staff_id": self.person.currentData(),
            "kind": self.kind.currentData(),
            "starts_on": pydate(self.starts.date()),
            "ends_on": pydate(self.ends.date()),
            "reason": self.reason.text().strip() or None,
        }
