"""Stock repository: the catalogue, batches, row-locked balances and the ledger.

Every quantity change goes through ``post_movement``: one INSERT into ``stock_movements``,
which the database applies to the balance (trigger) and refuses if the balance would go
below zero (CHECK). A refusal surfaces here as ``InsufficientStockError``, never as a raw
database error, so a lost race still reads as "not enough stock".

Balances are read with Core queries (not ORM objects): the trigger changes them behind the
session's back, and a cached ORM object would show the old quantity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, cast, func, insert, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.pharmacy import (
    StockBalance,
    StockBatch,
    StockCount,
    StockCountLine,
    StockItem,
    StockItemPack,
    StockLevel,
    StockLocation,
    StockMovement,
    Supplier,
)
from hms_server.adapters.orm.prescribing import Drug
from hms_server.adapters.repositories import Repository
from hms_server.domain.errors import NotFoundError
from hms_server.domain.pharmacy import InsufficientStockError, PickCandidate

NEGATIVE_BALANCE = "ck_stock_balances_quantity_not_negative"
#: Namespace of the advisory locks taken per batch by transfers (see ``lock_batches``).
_BATCH_LOCK_SPACE = 10_020


@dataclass(frozen=True)
class BalanceRow:
    location_id: int
    batch_id: int
    item_id: int
    lot: str
    expiry: date
    quantity: Decimal
    status: str
    unit_cost: Decimal

    def candidate(self) -> PickCandidate:
        return PickCandidate(
            self.batch_id, self.item_id, self.lot, self.expiry, self.quantity, self.status
        )


@dataclass(frozen=True)
class Posting:
    """One ledger row to write."""

    kind: str
    item_id: int
    batch_id: int
    location_id: int
    quantity_delta: Decimal
    unit_cost: Decimal
    user_id: int | None
    reason: str | None = None
    reason_code: str | None = None
    reference_type: str | None = None
    reference_id: int | None = None
    #: When it happened, if not now: only for importing history (a legacy system's ledger,
    #: the demo seed, benchmarks). Services never set it.
    at: datetime | None = None


class StockRepository(Repository):
    """Not thread-safe; one per unit of work (``uow.repo(StockRepository)``)."""

    # -- numbers ---------------------------------------------------------------------------
    def next_number(self, prefix: str, sequence: Any) -> str:
        return str(
            self.session.scalar(
                select(literal(prefix) + func.lpad(cast(sequence.next_value(), String), 8, "0"))
            )
        )

    # -- locations -------------------------------------------------------------------------
    def location(self, location_id: int) -> StockLocation:
        found = self.session.get(StockLocation, location_id)
        if found is None:
            raise NotFoundError(f"No stock location with id {location_id}.")
        return found

    def locations(
        self, *, kind: str | None = None, active_only: bool = True
    ) -> list[StockLocation]:
        query = select(StockLocation)
        if kind:
            query = query.where(StockLocation.kind == kind)
        if active_only:
            query = query.where(StockLocation.active.is_(True))
        return list(self.session.scalars(query.order_by(StockLocation.kind, StockLocation.name)))

    def location_code_taken(self, code: str) -> bool:
        return (
            self.session.scalar(
                select(StockLocation.id).where(func.lower(StockLocation.code) == code.lower())
            )
            is not None
        )

    # -- catalogue -------------------------------------------------------------------------
    def item(self, item_id: int, *, lock: bool = False) -> StockItem:
        found = self.session.get(StockItem, item_id, with_for_update=lock)
        if found is None:
            raise NotFoundError(f"No stock item with id {item_id}.")
        return found

    def items_by_id(self, ids: Iterable[int]) -> dict[int, StockItem]:
        wanted = set(ids)
        if not wanted:
            return {}
        return {
            i.id: i for i in self.session.scalars(select(StockItem).where(StockItem.id.in_(wanted)))
        }

    def item_code_taken(self, code: str) -> bool:
        return (
            self.session.scalar(
                select(StockItem.id).where(func.lower(StockItem.code) == code.lower())
            )
            is not None
        )

    def drug(self, drug_id: int) -> Drug | None:
        return self.session.get(Drug, drug_id)

    def drugs_by_id(self, ids: Iterable[int | None]) -> dict[int, Drug]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        return {d.id: d for d in self.session.scalars(select(Drug).where(Drug.id.in_(wanted)))}

    def items_for_drugs(self, drug_ids: Iterable[int]) -> list[StockItem]:
        return list(
            self.session.scalars(
                select(StockItem)
                .where(StockItem.drug_id.in_(set(drug_ids)), StockItem.active.is_(True))
                .order_by(StockItem.id)
            )
        )

    def packs_for(self, item_ids: Iterable[int]) -> dict[int, list[StockItemPack]]:
        wanted = set(item_ids)
        found: dict[int, list[StockItemPack]] = {i: [] for i in wanted}
        if not wanted:
            return found
        for pack in self.session.scalars(
            select(StockItemPack)
            .where(StockItemPack.item_id.in_(wanted))
            .order_by(StockItemPack.base_quantity)
        ):
            found[pack.item_id].append(pack)
        return found

    def pack_by_gtin(self, gtin: str) -> StockItemPack | None:
        return self.session.scalar(select(StockItemPack).where(StockItemPack.gtin == gtin))

    def gtins_taken(self, gtins: Sequence[str]) -> list[str]:
        if not gtins:
            return []
        found = self.session.scalars(
            select(StockItemPack.gtin).where(StockItemPack.gtin.in_(list(gtins)))
        )
        return [g for g in found if g is not None]

    def supplier(self, supplier_id: int, *, lock: bool = False) -> Supplier | None:
        return self.session.get(Supplier, supplier_id, with_for_update=lock)

    def level(self, item_id: int, location_id: int) -> StockLevel | None:
        return self.session.get(StockLevel, (item_id, location_id))

    # -- batches ---------------------------------------------------------------------------
    def batch(self, batch_id: int, *, lock: bool = False) -> StockBatch:
        found = self.session.get(StockBatch, batch_id, with_for_update=lock)
        if found is None:
            raise NotFoundError(f"No batch with id {batch_id}.")
        return found

    def batch_by_lot(self, item_id: int, lot: str, *, lock: bool = False) -> StockBatch | None:
        query = select(StockBatch).where(StockBatch.item_id == item_id, StockBatch.lot == lot)
        if lock:
            query = query.with_for_update()
        return self.session.scalar(query)

    def add_batch(
        self, *, item_id: int, lot: str, expiry: date, unit_cost: Decimal, supplier_id: int | None
    ) -> StockBatch:
        """Create the batch, or return the one a concurrent receipt just created."""
        stmt = (
            pg_insert(StockBatch)
            .values(
                item_id=item_id,
                lot=lot,
                expiry=expiry,
                unit_cost=unit_cost,
                supplier_id=supplier_id,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(constraint="uq_stock_batches_item_lot")
        )
        self.session.execute(stmt)
        batch = self.batch_by_lot(item_id, lot, lock=True)
        assert batch is not None
        return batch

    # -- balances --------------------------------------------------------------------------
    def _balance_query(self) -> Any:
        return select(
            StockBalance.location_id,
            StockBalance.batch_id,
            StockBalance.item_id,
            StockBatch.lot,
            StockBatch.expiry,
            StockBalance.quantity,
            StockBalance.status,
            StockBatch.unit_cost,
        ).join(StockBatch, StockBatch.id == StockBalance.batch_id)

    def lock_balances(self, location_id: int, item_ids: Iterable[int]) -> list[BalanceRow]:
        """Every balance of these items at the location, row-locked in batch order (one order
        for every transaction, so two pickers never deadlock)."""
        wanted = sorted(set(item_ids))
        if not wanted:
            return []
        rows = self.session.execute(
            self._balance_query()
            .where(StockBalance.location_id == location_id, StockBalance.item_id.in_(wanted))
            .order_by(StockBalance.batch_id)
            .with_for_update(of=StockBalance)
        )
        return [BalanceRow(*row) for row in rows]

    def balances(self, location_id: int, item_ids: Iterable[int]) -> list[BalanceRow]:
        """Like ``lock_balances`` without the lock (previews, look-ups)."""
        wanted = sorted(set(item_ids))
        if not wanted:
            return []
        rows = self.session.execute(
            self._balance_query()
            .where(StockBalance.location_id == location_id, StockBalance.item_id.in_(wanted))
            .order_by(StockBalance.batch_id)
        )
        return [BalanceRow(*row) for row in rows]

    def balance(self, location_id: int, batch_id: int, *, lock: bool = False) -> BalanceRow | None:
        query = self._balance_query().where(
            StockBalance.location_id == location_id, StockBalance.batch_id == batch_id
        )
        if lock:
            query = query.with_for_update(of=StockBalance)
        row = self.session.execute(query).first()
        return BalanceRow(*row) if row else None

    def lock_batches(self, batch_ids: Iterable[int]) -> None:
        """Serialise transfers of the same batches (a transfer locks its destination balance
        only when it writes it; taking these first, in id order, prevents A→B / B→A
        deadlocks)."""
        for batch_id in sorted(set(batch_ids)):
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(:space, :key)"),
                {"space": _BATCH_LOCK_SPACE, "key": batch_id % 2_000_000_000},
            )

    def set_status(self, location_id: int, batch_id: int, status: str, reason: str | None) -> int:
        result = self.session.execute(
            update(StockBalance)
            .where(StockBalance.location_id == location_id, StockBalance.batch_id == batch_id)
            .values(status=status, status_reason=reason, updated_at=utcnow())
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def mark_batch_recalled(self, batch_id: int, reason: str, at: datetime) -> None:
        self.session.execute(
            update(StockBatch)
            .where(StockBatch.id == batch_id)
            .values(recalled_at=at, recall_reason=reason)
        )
        self.session.execute(
            update(StockBalance)
            .where(StockBalance.batch_id == batch_id)
            .values(status="recalled", status_reason=reason[:200], updated_at=at)
        )

    def expire_balances(self, today: date) -> tuple[int, Decimal]:
        """Move every available or quarantined balance of an expired lot to ``expired``."""
        rows = self.session.execute(
            update(StockBalance)
            .where(
                StockBalance.batch_id == StockBatch.id,
                StockBatch.expiry < today,
                StockBalance.status.in_(("available", "quarantined")),
                StockBalance.quantity > 0,
            )
            .values(
                status="expired",
                status_reason=f"expired (sweep {today.isoformat()})",
                updated_at=utcnow(),
            )
            .returning(StockBalance.quantity)
        ).all()
        return len(rows), sum((r[0] for r in rows), Decimal(0))

    # -- ledger ----------------------------------------------------------------------------
    def post_movements(self, postings: Sequence[Posting]) -> list[int]:
        """Write ledger rows (the database applies them to the balances). Raises
        ``InsufficientStockError`` if any balance would go below zero."""
        if not postings:
            return []
        at = utcnow()
        values = [
            {
                "at": p.at or at,
                "kind": p.kind,
                "item_id": p.item_id,
                "batch_id": p.batch_id,
                "location_id": p.location_id,
                "quantity_delta": p.quantity_delta,
                "unit_cost": p.unit_cost,
                "reason": p.reason,
                "reason_code": p.reason_code,
                "user_id": p.user_id,
                "reference_type": p.reference_type,
                "reference_id": p.reference_id,
            }
            for p in postings
        ]
        try:
            with self.session.begin_nested():
                ids = list(
                    self.session.scalars(
                        insert(StockMovement).returning(
                            StockMovement.id, sort_by_parameter_order=True
                        ),
                        values,
                    )
                )
        except IntegrityError as exc:
            name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
            if name == NEGATIVE_BALANCE:
                raise InsufficientStockError(
                    "Not enough stock: someone else took it a moment ago. Reload and try again."
                ) from exc
            raise
        return ids

    def expire_cached(self, row: Any) -> None:
        """Forget a loaded row's values (a bulk UPDATE changed it in the database)."""
        self.session.expire(row)

    def movements(self, ids: Sequence[int]) -> list[StockMovement]:
        if not ids:
            return []
        return list(
            self.session.scalars(
                select(StockMovement)
                .where(StockMovement.id.in_(list(ids)))
                .order_by(StockMovement.id)
            )
        )

    def balance_total(self, location_id: int, item_id: int) -> Decimal:
        return self.session.scalar(
            select(func.coalesce(func.sum(StockBalance.quantity), 0)).where(
                StockBalance.location_id == location_id,
                StockBalance.item_id == item_id,
                and_(StockBalance.status == "available"),
            )
        )  # type: ignore[return-value]


