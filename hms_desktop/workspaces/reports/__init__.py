"""Reports workspace (managers, administrators): activity, clinic flow, inpatients,
revenue and pharmacy over a chosen period — headline figures, a trend chart and tables,
exported as the server's CSV or printed (PDF with preview).

Modules: ``periods`` (presets on the hospital's calendar), ``definitions`` (what each report
shows), ``panels`` (KPI cards, the chart and the tables), ``workspace`` (puts them together
and runs the requests).
"""

from __future__ import annotations

from hms_desktop.workspaces import WorkspaceContext


def create_workspace(context: WorkspaceContext):
    from hms_desktop.workspaces.reports.workspace import ReportsWorkspace

    return ReportsWorkspace(context)
