"""Read-side queries of the inventory: catalogue, stock by batch, item summaries, the ledger,
reconciliation, alerts and reports. Each returns plain dicts shaped like the contract's read
models (``hms_contract.pharmacy``), so routers validate them without copying fields."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session

from hms_server.adapters.orm.pharmacy import (
    StockBalance,
    StockBatch,
    StockItem,
    StockItemPack,
    StockLevel,
    StockLocation,
    StockMovement,
)
from hms_server.adapters.orm.prescribing import Drug

_ITEM_COLUMNS = (
    StockItem.id,
    StockItem.code,
    StockItem.name,
    StockItem.kind,
    StockItem.drug_id,
    Drug.generic_name.label("drug_name"),
    Drug.strength,
    Drug.form,
    StockItem.base_unit,
    StockItem.divisible,
    StockItem.item_class,
    StockItem.preferred_supplier_id,
    StockItem.active,
    StockItem.version,
)


_RECONCILE = text("""
    WITH ledger AS (
        SELECT location_id, batch_id, sum(quantity_delta) AS quantity
        FROM stock_movements GROUP BY location_id, batch_id
    )
    SELECT coalesce(b.location_id, l.location_id) AS location_id,
           coalesce(b.batch_id, l.batch_id) AS batch_id,
           coalesce(b.quantity, 0) AS balance, coalesce(l.quantity, 0) AS ledger
    FROM stock_balances b FULL JOIN ledger l
      ON l.location_id = b.location_id AND l.batch_id = b.batch_id
    WHERE coalesce(b.quantity, 0) <> coalesce(l.quantity, 0)
    LIMIT 100
""")


_LEVELS = text("""
    WITH usable AS (
        SELECT b.item_id, b.location_id, sum(b.quantity) AS quantity
        FROM stock_balances b JOIN stock_batches bt ON bt.id = b.batch_id
        WHERE b.status = 'available' AND bt.expiry >= :today
          AND (CAST(:location_id AS integer) IS NULL OR b.location_id = :location_id)
        GROUP BY b.item_id, b.location_id
    )
    SELECT lv.item_id, i.name AS item_name, lv.location_id, l.code AS location_code,
           coalesce(u.quantity, 0) AS quantity, lv.reorder_level
    FROM stock_levels lv
    JOIN stock_items i ON i.id = lv.item_id AND i.active
    JOIN stock_locations l ON l.id = lv.location_id
    LEFT JOIN usable u ON u.item_id = lv.item_id AND u.location_id = lv.location_id
    WHERE (CAST(:location_id AS integer) IS NULL OR lv.location_id = :location_id)
      AND coalesce(u.quantity, 0) <= lv.reorder_level
    ORDER BY coalesce(u.quantity, 0) / nullif(lv.reorder_level, 0) NULLS FIRST, i.name
    LIMIT :limit
""")

_EXPIRING = text("""
    SELECT b.item_id, i.name AS item_name, b.location_id, l.code AS location_code,
           b.quantity, b.batch_id, bt.lot, bt.expiry, b.status,
           b.quantity * bt.unit_cost AS value
    FROM stock_balances b
    JOIN stock_batches bt ON bt.id = b.batch_id
    JOIN stock_items i ON i.id = b.item_id
    JOIN stock_locations l ON l.id = b.location_id
    WHERE b.quantity > 0 AND bt.expiry <= :horizon
      AND (CAST(:location_id AS integer) IS NULL OR b.location_id = :location_id)
      AND b.status <> 'recalled'
    ORDER BY bt.expiry, i.name
    LIMIT :limit
""")


_WASTE = text("""
    SELECT to_char(m.at AT TIME ZONE :tz, 'YYYY-MM') AS month,
           coalesce(m.reason_code, m.kind) AS reason_code,
           -sum(m.quantity_delta) AS quantity,
           -sum(m.quantity_delta * m.unit_cost) AS value
    FROM stock_movements m
    WHERE m.kind IN ('write_off', 'recall') AND m.at >= :start AND m.at < :end
      AND (CAST(:location_id AS integer) IS NULL OR m.location_id = :location_id)
    GROUP BY 1, 2 ORDER BY 1, 2
""")

_VALUATION = text("""
    SELECT l.id AS location_id, l.code AS location_code, l.name AS location_name, b.status,
           count(DISTINCT b.item_id) AS items, sum(b.quantity) AS quantity,
           sum(b.quantity * bt.unit_cost) AS value
    FROM stock_balances b
    JOIN stock_batches bt ON bt.id = b.batch_id
    JOIN stock_locations l ON l.id = b.location_id
    WHERE b.quantity > 0
    GROUP BY l.id, l.code, l.name, b.status
    ORDER BY l.code, b.status
""")

_CONSUMPTION = text("""
    SELECT CAST(date_trunc('week', m.at AT TIME ZONE :tz) AS date) AS week_start,
           -sum(m.quantity_delta) AS quantity
    FROM stock_movements m
    WHERE m.item_id = :item_id AND m.at >= :start
      AND m.kind IN ('dispense', 'issue', 'transfer') AND m.quantity_delta < 0
      AND (CAST(:location_id AS integer) IS NULL OR m.location_id = :location_id)
    GROUP BY 1 ORDER BY 1
