"""Alerts for administrators: an account under attack, an address trying many names.

Raised by sign-in and re-authentication when a lock starts (``services/auth.py``); each is
audited and published as ``security.alert`` (delivered to administrators only). A repeat of
an open alert (same kind, username and address) within an hour bumps its ``occurrences``
instead of adding a row, so an attack shows up as one line that keeps counting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.security import SecurityAlert
from hms_server.adapters.repositories.security import SecurityAlertRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import NotFoundError

CATEGORY = "security"
REPEAT_WINDOW = timedelta(hours=1)


def raise_alert(
    uow: UnitOfWork,
    kind: str,
    *,
    username: str | None = None,
    user_id: int | None = None,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> SecurityAlert:
    """Record (or bump) an alert inside the caller's transaction."""
    now = utcnow()
    alerts = uow.repo(SecurityAlertRepository)
    open_alert = alerts.open_alert(
        kind, username=username, address=address, since=now - REPEAT_WINDOW
    )
    if open_alert is not None:
        open_alert.occurrences += 1
        open_alert.last_at = now
        open_alert.detail = {**open_alert.detail, **(detail or {})}
        return open_alert
    alert = SecurityAlert(
        kind=kind,
        username=username,
        user_id=user_id,
        address=address,
        first_at=now,
        last_at=now,
        occurrences=1,
        detail=detail or {},
    )
    alerts.add(alert)
    uow.audit(
        CATEGORY,
        "alert.raise",
        detail={"alert_id": alert.id, "kind": kind, "target_user_id": user_id},
    )
    uow.publish("security.alert", {"alert_id": alert.id, "kind": kind, "user_id": user_id})
    return alert


def list_alerts(
    uow: UnitOfWork, *, open_only: bool, since: datetime | None, limit: int, offset: int
) -> tuple[list[SecurityAlert], int]:
    """Newest first (by the last occurrence)."""
    with uow:
        return uow.repo(SecurityAlertRepository).alerts(
            open_only=open_only, since=since, limit=limit, offset=offset
        )


def acknowledge_alert(uow: UnitOfWork, alert_id: int) -> SecurityAlert:
    with uow:
        alert = uow.repo(SecurityAlertRepository).get(alert_id, lock=True)
        if alert is None:
            raise NotFoundError(f"No security alert with id {alert_id}.")
        if alert.acknowledged_at is None:
            alert.acknowledged_at = utcnow()
            alert.acknowledged_by_user_id = uow.actor.user_id if uow.actor else None
            uow.audit(CATEGORY, "alert.acknowledge", detail={"alert_id": alert.id})
        uow.commit()
        return alert
