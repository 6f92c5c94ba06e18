"""Run blocking work (network, keyring, files) off the GUI thread; results come back by signal.

A call site is one line::

    self.tasks.run(lambda: api.list_users(q), on_done=self._on_users_loaded,
                   on_error=self._show_problem)

``fn`` runs on a pool thread and must not touch widgets. ``on_done(result)`` or
``on_error(exc)`` then run on the GUI thread. If the callback's owner widget has been
deleted in the meantime, the callback is dropped instead of crashing.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hms_desktop.qt import QObject, QRunnable, QThreadPool, Signal, qt_object_alive

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    owner: QObject | None
    quiet: bool


class _Job(QRunnable):
    def __init__(self, task_id: int, fn: Callable[[], Any], emit: Callable[..., None]) -> None:
        super().__init__()
        self._task_id = task_id
        self._fn = fn
        self._emit = emit

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:
            self._emit(self._task_id, False, exc)
        else:
            self._emit(self._task_id, True, result)


def _owner_of(callback: Callable | None) -> QObject | None:
    owner = getattr(callback, "__self__", None)
    return owner if isinstance(owner, QObject) else None


class TaskRunner(QObject):
    """Owns a thread pool; lives on the GUI thread, which is where all callbacks run.

    Signals:
    - ``sig_busy_changed(bool)``: whether any non-quiet task is running (status bar progress).
    - ``sig_task_failed(exc, handled)``: every failure of a non-quiet task, so the main
      window can react to "server unavailable" or "session ended" in one place.
    - ``sig_task_succeeded()``: a non-quiet task reached the server and succeeded.

    ``quiet=True`` tasks (background polling) never show progress or global failures.
    """

    sig_busy_changed = Signal(bool)
    sig_task_failed = Signal(object, bool)
    sig_task_succeeded = Signal()
    _sig_finished = Signal(int, bool, object)

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._busy_count = 0
        # Emitted from pool threads; the receiver lives here, so Qt queues the call
        # onto the GUI thread.
        self._sig_finished.connect(self._on_finished)

    @property
    def busy(self) -> bool:
        """True while a non-quiet task is running."""
        return self._busy_count > 0

    @property
    def pending(self) -> int:
        """Number of tasks (quiet or not) not yet finished."""
        return len(self._pending)

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        quiet: bool = False,
        owner: QObject | None = None,
    ) -> int:
        """Run ``fn`` on a worker thread; returns a task id.

        Callbacks are skipped if ``owner`` (default: the object a bound-method callback
        belongs to) has been deleted by the time the task finishes.
        """
        task_id = next(self._ids)
        if not qt_object_alive(self) or not qt_object_alive(self._pool):
            # The application is shutting down (a timer fired after the runner was deleted):
            # nothing runs any more and no callback will come.
            log.debug("task %d dropped: the task runner is shut down", task_id)
            return task_id
        if owner is None:
            owner = _owner_of(on_done)
        if owner is None:
            owner = _owner_of(on_error)
        self._pending[task_id] = _Pending(on_done, on_error, owner, quiet)
        if not quiet:
            self._busy_count += 1
            if self._busy_count == 1:
                self.sig_busy_changed.emit(True)
        self._pool.start(_Job(task_id, fn, self._sig_finished.emit))
        return task_id

    def wait_for_done(self, msecs: int = 5000) -> bool:
        """Block until workers finish (shutdown and tests only; callbacks still queue)."""
        return self._pool.waitForDone(msecs)

    def _on_finished(self, task_id: int, ok: bool, payload: object) -> None:
        pending = self._pending.pop(task_id, None)
        if pending is None:
            return
        if not pending.quiet:
            self._busy_count -= 1
            if self._busy_count == 0:
                self.sig_busy_changed.emit(False)
        owner_alive = pending.owner is None or qt_object_alive(pending.owner)
        if ok:
            if not pending.quiet:
                self.sig_task_succeeded.emit()
            if pending.on_done and owner_alive:
                pending.on_done(payload)
            return
        assert isinstance(payload, BaseException)
        handled = pending.on_error is not None and owner_alive
        if not _is_expected(payload):
            log.error("background task failed", exc_info=payload)
        if not pending.quiet:
            self.sig_task_failed.emit(payload, handled)
        if handled:
            pending.on_error(payload)  # type: ignore[misc]


def _is_expected(exc: BaseException) -> bool:
    from hms_desktop.api.errors import ApiError

    return isinstance(exc, ApiError)
