"""Audit log entries as the review screen sees them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    user_id: int | None
    username: str | None
    patient_id: int | None
    patient_mrn: str | None = Field(
        default=None, description="The patient's MRN, so a reviewer sees whom an entry is about"
    )
    patient_name: str | None = Field(default=None, description="Family, Given")
    category: str
    action: str
    outcome: str
    workstation: str | None
    address: str | None
    detail: dict[str, Any]
