"""What the desktop remembers between runs: the server address, the last username and how
the user arranged the screens (pane sizes). Nothing else: no patient data, no tokens.

Settings that an administrator may preset (idle lock minutes) are read, never written.
Tokens never go here (see ``api.session_store``).
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from hms_desktop.qt import QSettings

ORGANIZATION = "HMS"
APPLICATION = "hms-desktop"
DEFAULT_IDLE_LOCK_MINUTES = 10


class DesktopSettings:
    """Thin typed wrapper over ``QSettings``, or over a dict when nothing may be persisted.

    ``DesktopSettings.in_memory()`` is used by the screenshot tour and tests, so they never
    touch the user's real settings.
    """

    def __init__(self, qsettings: QSettings | None = None, *, memory: dict | None = None) -> None:
        self._memory = memory
        self._qsettings = (
            None if memory is not None else (qsettings or QSettings(ORGANIZATION, APPLICATION))
        )

    @classmethod
    def in_memory(cls, **values: object) -> DesktopSettings:
        return cls(memory=dict(values))

    def _get(self, key: str, default: str = "") -> str:
        if self._memory is not None:
            return str(self._memory.get(key, default))
        value = self._qsettings.value(key, default)  # type: ignore[union-attr]
        return "" if value is None else str(value)

    def _set(self, key: str, value: str) -> None:
        if self._memory is not None:
            self._memory[key] = value
        else:
            self._qsettings.setValue(key, value)  # type: ignore[union-attr]
            self._qsettings.sync()  # type: ignore[union-attr]

    @property
    def server_address(self) -> str:
        return self._get("server_address")

    @server_address.setter
    def server_address(self, value: str) -> None:
        self._set("server_address", value)

    @property
    def last_username(self) -> str:
        return self._get("last_username")

    @last_username.setter
    def last_username(self, value: str) -> None:
        self._set("last_username", value)

    def layout_state(self, key: str) -> bytes | None:
        """A widget's saved arrangement (``QSplitter.saveState()``), or ``None``."""
        raw = self._get(f"layout/{_layout_key(key)}")
        if not raw:
            return None
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return None

    def set_layout_state(self, key: str, state: bytes) -> None:
        self._set(f"layout/{_layout_key(key)}", base64.b64encode(bytes(state)).decode("ascii"))

    def idle_lock_minutes(self) -> float:
        """``HMS_IDLE_LOCK_MINUTES`` if set, else the ``idle_lock_minutes`` setting, else 10."""
        for raw in (os.environ.get("HMS_IDLE_LOCK_MINUTES"), self._get("idle_lock_minutes")):
            if raw:
                try:
                    minutes = float(raw)
                except ValueError:
                    continue
                if minutes > 0:
                    return minutes
        return DEFAULT_IDLE_LOCK_MINUTES


def _layout_key(key: str) -> str:
    """Keys are code-given names (``reception/panes``); keep them one plain settings path."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key)
