"""Readable, translatable text for errors, and an inline label to show it. Never tracebacks."""

from __future__ import annotations

from hms_desktop.api.errors import ApiProblem, ServerUnavailableError, UnexpectedAnswerError
from hms_desktop.plurals import plural
from hms_desktop.qt import QHBoxLayout, QLabel, Qt, QWidget, translate


def format_wait(seconds: int) -> str:
    if seconds >= 120:  # always two or more minutes
        return translate("Problems", "%n minutes").replace("%n", str((seconds + 59) // 60))
    return plural(
        seconds, translate("Problems", "%n second"), translate("Problems", "%n seconds")
    ).replace("%n", str(seconds))


def describe_error(exc: BaseException) -> tuple[str, str]:
    """``(message for the user, stable code for support)`` for any error a task raised."""
    if isinstance(exc, ServerUnavailableError):
        text = translate("Problems", "Cannot reach the server at {server}.").format(
            server=exc.server
        )
        if exc.reason:
            text += " " + translate("Problems", "Reason: {reason}.").format(reason=exc.reason)
        return text, "server_unavailable"
    if isinstance(exc, ApiProblem):
        text = exc.detail
        if exc.retry_after is not None and exc.status in (423, 429):
            text += " " + translate("Problems", "Try again in {wait}.").format(
                wait=format_wait(exc.retry_after)
            )
        return text, exc.code
    if isinstance(exc, UnexpectedAnswerError):
        return translate(
            "Problems",
            "The server's answer was not understood. The server and "
            "this program may be different versions; tell support.",
        ), "unexpected_answer"
    return translate("Problems", "Something went wrong. Please try again."), "client_error"


class ProblemLabel(QWidget):
    """An inline error message with its stable code in small print (and in the tooltip)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.message = QLabel(self)
        self.message.setProperty("role", "error")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setAccessibleName(self.tr("Error message"))
        self.code = QLabel(self)
        self.code.setProperty("role", "code")
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code.setAccessibleName(self.tr("Error code"))
        layout.addWidget(self.message, 1)
        layout.addWidget(self.code, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_error(self, exc: BaseException) -> None:
        text, code = describe_error(exc)
        self.show_text(text, code)

    def show_text(self, text: str, code: str = "") -> None:
        self.message.setText(text)
        self.code.setText(code)
        self.code.setVisible(bool(code))
        self.setToolTip(self.tr("Error code: {code}").format(code=code) if code else "")
        self.show()

    def clear(self) -> None:
        self.message.clear()
        self.code.clear()
        self.hide()

    def text(self) -> str:
        return self.message.text()
