"""Automatic time-out: lock the window after idle minutes; the password resumes it.

``IdleWatcher`` is an application-wide event filter that restarts a timer on every key,
mouse, wheel or touch event. ``LockOverlay`` covers the main window's content (so no
patient data stays visible) and calls ``POST /auth/reauthenticate`` through the task
runner to unlock; the session itself is kept.
"""

from __future__ import annotations

from hms_desktop.api.errors import ApiProblem
from hms_desktop.qt import (
    QApplication,
    QDialog,
    QEvent,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QObject,
    QPushButton,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.problems import ProblemLabel

_ACTIVITY_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)


class IdleWatcher(QObject):
    """Emits ``sig_idle`` after ``timeout_ms`` without user input anywhere in the app."""

    sig_idle = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(1, int(timeout_ms)))
        self._timer.timeout.connect(self.sig_idle)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    @property
    def timeout_ms(self) -> int:
        return self._timer.interval()

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def is_active(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._timer.isActive() and event.type() in _ACTIVITY_EVENTS:
            self._timer.start()
        return False

    def uninstall(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._timer.stop()


class LockOverlay(QFrame):
    """Opaque cover over the main window's content with a password prompt.

    Emits ``sig_unlocked`` after the server confirms the password,
    ``sig_sign_out_requested`` when the user prefers to sign out, and
    ``sig_session_ended(message)`` when the server ended the session after too many wrong
    passwords (the window returns to sign-in with that message).
    """

    sig_unlocked = Signal()
    sig_sign_out_requested = Signal()
    sig_session_ended = Signal(str)

    def __init__(self, api, tasks: TaskRunner, user_name: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("lockOverlay")
        self.setAutoFillBackground(True)
        self._api = api
        self._tasks = tasks
        self._busy = False

        box = QFrame(self)
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box.setMaximumWidth(420)
        inner = QVBoxLayout(box)
        inner.setContentsMargins(24, 20, 24, 20)
        title = QLabel(self.tr("Screen locked"), box)
        title.setProperty("role", "title")
        who = QLabel(
            self.tr("Locked for {name}. Enter your password to continue.").format(name=user_name),
            box,
        )
        who.setWordWrap(True)
        self.password_edit = QLineEdit(box)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName(self.tr("Password to unlock"))
        self.password_edit.setPlaceholderText(self.tr("Password"))
        self.password_edit.returnPressed.connect(self.submit)
        self.problem = ProblemLabel(box)
        buttons = QHBoxLayout()
        self.sign_out_button = QPushButton(self.tr("Sign out"), box)
        self.sign_out_button.setAccessibleName(self.tr("Sign out"))
        self.sign_out_button.clicked.connect(self.sig_sign_out_requested)
        self.unlock_button = QPushButton(self.tr("Unlock"), box)
        self.unlock_button.setAccessibleName(self.tr("Unlock"))
        self.unlock_button.setToolTip(self.tr("Unlock (Enter)"))
        self.unlock_button.clicked.connect(self.submit)
        buttons.addWidget(self.sign_out_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        inner.addWidget(title)
        inner.addWidget(who)
        inner.addSpacing(8)
        inner.addWidget(self.password_edit)
        inner.addWidget(self.problem)
        inner.addLayout(buttons)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box, 2)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.hide()
        parent.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def lock(self) -> None:
        """Cover the window; a modal dialog open at that moment is closed (it may show data)."""
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QDialog) and modal is not self.window():
            modal.reject()
        self.problem.clear()
        self.password_edit.clear()
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()
        self.password_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def locked(self) -> bool:
        return self.isVisible()

    def submit(self) -> None:
        password = self.password_edit.text()
        if self._busy:
            return
        if not password:
            self.problem.show_text(self.tr("Enter your password."))
            return
        self._busy = True
        self.unlock_button.setEnabled(False)
        api = self._api
        self._tasks.run(
            lambda: api.reauthenticate(password),
            on_done=self._on_reauthenticated,
            on_error=self._on_failed,
        )

    def _on_reauthenticated(self, _result: object) -> None:
        self._busy = False
        self.unlock_button.setEnabled(True)
        self.password_edit.clear()
        self.hide()
        self.sig_unlocked.emit()

    def _on_failed(self, exc: BaseException) -> None:
        self._busy = False
        if isinstance(exc, ApiProblem) and exc.code == "session_ended":
            self.sig_session_ended.emit(exc.detail)
            return
        self.unlock_button.setEnabled(True)
        self.problem.show_error(exc)
        self.password_edit.selectAll()
        self.password_edit.setFocus()
