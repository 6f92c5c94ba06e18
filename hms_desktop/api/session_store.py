"""Remember-me storage: the refresh token, and only it, in the OS keyring.

Service name ``hms-desktop``, key ``<server>|<username>``. When the keyring has no
usable backend (headless Linux: the ``fail`` backend; tests: the ``null`` backend; or any
``KeyringError``) the store says so and stores nothing: the session then lives in memory
only. There is deliberately no plaintext fallback file.

Calls may block (D-Bus, Windows Credential Manager), so run them through the task
runner, not on the GUI thread. No Qt here.
"""

from __future__ import annotations

import logging

SERVICE_NAME = "hms-desktop"

log = logging.getLogger(__name__)

# Backends that exist but keep nothing: treat them as "no keyring".
_UNUSABLE_BACKENDS = frozenset({"keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"})


def _backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


class SessionStore:
    """Stores one refresh token per ``server|username`` in the keyring, or nothing at all.

    ``backend`` is a keyring backend instance; by default the one keyring selects
    (honouring ``PYTHON_KEYRING_BACKEND``). Thread-safe as far as the backend is.
    """

    def __init__(self, server: str, backend: object | None = None) -> None:
        self.server = server
        self._backend = backend
        self._usable: bool | None = None
        self.unavailable_reason = ""

    def _get_backend(self) -> object | None:
        if self._backend is None:
            try:
                import keyring  # slow import: only when first needed

                self._backend = keyring.get_keyring()
            except Exception as exc:  # keyring can fail in many platform-specific ways
                self._mark_unusable(f"keyring could not start: {type(exc).__name__}")
                return None
        return self._backend

    def _mark_unusable(self, reason: str) -> None:
        self._usable = False
        self.unavailable_reason = reason
        log.info("keyring unavailable: %s; session kept in memory only", reason)

    def key(self, username: str) -> str:
        return f"{self.server}|{username}"

    def is_available(self) -> bool:
        """True when a real keyring backend is there to keep a token between runs."""
        if self._usable is None:
            backend = self._get_backend()
            if backend is None:
                return False
            name = _backend_name(backend)
            if name in _UNUSABLE_BACKENDS:
                self._mark_unusable(f"no keyring backend ({name})")
            else:
                self._usable = True
        return bool(self._usable)

    def save(self, username: str, refresh_token: str | None) -> bool:
        """Keep ``refresh_token`` for next time; ``None`` forgets it. False if not stored."""
        if refresh_token is None:
            self.clear(username)
            return False
        if not self.is_available():
            return False
        from keyring.errors import KeyringError

        try:
            self._backend.set_password(SERVICE_NAME, self.key(username), refresh_token)  # type: ignore[union-attr]
        except KeyringError as exc:
            self._mark_unusable(f"{type(exc).__name__}")
            return False
        return True

    def load(self, username: str) -> str | None:
        """The remembered refresh token for ``username`` on this server, if any."""
        if not self.is_available():
            return None
        from keyring.errors import KeyringError

        try:
            return self._backend.get_password(SERVICE_NAME, self.key(username))  # type: ignore[union-attr]
        except KeyringError as exc:
            self._mark_unusable(f"{type(exc).__name__}")
            return None

    def clear(self, username: str) -> None:
        """Forget the remembered token (logout, or "Remember me" switched off)."""
        if not self.is_available():
            return
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            self._backend.delete_password(SERVICE_NAME, self.key(username))  # type: ignore[union-attr]
        except PasswordDeleteError:
            pass
        except KeyringError as exc:
            self._mark_unusable(f"{type(exc).__name__}")
