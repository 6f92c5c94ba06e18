"""The pharmacy's prescription queue: active prescriptions with something still owed (new
or partly dispensed), not sent back, oldest first. Desktops refresh it when the events
stream says ``prescription.created`` / ``prescription.dispensed`` / ``prescription.cancelled``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hms_server.adapters.queries.dispensing import DispensingQueries
from hms_server.adapters.uow import UnitOfWork

CATEGORY = "pharmacy"


def queue(
    uow: UnitOfWork, *, days: int, q: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the queue. Reading it shows patients' names: audited once per read with
    the patient ids on the page."""
    with uow:
        since = uow.hospital.now() - timedelta(days=days)
        rows, total = uow.repo(DispensingQueries).queue_rows(
            since=since, q=q, limit=limit, offset=offset
        )
        if rows:
            uow.audit(
                CATEGORY,
                "queue.read",
                detail={"patient_ids": sorted({r["patient"].id for r in rows})},
            )
        uow.commit()
        return rows, total
