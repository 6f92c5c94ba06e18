"""Bedside-device messages that need a person: the review list of unmatched, malformed
and rejected HL7 results, and closing an item (dismiss, or file an unmatched reading
against the admission the nurse identified)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from hms_contract.common import Page
from hms_contract.devices import DeviceMessageRead, DeviceMessageReview
from hms_server.api.deps import requirement
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import device_vitals as svc
from hms_server.services.ward_access import ensure_ward_care

router = APIRouter(tags=["bedside devices"], responses=PROBLEM_RESPONSES)

Reviewer = requirement(Perm.DEVICES_REVIEW)


@router.get("/device-messages", operation_id="list_device_messages")
def list_device_messages(
    ctx: Reviewer,
    include_reviewed: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[DeviceMessageRead]:
    """Messages from monitors that were not stored: unmatched patient, malformed (bad
    frame, wrong check digit), or rejected (bad units or values), newest first."""
    rows, total = svc.list_review(
        ctx.uow(), include_reviewed=include_reviewed, limit=limit, offset=offset
    )
    local = ctx.hospital.local
    items = [
        DeviceMessageRead.model_validate(r, from_attributes=True).model_copy(
            update={
                "received_at": local(r.received_at),
                "reviewed_at": local(r.reviewed_at) if r.reviewed_at else None,
            }
        )
        for r in rows
    ]
    return Page[DeviceMessageRead](items=items, total=total)


@router.post("/device-messages/{message_id}/review", operation_id="review_device_message")
def review_device_message(
    message_id: Annotated[int, Path(ge=1, le=2**63 - 1)], body: DeviceMessageReview, ctx: Reviewer
) -> DeviceMessageRead:
    """Dismiss with a note, or file an unmatched reading against ``admission_id`` (the
    reviewer must care for that patient on the ward)."""
    row = svc.review_message(
        ctx.uow(),
        message_id,
        note=body.note,
        admission_id=body.admission_id,
        ensure_access=ensure_ward_care,
    )
    return DeviceMessageRead.model_validate(row, from_attributes=True)
