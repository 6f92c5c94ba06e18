"""The "Request leave" dialog: kind, first and last day, reason. It checks the dates before
anything is sent (the last day not before the first), tells the employee which of their
shifts (as shown under My shifts) fall in those days, and stays open to show the server's
answer when it refuses (overlapping leave is listed), so nothing typed is lost."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hms_contract.staff import ShiftRead
from hms_desktop.api.staff import LeaveOverlapError
from hms_desktop.models.staff import LEAVE_KIND_TEXT, STATUS_TEXT, shift_text
from hms_desktop.qt import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces.my_work.common import day_text, pydate, qdate

REASON_LIMIT = 500


class RequestLeaveDialog(QDialog):
    """Collects one leave request. ``sig_submitted(values)`` asks the panel to send it; the
    panel calls ``accept()`` on success or ``show_problem(exc)`` on a refusal. GUI thread."""

    sig_submitted = Signal(dict)

    def __init__(
        self,
        today: date,
        shifts: list[ShiftRead],
        zone: ZoneInfo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Request leave"))
        self.setMinimumWidth(460)
        self.shifts, self.zone = shifts, zone
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.kind = QComboBox(self)
        for key, text in LEAVE_KIND_TEXT.items():
            self.kind.addItem(self.tr(text), key)
        self.starts = QDateEdit(self)
        self.ends = QDateEdit(self)
        for edit in (self.starts, self.ends):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("ddd dd MMM yyyy")
            edit.setDate(qdate(today + timedelta(days=1)))
        self.reason = QPlainTextEdit(self)
        self.reason.setPlaceholderText(self.tr("Optional: a few words for your manager"))
        self.reason.setFixedHeight(70)
        self.days = QLabel(self)
        self.dates_error = QLabel(self)
        self.dates_error.setProperty("role", "error")
        self.dates_error.setWordWrap(True)
        self.dates_error.hide()
        self.on_shift = QLabel(self)
        self.on_shift.setWordWrap(True)
        self.on_shift.setProperty("role", "hint")
        for label, widget in (
            (self.tr("Kind"), self.kind),
            (self.tr("First day"), self.starts),
            (self.tr("Last day"), self.ends),
            (self.tr("Reason"), self.reason),
        ):
            widget.setAccessibleName(label)
            form.addRow(label, widget)
        form.addRow("", self.days)
        form.addRow("", self.dates_error)
        layout.addLayout(form)
        layout.addWidget(self.on_shift)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("Send request"))
        self.ok_button.setToolTip(self.tr("Send the request to your manager (Enter)"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.starts.dateChanged.connect(self._on_dates)
        self.ends.dateChanged.connect(self._on_dates)
        self._on_dates()

    def values(self) -> dict[str, Any]:
        return {
            "kind": self.kind.currentData(),
            "starts_on": pydate(self.starts.date()),
            "ends_on": pydate(self.ends.date()),
            "reason": self.reason.toPlainText().strip() or None,
        }

    def _on_dates(self) -> None:
        first, last = pydate(self.starts.date()), pydate(self.ends.date())
        wrong = last < first
        self.dates_error.setVisible(wrong)
        self.dates_error.setText(self.tr("The last day is before the first day."))
        self.ok_button.setEnabled(not wrong)
        self.days.setText(
            "" if wrong else self.tr("%n calendar day(s)", "", (last - first).days + 1)
        )
        rostered = [
            s for s in self.shifts if first <= s.starts_at.astimezone(self.zone).date() <= last
        ]
        if wrong or not rostered:
            self.on_shift.setText("")
            self.on_shift.hide()
            return
        lines = [
            f"• {day_text(s.starts_at.astimezone(self.zone).date())}: "
            f"{shift_text(s, self.zone)} · {s.unit_name}"
            for s in rostered
        ]
        self.on_shift.setText(
            self.tr(
                "You are rostered for %n shift(s) in these days. You may still ask; your "
                "manager has to move them before approving:",
                "",
                len(rostered),
            )
            + "\n"
            + "\n".join(lines)
        )
        self.on_shift.show()

    def submit(self) -> None:
        """Validate, then ask the panel to send (the dialog stays open until it answers)."""
        self._on_dates()
        if not self.ok_button.isEnabled():
            return
        if len(self.reason.toPlainText().strip()) > REASON_LIMIT:
            self.problem.show_text(
                self.tr("The reason is longer than {n} characters.").format(n=REASON_LIMIT)
            )
            return
        self.problem.clear()
        self.ok_button.setEnabled(False)
        self.sig_submitted.emit(self.values())

    def show_problem(self, exc: BaseException) -> None:
        """The server refused: say why (listing overlapping requests) and let them edit."""
        self.ok_button.setEnabled(True)
        if isinstance(exc, LeaveOverlapError) and exc.overlapping:
            lines = [
                "• "
                + self.tr("{kind} leave {first} – {last} ({status})").format(
                    kind=self.tr(LEAVE_KIND_TEXT[o.kind]),
                    first=day_text(o.starts_on),
                    last=day_text(o.ends_on),
                    status=self.tr(STATUS_TEXT[o.status]).lower(),
                )
                for o in exc.overlapping
            ]
            self.problem.show_text(
                self.tr("You already have leave in those days:") + "\n" + "\n".join(lines),
                exc.code,
            )
        else:
            self.problem.show_error(exc)
