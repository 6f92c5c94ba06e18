"""Who works where: clinic assignments that make a clinic's checked-in patients part of a
clinician's care for the day. Imports only pydantic."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from hms_contract.common import SaneDate


class ClinicAssignmentCreate(BaseModel):
    """Assign a nurse (or doctor) to a department's clinic: for one day, or standing when
    ``on_date`` is left out."""

    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1, le=2**63 - 1)
    department_id: int = Field(ge=1, le=2**63 - 1)
    on_date: SaneDate | None = Field(default=None, description="The day; empty = every day")


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


class SecurityAlertRead(BaseModel):
    """An account under attack (``account_locked`` at one address, ``account_ceiling``
    everywhere, ``reauthenticate_locked``) or an address trying many names
    (``address_throttled``); repeats within an hour count in ``occurrences``."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    username: str | None
    user_id: int | None
    address: str | None
    first_at: datetime
    last_at: datetime
    occurrences: int
    detail: dict[str, object]
    acknowledged_at: datetime | None
    acknowledged_by_user_id: int | None
