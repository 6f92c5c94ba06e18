"""Read-side queries of procurement: the inputs of reorder suggestions for every item of a
location in one statement, and supplier price history.

Demand is exponential smoothing of the ledger's weekly consumption (dispensed, issued to
wards, transferred out) computed in closed form — Σ qty·α(1−α)^weeks_ago normalised over
the window — so one aggregate over the ledger serves 20,000 items (see
``domain.pharmacy.smoothed_weekly_demand`` for the same formula in Python). The week index
uses ``date_part`` (double precision): ``extract`` returns numeric and made the aggregate
twice as slow over a million rows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hms_server.adapters.orm.procurement import SupplierPrice

_INPUTS = text("""
    WITH demand AS (
        SELECT m.item_id,
               sum(CAST(-m.quantity_delta AS double precision) * power(1 - :alpha,
                   floor(date_part('epoch', :now - m.at) / 604800)))
               * :alpha / (1 - power(1 - :alpha, :weeks)) AS weekly
        FROM stock_movements m
        WHERE m.location_id = :location_id AND m.at >= :since AND m.at <= :now
          AND m.kind IN ('dispense', 'issue', 'transfer') AND m.quantity_delta < 0
        GROUP BY m.item_id
    ), on_hand AS (
        SELECT b.item_id, sum(b.quantity) AS quantity
        FROM stock_balances b JOIN stock_batches bt ON bt.id = b.batch_id
        WHERE b.location_id = :location_id AND b.status = 'available' AND bt.expiry >= :today
        GROUP BY b.item_id
    ), on_order AS (
        SELECT l.item_id, sum(l.quantity - l.received_quantity) AS quantity
        FROM purchase_order_lines l JOIN purchase_orders o ON o.id = l.order_id
        WHERE o.location_id = :location_id
          AND o.status IN ('draft', 'approved', 'sent', 'partly_received')
        GROUP BY l.item_id
    ), packs AS (
        SELECT item_id, max(base_quantity) AS pack FROM stock_item_packs GROUP BY item_id
    )
    SELECT i.id AS item_id, i.code AS item_code, i.name AS item_name, i.base_unit,
           i.preferred_supplier_id AS supplier_id, s.name AS supplier_name,
           coalesce(s.lead_time_days, :default_lead) AS lead_time_days,
           coalesce(d.weekly, 0) AS weekly, coalesce(h.quantity, 0) AS on_hand,
           coalesce(o.quantity, 0) AS on_order, lv.reorder_level, lv.par_level,
           coalesce(lv.safety_stock, 0) AS safety_stock, coalesce(p.pack, 1) AS pack_size
    FROM stock_items i
    LEFT JOIN demand d ON d.item_id = i.id
    LEFT JOIN stock_levels lv ON lv.item_id = i.id AND lv.location_id = :location_id
    LEFT JOIN on_hand h ON h.item_id = i.id
    LEFT JOIN on_order o ON o.item_id = i.id
    LEFT JOIN packs p ON p.item_id = i.id
    LEFT JOIN suppliers s ON s.id = i.preferred_supplier_id
    WHERE i.active AND (d.item_id IS NOT NULL OR lv.item_id IS NOT NULL)
      AND (CAST(:item_ids AS integer[]) IS NULL OR i.id = ANY(:item_ids))
""")

_LAST_PRICES = text("""
    SELECT DISTINCT ON (item_id) item_id, unit_cost
    FROM supplier_prices
    WHERE item_id = ANY(:item_ids)
      AND (CAST(:supplier_id AS integer) IS NULL OR supplier_id = :supplier_id)
    ORDER BY item_id, recorded_at DESC, id DESC
""")


class ProcurementQueries:
    """Reorder inputs and supplier prices. Not thread-safe; one per unit of work
    (``uow.repo(ProcurementQueries)``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def reorder_inputs(
        self,
        *,
        location_id: int,
        now: datetime,
        since: datetime,
        today: date,
        alpha: float,
        weeks: int,
        default_lead: int,
        item_ids: list[int] | None,
    ) -> list[dict[str, Any]]:
        return [
            dict(r._mapping)
            for r in self.session.execute(
                _INPUTS,
                {
                    "location_id": location_id,
                    "now": now,
                    "since": since,
                    "today": today,
                    "alpha": alpha,
                    "weeks": weeks,
                    "default_lead": default_lead,
                    "item_ids": item_ids,
                },
            )
        ]

    def last_prices(self, item_ids: list[int], supplier_id: int | None = None) -> dict[int, Any]:
        if not item_ids:
            return {}
        return {
            r.item_id: r.unit_cost
            for r in self.session.execute(
                _LAST_PRICES, {"item_ids": item_ids, "supplier_id": supplier_id}
            )
        }

    def price_history(
        self, *, item_id: int | None, supplier_id: int | None, limit: int
    ) -> list[SupplierPrice]:
        query = select(SupplierPrice)
        if item_id is not None:
            query = query.where(SupplierPrice.item_id == item_id)
        if supplier_id is not None:
            query = query.where(SupplierPrice.supplier_id == supplier_id)
        return list(
            self.session.scalars(
                query.order_by(SupplierPrice.recorded_at.desc(), SupplierPrice.id.desc()).limit(
                    limit
                )
            )
        )
