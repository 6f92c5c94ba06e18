"""Staff (HR) workspace: the staff directory with the record editor, the duty roster week
grid per ward or department (add and remove shifts, clashes listed), leave requests to
approve or decline, payroll (monthly runs, finalising, payslips printed with preview) and
performance reviews.

Modules: ``common`` (loading panel, formatting, permissions), ``directory_tab``,
``roster_tab``, ``leave_tab``, ``payroll_tab``, ``reviews_tab`` and ``workspace`` (puts the
tabs together).
"""

from __future__ import annotations

from hms_desktop.workspaces import WorkspaceContext


def create_workspace(context: WorkspaceContext):
    from hms_desktop.workspaces.staff.workspace import StaffWorkspace

    return StaffWorkspace(context)
