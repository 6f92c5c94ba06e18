"""A local card payment gateway with a terminal, for tests and the demo.

Run: ``python -m hms_server.adapters.billing.gateway_simulator --api-key K --webhook-secret S
[--webhook-url URL] [--auto-confirm-seconds N] [--port P]``; prints one
``READY {"port": P, "url": "http://127.0.0.1:P"}`` line once serving.

Gateway API (``Authorization: Bearer K``):
- ``POST /v1/payment_intents`` ``{amount, currency, reference}`` (``Idempotency-Key``
  honoured) → 201 ``{id, status: "requires_confirmation", ...}``;
- ``GET /v1/payment_intents/{id}``;
- ``POST /v1/refunds`` ``{payment_intent, amount}`` → 201 ``{id, status: "succeeded"}``.

When the customer confirms at the terminal (``POST /_sim/intents/{id}/confirm``
``{"outcome": "succeeded" | "declined"}``, or automatically after ``--auto-confirm-seconds``)
the gateway POSTs a signed event to the webhook URL: header ``Gateway-Signature:
t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``, body ``{id, type, created,
data: {object: intent}}`` with type ``payment_intent.succeeded`` or
``payment_intent.payment_failed``.

Control API: ``POST /_sim/config`` ``{"webhook_url", "auto_confirm_seconds"}``,
``GET /_sim/deliveries`` (every webhook sent and the server's status code),
``POST /_sim/redeliver`` ``{"event_id", "timestamp_offset": -600, "resign": true,
"tamper": false}`` (send a stored event again: a duplicate, a replay with an old timestamp,
or a tampered body), ``POST /_sim/behaviour`` ``{"down": bool}``, ``POST /_sim/reset``.
"""

from __future__ import annotations

import argparse
import hmac
import json
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from hms_server.adapters.billing.card_gateway import SIGNATURE_HEADER, sign_payload

_CONFIRM = re.compile(r"^/_sim/intents/([A-Za-z0-9_]+)/confirm$")
_INTENT = re.compile(r"^/v1/payment_intents/([A-Za-z0-9_]+)$")


@dataclass
class GatewayState:
    api_key: str
    webhook_secret: str
    webhook_url: str = ""
    auto_confirm_seconds: float | None = None
    down: bool = False
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_idempotency_key: dict[str, str] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    events: dict[str, bytes] = field(default_factory=dict)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def reset(self) -> None:
        with self.lock:
            self.intents.clear()
            self.by_idempotency_key.clear()
            self.refunds.clear()
            self.events.clear()
            self.deliveries.clear()
            self.down = False


