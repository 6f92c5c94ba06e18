"""Cash-up: a cashier's drawer session from opening to the end-of-day count. Cashiers see
and submit their own sessions; an approver (manager) reads everyone's."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.payments import CashSessionOpen, CashSessionRead, CashSessionSubmit
from hms_server.api.deps import RequestContext
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath, Limit, Offset
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.routers._billing import (
    BillingReader,
    Cashier,
    to_model,
    to_models,
)
from hms_server.domain.permissions import Perm
from hms_server.services.billing import cashup as svc

router = APIRouter(tags=["billing: cash-up"], responses=PROBLEM_RESPONSES)


def _sees_all(ctx: RequestContext) -> bool:
    return Perm.BILLING_APPROVE in ctx.principal.permissions


@router.post(
    "/cash-sessions",
    operation_id="open_cash_session",
    status_code=201,
    response_model=CashSessionRead,
)
def open_session(
    body: CashSessionOpen, request: Request, ctx: Cashier, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Open the drawer with its float (a session also opens by itself on the first
    payment of the shift)."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.open_session(uow, drawer=body.drawer, opening_float=body.opening_float),
        lambda view: to_model(ctx, CashSessionRead, view),
    )


@router.get("/cash-sessions", operation_id="list_cash_sessions")
def list_sessions(
    ctx: BillingReader,
    status: Literal["open", "submitted"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[CashSessionRead]:
    rows, total = svc.list_sessions(
        ctx.uow(), any_cashier=_sees_all(ctx), status=status, limit=limit, offset=offset
    )
    return Page[CashSessionRead](items=to_models(ctx, CashSessionRead, rows), total=total)


@router.get("/cash-sessions/current", operation_id="get_current_cash_session")
def current_session(ctx: Cashier) -> CashSessionRead:
    """Your open session with the expected totals per method so far (404 when none)."""
    return to_model(ctx, CashSessionRead, svc.current_session(ctx.uow()))


@router.get("/cash-sessions/{session_id}", operation_id="get_cash_session")
def get_session(session_id: IdPath, ctx: BillingReader) -> CashSessionRead:
    return to_model(
        ctx, CashSessionRead, svc.get_session(ctx.uow(), session_id, any_cashier=_sees_all(ctx))
    )


@router.post(
    "/cash-sessions/{session_id}/submit",
    operation_id="submit_cash_session",
    responses={
        409: {"description": "cash_session_submitted (locked)"},
        422: {"description": "variance without a reason"},
    },
)
def submit_session(session_id: IdPath, body: CashSessionSubmit, ctx: Cashier) -> CashSessionRead:
    """Submit the counted totals; a variance needs a reason; the session is then locked."""
    return to_model(
        ctx,
        CashSessionRead,
        svc.submit_session(
            ctx.uow(),
            session_id,
            version=body.version,
            counted={c.method: c.counted for c in body.counted},
            variance_reason=body.variance_reason,
        ),
    )
