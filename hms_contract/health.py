"""The liveness answer of ``GET /health`` (load balancers and the desktop status bar)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class HealthRead(BaseModel):
    """``status`` is ``ok`` when the server and its database answer (HTTP 200), ``degraded``
    when the database does not (HTTP 503 with this same body)."""

    status: Literal["ok", "degraded"]
    database: str
    version: str
