"""Administration workspace: user accounts and roles, and the audit log."""

from __future__ import annotations

from hms_desktop.workspaces import WorkspaceContext


def create_workspace(context: WorkspaceContext):
    from hms_desktop.workspaces.administration.workspace import AdministrationWorkspace

    return AdministrationWorkspace(context)
