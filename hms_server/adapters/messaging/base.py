"""The adapter interface every messaging gateway implements.

``send`` either returns a ``ProviderResult`` or raises: ``TransientSendError`` when trying
again later may succeed (timeouts, 4xx SMTP replies, HTTP 429/5xx), ``PermanentSendError``
when it never will (a refused recipient, HTTP 400). Error text must name codes and error
classes only: it is stored and shown to admins, and must never carry message text or names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    """A snapshot of one outbox row, handed to an adapter outside any transaction."""

    id: int
    channel: str
    recipient: str
    subject: str | None
    body: str


@dataclass(frozen=True)
class ProviderResult:
    """The gateway accepted the message; ``provider_message_id`` is its tracking id."""

    provider_message_id: str | None = None


class SendError(Exception):
    """A send failed. ``str(error)`` is safe to store (codes only, no message content)."""


class TransientSendError(SendError):
    """Try again later. ``retry_after`` (seconds) is the gateway's own hint, if it gave one."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Retrying cannot help (bad recipient, rejected content, refused credentials)."""


class MessageAdapter(Protocol):
    """One channel's gateway. Implementations are thread-safe or stateless per call."""

    channel: str

    def send(self, message: OutgoingMessage) -> ProviderResult: ...
