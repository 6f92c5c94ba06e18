"""Connection state for the status bar: Connected / Reconnecting… / Database unavailable.

The monitor polls ``GET /health`` on the task runner (quietly, no progress bar) every
``interval_ms``, faster while the server is unreachable, and is told about failures of
ordinary calls so the state changes at once instead of at the next poll.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from hms_desktop.api.errors import ServerUnavailableError
from hms_desktop.qt import QObject, QTimer, Signal
from hms_desktop.tasks import TaskRunner

if TYPE_CHECKING:
    from hms_contract.health import HealthRead


class ConnectionState(Enum):
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DEGRADED = "degraded"


class ConnectionMonitor(QObject):
    """Owns the health-poll timer; emits ``sig_state_changed(ConnectionState)``."""

    sig_state_changed = Signal(object)

    def __init__(
        self,
        api,
        tasks: TaskRunner,
        *,
        interval_ms: int = 5000,
        retry_interval_ms: int = 2000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._api = api
        self._tasks = tasks
        self._interval = interval_ms
        self._retry_interval = retry_interval_ms
        self.state = ConnectionState.CONNECTED
        self._in_flight = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.check_now)

    def start(self) -> None:
        self._timer.start(self._interval)

    def stop(self) -> None:
        self._timer.stop()

    def check_now(self) -> None:
        if self._in_flight:
            return
        self._in_flight = True
        self._tasks.run(
            self._api.health, on_done=self._on_health, on_error=self._on_health_failed, quiet=True
        )

    def report_unreachable(self) -> None:
        """An ordinary call could not reach the server."""
        self._set_state(ConnectionState.RECONNECTING)
        if not self._in_flight:
            self._timer.start(self._retry_interval)

    def report_reachable(self) -> None:
        """An ordinary call succeeded, so the server is there."""
        if self.state is ConnectionState.RECONNECTING:
            self._set_state(ConnectionState.CONNECTED)

    def _on_health(self, health: HealthRead) -> None:
        self._in_flight = False
        ok = health.status == "ok"
        self._set_state(ConnectionState.CONNECTED if ok else ConnectionState.DEGRADED)
        self._timer.start(self._interval if ok else self._retry_interval)

    def _on_health_failed(self, exc: BaseException) -> None:
        self._in_flight = False
        if isinstance(exc, ServerUnavailableError):
            self._set_state(ConnectionState.RECONNECTING)
            self._timer.start(self._retry_interval)
        else:
            # The server answered, just not as expected: it is reachable.
            self._set_state(ConnectionState.CONNECTED)
            self._timer.start(self._interval)

    def _set_state(self, state: ConnectionState) -> None:
        if state is not self.state:
            self.state = state
            self.sig_state_changed.emit(state)
