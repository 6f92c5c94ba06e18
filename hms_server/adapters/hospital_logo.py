"""The hospital's letterhead logo, read from the file the settings name
(``HMS_HOSPITAL_LOGO_FILE``). Only PNG and JPEG up to 2 MB are served; anything else is
treated as no logo (and logged once), so a wrong setting never breaks printing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger("hms_server.hospital")

MAX_LOGO_BYTES = 2_000_000
_KINDS = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


@dataclass(frozen=True)
class Logo:
    content: bytes
    media_type: str


def read_logo(path: str) -> Logo | None:
    """The logo at ``path`` if it is a PNG or JPEG of at most 2 MB, else ``None``."""
    if not path:
        return None
    return _read(path, _mtime(path))


def _mtime(path: str) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return -1.0


@lru_cache(maxsize=4)
def _read(path: str, _mtime: float) -> Logo | None:  # the mtime makes a replaced file re-read
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        log.warning("hospital logo %s cannot be read: %s", path, exc.strerror)
        return None
    if len(data) > MAX_LOGO_BYTES:
        log.warning("hospital logo %s is larger than %d bytes; not used", path, MAX_LOGO_BYTES)
        return None
    for magic, media_type in _KINDS:
        if data.startswith(magic):
            return Logo(data, media_type)
    log.warning("hospital logo %s is not a PNG or JPEG; not used", path)
    return None
