"""The MLLP listener bedside monitors connect to: one thread per connection (a ward has tens
of monitors, each keeping one connection open), frames read incrementally, each message
handed to ``on_message`` and its answer (the ACK/NAK) written back before the next frame is
read, as MLLP's request/response rhythm requires.

Knows nothing about patients: the composition root passes the callables that store a
reading (``services.device_vitals``). Usable as a ``BackgroundWorker`` (``start``/``stop``)
inside ``hms-server run``, or in the foreground by ``hms-server hl7-listen``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
from collections.abc import Callable

from hms_server.adapters.hl7.mllp import FrameReader, frame

log = logging.getLogger("hms_server.hl7")

OnMessage = Callable[[str], str]
"""``on_message(raw) -> ack``: store (or refuse) one message, return the acknowledgement."""
OnBrokenFrame = Callable[[bytes, str], str]
"""``on_broken(raw bytes, reason) -> nak``: record an unreadable frame for review."""
#: A connection silent this long in the middle of a frame has lost the rest of it.
PARTIAL_FRAME_TIMEOUT = 30.0


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(PARTIAL_FRAME_TIMEOUT)
        reader = FrameReader()
        peer = self.client_address[0] if self.client_address else "?"
        self.server.connections += 1
        try:
            while not self.server.stopping.is_set():
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    pending = reader.close()
                    if pending is not None:
                        self._answer(
                            sock,
                            self.server.on_broken(
                                pending.raw, pending.error or "truncated MLLP frame"
                            ),
                        )
                    continue
                except OSError:
                    return
                if not chunk:
                    pending = reader.close()
                    if pending is not None:
                        # The sender is gone; keep what arrived for review.
                        self.server.on_broken(pending.raw, pending.error or "truncated")
                    return
                for event in reader.feed(chunk):
                    if event.message is not None:
                        answer = self._guarded(lambda m=event.message: self.server.on_message(m))
                    else:
                        answer = self._guarded(
                            lambda e=event: self.server.on_broken(e.raw, e.error or "bad frame")
                        )
                    if answer is not None:
                        self._answer(sock, answer)
        finally:
            self.server.connections -= 1
            log.debug("monitor connection from %s closed", peer)

    def _guarded(self, call: Callable[[], str]) -> str | None:
        try:
            return call()
        except Exception as exc:  # the database may be restarting: no ACK, the monitor resends
            log.warning("hl7 message not processed: %s", type(exc).__name__)
            return None

    @staticmethod
    def _answer(sock: socket.socket, text: str) -> None:
        with contextlib.suppress(OSError):
            sock.sendall(frame(text))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], on_message: OnMessage, on_broken: OnBrokenFrame
    ) -> None:
        self.on_message = on_message
        self.on_broken = on_broken
        self.stopping = threading.Event()
        self.connections = 0
        super().__init__(address, _Handler)


class Hl7Listener:
    """The ORU^R01 listener. ``port=0`` binds a free port (see ``address`` after start)."""

    def __init__(
        self, host: str, port: int, on_message: OnMessage, on_broken: OnBrokenFrame
    ) -> None:
        self._host, self._port = host, port
        self._on_message, self._on_broken = on_message, on_broken
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None, "listener not started"
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def bind(self) -> None:
        self._server = _Server((self._host, self._port), self._on_message, self._on_broken)

    def serve_forever(self) -> None:
        if self._server is None:
            self.bind()
        assert self._server is not None
        self._server.serve_forever(poll_interval=0.2)

    def start(self) -> None:
        """Bind and serve in a daemon thread. When another process of this server already
        listens on the port (several workers), this one leaves it to that process."""
        try:
            self.bind()
        except OSError as exc:
            log.warning(
                "hl7 listener not started on %s:%s: %s",
                self._host,
                self._port,
                exc.strerror or type(exc).__name__,
            )
            self._server = None
            return
        self._thread = threading.Thread(
            target=self.serve_forever, name="hms-hl7-listener", daemon=True
        )
        self._thread.start()
        log.info("hl7 listener on %s:%s", *self.address)

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._server = None
