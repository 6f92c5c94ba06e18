"""Entry point kept for ``uvicorn hms_server.app:create_app --factory`` and older callers:
the application is built by the composition root, ``hms_server.bootstrap``."""

from __future__ import annotations

from hms_server.bootstrap import create_app

__all__ = ["create_app"]
