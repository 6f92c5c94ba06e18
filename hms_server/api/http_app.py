"""The HTTP face of HMS: FastAPI app, middleware, problem handlers and routers.

Built by the composition root (``hms_server.bootstrap.create_app``) from a ``Runtime``; it
owns nothing but the HTTP concerns. ``app.state.runtime`` is how requests reach the
hospital context, the wired units of work and the workers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.responses import RedirectResponse

from hms_server import __version__
from hms_server.api.deps import PUBLIC
from hms_server.api.middleware import SecurityHeadersMiddleware
from hms_server.api.problems import install_problem_handlers
from hms_server.api.routers import discover_routers
from hms_server.domain.errors import ConfigurationError

if TYPE_CHECKING:
    from hms_server.bootstrap import Runtime

API_PREFIX = "/api/v1"


class MissingSecretError(ConfigurationError):
    code, title = "configuration_error", "Server misconfigured"


def build_http_app(runtime: Runtime) -> FastAPI:
    """Build the app around ``runtime``. Routers are included here and nowhere else."""
    settings = runtime.settings
    if len(settings.jwt_secret) < 32:
        raise MissingSecretError(
            "HMS_JWT_SECRET must be set to at least 32 random characters "
            "('hms-server run' generates one per start if it is unset)."
        )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Threads for synchronous routes (anyio's default is 40 per process): as many as
        # the pool has connections. More only made threads queue for a connection while
        # fighting over the GIL (load harness, 200 users: p95 200-570 ms -> 170-180 ms).
        anyio.to_thread.current_default_thread_limiter().total_tokens = (
            settings.request_threads or settings.pool_size
        )
        runtime.start_workers()
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="HMS API",
        version=__version__,
        description="Hospital management system: the single authority for rules, access and "
        "audit. Errors are RFC 9457 problem+json with a stable `code`.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.engine = runtime.engine
    app.state.session_factory = runtime.session_factory
    app.state.event_hub = runtime.event_hub
    install_problem_handlers(app)
    route_templates: dict[int, str] = {}

    app.add_middleware(
        SecurityHeadersMiddleware, api_prefix=API_PREFIX, route_templates=lambda: route_templates
    )

    for router in discover_routers():
        app.include_router(router, prefix=API_PREFIX)
    for router in discover_routers(prefixed=False):  # e.g. /fhir, /book
        app.include_router(router)

    @app.get("/", include_in_schema=False, dependencies=[Depends(PUBLIC)])
    def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    route_templates.update(_full_route_templates(app.routes))
    return app


def _full_route_templates(routes: list[Any], prefix: str = "") -> dict[int, str]:
    """Full path template of every route. FastAPI 0.165 nests included routers, whose routes
    carry only their own part of the path."""
    templates: dict[int, str] = {}
    for route in routes:
        if hasattr(route, "original_router"):
            templates.update(
                _full_route_templates(
                    route.original_router.routes, prefix + route.include_context.prefix
                )
            )
        elif hasattr(route, "path"):
            templates[id(route)] = prefix + route.path
    return templates
