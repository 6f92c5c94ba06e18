"""Ward workspace: bed board, the patient's MAR with barcode scanning, vitals, nursing care,
admission/transfer/discharge, wristband, discharge summary and handover printing."""

from __future__ import annotations

from hms_desktop.workspaces import WorkspaceContext


def create_workspace(context: WorkspaceContext):  # type: ignore[no-untyped-def]
    from hms_desktop.workspaces.ward.workspace import WardWorkspace

    return WardWorkspace(context)
