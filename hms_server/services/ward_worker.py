"""The ward's periodic work inside the application server: charge bed-days of occupied
midnights and top up the doses of open-ended orders. Both are idempotent, so every server
process may run this worker; they never double-charge or double-schedule."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from hms_server.adapters.uow import UnitOfWork
from hms_server.services.bed_days import capture_bed_days
from hms_server.services.mar import extend_open_ended_orders

log = logging.getLogger("hms_server.wards")


class WardMaintenance:
    """A daemon thread calling ``run_once`` every ``interval`` seconds (first run at once)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], *, interval: float = 300.0) -> None:
        self._uow_factory = uow_factory
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> tuple[int, int]:
        """``(bed-days charged, doses added)``."""
        return (
            capture_bed_days(self._uow_factory()),
            extend_open_ended_orders(self._uow_factory()),
        )

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # the database may be restarting: try again later
                log.warning("ward maintenance failed: %s", type(exc).__name__)
            self._stop.wait(self._interval)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="hms-ward-maintenance", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
