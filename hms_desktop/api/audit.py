"""The audit log (``GET /audit``) over the public transport. No Qt here."""

from __future__ import annotations

from hms_contract.audit import AuditEntryRead
from hms_contract.common import Page
from hms_desktop.api.client import ApiClient


class AuditApi:
    """Reads the audit log for reviewers. Thread-safe like the ``ApiClient`` it wraps."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def list_audit(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        user: str | None = None,
        patient_id: str | None = None,
        action: str | None = None,
        category: str | None = None,
        outcome: str | None = None,
        sort: str | None = "-at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[AuditEntryRead]:
        """One page of entries matching the filters (``since``/``until`` as ISO 8601 UTC)."""
        params = {
            "since": since,
            "until": until,
            "user": user,
            "patient_id": patient_id,
            "action": action,
            "category": category,
            "outcome": outcome,
            "sort": sort,
            "limit": limit,
            "offset": offset,
        }
        return self.api.get("/audit", Page[AuditEntryRead], params=params)
