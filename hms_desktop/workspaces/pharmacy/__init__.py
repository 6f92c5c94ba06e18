"""The pharmacy workspace: the dispensing counter and the store in one place."""

from __future__ import annotations

from hms_desktop.qt import QWidget
from hms_desktop.workspaces import WorkspaceContext


def create_workspace(context: WorkspaceContext) -> QWidget:
    from hms_desktop.workspaces.pharmacy.workspace import PharmacyWorkspace

    return PharmacyWorkspace(context)
