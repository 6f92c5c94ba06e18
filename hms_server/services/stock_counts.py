"""Cycle counts: open a count of a location (optionally one item class), enter what is on the
shelf, review the variances, approve — which posts each variance to the ledger as a
``count`` movement.

The expected quantity is snapshotted when the count opens; a variance is counted − expected,
so stock that moved while the count was open (a dispense) is not mistaken for a loss.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.base import touch, utcnow
from hms_server.adapters.orm.pharmacy import (
    STOCK_COUNT_NUMBER_SEQUENCE,
    StockCount,
    StockCountLine,
)
from hms_server.adapters.repositories.pharmacy import (
    Posting,
    StockCountRepository,
    StockRepository,
)
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ValidationFailedError
from hms_server.domain.pharmacy import InvalidStateError, check_quantity, field_problem
from hms_server.domain.versioning import check_version
from hms_server.services.stock import CATEGORY, user_id_of


def _count(uow: UnitOfWork, count_id: int, *, lock: bool = False) -> StockCount:
    return uow.repo(StockCountRepository).stock_count(count_id, lock=lock)


def count_view(uow: UnitOfWork, count: StockCount) -> dict[str, Any]:
    rows = uow.repo(StockCountRepository).sheet(count.id)
    lines = []
    total = Decimal(0)
    for line, batch, item in rows:
        variance = (
            line.counted_quantity - line.expected_quantity
            if line.counted_quantity is not None
            else None
        )
        value = (
            uow.hospital.round_money(variance * batch.unit_cost) if variance is not None else None
        )
        total += value or 0
        lines.append(
            {
                "id": line.id,
                "item_id": item.id,
                "item_name": item.name,
                "batch_id": batch.id,
                "lot": batch.lot,
                "expiry": batch.expiry,
                "expected_quantity": line.expected_quantity,
                "counted_quantity": line.counted_quantity,
                "variance": variance,
                "variance_value": value,
                "note": line.note,
            }
        )
    return {
        "id": count.id,
        "number": count.number,
        "location_id": count.location_id,
        "item_class": count.item_class,
        "status": count.status,
        "note": count.note,
        "created_at": count.created_at,
        "submitted_at": count.submitted_at,
        "approved_at": count.approved_at,
        "version": count.version,
        "lines": lines,
        "variance_value": total,
    }


def open_count(
    uow: UnitOfWork, *, location_id: int, item_class: str | None, note: str | None
) -> dict[str, Any]:
    """Snapshot every batch held at the location (of the item class, if given)."""
    with uow:
        repo = uow.repo(StockRepository)
        repo.location(location_id)
        counts = uow.repo(StockCountRepository)
        held = counts.held_for_count(location_id, item_class)
        if not held:
            raise ValidationFailedError(
                "Nothing is held there to count.",
                extra={
                    "errors": [
                        field_problem(
                            "item_class" if item_class else "location_id", "no stock to count"
                        )
                    ]
                },
            )
        count = StockCount(
            number=repo.next_number("SC", STOCK_COUNT_NUMBER_SEQUENCE),
            location_id=location_id,
            item_class=item_class,
            status="open",
            note=note,
            created_by=user_id_of(uow),
            created_at=utcnow(),
            version=1,
        )
        counts.add(count)
        counts.add_all(
            [
                StockCountLine(count_id=count.id, item_id=i, batch_id=b, expected_quantity=q)
                for i, b, q in held
            ]
        )
        uow.audit(CATEGORY, "count.open", detail={"count_id": count.id, "location_id": location_id})
        view = count_view(uow, count)
        uow.commit()
        return view


def get_count(uow: UnitOfWork, count_id: int) -> dict[str, Any]:
    with uow:
        return count_view(uow, _count(uow, count_id))


def list_counts(
    uow: UnitOfWork, *, location_id: int | None, status: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    with uow:
        counts, total = uow.repo(StockCountRepository).counts(
            location_id=location_id, status=status, limit=limit, offset=offset
        )
        return [count_view(uow, c) | {"lines": []} for c in counts], total


def enter_counts(
    uow: UnitOfWork, count_id: int, *, version: int, entries: list[tuple[int, Decimal, str | None]]
) -> dict[str, Any]:
    """Record counted quantities (may be repeated while the count is open)."""
    with uow:
        count = _count(uow, count_id, lock=True)
        check_version(count.version, version, "stock count")
        if count.status != "open":
            raise InvalidStateError(
                f"Count {count.number} is {count.status}; counts can be entered while it is open.",
                extra={"state": count.status},
            )
        lines = {ln.id: ln for ln in uow.repo(StockCountRepository).lines(count.id)}
        items = uow.repo(StockRepository).items_by_id(ln.item_id for ln in lines.values())
        for n, (line_id, quantity, note) in enumerate(entries):
            line = lines.get(line_id)
            if line is None:
                raise ValidationFailedError(
                    "An entry names a line of another count.",
                    extra={
                        "errors": [
                            field_problem(f"entries.{n}.line_id", "not a line of this count")
                        ]
                    },
                )
            item = items[line.item_id]
            if quantity != 0:
                check_quantity(
                    quantity,
                    divisible=item.divisible,
                    unit=item.base_unit,
                    field=f"entries.{n}.counted_quantity",
                )
            line.counted_quantity = quantity
            line.note = note
        touch(count)
        uow.repo(StockCountRepository).flush()
        view = count_view(uow, count)
        uow.commit()
        return view


def submit_count(uow: UnitOfWork, count_id: int, *, version: int) -> dict[str, Any]:
    """Hand the count over for variance review; every line must have been counted."""
    with uow:
        count = _count(uow, count_id, lock=True)
        check_version(count.version, version, "stock count")
        if count.status != "open":
            raise InvalidStateError(
                f"Count {count.number} is {count.status}.", extra={"state": count.status}
            )
        if uow.repo(StockCountRepository).any_uncounted(count.id):
            raise ValidationFailedError(
                "Every line must be counted before submitting (enter 0 for an empty shelf)."
            )
        count.status, count.submitted_at = "submitted", utcnow()
        count.submitted_by = user_id_of(uow)
        touch(count)
        uow.audit(CATEGORY, "count.submit", detail={"count_id": count.id})
        view = count_view(uow, count)
        uow.commit()
        return view


def approve_count(uow: UnitOfWork, count_id: int, *, version: int) -> dict[str, Any]:
    """Accept the variances: each becomes a ``count`` ledger movement."""
    with uow:
        count = _count(uow, count_id, lock=True)
        check_version(count.version, version, "stock count")
        if count.status != "submitted":
            raise InvalidStateError(
                f"Count {count.number} is {count.status}; only a submitted count can be approved.",
                extra={"state": count.status},
            )
        repo = uow.repo(StockRepository)
        lines = uow.repo(StockCountRepository).lines(count.id)
        batches = uow.repo(StockCountRepository).batches(ln.batch_id for ln in lines)
        me = user_id_of(uow)
        postings = [
            Posting(
                "count",
                ln.item_id,
                ln.batch_id,
                count.location_id,
                ln.counted_quantity - ln.expected_quantity,
                batches[ln.batch_id].unit_cost,
                me,
                reason=f"Stock count {count.number}",
                reason_code="count",
                reference_type="stock_count",
                reference_id=count.id,
            )
            for ln in lines
            if ln.counted_quantity is not None and ln.counted_quantity != ln.expected_quantity
        ]
        repo.post_movements(postings)
        count.status, count.approved_at, count.approved_by = "approved", utcnow(), me
        touch(count)
        uow.audit(
            CATEGORY, "count.approve", detail={"count_id": count.id, "variances": len(postings)}
        )
        uow.publish("stock.changed", {"location_id": count.location_id})
        view = count_view(uow, count)
        uow.commit()
        return view


def cancel_count(uow: UnitOfWork, count_id: int, *, version: int) -> dict[str, Any]:
    with uow:
        count = _count(uow, count_id, lock=True)
        check_version(count.version, version, "stock count")
        if count.status not in ("open", "submitted"):
            raise InvalidStateError(
                f"Count {count.number} is {count.status}.", extra={"state": count.status}
            )
        count.status = "cancelled"
        touch(count)
        uow.audit(CATEGORY, "count.cancel", detail={"count_id": count.id})
        view = count_view(uow, count)
        uow.commit()
        return view
