"""Reception workspace: find and register patients, the day/week calendar, booking,
check-in with the queue board, and printing of ID labels and appointment slips.

Modules: ``search_panel`` (patient list), ``registration`` (new/edit form with the
duplicate prompt), ``summary_card`` and ``header_strip`` (selected patient),
``calendar_view`` (doctor columns), ``booking`` (book/reschedule/cancel dialogs),
``queue_board``, ``printing_actions`` and ``workspace`` (puts them together).
"""

from __future__ import annotations

from hms_desktop.workspaces import WorkspaceContext


def create_workspace(context: WorkspaceContext):
    from hms_desktop.workspaces.reception.workspace import ReceptionWorkspace

    return ReceptionWorkspace(context)
