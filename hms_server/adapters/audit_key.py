"""Where the server's audit key comes from: ``HMS_AUDIT_KEY``, else ``<state dir>/audit.key``.

The key seals the audit chain and signs checkpoints, so it must live with the application
servers, never in the database: a database owner who could read it could forge seals. The DEB
package's postinst writes a random ``HMS_AUDIT_KEY`` into ``/etc/hms/hms.env`` (mode 0640,
root:hms) next to the JWT secret; a hand-installed server gets a key file on its first start.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from hms_server.config import Settings
from hms_server.domain.audit_chain import AuditKeyError, parse_audit_key
from hms_server.domain.errors import ConfigurationError

KEY_FILE = "audit.key"
log = logging.getLogger("hms_server.audit")


def state_dir(settings: Settings) -> Path:
    if settings.state_dir:
        return Path(settings.state_dir)
    import platformdirs

    return Path(platformdirs.user_state_dir("hms-server"))


def checkpoint_dir(settings: Settings) -> Path:
    return (
        Path(settings.audit_checkpoint_dir)
        if settings.audit_checkpoint_dir
        else state_dir(settings) / "audit-checkpoints"
    )


def new_key_text() -> str:
    return secrets.token_hex(32)


def load_audit_key(settings: Settings, *, create: bool = False) -> bytes:
    """The configured key; with ``create``, make the key file when none is configured."""
    try:
        if settings.audit_key:
            return parse_audit_key(settings.audit_key)
        path = state_dir(settings) / KEY_FILE
        if path.exists():
            return parse_audit_key(path.read_text())
    except AuditKeyError as exc:
        raise ConfigurationError(f"HMS_AUDIT_KEY: {exc}") from exc
    except OSError as exc:
        raise ConfigurationError(f"cannot read the audit key file: {exc}") from exc
    if not create:
        raise ConfigurationError(
            f"No audit key: set HMS_AUDIT_KEY (the same on every server) or put the key in "
            f"{path}. Verification needs the key that sealed the log."
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker of this start made it first
        return parse_audit_key(path.read_text())
    with os.fdopen(fd, "w") as handle:
        handle.write(new_key_text() + "\n")
    log.warning(
        "created the audit seal key %s: keep a copy somewhere safe, verifying the "
        "audit log needs it, and give every server of this hospital the same key",
        path,
    )
    return parse_audit_key(path.read_text())
