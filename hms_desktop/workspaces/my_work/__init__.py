"""My work: every employee's own staff self-service, whatever their role — their staff record
in short, their shifts for the next four weeks by week, their leave requests (and asking for
leave), their final payslips (print preview and PDF) and their finalised reviews. When the
sign-in is not linked to a staff record it says so and who can fix it.

Modules: ``common`` (loading panel, date text), ``shifts_panel``, ``leave_panel`` with
``leave_dialog``, ``payslips_panel``, ``reviews_panel`` and ``workspace`` (the record summary
and the tabs). Everything goes through ``StaffApi``'s ``my_*`` calls (``/me/...``).
"""

from __future__ import annotations

from hms_desktop.workspaces import WorkspaceContext


def create_workspace(context: WorkspaceContext):
    from hms_desktop.workspaces.my_work.workspace import MyWorkWorkspace

    return MyWorkWorkspace(context)
