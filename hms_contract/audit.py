"""Audit log entries as the review screen sees them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    user_id: int | None
    username: str | None
    patient_id: int | None
    category: str
    action: str
    outcome: str
    workstation: str | None
    address: str | None
    detail: dict[str, Any]
