"""Audit log (``GET /audit``) as an incrementally fetched, server-sorted table."""

from __future__ import annotations

from datetime import datetime

from hms_contract.audit import AuditEntryRead
from hms_contract.common import Page
from hms_desktop.api.audit import AuditApi
from hms_desktop.models.paged import Column, PagedTableModel
from hms_desktop.qt import translate
from hms_desktop.tasks import TaskRunner


def local_time_text(value: datetime | None) -> str:
    """A server time → the workstation's local wall-clock time, to the second."""
    if value is None:
        return ""
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


class AuditTableModel(PagedTableModel):
    """One row per audit entry (``AuditEntryRead``); every column except ``detail`` sorts
    on the server."""

    def __init__(self, tasks: TaskRunner, api: AuditApi, parent=None) -> None:
        def t(text: str) -> str:
            return translate("AuditTableModel", text)

        columns = [
            Column("at", t("When"), "at", render=lambda item: local_time_text(item.at)),
            Column("username", t("User"), "username"),
            Column("action", t("Action"), "action"),
            Column("category", t("Category"), "category"),
            Column("outcome", t("Outcome"), "outcome"),
            Column("patient_id", t("Patient"), "patient_id", render=_patient_text),
            Column("workstation", t("Workstation"), "workstation"),
            Column("address", t("Address"), "address"),
            Column("detail", t("Detail"), render=_detail_text),
            Column("id", t("Entry"), "id"),
        ]

        def fetch(filters: dict, sort: str | None, limit: int, offset: int) -> Page[AuditEntryRead]:
            return api.list_audit(sort=sort, limit=limit, offset=offset, **filters)

        super().__init__(tasks, fetch, columns, default_sort="-at", parent=parent)


def _patient_text(item: AuditEntryRead) -> str:
    """``HMS000001024 · Nowak, Zofia`` — whom the entry is about, as a reviewer knows them."""
    if item.patient_id is None:
        return ""
    if item.patient_mrn:
        return " · ".join(x for x in (item.patient_mrn, item.patient_name) if x)
    return translate("AuditTableModel", "record {id}").format(id=item.patient_id)


def _detail_text(item: AuditEntryRead) -> str:
    return ", ".join(f"{k}={v}" for k, v in item.detail.items())
