"""Server-sent events client for ``GET /api/v1/events``. No Qt here.

``EventStream.run(on_event)`` blocks its (worker) thread: it connects with httpx streaming,
parses ``text/event-stream`` frames, calls ``on_event(ServerEvent)`` for each, and on any
disconnect reconnects with exponential back-off, resuming with ``Last-Event-ID`` so no
event is lost while the line was down (the server replays its backlog). ``stop()`` may
be called from any thread; it ends ``run`` within about one read timeout at worst.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from hms_desktop.api.client import API_PREFIX, ApiClient
from hms_desktop.api.errors import ApiProblem, ServerUnavailableError


@dataclass(frozen=True)
class ServerEvent:
    """One event: ``type`` (``appointment.booked``), ``data`` (ids only), ``id`` for resume."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


def parse_sse(lines: Iterable[str]) -> Iterator[ServerEvent | int]:
    """Turn SSE lines into ``ServerEvent``s (and ``int`` retry hints in milliseconds).

    Follows the WHATWG rules that matter here: ``:`` comments are ignored, ``data`` lines
    are joined with newlines, a blank line dispatches, an event without data is dropped.
    """
    event_type, data_lines, event_id = "message", [], None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data_lines:
                text = "\n".join(data_lines)
                try:
                    data = json.loads(text)
                except ValueError:
                    data = {"text": text}
                yield ServerEvent(
                    event_type, data if isinstance(data, dict) else {"value": data}, event_id
                )
            event_type, data_lines, event_id = "message", [], None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event_type = value
        elif name == "data":
            data_lines.append(value)
        elif name == "id" and "\0" not in value:
            event_id = value
        elif name == "retry" and value.isdigit():
            yield int(value)


class EventStream:
    """A reconnecting SSE subscription for one signed-in ``ApiClient``.

    Threading: ``run`` is meant for one dedicated thread; ``stop`` and the properties are
    safe from any thread. ``on_state(connected: bool)`` reports connection changes.
    Back-off starts at ``min_backoff`` seconds and doubles to ``max_backoff``; a server
    ``retry:`` hint raises the floor. A connection that delivered data resets it.
    """

    def __init__(
        self,
        api: ApiClient,
        *,
        path: str = "/events",
        min_backoff: float = 1.0,
        max_backoff: float = 30.0,
        read_timeout: float = 60.0,
    ) -> None:
        self.api = api
        self.path = path
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.read_timeout = read_timeout
        self.last_event_id: str | None = None
        self._stop = threading.Event()
        self._response: httpx.Response | None = None
        self._lock = threading.Lock()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask ``run`` to return; closes the open stream so a blocked read wakes up."""
        self._stop.set()
        with self._lock:
            response = self._response
        if response is not None:
            # Closing from another thread is best effort: the read timeout is the backstop.
            with contextlib.suppress(Exception):
                response.close()

    def run(
        self,
        on_event: Callable[[ServerEvent], None],
        on_state: Callable[[bool], None] | None = None,
    ) -> None:
        """Receive events until ``stop()``; never raises for network or server trouble."""
        delay = self.min_backoff
        floor = self.min_backoff
        while not self._stop.is_set():
            got_data = False
            try:
                for item in self._connect_once(on_state):
                    if isinstance(item, int):
                        floor = max(self.min_backoff, min(item / 1000, self.max_backoff))
                        continue
                    got_data = True
                    if item.id is not None:
                        self.last_event_id = item.id
                    on_event(item)
            except (httpx.HTTPError, ServerUnavailableError, ApiProblem, OSError, RuntimeError):
                pass
            if on_state is not None:
                on_state(False)
            if self._stop.is_set():
                break
            delay = floor if got_data else min(max(delay * 2, floor), self.max_backoff)
            self._stop.wait(delay)

    def _connect_once(self, on_state: Callable[[bool], None] | None) -> Iterator[ServerEvent | int]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        timeout = httpx.Timeout(self.read_timeout, connect=5.0)
        # The transport adds the token and refreshes it once on a 401 (access tokens are
        # short-lived); any other error answer raises and ``run`` reconnects later.
        with self.api.stream(self.path, headers=headers, timeout=timeout) as resp:
            with self._lock:
                self._response = resp
            try:
                if on_state is not None:
                    on_state(True)
                yield from parse_sse(resp.iter_lines())
            finally:
                with self._lock:
                    self._response = None


def events_url(api: ApiClient) -> str:
    """The absolute URL of the stream (for logs and support)."""
    return api.server + API_PREFIX + "/events"
