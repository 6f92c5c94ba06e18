"""Qt names the reception workspace needs beyond ``hms_desktop.qt`` (move them there when
that module is next edited; they are kept in one place so that is a one-line change)."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu, QScrollArea

__all__ = ["QMenu", "QScrollArea"]
