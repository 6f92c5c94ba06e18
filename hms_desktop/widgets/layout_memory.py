"""Panes the user arranged stay arranged: splitter sizes are saved when the user drags a
handle and restored the next time the screen is built (``DesktopSettings.layout_state``).

Only geometry is stored (``QSplitter.saveState()``), never anything shown in the panes.
Minimum widths still win over a restored state, so a saved layout from a smaller screen or an
older version can never squeeze a pane below what its content needs.
"""

from __future__ import annotations

from hms_desktop.qt import QByteArray, QSplitter
from hms_desktop.settings import DesktopSettings


def remember_splitter(splitter: QSplitter, settings: DesktopSettings, key: str) -> bool:
    """Restore ``splitter``'s saved sizes under ``key`` (``True`` if there were some) and
    save them again whenever the user moves a handle."""
    state = settings.layout_state(key)
    restored = bool(state) and splitter.restoreState(QByteArray(state))
    splitter.setObjectName(splitter.objectName() or key)

    def save(_pos: int = 0, _index: int = 0) -> None:
        settings.set_layout_state(key, bytes(splitter.saveState().data()))

    splitter.splitterMoved.connect(save)
    return restored
