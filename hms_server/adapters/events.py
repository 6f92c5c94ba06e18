"""Fan-out of outbox events to server-sent-event subscribers in this process.

Each server process keeps one PostgreSQL connection that LISTENs on ``hms_events``; every
process therefore sees every committed event, whichever process wrote it. The listener runs
on a daemon thread and reconnects with back-off when the database restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from hms_server.adapters.orm.infra import OutboxEvent
from hms_server.adapters.uow import EVENTS_CHANNEL

log = logging.getLogger("hms_server.events")


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    data: dict[str, Any]


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)

    def offer(self, event: Event) -> None:
        # A subscriber too slow to keep 1000 events queued drops the newest; the client
        # resumes with Last-Event-ID after reconnecting, so nothing is lost for good.
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(event)


class EventHub:
    """Owns the LISTEN thread and the set of live subscribers. Thread-safe."""

    def __init__(self, url: URL, session_factory: sessionmaker[Session]):
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._session_factory = session_factory
        self._subscribers: set[_Subscriber] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hms-event-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=3)

    def subscribe(self) -> _Subscriber:
        sub = _Subscriber(asyncio.get_running_loop())
        with self._lock:
            self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: _Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    def replay_since(self, last_id: int, limit: int = 1000) -> list[Event]:
        """Events committed after ``last_id`` (for a client resuming with Last-Event-ID)."""
        with self._session_factory() as session:
            rows = session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.id > last_id)
                .order_by(OutboxEvent.id)
                .limit(limit)
            )
            return [Event(r.id, r.type, r.payload) for r in rows]

    def _dispatch(self, raw: str) -> None:
        try:
            message = json.loads(raw)
            event = Event(int(message["id"]), str(message["type"]), dict(message["data"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring malformed event notification")
            return
        with self._lock:
            subscribers = list(self._subscribers)
        for sub in subscribers:
            sub.loop.call_soon_threadsafe(sub.offer, event)

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    self.connected.set()
                    backoff = 0.5
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=1.0):
                            self._dispatch(notice.payload)
            except psycopg.Error as exc:
                self.connected.clear()
                log.warning("event listener lost the database (%s); retrying", type(exc).__name__)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            except Exception:  # never let the listener thread die silently
                self.connected.clear()
                log.exception("event listener failed; retrying")
                time.sleep(backoff)
