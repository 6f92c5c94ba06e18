"""Security headers and the access log, as plain ASGI middleware.

Plain ASGI rather than ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` runs
the rest of the app in a task of its own and streams the answer back through a memory
channel, on every request. Under the load harness that machinery was about a tenth of the
server's CPU; wrapping ``send`` does the same job (headers added as the answer starts, one
log line when it ends) with none of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("hms_server.access")

_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
_API_ONLY = ((b"cache-control", b"no-store"),)


class SecurityHeadersMiddleware:
    """Adds the security headers a response does not set itself (``no-store`` on the API),
    and logs each request by its route *template*: concrete paths and query strings can carry
    MRNs or names typed into a search box, and logs must hold no patient data."""

    def __init__(
        self, app: ASGIApp, *, api_prefix: str, route_templates: Callable[[], Mapping[int, str]]
    ) -> None:
        self.app = app
        self.api_prefix = api_prefix
        self.route_templates = route_templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        extra = _ALWAYS + (_API_ONLY if scope["path"].startswith(self.api_prefix) else ())
        status: list[int] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                route: Any = scope.get("route")
                template = self.route_templates().get(id(route), getattr(route, "path", "-"))
                access_log.info(
                    "%s %s %s %.1fms",
                    scope["method"],
                    template,
                    status[0] if status else 500,
                    (time.perf_counter() - started) * 1000,
                )
