"""Batch recall: mark a lot recalled everywhere (it can no longer be picked, transferred or
received) and see at once where every unit is and which patients received it.

The report names patients, so reading it is audited once per patient (ids only).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.queries.dispensing import DispensingQueries
from hms_server.adapters.repositories.pharmacy import StockRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.pharmacy import InvalidStateError
from hms_server.services.stock import CATEGORY


def _report(uow: UnitOfWork, batch_id: int) -> dict[str, Any]:
    repo = uow.repo(StockRepository)
    batch = repo.batch(batch_id)
    item = repo.item(batch.item_id)
    holdings, recipients = uow.repo(DispensingQueries).recall_trace(batch_id)
    for patient_id in sorted({r["patient_id"] for r in recipients}):
        uow.audit(CATEGORY, "recall.trace", patient_id=patient_id, detail={"batch_id": batch_id})
    return {
        "batch": batch,
        "item_id": item.id,
        "item_name": item.name,
        "holdings": holdings,
        "on_hand_total": sum((h["quantity"] for h in holdings), Decimal(0)),
        "recipients": recipients,
        "dispensed_total": sum(
            (r["quantity"] - r["returned_quantity"] for r in recipients), Decimal(0)
        ),
    }


def recall_batch(uow: UnitOfWork, batch_id: int, *, reason: str) -> dict[str, Any]:
    """Recall the lot and answer with the trace (holdings and recipients)."""
    with uow:
        repo = uow.repo(StockRepository)
        batch = repo.batch(batch_id, lock=True)
        if batch.recalled_at is not None:
            raise InvalidStateError(
                f"Lot {batch.lot} was already recalled.", extra={"state": "recalled"}
            )
        repo.mark_batch_recalled(batch.id, reason.strip(), utcnow())
        repo.expire_cached(batch)
        uow.audit(CATEGORY, "batch.recall", detail={"batch_id": batch.id, "item_id": batch.item_id})
        uow.publish("stock.recalled", {"batch_id": batch.id, "item_id": batch.item_id})
        report = _report(uow, batch.id)
        uow.commit()
        return report


def recall_report(uow: UnitOfWork, batch_id: int) -> dict[str, Any]:
    with uow:
        report = _report(uow, batch_id)
        uow.commit()
        return report
