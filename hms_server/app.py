"""FastAPI application factory.

The app connects as the least-privileged runtime role. Given only the owner URL (as the
CLI is), it reads that role's credentials once at start-up; see ``adapters.db``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import sessionmaker

from hms_server import __version__
from hms_server.adapters.db import make_engine, runtime_url
from hms_server.adapters.events import EventHub
from hms_server.api.deps import PUBLIC
from hms_server.api.problems import install_problem_handlers
from hms_server.api.routers import discover_routers
from hms_server.config import Settings, get_settings
from hms_server.domain.errors import DomainError

API_PREFIX = "/api/v1"
access_log = logging.getLogger("hms_server.access")


class MissingSecretError(DomainError):
    status, code, title = 500, "configuration_error", "Server misconfigured"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. Routers are included here and nowhere else."""
    settings = settings or get_settings()
    if len(settings.jwt_secret) < 32:
        raise MissingSecretError(
            "HMS_JWT_SECRET must be set to at least 32 random characters "
            "('hms-server run' generates one per start if it is unset).")
    url = runtime_url(settings.database_url, settings.runtime_database_url)
    engine = make_engine(url, pool_size=settings.pool_size)
    session_factory = sessionmaker(engine, expire_on_commit=False)
    hub = EventHub(url, session_factory)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        hub.start()
        try:
            yield
        finally:
            hub.stop()
            engine.dispose()

    app = FastAPI(
        title="HMS API",
        version=__version__,
        description="Hospital management system: the single authority for rules, access and "
                    "audit. Errors are RFC 9457 problem+json with a stable `code`.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.event_hub = hub
    install_problem_handlers(app)
    route_templates: dict[int, str] = {}

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        response: Response = await call_next(request)
        # Access log by route template only: concrete paths and query strings can carry
        # MRNs or names typed into a search box, and logs must hold no patient data.
        route = request.scope.get("route")
        template = route_templates.get(id(route), getattr(route, "path", "-"))
        access_log.info("%s %s %s %.1fms", request.method, template,
                        response.status_code, (time.perf_counter() - started) * 1000)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.url.path.startswith(API_PREFIX):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

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
            templates.update(_full_route_templates(route.original_router.routes,
                                                   prefix + route.include_context.prefix))
        elif hasattr(route, "path"):
            templates[id(route)] = prefix + route.path
    return templates
