"""Liveness and database reachability, for load balancers and the desktop status bar."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from hms_server import __version__
from hms_server.api.deps import PUBLIC, get_session_factory

router = APIRouter(tags=["health"])


@router.get("/health", operation_id="health", dependencies=[Depends(PUBLIC)])
def health(request: Request) -> JSONResponse:
    """``status: ok`` when this server and its database answer; 503 ``degraded`` otherwise."""
    try:
        with get_session_factory(request)() as session:
            session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:
        database = "unreachable"
    status = "ok" if database == "ok" else "degraded"
    return JSONResponse({"status": status, "database": database, "version": __version__},
                        status_code=200 if status == "ok" else 503)
