"""Optimistic locking rule shared by every editable record (``version`` column)."""

from __future__ import annotations

from hms_server.domain.errors import VersionConflictError


def check_version(current: int, expected: int, what: str) -> None:
    """Refuse a write based on a stale read (409, never a silent overwrite)."""
    if current != expected:
        raise VersionConflictError(
            f"The {what} was changed by someone else (version {current}, you had {expected}). "
            "Reload and try again.",
            extra={"current_version": current},
        )
