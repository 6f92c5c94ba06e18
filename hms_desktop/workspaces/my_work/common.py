"""What the My work panels share: a panel that runs its calls on the task runner and shows a
failure inline (``busy`` counts calls in flight; tests wait on it), and date text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from hms_desktop.api.staff import StaffApi
from hms_desktop.qt import QDate, QLabel, Qt, QVBoxLayout, QWidget
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext


def day_text(value: date) -> str:
    """``Mon 07 Dec 2026``."""
    return value.strftime("%a %d %b %Y")


def qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class MyPanel(QWidget):
    """A tab of My work. GUI thread only; ``run(work, done)`` puts ``work`` on the task
    runner and shows its failure in the panel's problem label."""

    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.context, self.staff = context, staff
        self.busy = 0
        self.zone = ZoneInfo(context.me.hospital.timezone)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 4, 0, 0)
        self.problem = ProblemLabel(self)

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

    def run(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.busy += 1
        self.problem.clear()

        def finished(value: Any) -> None:
            self.busy -= 1
            if done is not None:
                done(value)

        def error(exc: BaseException) -> None:
            self.busy -= 1
            (failed or self.problem.show_error)(exc)

        self.context.tasks.run(work, finished, error, owner=self)
