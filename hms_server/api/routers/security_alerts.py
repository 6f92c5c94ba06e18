"""Security alerts for administrators: accounts under attack, addresses spraying names."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from hms_contract.access import SecurityAlertRead
from hms_contract.common import Page, SaneDateTime
from hms_server.api.deps import requirement
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import security_alerts as svc

router = APIRouter(tags=["security"], responses=PROBLEM_RESPONSES)

AlertReader = requirement(Perm.SECURITY_ALERTS)


@router.get("/security-alerts", operation_id="list_security_alerts")
def list_security_alerts(
    ctx: AlertReader,
    open_only: Annotated[bool, Query(alias="open")] = False,
    since: SaneDateTime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[SecurityAlertRead]:
    """Newest first; ``open=true`` leaves out acknowledged ones. Live: ``security.alert``
    events on ``GET /events``."""
    rows, total = svc.list_alerts(
        ctx.uow(), open_only=open_only, since=since, limit=limit, offset=offset
    )
    return Page[SecurityAlertRead](
        items=[SecurityAlertRead.model_validate(a) for a in rows], total=total
    )


@router.post("/security-alerts/{alert_id}/acknowledge", operation_id="acknowledge_security_alert")
def acknowledge_security_alert(
    alert_id: Annotated[int, Path(ge=1, le=2**63 - 1)], ctx: AlertReader
) -> SecurityAlertRead:
    """Mark an alert as dealt with (audited); a new attack raises a new one."""
    return SecurityAlertRead.model_validate(svc.acknowledge_alert(ctx.uow(), alert_id))