class StockCountRepository(Repository):
    """Cycle counts and their lines (``uow.repo(StockCountRepository)``)."""

    def stock_count(self, count_id: int, *, lock: bool = False) -> StockCount:
        found = self.session.get(StockCount, count_id, with_for_update=lock)
        if found is None:
            raise NotFoundError(f"No stock count with id {count_id}.")
        return found

    def held_for_count(
        self, location_id: int, item_class: str | None
    ) -> list[tuple[int, int, Decimal]]:
        """(item, batch, quantity) of everything held at the location (of the class),
        row-locked so the snapshot is consistent."""
        query = (
            select(StockBalance.item_id, StockBalance.batch_id, StockBalance.quantity)
            .join(StockItem, StockItem.id == StockBalance.item_id)
            .where(StockBalance.location_id == location_id, StockBalance.quantity > 0)
            .with_for_update(of=StockBalance)
        )
        if item_class:
            query = query.where(StockItem.item_class == item_class)
        return [(i, b, q) for i, b, q in self.session.execute(query)]

    def lines(self, count_id: int) -> list[StockCountLine]:
        return list(
            self.session.scalars(select(StockCountLine).where(StockCountLine.count_id == count_id))
        )

    def sheet(self, count_id: int) -> list[tuple[StockCountLine, StockBatch, StockItem]]:
        """The count's lines with their batch and item, by item name and expiry."""
        return [
            (ln, b, i)
            for ln, b, i in self.session.execute(
                select(StockCountLine, StockBatch, StockItem)
                .join(StockBatch, StockBatch.id == StockCountLine.batch_id)
                .join(StockItem, StockItem.id == StockCountLine.item_id)
                .where(StockCountLine.count_id == count_id)
                .order_by(StockItem.name, StockBatch.expiry, StockBatch.id)
            )
        ]

    def any_uncounted(self, count_id: int) -> bool:
        return (
            self.session.scalar(
                select(StockCountLine.id)
                .where(
                    StockCountLine.count_id == count_id, StockCountLine.counted_quantity.is_(None)
                )
                .limit(1)
            )
            is not None
        )

    def batches(self, ids: Iterable[int]) -> dict[int, StockBatch]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        return {
            b.id: b
            for b in self.session.scalars(select(StockBatch).where(StockBatch.id.in_(wanted)))
        }

    def counts(
        self, *, location_id: int | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[StockCount], int]:
        query = select(StockCount)
        if location_id is not None:
            query = query.where(StockCount.location_id == location_id)
        if status:
            query = query.where(StockCount.status == status)
        return self.page(query, [StockCount.id.desc()], limit, offset)
