"""Access to charts: break-the-glass, its review queue, the care team, "my patients"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.clinical import (
    BreakGlassRead,
    BreakGlassRequest,
    BreakGlassReview,
    CareTeamAdd,
    CareTeamMemberRead,
    MyPatientRead,
)
from hms_contract.common import Page, SaneDateTime
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.views import combined, read
from hms_server.domain.permissions import Perm
from hms_server.services import access as access_service
from hms_server.services.access import GrantView

router = APIRouter(tags=["clinical access"], responses=PROBLEM_RESPONSES)

ClinicalRead = requirement(Perm.CLINICAL_READ)
# Break-the-glass is the way in for a clinician outside the care team: no relationship needed.
BreakGlassRequester = requirement(Perm.CLINICAL_READ, patient_scope=False)
ClinicalWrite = requirement(Perm.CLINICAL_WRITE)
BreakGlassReviewer = requirement(Perm.BREAK_GLASS_REVIEW)


def grant_read(view: GrantView) -> BreakGlassRead:
    return read(BreakGlassRead, combined(view.grant, view, reviewed_by=view.reviewed_by_username))


@router.post(
    "/patients/{patient_id}/break-glass",
    operation_id="break_glass",
    status_code=201,
    response_model=BreakGlassRead,
)
def break_glass(
    patient_id: int,
    body: BreakGlassRequest,
    request: Request,
    ctx: BreakGlassRequester,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Emergency access to a patient outside your care: a reason is required, access lasts
    60 minutes, and the grant is audited and listed for review."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: access_service.break_glass(uow, patient_id=patient_id, reason=body.reason),
        lambda g: grant_read(GrantView(g, ctx.principal.username, None, None, 0)),
    )


@router.get("/break-glass", operation_id="list_break_glass")
def list_break_glass(
    ctx: BreakGlassReviewer,
    since: SaneDateTime | None = None,
    until: SaneDateTime | None = None,
    user_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    patient_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    unreviewed: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[BreakGlassRead]:
    """Review queue of emergency accesses, newest first, with how many chart reads each
    grant was used for."""
    rows, total = access_service.list_break_glass(
        ctx.uow(),
        since=since,
        until=until,
        user_id=user_id,
        patient_id=patient_id,
        unreviewed=unreviewed,
        limit=limit,
        offset=offset,
    )
    return Page[BreakGlassRead](items=[grant_read(v) for v in rows], total=total)


@router.post("/break-glass/{grant_id}/review", operation_id="review_break_glass")
def review_break_glass(
    grant_id: int, body: BreakGlassReview, ctx: BreakGlassReviewer
) -> BreakGlassRead:
    """Mark an emergency access as reviewed, with an optional note."""
    return grant_read(access_service.review_break_glass(ctx.uow(), grant_id, note=body.note))


@router.get("/patients/{patient_id}/care-team", operation_id="list_care_team")
def list_care_team(patient_id: int, ctx: ClinicalRead) -> Page[CareTeamMemberRead]:
    """The care team with how each member joined (encounter, handover with its reason)."""
    rows = access_service.list_care_team(ctx.uow(), patient_id)
    return Page[CareTeamMemberRead](
        items=[
            read(CareTeamMemberRead, combined(m, username=u.username, full_name=u.full_name))
            for m, u in rows
        ],
        total=len(rows),
    )


@router.post(
    "/patients/{patient_id}/care-team", operation_id="add_care_team_member", status_code=201
)
def add_care_team_member(
    patient_id: int, body: CareTeamAdd, ctx: ClinicalWrite
) -> CareTeamMemberRead:
    """Refer or hand the patient over to a colleague (doctor or nurse). Needs your own
    lasting care relationship (not break-the-glass) and a reason; audited."""
    m = access_service.add_to_care_team(
        ctx.uow(), patient_id=patient_id, user_id=body.user_id, role=body.role, reason=body.reason
    )
    return read(CareTeamMemberRead, m)


@router.get("/my-patients", operation_id="list_my_patients")
def list_my_patients(
    ctx: ClinicalRead,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[MyPatientRead]:
    """Today's checked-in patients of the clinic you work in (and of your own queue), in
    check-in order, then the patients whose care team includes you. Audited with the ids
    of the patients returned."""
    rows, total = access_service.my_patients(ctx.uow(), limit=limit, offset=offset)
    return Page[MyPatientRead](
        items=[read(MyPatientRead, combined(m, m.patient)) for m in rows], total=total
    )
