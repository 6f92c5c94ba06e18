"""Bedside-device messages that could not be stored automatically (the review list).
Imports only pydantic."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hms_contract.clinical import Line

DeviceMessageStatus = Literal["stored", "unmatched", "malformed", "rejected"]


class DeviceMessageRead(BaseModel):
    id: int
    received_at: datetime
    sending_application: str
    control_id: str | None
    device_id: str | None
    status: DeviceMessageStatus
    error_code: str | None
    error_detail: str | None
    raw: str
    patient_id: int | None
    admission_id: int | None
    vitals_id: int | None
    reviewed_at: datetime | None
    review_note: str | None


class DeviceMessageReview(BaseModel):
    """Close a review item: dismiss it (a note is required) or file its readings against
    the admission the nurse has identified (``admission_id``)."""

    model_config = ConfigDict(extra="forbid")
    note: Annotated[Line, Field(min_length=3, max_length=500)]
    admission_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
