"""Reading the audit trail for review: filter and sort on allow-listed columns only.

(Writing it is ``adapters/audit_log.py``'s, sealing ``audit_sealer.py``'s.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from hms_server.adapters.orm.infra import AuditEntry
from hms_server.adapters.repositories import Repository

AUDIT_SORT_COLUMNS = {
    "id": AuditEntry.id,
    "at": AuditEntry.at,
    "username": AuditEntry.username,
    "user_id": AuditEntry.user_id,
    "patient_id": AuditEntry.patient_id,
    "category": AuditEntry.category,
    "action": AuditEntry.action,
    "outcome": AuditEntry.outcome,
    "workstation": AuditEntry.workstation,
    "address": AuditEntry.address,
}


class AuditLogRepository(Repository):
    def search(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user: str | None = None,
        user_id: int | None = None,
        patient_id: int | None = None,
        action: str | None = None,
        category: str | None = None,
        outcome: str | None = None,
        sort: str,
        limit: int,
        offset: int,
    ) -> tuple[list[AuditEntry], int]:
        """One page of entries matching every given filter, and how many match in all.
        ``sort`` is an allow-listed column name, ``-`` first for descending (empty values
        last when descending, first when ascending); ties fall back to the newest id."""
        query = select(AuditEntry)
        if since:
            query = query.where(AuditEntry.at >= since)
        if until:
            query = query.where(AuditEntry.at < until)
        if user:
            query = query.where(func.lower(AuditEntry.username) == user.lower())
        if user_id is not None:
            query = query.where(AuditEntry.user_id == user_id)
        if patient_id is not None:
            query = query.where(AuditEntry.patient_id == patient_id)
        if action:
            query = query.where(AuditEntry.action == action)
        if category:
            query = query.where(AuditEntry.category == category)
        if outcome:
            query = query.where(AuditEntry.outcome == outcome)
        column = AUDIT_SORT_COLUMNS[sort.lstrip("-")]
        order = column.desc().nulls_last() if sort.startswith("-") else column.asc().nulls_first()
        return self.page(query, [order, AuditEntry.id.desc()], limit, offset)
