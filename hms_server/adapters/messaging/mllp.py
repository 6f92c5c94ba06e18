"""The ``hl7`` channel of the outbox: send an HL7 v2 message over MLLP and read the
receiver's acknowledgement.

- ``AA``/``CA`` (accepted): sent; the receiver's MSA control id is the provider id.
- ``AR``/``CR`` (rejected, e.g. the receiver is busy or down for maintenance): try again
  later with the outbox's back-off.
- ``AE``/``CE`` (application error: the receiver cannot process this message): permanent,
  an administrator looks at it (retrying the same bytes cannot help).
- No connection, a timeout, a closed connection or an unreadable answer: try again later.

Error text names codes only (never message content, which identifies the patient).
"""

from __future__ import annotations

import hl7

from hms_server.adapters.hl7.mllp import MllpError, send_and_receive
from hms_server.adapters.messaging.base import (
    OutgoingMessage,
    PermanentSendError,
    ProviderResult,
    TransientSendError,
)


def _control_id(message: str) -> str:
    return str(hl7.parse(message).segment("MSH")(10))


class MllpAdapter:
    """Thread-safe: one connection per message (ADT traffic is a few messages a minute)."""

    channel = "hl7"

    def __init__(self, *, timeout: float = 10.0) -> None:
        self.timeout = timeout

    def send(self, message: OutgoingMessage) -> ProviderResult:
        try:
            answer = send_and_receive(message.recipient, message.body, timeout=self.timeout)
        except ValueError as exc:
            raise PermanentSendError("hl7 endpoint is not host:port") from exc
        except TimeoutError as exc:
            raise TransientSendError("hl7 no acknowledgement (timeout)") from exc
        except (OSError, MllpError) as exc:
            raise TransientSendError(f"hl7 transport: {type(exc).__name__}") from exc
        try:
            ack = hl7.parse(answer)
            msa = ack.segment("MSA")
            code = str(msa.extract_field(field_num=1))
            acked = str(msa.extract_field(field_num=2))
        except (KeyError, IndexError, hl7.ParseException) as exc:
            raise TransientSendError("hl7 unreadable acknowledgement") from exc
        if acked != _control_id(message.body):
            raise TransientSendError("hl7 acknowledgement for another message")
        if code in ("AA", "CA"):
            return ProviderResult(provider_message_id=str(ack.segment("MSH")(10)) or None)
        reason = _error_code(ack)
        if code in ("AR", "CR"):
            raise TransientSendError(f"hl7 {code}{reason}")
        raise PermanentSendError(f"hl7 {code}{reason}")


def _error_code(ack: hl7.Message) -> str:
    """``: <ERR-3 code>`` when the receiver said why (codes only, no text)."""
    try:
        code = str(ack.segment("ERR").extract_field(field_num=3, repeat_num=1, component_num=1))
    except (KeyError, IndexError):
        return ""
    return f": {code[:20]}" if code else ""
