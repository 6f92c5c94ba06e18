"""Units of work with the application's real wiring, for tests that call services directly.

``wired_uow(factory, actor)`` builds what ``hms_server.bootstrap.Runtime.uow`` builds: the
standard domain-event subscriptions between areas and the hospital context, so a test that
merges, books or cancels sees every area react exactly as in the running server. Pass
``events=`` (e.g. ``standard_events()`` plus a test's own subscriber) to observe them.
"""

from __future__ import annotations

from hms_server.bootstrap import standard_events, wired_uow

__all__ = ["standard_events", "wired_uow"]
