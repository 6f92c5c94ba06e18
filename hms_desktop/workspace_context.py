"""``WorkspaceContext``: the one thing every workspace is built from.

A workspace is ``create_workspace(context: WorkspaceContext) -> QWidget``. The context holds
all of the application a workspace may use, with the same names in every workspace:

- ``api``: the signed-in ``ApiClient`` (the one public transport). A workspace wraps it in
  the typed area APIs it needs, e.g. ``PatientsApi(context.api)``, once, in its
  ``workspace.py``, and hands those to its panels.
- ``tasks``: the ``TaskRunner``; every network call and PDF render goes through it.
- ``me``: the signed-in user as the contract's ``MeRead`` (roles, permissions, workspaces,
  and ``me.hospital`` for letterheads and the currency).
- ``show_status(text)``: a short message in the main window's status bar.
- ``events()``: the shared live-event bridge (``hms_desktop.events.EventBridge``), started on
  first use; ``subscribe(prefixes, slot)`` on it.
- ``settings``: the desktop's ``DesktopSettings``, for remembering how the user arranged a
  screen (``widgets.layout_memory.remember_splitter``); in memory unless the main window
  hands in the persistent one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hms_contract.auth import MeRead
from hms_desktop.settings import DesktopSettings

if TYPE_CHECKING:
    from hms_desktop.api.client import ApiClient
    from hms_desktop.events import EventBridge
    from hms_desktop.tasks import TaskRunner


def _no_status(_text: str) -> None:
    """``show_status`` when nobody shows it (a workspace built outside the main window)."""


class WorkspaceContext:
    """What a workspace may use of the application (see the module docstring).

    Threading and ownership: GUI thread only. The main window owns the context and calls
    ``close()`` when it shuts down, which stops the event bridge. ``events`` lets a caller
    (a test) supply its own bridge instead of one that connects to ``GET /events``.
    """

    def __init__(
        self,
        api: ApiClient,
        tasks: TaskRunner,
        me: MeRead,
        show_status: Callable[[str], None] | None = None,
        *,
        events: EventBridge | None = None,
        settings: DesktopSettings | None = None,
    ) -> None:
        if not isinstance(me, MeRead):
            raise TypeError(
                f"WorkspaceContext.me must be hms_contract.auth.MeRead, not {type(me).__name__}"
            )
        self.api = api
        self.tasks = tasks
        self.me = me
        self.show_status: Callable[[str], None] = show_status or _no_status
        self._events = events
        self.settings = settings if settings is not None else DesktopSettings.in_memory()

    def events(self) -> EventBridge:
        """The live-event bridge, started on first use."""
        if self._events is None:
            from hms_desktop.events import EventBridge

            self._events = EventBridge(self.api)
        if not self._events.running:
            self._events.start()
        return self._events

    def close(self) -> None:
        """Stop the event bridge (the main window shuts down)."""
        if self._events is not None:
            self._events.stop()
            self._events = None
