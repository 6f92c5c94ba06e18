"""What the My work panels share: a panel that runs its calls on the task runner and shows a
failure inline (``busy`` counts calls in flight; tests wait on it), and date text."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from hms_desktop.api.staff import StaffApi
from hms_desktop.qt import QDate, QLabel, Qt, QWidget
from hms_desktop.widgets.task_panel import TaskPanel
from hms_desktop.workspaces import WorkspaceContext


def day_text(value: date) -> str:
    """``Mon 07 Dec 2026``."""
    return value.strftime("%a %d %b %Y")


def qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class MyPanel(TaskPanel):
    """A tab of My work (``run``/``busy``/``problem`` from ``TaskPanel``)."""

    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None) -> None:
        super().__init__(context.tasks, parent)
        self.context, self.staff = context, staff
        self.zone = ZoneInfo(context.me.hospital.timezone)

    def empty_note(self, text: str) -> QLabel:
        """What an empty list means and what to do, shown in the list's place (top left)."""
        label = QLabel(text, self)
        label.setWordWrap(True)
        label.setProperty("role", "hint")
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        label.setContentsMargins(4, 12, 4, 4)
        label.setAccessibleName(self.tr("Nothing to show"))
        label.hide()
        return label

    def show_empty(self, body: QWidget, note: QLabel, empty: bool) -> None:
        """Either the list or the note saying why it is empty."""
        body.setVisible(not empty)
        note.setVisible(empty)
