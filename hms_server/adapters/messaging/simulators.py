"""Local stand-ins for an SMS gateway and an SMTP relay, for tests and the demo.

Both record what they receive and can be told to fail the next N requests, over a small
HTTP control API (so a test in another process can inspect and steer them):

- ``GET  /_sim/messages``   → ``{"messages": [...]}``
- ``POST /_sim/fail-next``  ``{"count": N, "status": 503}`` (SMTP: the next N recipients get
  ``451``, or ``550`` when ``status`` is 5xx-permanent, i.e. 550)
- ``POST /_sim/reset``      forget messages and pending failures

The SMS gateway serves ``POST /v1/messages`` on the same port as its control API.
Run them with ``python -m hms_server.adapters.messaging.sms_simulator`` / ``smtp_simulator``.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_PHONE = re.compile(r"^\+?[0-9]{6,16}$")


@dataclass
class SimulatorState:
    """What a simulator received and how it should misbehave next. Thread-safe."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_count: int = 0
    fail_status: int = 503
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_failure(self) -> int | None:
        """Consume one planned failure; its status, or ``None`` to behave normally."""
        with self.lock:
            self.requests += 1
            if self.fail_count > 0:
                self.fail_count -= 1
                return self.fail_status
            return None

    def record(self, item: dict[str, Any]) -> int:
        with self.lock:
            self.messages.append(item)
            return len(self.messages)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "messages": list(self.messages),
                "requests": self.requests,
                "pending_failures": self.fail_count,
            }

    def plan_failures(self, count: int, status: int) -> None:
        with self.lock:
            self.fail_count, self.fail_status = max(0, count), status

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.fail_count, self.requests = 0, 0


class _Handler(BaseHTTPRequestHandler):
    """Control API for both simulators, plus the SMS gateway API when ``api_key`` is set."""

    server: _SimulatorHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read stdout
        return

    def _json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def do_GET(self) -> None:
        if self.path == "/_sim/messages":
            self._json(200, self.server.state.snapshot())
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        state = self.server.state
        body = self._body()
        if self.path == "/_sim/fail-next":
            if not isinstance(body, dict):
                self._json(400, {"error": "json object expected"})
                return
            state.plan_failures(int(body.get("count", 1)), int(body.get("status", 503)))
            self._json(200, {"ok": True})
        elif self.path == "/_sim/reset":
            state.reset()
            self._json(200, {"ok": True})
        elif self.path == "/v1/messages" and self.server.sms_gateway:
            self._send_sms(body)
        else:
            self._json(404, {"error": "not found"})

    def _send_sms(self, body: Any) -> None:
        state = self.server.state
        failure = state.take_failure()
        if failure is not None:
            self._json(
                failure,
                {"error": "simulated failure"},
                headers={"Retry-After": "1"} if failure in (429, 503) else None,
            )
            return
        if self.server.api_key and self.headers.get("X-API-Key") != self.server.api_key:
            self._json(401, {"error": "invalid api key"})
            return
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("to"), str)
            or not _PHONE.match(body["to"])
            or not isinstance(body.get("text"), str)
            or not body["text"]
        ):
            self._json(400, {"error": "invalid message"})
            return
        number = state.record(
            {
                "to": body["to"],
                "from": body.get("from"),
                "text": body["text"],
                "reference": body.get("reference"),
                "idempotency_key": self.headers.get("Idempotency-Key"),
            }
        )
        self._json(202, {"id": f"sim-{number}", "status": "accepted"})


class _SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        state: SimulatorState,
        *,
        sms_gateway: bool,
        api_key: str = "",
    ) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.sms_gateway = sms_gateway
        self.api_key = api_key


def make_sms_gateway(
    host: str = "127.0.0.1", port: int = 0, api_key: str = ""
) -> _SimulatorHTTPServer:
    """An SMS gateway simulator (not yet serving: call ``serve_forever``)."""
    return _SimulatorHTTPServer((host, port), SimulatorState(), sms_gateway=True, api_key=api_key)


def make_control_server(
    state: SimulatorState, host: str = "127.0.0.1", port: int = 0
) -> _SimulatorHTTPServer:
    return _SimulatorHTTPServer((host, port), state, sms_gateway=False)


class SmtpRecordingHandler:
    """aiosmtpd handler: records delivered mail, refuses ``@reject.invalid`` recipients
    permanently, and answers planned failures with 451 (or 550 if planned so)."""

    def __init__(self, state: SimulatorState) -> None:
        self.state = state

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        failure = self.state.take_failure()
        if failure is not None:
            if failure >= 500:
                return "550 5.7.1 Simulated permanent failure"
            return "451 4.3.0 Simulated temporary failure, try again later"
        if address.lower().endswith("@reject.invalid"):
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=default_policy)
        body_part = parsed.get_body(preferencelist=("plain",))
        self.state.record(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "subject": str(parsed.get("Subject", "")),
                "message_id": str(parsed.get("Message-ID", "")),
                "body": body_part.get_content() if body_part is not None else "",
                "tls": bool(getattr(session, "ssl", None)),
                "authenticated": bool(getattr(session, "authenticated", False)),
            }
        )
        return "250 Message accepted for delivery"


def make_smtp_controller(
    state: SimulatorState,
    host: str,
    port: int,
    *,
    tls_cert: str = "",
    tls_key: str = "",
    auth: tuple[str, str] | None = None,
) -> Any:
    """An aiosmtpd ``Controller`` (call ``start()``/``stop()``). With a certificate it offers
    STARTTLS; with ``auth`` it accepts exactly that login, and only after STARTTLS."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    kwargs: dict[str, Any] = {}
    if tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls_cert, tls_key or None)
        kwargs["tls_context"] = context
    if auth is not None:

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
        ) -> AuthResult:
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == auth[0]
                and auth_data.password.decode() == auth[1]
            )
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticator, auth_require_tls=bool(tls_cert))
    else:
        kwargs["auth_require_tls"] = True
    return Controller(SmtpRecordingHandler(state), hostname=host, port=port, **kwargs)
