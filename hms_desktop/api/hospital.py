"""The hospital's own facts for printouts (``/hospital``): the letterhead and its logo.
No Qt. The logo is kept in memory for the session (never written to disk)."""

from __future__ import annotations

import threading

from hms_contract.auth import HospitalRead
from hms_desktop.api.client import ApiClient
from hms_desktop.api.errors import ApiProblem

_IMAGE_TYPES = ("image/png", "image/jpeg")


class HospitalApi:
    """``GET /hospital`` and ``GET /hospital/logo``. Thread-safe; caches the logo."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self._lock = threading.Lock()
        self._logo: bytes | None = None
        self._logo_fetched = False

    def get(self) -> HospitalRead:
        return self.api.get("/hospital", HospitalRead)

    def logo(self) -> bytes | None:
        """The letterhead logo (PNG or JPEG), or ``None`` when the hospital has none."""
        with self._lock:
            if self._logo_fetched:
                return self._logo
        try:
            content, content_type = self.api.get_bytes("/hospital/logo")
        except ApiProblem as problem:
            if problem.status != 404:
                raise
            content, content_type = b"", ""
        logo = content if content_type.split(";")[0].strip() in _IMAGE_TYPES else None
        with self._lock:
            self._logo, self._logo_fetched = logo, True
        return logo