def deliver(
    state: GatewayState,
    body: bytes,
    event_id: str,
    *,
    timestamp: int | None = None,
    signature: str | None = None,
) -> int:
    """POST one event to the webhook URL; the server's status code (0 when unreachable)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = signature or sign_payload(state.webhook_secret, timestamp, body)
    status = 0
    if state.webhook_url:
        try:
            response = httpx.post(
                state.webhook_url,
                content=body,
                timeout=10,
                headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
            )
            status = response.status_code
        except httpx.HTTPError:
            status = 0
    with state.lock:
        state.deliveries.append(
            {
                "event_id": event_id,
                "timestamp": timestamp,
                "signature": signature,
                "status_code": status,
            }
        )
    return status


def confirm(state: GatewayState, intent_id: str, outcome: str) -> dict[str, Any]:
    """The customer presented a card: settle the intent and send the webhook."""
    with state.lock:
        intent = state.intents.get(intent_id)
        if intent is None or intent["status"] != "requires_confirmation":
            return {"error": "no intent waiting for confirmation", "status_code": None}
        succeeded = outcome == "succeeded"
        intent["status"] = "succeeded" if succeeded else "failed"
        if not succeeded:
            intent["failure_reason"] = "card_declined"
        event_id = f"evt_{uuid.uuid4().hex[:20]}"
        event = {
            "id": event_id,
            "type": "payment_intent.succeeded" if succeeded else "payment_intent.payment_failed",
            "created": int(time.time()),
            "data": {"object": dict(intent)},
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        state.events[event_id] = body
    return {"event_id": event_id, "status_code": deliver(state, body, event_id)}


class _Handler(BaseHTTPRequestHandler):
    server: GatewaySimulatorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def _authorised(self) -> bool:
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given, f"Bearer {self.server.state.api_key}")

    def do_GET(self) -> None:
        state = self.server.state
        if self.path == "/_sim/deliveries":
            with state.lock:
                self._send(200, {"deliveries": list(state.deliveries)})
            return
        if self.path == "/_sim/intents":
            with state.lock:
                self._send(
                    200, {"intents": list(state.intents.values()), "refunds": list(state.refunds)}
                )
            return
        match = _INTENT.match(self.path)
        if match and self._authorised():
            with state.lock:
                intent = state.intents.get(match.group(1))
            self._send(200 if intent else 404, intent or {"error": "no such intent"})
            return
        self._send(404 if match is None else 401, {"error": "not found"})

    def do_POST(self) -> None:
        state = self.server.state
        body = self._read()
        if not isinstance(body, dict):
            self._send(400, {"error": "json object expected"})
            return
        if self.path.startswith("/_sim/"):
            self._control(body)
            return
        if state.down:
            self._send(503, {"error": "gateway temporarily unavailable"})
            return
        if not self._authorised():
            self._send(401, {"error": "invalid api key"})
            return
        if self.path == "/v1/payment_intents":
            self._create_intent(body)
        elif self.path == "/v1/refunds":
            self._refund(body)
        else:
            self._send(404, {"error": "not found"})

    def _create_intent(self, body: dict[str, Any]) -> None:
        state = self.server.state
        amount, currency = body.get("amount"), body.get("currency")
        if not isinstance(amount, int) or amount <= 0 or not isinstance(currency, str):
            self._send(400, {"error": "amount (positive integer) and currency required"})
            return
        key = self.headers.get("Idempotency-Key") or ""
        with state.lock:
            existing = state.by_idempotency_key.get(key) if key else None
            if existing is not None:
                self._send(200, state.intents[existing])
                return
            intent = {
                "id": f"pi_{uuid.uuid4().hex[:20]}",
                "object": "payment_intent",
                "amount": amount,
                "currency": currency.lower(),
                "reference": str(body.get("reference") or ""),
                "status": "requires_confirmation",
                "refunded": 0,
            }
            state.intents[intent["id"]] = intent
            if key:
                state.by_idempotency_key[key] = intent["id"]
        if state.auto_confirm_seconds is not None:
            timer = threading.Timer(
                state.auto_confirm_seconds, confirm, args=(state, intent["id"], "succeeded")
            )
            timer.daemon = True
            timer.start()
        self._send(201, intent)

    def _refund(self, body: dict[str, Any]) -> None:
        state = self.server.state
        amount = body.get("amount")
        with state.lock:
            intent = state.intents.get(str(body.get("payment_intent")))
            if (
                intent is None
                or intent["status"] != "succeeded"
                or not isinstance(amount, int)
                or amount <= 0
                or intent["refunded"] + amount > intent["amount"]
            ):
                self._send(400, {"error": "refund not possible"})
                return
            intent["refunded"] += amount
            refund = {
                "id": f"re_{uuid.uuid4().hex[:20]}",
                "payment_intent": intent["id"],
                "amount": amount,
                "status": "succeeded",
            }
            state.refunds.append(refund)
        self._send(201, refund)

    def _control(self, body: dict[str, Any]) -> None:
        state = self.server.state
        match = _CONFIRM.match(self.path)
        if match:
            result = confirm(state, match.group(1), str(body.get("outcome", "succeeded")))
            self._send(404 if "error" in result else 200, result)
        elif self.path == "/_sim/config":
            with state.lock:
                if "webhook_url" in body:
                    state.webhook_url = str(body["webhook_url"] or "")
                if "auto_confirm_seconds" in body:
                    value = body["auto_confirm_seconds"]
                    state.auto_confirm_seconds = None if value is None else float(value)
            self._send(200, {"ok": True})
        elif self.path == "/_sim/behaviour":
            with state.lock:
                state.down = bool(body.get("down", state.down))
            self._send(200, {"ok": True})
        elif self.path == "/_sim/reset":
            state.reset()
            self._send(200, {"ok": True})
        elif self.path == "/_sim/redeliver":
            self._redeliver(body)
        else:
            self._send(404, {"error": "not found"})

    def _redeliver(self, body: dict[str, Any]) -> None:
        state = self.server.state
        event_id = str(body.get("event_id"))
        with state.lock:
            stored = state.events.get(event_id)
            first = next((d for d in state.deliveries if d["event_id"] == event_id), None)
        if stored is None or first is None:
            self._send(404, {"error": "no such event"})
            return
        payload = stored
        if body.get("tamper"):
            payload = stored.replace(b'"amount":', b'"amount":1', 1)
        if body.get("resign", True):
            timestamp = int(time.time()) + int(body.get("timestamp_offset", 0))
            status = deliver(state, payload, event_id, timestamp=timestamp)
        else:  # the very same request again, byte for byte (a captured replay)
            status = deliver(
                state, payload, event_id, timestamp=first["timestamp"], signature=first["signature"]
            )
        self._send(200, {"status_code": status})


class GatewaySimulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: GatewayState) -> None:
        super().__init__(address, _Handler)
        self.state = state


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="HMS card gateway simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--webhook-secret", required=True)
    parser.add_argument("--webhook-url", default="")
    parser.add_argument(
        "--auto-confirm-seconds",
        type=float,
        default=None,
        help="confirm every intent by itself after this many seconds (demo)",
    )
    args = parser.parse_args(argv)
    state = GatewayState(
        api_key=args.api_key,
        webhook_secret=args.webhook_secret,
        webhook_url=args.webhook_url,
        auto_confirm_seconds=args.auto_confirm_seconds,
    )
    server = GatewaySimulatorServer((args.host, args.port), state)
    port = server.server_address[1]
    print("READY " + json.dumps({"port": port, "url": f"http://{args.host}:{port}"}), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
