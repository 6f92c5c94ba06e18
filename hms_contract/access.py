"""Who works where: clinic assignments that make a clinic's checked-in patients part of a
clinician's care for the day. Imports only pydantic."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class ClinicAssignmentCreate(BaseModel):
    """Assign a nurse (or doctor) to a department's clinic: for one day, or standing when
    ``on_date`` is left out."""

    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1, le=2**63 - 1)
    department_id: int = Field(ge=1, le=2**63 - 1)
    on_date: date | None = Field(default=None, description="The day; empty = every day")


class ClinicAssignmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    department_id: int
    on_date: date | None
    created_at: datetime
    created_by_user_id: int | None = None
    username: str | None = None
    full_name: str | None = None
    department: str | None = None