""")


class StockQueries:
    """Inventory read queries. Not thread-safe; one per unit of work
    (``uow.repo(StockQueries)``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _count(self, query: Any) -> int:
        return int(
            self.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
            or 0
        )

    def _with_packs(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        items = [dict(r._mapping) for r in rows]
        if not items:
            return items
        packs: dict[int, list[dict[str, Any]]] = {i["id"]: [] for i in items}
        for pack in self.session.scalars(
            select(StockItemPack)
            .where(StockItemPack.item_id.in_(list(packs)))
            .order_by(StockItemPack.base_quantity)
        ):
            packs[pack.item_id].append(
                {
                    "id": pack.id,
                    "name": pack.name,
                    "base_quantity": pack.base_quantity,
                    "gtin": pack.gtin,
                }
            )
        for item in items:
            item["packs"] = packs[item["id"]]
        return items

    def item_rows(self, *, item_ids: Sequence[int]) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(*_ITEM_COLUMNS)
            .outerjoin(Drug, Drug.id == StockItem.drug_id)
            .where(StockItem.id.in_(list(item_ids)))
            .order_by(StockItem.id)
        )
        return self._with_packs(rows.all())

    def search_items(
        self,
        *,
        q: str | None,
        kind: str | None,
        drug_id: int | None,
        item_class: str | None,
        include_inactive: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """Items by name, code, drug or GTIN; name prefix matches first."""
        query = select(*_ITEM_COLUMNS).outerjoin(Drug, Drug.id == StockItem.drug_id)
        order: list[Any] = [StockItem.name, StockItem.id]
        if q and q.strip():
            term = q.strip().lower()
            like = f"%{term}%"
            query = query.where(
                or_(
                    func.lower(StockItem.name).like(like),
                    func.lower(StockItem.code).like(like),
                    func.lower(func.coalesce(Drug.generic_name, "")).like(like),
                    StockItem.id.in_(
                        select(StockItemPack.item_id).where(StockItemPack.gtin.like(f"%{term}"))
                    ),
                )
            )
            order = [func.lower(StockItem.name).like(f"{term}%").desc(), *order]
        if kind:
            query = query.where(StockItem.kind == kind)
        if drug_id is not None:
            query = query.where(StockItem.drug_id == drug_id)
        if item_class:
            query = query.where(StockItem.item_class == item_class)
        if not include_inactive:
            query = query.where(StockItem.active.is_(True))
        total = self._count(query)
        rows = self.session.execute(query.order_by(*order).limit(limit).offset(offset)).all()
        return self._with_packs(rows), total

    # ---------------------------------------------------------------- stock by batch

    def stock_rows(
        self,
        *,
        item_id: int | None,
        location_id: int | None,
        lot: str | None,
        status: str | None,
        include_empty: bool,
        today: date,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """Balances by batch, first expiry first within an item and location."""
        query = (
            select(
                StockBalance.item_id,
                StockItem.code.label("item_code"),
                StockItem.name.label("item_name"),
                StockItem.base_unit,
                StockBalance.location_id,
                StockLocation.code.label("location_code"),
                StockBalance.batch_id,
                StockBatch.lot,
                StockBatch.expiry,
                StockBalance.quantity,
                StockBalance.status,
                StockBatch.unit_cost,
                (StockBatch.expiry - today).label("expires_in_days"),
            )
            .join(StockBatch, StockBatch.id == StockBalance.batch_id)
            .join(StockItem, StockItem.id == StockBalance.item_id)
            .join(StockLocation, StockLocation.id == StockBalance.location_id)
        )
        if item_id is not None:
            query = query.where(StockBalance.item_id == item_id)
        if location_id is not None:
            query = query.where(StockBalance.location_id == location_id)
        if lot:
            query = query.where(StockBatch.lot == lot)
        if status:
            query = query.where(StockBalance.status == status)
        if not include_empty:
            query = query.where(StockBalance.quantity > 0)
        total = self._count(query)
        if item_id is not None or lot:
            order = [StockLocation.code, StockBatch.expiry, StockBalance.batch_id]
        else:
            # A whole location: in the primary key's order (location, batch), which an index
            # scan serves page by page; sorting 60,000 rows per page would not. (A second
            # index leading with the location made the generic plan of the ledger trigger's
            # ``WHERE location_id = $1 AND batch_id = $2`` scan a whole location per row on a
            # fresh table: a 300,000-row load went from 40 s to over 20 minutes.) The per-item
            # summary (``summary_rows``) is the list sorted by name.
            order = [StockBalance.location_id, StockBalance.batch_id]
        rows = self.session.execute(query.order_by(*order).limit(limit).offset(offset))
        return [dict(r._mapping) for r in rows], total

    def summary_rows(
        self, *, location_id: int, q: str | None, today: date, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Per item at one location: usable and unusable quantity, next expiry, value."""
        usable = and_(StockBalance.status == "available", StockBatch.expiry >= today)
        query = (
            select(
                StockItem.id.label("item_id"),
                StockItem.code.label("item_code"),
                StockItem.name.label("item_name"),
                StockItem.base_unit,
                StockBalance.location_id,
                func.coalesce(func.sum(StockBalance.quantity).filter(usable), 0).label("available"),
                func.coalesce(func.sum(StockBalance.quantity).filter(~usable), 0).label(
                    "unavailable"
                ),
                func.min(StockBatch.expiry)
                .filter(and_(usable, StockBalance.quantity > 0))
                .label("next_expiry"),
                func.max(StockLevel.reorder_level).label("reorder_level"),
                func.coalesce(func.sum(StockBalance.quantity * StockBatch.unit_cost), 0).label(
                    "value"
                ),
            )
            .join(StockBatch, StockBatch.id == StockBalance.batch_id)
            .join(StockItem, StockItem.id == StockBalance.item_id)
            .outerjoin(
                StockLevel,
                and_(
                    StockLevel.item_id == StockBalance.item_id,
                    StockLevel.location_id == StockBalance.location_id,
                ),
            )
            .where(StockBalance.location_id == location_id, StockBalance.quantity > 0)
            .group_by(StockItem.id, StockBalance.location_id)
        )
        if q and q.strip():
            query = query.where(func.lower(StockItem.name).like(f"%{q.strip().lower()}%"))
        total = self._count(query)
        rows = self.session.execute(
            query.order_by(StockItem.name, StockItem.id).limit(limit).offset(offset)
        )
        return [dict(r._mapping) for r in rows], total

    def batches_of(self, item_id: int) -> list[StockBatch]:
        return list(
            self.session.scalars(
                select(StockBatch)
                .where(StockBatch.item_id == item_id)
                .order_by(StockBatch.expiry, StockBatch.id)
            )
        )

    def movement_rows(
        self,
        *,
        item_id: int | None,
        location_id: int | None,
        batch_id: int | None,
        kind: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        query = select(
            StockMovement.id,
            StockMovement.at,
            StockMovement.kind,
            StockMovement.item_id,
            StockMovement.batch_id,
            StockBatch.lot,
            StockMovement.location_id,
            StockMovement.quantity_delta,
            StockMovement.unit_cost,
            StockMovement.reason,
            StockMovement.reason_code,
            StockMovement.user_id,
            StockMovement.reference_type,
            StockMovement.reference_id,
        ).join(StockBatch, StockBatch.id == StockMovement.batch_id)
        if item_id is not None:
            query = query.where(StockMovement.item_id == item_id)
        if location_id is not None:
            query = query.where(StockMovement.location_id == location_id)
        if batch_id is not None:
            query = query.where(StockMovement.batch_id == batch_id)
        if kind:
            query = query.where(StockMovement.kind == kind)
        total = self._count(query)
        rows = self.session.execute(
            query.order_by(StockMovement.id.desc()).limit(limit).offset(offset)
        )
        return [dict(r._mapping) for r in rows], total

    # ---------------------------------------------------------------- reconciliation

    def reconcile(self) -> tuple[int, list[dict[str, str]]]:
        """Balances whose quantity differs from the sum of their ledger rows (proof that on-hand
        equals the ledger: the list is empty)."""
        checked = int(self.session.scalar(select(func.count()).select_from(StockBalance)) or 0)
        mismatches = [
            {k: str(v) for k, v in row._mapping.items()} for row in self.session.execute(_RECONCILE)
        ]
        return checked, mismatches

    # ---------------------------------------------------------------- alerts

    def alert_rows(
        self, *, location_id: int | None, today: date, horizon: date, limit: int
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(items at or below their reorder level, lots expiring by ``horizon`` or expired)."""
        params = {"today": today, "location_id": location_id, "limit": limit}
        levels = [dict(r._mapping) for r in self.session.execute(_LEVELS, params)]
        expiring = [
            dict(r._mapping)
            for r in self.session.execute(_EXPIRING, {**params, "horizon": horizon})
        ]
        return levels, expiring

    # ---------------------------------------------------------------- reports

    def waste_rows(
        self, *, start: Any, end: Any, tz: str, location_id: int | None
    ) -> list[dict[str, Any]]:
        return [
            dict(r._mapping)
            for r in self.session.execute(
                _WASTE, {"start": start, "end": end, "tz": tz, "location_id": location_id}
            )
        ]

    def valuation_rows(self) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.session.execute(_VALUATION)]

    def consumption_rows(
        self, *, item_id: int, location_id: int | None, start: Any, tz: str
    ) -> dict[date, Decimal]:
        return {
            r.week_start: r.quantity
            for r in self.session.execute(
                _CONSUMPTION,
                {"item_id": item_id, "location_id": location_id, "start": start, "tz": tz},
            )
        }
