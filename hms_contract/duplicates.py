"""Duplicate records: flagged pairs for review, and merges with a reason that wait for
confirmation (and can be undone until then). Imports only pydantic and the patients
contract."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hms_contract.patients import DuplicateReason, PatientSummary, _text

Reason = Annotated[str, AfterValidator(_text), Field(min_length=5, max_length=1000)]
FlagStatus = Literal["open", "dismissed", "merged"]
MergeStatus = Literal["pending", "confirmed", "undone"]
_STRICT = ConfigDict(extra="forbid")


class DuplicateFlagRead(BaseModel):
    """Two records that may be one person: ``patient`` (the newer record, e.g. from
    self-booking) and ``candidate`` (the existing one)."""

    id: int
    patient: PatientSummary
    candidate: PatientSummary
    score: Decimal = Field(description="0..1, how alike the two records are")
    reasons: list[DuplicateReason]
    source: Literal["self_booking", "registration"]
    status: FlagStatus
    created_at: datetime
    resolved_at: datetime | None = None
    resolution_note: str | None = None
    version: int


class DuplicateFlagDismiss(BaseModel):
    """Two different people: close the flag, saying why."""

    model_config = _STRICT
    version: int = Field(ge=1)
    note: Reason


class MergeRequest(BaseModel):
    """Merge ``duplicate_id`` into ``survivor_id`` for ``reason``: recorded as pending
    (nothing moves) until confirmed; can be undone until then."""

    model_config = _STRICT
    survivor_id: int = Field(ge=1, le=2**63 - 1)
    duplicate_id: int = Field(ge=1, le=2**63 - 1)
    reason: Reason
    survivor_version: int | None = Field(default=None, ge=1)
    duplicate_version: int | None = Field(default=None, ge=1)
    flag_id: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="The duplicate flag this merge decides"
    )


class MergeDecision(BaseModel):
    """Confirm or undo a pending merge; ``version`` is the merge's."""

    model_config = _STRICT
    version: int = Field(ge=1)


class MergeRead(BaseModel):
    id: int
    survivor: PatientSummary
    duplicate: PatientSummary
    reason: str
    status: MergeStatus
    flag_id: int | None = None
    requested_by_user_id: int | None = None
    requested_at: datetime
    decided_by_user_id: int | None = None
    decided_at: datetime | None = None
    version: int
