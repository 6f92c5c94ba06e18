"""Liveness and database reachability, for load balancers and the desktop status bar."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from hms_server import __version__
from hms_server.adapters.audit_sealer import seal_lag
from hms_server.api.deps import PUBLIC, get_runtime, get_session_factory

router = APIRouter(tags=["health"])


@router.get("/health", operation_id="health", dependencies=[Depends(PUBLIC)])
def health(request: Request) -> JSONResponse:
    """``status: ok`` when this server and its database answer; 503 ``degraded`` otherwise.

    ``audit`` tells operators and the load benchmark how far the audit sealer is behind
    (committed entries not sealed yet, and the age of the oldest) and this process's part in
    sealing (``leader``, ``standby``, or ``off`` for a server built without workers).
    """
    audit: dict[str, object] = {}
    try:
        with get_session_factory(request)() as session:
            session.execute(text("SELECT 1"))
            lag = seal_lag(session.connection())
        database = "ok"
        audit = {
            "unsealed": lag.unsealed,
            "seal_lag_seconds": round(lag.oldest_unsealed_seconds, 3),
        }
    except Exception:
        database = "unreachable"
    sealer = get_runtime(request).audit_sealer
    audit["sealer"] = (
        "off"
        if sealer is None
        else "leader"
        if sealer.is_leader
        else "standby"
        if sealer.last_error is None
        else f"waiting: {sealer.last_error}"
    )
    status = "ok" if database == "ok" else "degraded"
    return JSONResponse(
        {"status": status, "database": database, "version": __version__, "audit": audit},
        status_code=200 if status == "ok" else 503,
    )
