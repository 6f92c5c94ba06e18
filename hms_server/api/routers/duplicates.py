"""Duplicate records: the review list of flagged pairs, and merges that wait for
confirmation (undoable until confirmed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.duplicates import (
    DuplicateFlagDismiss,
    DuplicateFlagRead,
    FlagStatus,
    MergeDecision,
    MergeRead,
    MergeRequest,
    MergeStatus,
)
from hms_contract.patients import PatientSummary
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.views import combined, read
from hms_server.domain.permissions import Perm
from hms_server.services import duplicates as service
from hms_server.services.duplicates import FlagView, MergeView

router = APIRouter(tags=["duplicates"], responses=PROBLEM_RESPONSES)

Reviewer = requirement(Perm.DUPLICATES_REVIEW)
Merger = requirement(Perm.PATIENTS_MERGE)
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


def flag_read(view: FlagView) -> DuplicateFlagRead:
    return read(
        DuplicateFlagRead,
        combined(
            view.flag,
            patient=read(PatientSummary, view.patient),
            candidate=read(PatientSummary, view.candidate),
        ),
    )


def merge_read(view: MergeView) -> MergeRead:
    return read(
        MergeRead,
        combined(
            view.merge,
            survivor=read(PatientSummary, view.survivor),
            duplicate=read(PatientSummary, view.duplicate),
        ),
    )


@router.get("/patient-duplicates", operation_id="list_duplicate_flags")
def list_duplicate_flags(
    ctx: Reviewer,
    status: FlagStatus | None = "open",
    patient_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[DuplicateFlagRead]:
    """Pairs of records that may be one person (e.g. a self-booking that possibly matched
    an existing patient), newest first, with both records side by side."""
    rows, total = service.list_duplicate_flags(
        ctx.uow(), status=status, patient_id=patient_id, limit=limit, offset=offset
    )
    return Page[DuplicateFlagRead](items=[flag_read(v) for v in rows], total=total)


@router.post("/patient-duplicates/{flag_id}/dismiss", operation_id="dismiss_duplicate_flag")
def dismiss_duplicate_flag(
    flag_id: Id, body: DuplicateFlagDismiss, ctx: Reviewer
) -> DuplicateFlagRead:
    """Not the same person: close the flag with the reason (``version`` must match)."""
    return flag_read(service.dismiss_flag(ctx.uow(), flag_id, version=body.version, note=body.note))


@router.post(
    "/patient-merges",
    operation_id="request_patient_merge",
    status_code=201,
    response_model=MergeRead,
)
def request_patient_merge(
    body: MergeRequest, request: Request, ctx: Merger, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Record a merge, with its reason, as pending: nothing moves until it is confirmed,
    and it can be undone until then. 409 ``merge_pending`` if either record is already on
    a pending merge."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: service.request_merge(
            uow,
            survivor_id=body.survivor_id,
            duplicate_id=body.duplicate_id,
            reason=body.reason,
            survivor_version=body.survivor_version,
            duplicate_version=body.duplicate_version,
            flag_id=body.flag_id,
        ),
        merge_read,
    )


@router.get("/patient-merges", operation_id="list_patient_merges")
def list_patient_merges(
    ctx: Merger,
    status: MergeStatus | None = "pending",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[MergeRead]:
    """The merge journal, newest first (by default the merges waiting for confirmation)."""
    rows, total = service.list_merges(ctx.uow(), status=status, limit=limit, offset=offset)
    return Page[MergeRead](items=[merge_read(v) for v in rows], total=total)


@router.get("/patient-merges/{merge_id}", operation_id="get_patient_merge")
def get_patient_merge(merge_id: Id, ctx: Merger) -> MergeRead:
    return merge_read(service.get_merge(ctx.uow(), merge_id))


@router.post("/patient-merges/{merge_id}/confirm", operation_id="confirm_patient_merge")
def confirm_patient_merge(merge_id: Id, body: MergeDecision, ctx: Merger) -> MergeRead:
    """Carry out a pending merge: the duplicate's rows move to the survivor and its MRN
    resolves to the survivor from now on."""
    return merge_read(service.confirm_merge(ctx.uow(), merge_id, version=body.version))


@router.post("/patient-merges/{merge_id}/undo", operation_id="undo_patient_merge")
def undo_patient_merge(merge_id: Id, body: MergeDecision, ctx: Merger) -> MergeRead:
    """Withdraw a pending merge; both records stay as they were."""
    return merge_read(service.undo_merge(ctx.uow(), merge_id, version=body.version))
