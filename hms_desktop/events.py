"""Live server events on the GUI thread: a Qt bridge over ``api.events.EventStream``.

Usage (any workspace)::

    bridge = context.events()           # shared, started on first use
    bridge.subscribe(("appointment.", "queue."), self._on_server_event)

    def _on_server_event(self, event_type: str, data: dict) -> None:
        ...  # decide whether this screen shows what changed, then reload it

Events carry ids only (never patient names), so a screen re-reads what it shows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from hms_desktop.api.events import EventStream, ServerEvent
from hms_desktop.qt import QObject, Signal, qt_object_alive

log = logging.getLogger(__name__)


class EventBridge(QObject):
    """Runs one ``EventStream`` on a daemon thread and re-emits its events on the GUI thread.

    Signals:
    - ``sig_event_received(type: str, data: dict)`` for every server event.
    - ``sig_connection_changed(connected: bool)`` when the stream connects or drops
      (it reconnects by itself, resuming from the last event id).

    Threading: create, ``start`` and ``stop`` on the GUI thread. The worker thread only
    emits signals; Qt queues them to this object's (GUI) thread, so slots may touch widgets.
    Ownership: the creator owns the bridge and must ``stop()`` it (``WorkspaceContext``
    does this when the main window shuts down).
    """

    sig_event_received = Signal(str, object)
    sig_connection_changed = Signal(bool)

    def __init__(
        self, api=None, parent: QObject | None = None, *, stream: EventStream | None = None
    ) -> None:
        super().__init__(parent)
        if stream is None:
            if api is None:
                raise ValueError("EventBridge needs an ApiClient or an EventStream")
            stream = EventStream(api)
        self.stream = stream
        self.connected = False
        self._thread: threading.Thread | None = None
        self.sig_connection_changed.connect(self._on_self_connection_changed)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start listening (no-op when already running)."""
        if self.running:
            return
        self._thread = threading.Thread(target=self._run, name="hms-events", daemon=True)
        self._thread.start()

    def stop(self, wait_s: float = 2.0) -> None:
        """Stop listening; waits up to ``wait_s`` for the worker thread to finish."""
        self.stream.stop()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait_s)

    def subscribe(
        self, prefixes: Iterable[str], slot: Callable[[str, dict], None]
    ) -> Callable[[str, object], None]:
        """Call ``slot(type, data)`` for events whose type starts with one of ``prefixes``.

        The connection is dropped automatically when ``slot``'s owner QObject is deleted.
        Returns the connected callable (for ``sig_event_received.disconnect``).
        """
        wanted = tuple(prefixes)
        owner = getattr(slot, "__self__", None)

        def relay(event_type: str, data: object) -> None:
            if owner is not None and isinstance(owner, QObject) and not qt_object_alive(owner):
                return
            if event_type.startswith(wanted):
                slot(event_type, data if isinstance(data, dict) else {})

        self.sig_event_received.connect(relay)
        return relay

    def _run(self) -> None:
        def emit_event(event: ServerEvent) -> None:
            if qt_object_alive(self):
                self.sig_event_received.emit(event.type, dict(event.data))

        def emit_state(connected: bool) -> None:
            if qt_object_alive(self):
                self.sig_connection_changed.emit(connected)

        try:
            self.stream.run(emit_event, emit_state)
        except Exception:  # a bug must not kill the app silently, nor take it down
            log.exception("event stream stopped unexpectedly")

    def _on_self_connection_changed(self, connected: bool) -> None:
        self.connected = connected
