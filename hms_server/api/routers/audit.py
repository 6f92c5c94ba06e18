"""Audit trail review (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from hms_contract.audit import AuditEntryRead
from hms_contract.common import Page
from hms_server.api.deps import AuditReader
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.views import combined, read
from hms_server.services.audit import SORTABLE, AuditFilter, search_audit

router = APIRouter(prefix="/audit", tags=["audit"], responses=PROBLEM_RESPONSES)

_SORT_PATTERN = r"^-?(" + "|".join(SORTABLE) + r")$"


@router.get("", operation_id="search_audit")
def list_audit(
    ctx: AuditReader,
    since: datetime | None = None,
    until: datetime | None = None,
    user: Annotated[str | None, Query(max_length=64)] = None,
    user_id: Annotated[int | None, Query(ge=1)] = None,
    patient_id: Annotated[int | None, Query(ge=1)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    category: Annotated[str | None, Query(max_length=48)] = None,
    outcome: Annotated[str | None, Query(max_length=16)] = None,
    sort: Annotated[str, Query(pattern=_SORT_PATTERN)] = "-at",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[AuditEntryRead]:
    """Audit entries in a time range, filterable by user, patient, action, category and
    outcome, sortable by any column (prefix ``-`` for descending)."""
    flt = AuditFilter(
        since=since,
        until=until,
        user=user,
        user_id=user_id,
        patient_id=patient_id,
        action=action,
        category=category,
        outcome=outcome,
    )
    rows, total = search_audit(ctx.uow(), flt, sort=sort, limit=limit, offset=offset)
    return Page[AuditEntryRead](
        items=[
            read(
                AuditEntryRead,
                combined(r.entry, patient_mrn=r.patient_mrn, patient_name=r.patient_name),
            )
            for r in rows
        ],
        total=total,
    )
