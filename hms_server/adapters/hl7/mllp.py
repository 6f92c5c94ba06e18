"""MLLP (Minimal Lower Layer Protocol, HL7 v2 Appendix C): each message travels as
``<VT> message <FS><CR>``. This module frames and unframes, reads frames off a byte
stream (incrementally, so a slow sender or a frame split across TCP segments is fine), and
sends one message and waits for its acknowledgement.

A frame that is cut off (the connection closes before ``<FS><CR>``) or bytes outside any
frame are reported, never silently dropped: the listener answers them with a NAK where it
can and records them for review.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

VT = b"\x0b"
FS = b"\x1c"
CR = b"\x0d"
END = FS + CR
#: A frame larger than this is refused (a monitor's ORU is a few hundred bytes).
MAX_FRAME_BYTES = 1_000_000
ENCODING = "utf-8"


class MllpError(Exception):
    """A framing problem: bytes outside a frame, a frame too large, or a truncated frame."""


def frame(message: str) -> bytes:
    """``message`` (segments separated by ``\\r``) as one MLLP frame."""
    return VT + message.encode(ENCODING) + END


@dataclass
class FrameEvent:
    """One thing read off the stream: a complete ``message``, or an ``error`` (with the
    bytes that caused it, for the review list)."""

    message: str | None = None
    error: str | None = None
    raw: bytes = b""


class FrameReader:
    """Incremental MLLP decoder. Feed it bytes as they arrive; it yields whole frames.

    Not thread-safe: one reader per connection."""

    def __init__(self, max_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_bytes

    def feed(self, data: bytes) -> Iterator[FrameEvent]:
        self._buffer.extend(data)
        while self._buffer:
            start = self._buffer.find(VT)
            if start != 0:
                # Bytes before the start block: junk (or the tail of a broken frame).
                junk_end = start if start > 0 else len(self._buffer)
                junk = bytes(self._buffer[:junk_end])
                del self._buffer[:junk_end]
                if junk.strip(b"\r\n\x00 "):
                    yield FrameEvent(error="bytes outside an MLLP frame", raw=junk)
                continue
            end = self._buffer.find(END, 1)
            nested = self._buffer.find(VT, 1)
            if nested != -1 and (end == -1 or nested < end):
                # A new frame started before this one ended: this one was truncated.
                broken = bytes(self._buffer[:nested])
                del self._buffer[:nested]
                yield FrameEvent(error="truncated MLLP frame", raw=broken)
                continue
            if end == -1:
                if len(self._buffer) > self._max:
                    broken = bytes(self._buffer)
                    self._buffer.clear()
                    yield FrameEvent(error="MLLP frame too large", raw=broken[:4096])
                return
            body = bytes(self._buffer[1:end])
            del self._buffer[: end + len(END)]
            try:
                yield FrameEvent(message=body.decode(ENCODING), raw=body)
            except UnicodeDecodeError:
                yield FrameEvent(error="message is not valid UTF-8", raw=body)

    def close(self) -> FrameEvent | None:
        """At end of stream: an unfinished frame is a truncated message."""
        if self._buffer.strip(b"\r\n\x00 "):
            broken = bytes(self._buffer)
            self._buffer.clear()
            return FrameEvent(error="truncated MLLP frame (connection closed)", raw=broken)
        self._buffer.clear()
        return None


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) → ``(host, port)``; ``ValueError`` otherwise."""
    host, sep, port = endpoint.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not a host:port endpoint: {endpoint!r}")
    return host.strip("[]"), int(port)


def send_and_receive(endpoint: str, message: str, *, timeout: float = 10.0) -> str:
    """Send one message over a new connection and return the first framed answer (the
    ACK/NAK). Raises ``OSError`` (including timeouts) or ``MllpError``."""
    host, port = parse_endpoint(endpoint)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(frame(message))
        reader = FrameReader()
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                raise MllpError("connection closed before an acknowledgement")
            for event in reader.feed(chunk):
                if event.message is not None:
                    return event.message
                raise MllpError(event.error or "bad acknowledgement frame")


class MllpConnection:
    """A persistent client connection (the monitor simulator keeps one per monitor, as real
    monitors do): send a message, wait for its ACK. Not thread-safe."""

    def __init__(self, endpoint: str, *, timeout: float = 10.0) -> None:
        self._endpoint = parse_endpoint(endpoint)
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self._reader = FrameReader()

    def _connect(self) -> socket.socket:
        if self._sock is None:
            self._sock = socket.create_connection(self._endpoint, timeout=self._timeout)
            self._sock.settimeout(self._timeout)
            self._reader = FrameReader()
        return self._sock

    def send_raw(self, data: bytes) -> None:
        self._connect().sendall(data)

    def receive(self) -> str:
        sock = self._connect()
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                self.close()
                raise MllpError("connection closed before an acknowledgement")
            for event in self._reader.feed(chunk):
                if event.message is not None:
                    return event.message
                raise MllpError(event.error or "bad acknowledgement frame")

    def request(self, message: str) -> str:
        try:
            self.send_raw(frame(message))
            return self.receive()
        except OSError:
            self.close()
            raise

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
