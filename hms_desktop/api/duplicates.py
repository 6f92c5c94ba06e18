"""Duplicate records (``/patient-duplicates``) and merges that wait for confirmation
(``/patient-merges``) over the public transport. No Qt."""

from __future__ import annotations

from hms_contract.common import Page
from hms_contract.duplicates import (
    DuplicateFlagDismiss,
    DuplicateFlagRead,
    MergeDecision,
    MergeRead,
    MergeRequest,
)
from hms_desktop.api.client import ApiClient, request_body


class DuplicatesApi:
    """The duplicates review list and the merge journal. Thread-safe like ``ApiClient``."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def flags(
        self,
        *,
        status: str | None = "open",
        patient_id: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[DuplicateFlagRead]:
        return self.api.get(
            "/patient-duplicates",
            Page[DuplicateFlagRead],
            params={"status": status, "patient_id": patient_id, "limit": limit, "offset": offset},
        )

    def dismiss(self, flag_id: int, *, version: int, note: str) -> DuplicateFlagRead:
        body = request_body(DuplicateFlagDismiss, {"version": version, "note": note})
        return self.api.post(f"/patient-duplicates/{flag_id}/dismiss", body, DuplicateFlagRead)

    def request_merge(
        self,
        *,
        survivor_id: int,
        duplicate_id: int,
        reason: str,
        survivor_version: int | None = None,
        duplicate_version: int | None = None,
        flag_id: int | None = None,
    ) -> MergeRead:
        """Record the merge as pending (nothing moves until ``confirm_merge``)."""
        body = request_body(
            MergeRequest,
            {
                "survivor_id": survivor_id,
                "duplicate_id": duplicate_id,
                "reason": reason,
                "survivor_version": survivor_version,
                "duplicate_version": duplicate_version,
                "flag_id": flag_id,
            },
        )
        return self.api.post("/patient-merges", body, MergeRead, creates=True)

    def merges(
        self, *, status: str | None = "pending", limit: int = 50, offset: int = 0
    ) -> Page[MergeRead]:
        return self.api.get(
            "/patient-merges",
            Page[MergeRead],
            params={"status": status, "limit": limit, "offset": offset},
        )

    def confirm_merge(self, merge_id: int, *, version: int) -> MergeRead:
        return self.api.post(
            f"/patient-merges/{merge_id}/confirm",
            request_body(MergeDecision, {"version": version}),
            MergeRead,
        )

    def undo_merge(self, merge_id: int, *, version: int) -> MergeRead:
        return self.api.post(
            f"/patient-merges/{merge_id}/undo",
            request_body(MergeDecision, {"version": version}),
            MergeRead,
        )
