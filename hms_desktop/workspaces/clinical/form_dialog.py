"""Base for the short clinical dialogs: inline problems, one default button, work off-thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hms_desktop.api.clinical import ClinicalApi
from hms_desktop.qt import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext


class FormDialog(QDialog):
    """A form with Cancel / <action>; Enter presses the action button.

    Subclasses build rows into ``self.form``, implement ``validate() -> bool`` (showing
    inline errors) and ``send()``, which calls ``self.run(fn, on_done)`` with a call of
    ``self.clinical``. ``fn`` runs on the task runner; while it runs the form is disabled
    and a progress bar shows.
    Emits ``sig_saved(result)`` when the server accepted the change.
    """

    sig_saved = Signal(object)

    def __init__(
        self,
        context: WorkspaceContext,
        clinical: ClinicalApi,
        title: str,
        action: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.clinical = clinical
        self.busy = False
        self.result_value: Any = None
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        outer = QVBoxLayout(self)
        self.body = QWidget(self)
        self.form = QFormLayout(self.body)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
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
        self.cancel_button.setAccessibleName(self.tr("Cancel"))
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

    # -- to implement ------------------------------------------------------------------
    def validate(self) -> bool:
        return True

    def send(self) -> None:
        raise NotImplementedError

    # -- flow --------------------------------------------------------------------------
    def submit(self) -> None:
        if self.busy:
            return
        self.problem.clear()
        if not self.validate():
            return
        self.send()

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None) -> None:
        self._set_busy(True)
        self.context.tasks.run(
            fn,
            on_done=lambda result: self._on_sent(result, on_done),
            on_error=self._on_failed,
            owner=self,
        )

    def _on_sent(self, result: Any, on_done: Callable[[Any], None] | None) -> None:
        self._set_busy(False)
        if on_done is not None:
            on_done(result)
        else:
            self.finish(result)

    def finish(self, result: Any) -> None:
        self.result_value = result
        self.sig_saved.emit(result)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.on_failure(exc)

    def on_failure(self, exc: BaseException) -> None:
        """Show the server's problem; subclasses may map field errors first."""
        self.problem.show_error(exc)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.body.setEnabled(not busy)
        self.submit_button.setEnabled(not busy)
        self.progress.setVisible(busy)
