"""Clinical workspace: my patients today, the chart, notes, vitals, orders, prescribing."""

from __future__ import annotations

from hms_desktop.workspaces import WorkspaceContext


def create_workspace(context: WorkspaceContext):
    from hms_desktop.workspaces.clinical.workspace import ClinicalWorkspace

    return ClinicalWorkspace(context)
