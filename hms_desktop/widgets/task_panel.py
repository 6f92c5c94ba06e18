"""A panel whose calls run on the task runner, with their failure shown inline.

``run(work, done)`` puts ``work`` on the runner (never the GUI thread) and shows a failure in
the panel's problem label; ``busy`` counts calls in flight (tests wait on it). Subclasses
say a failure in their own words by overriding ``show_problem``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hms_desktop.qt import QVBoxLayout, QWidget
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.problems import ProblemLabel


class TaskPanel(QWidget):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.busy = 0
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 4, 0, 0)
        self.problem = ProblemLabel(self)

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
            (failed or self.show_problem)(exc)

        self.tasks.run(work, finished, error, owner=self)

    def show_problem(self, exc: BaseException) -> None:
        self.problem.show_error(exc)
