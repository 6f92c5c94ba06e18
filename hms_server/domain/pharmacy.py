"""Pharmacy and inventory rules: quantities of a unit, plausible expiry dates, FEFO picking,
purchase-order states, reorder arithmetic, and the errors the area raises.

Pure functions over plain values; the services feed them rows and the database enforces the
same invariants again (a balance can never go below zero, whatever Python decided).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError

#: Stock statuses of a balance (one batch at one location). Only ``available`` is pickable.
BALANCE_STATUSES = ("available", "quarantined", "expired", "recalled")
LOCATION_KINDS = ("central_store", "pharmacy", "ward_store", "theatre", "quarantine", "other")
ITEM_KINDS = ("medicine", "consumable", "supply", "equipment")
#: Ledger kinds. The sign of ``quantity_delta`` says the direction (a transfer or an issue to
#: a ward is two rows: minus at the source, plus at the destination).
MOVEMENT_KINDS = (
    "receipt",
    "transfer",
    "issue",
    "dispense",
    "return",
    "adjustment",
    "write_off",
    "recall",
    "count",
)
WRITE_OFF_REASONS = ("expired", "damaged", "returned_unusable", "recalled", "other")
#: Outgoing kinds that count as consumption of a location (what the reorder forecast smooths).
CONSUMPTION_KINDS = ("dispense", "issue", "transfer")

#: An expiry further ahead than this is a typo (medicines carry 2–5 years of shelf life).
MAX_SHELF_LIFE_YEARS = 10
DEFAULT_EXPIRY_WINDOWS = (90, 60, 30)
DEFAULT_LEAD_TIME_DAYS = 7
SMOOTHING_ALPHA = 0.3
FORECAST_WEEKS = 52


# --- errors ----------------------------------------------------------------------------------


class InsufficientStockError(ConflictError):
    code, title = "insufficient_stock", "Not enough stock"


class UnknownLotError(NotFoundError):
    code, title = "unknown_lot", "Unknown lot"


class ExpiredLotError(ValidationFailedError):
    code, title = "expired_lot", "Lot already expired"


class ImplausibleExpiryError(ValidationFailedError):
    code, title = "implausible_expiry", "Implausible expiry date"


class IndivisibleUnitError(ValidationFailedError):
    code, title = "indivisible_unit", "Quantity must be whole"


class LotExpiryMismatchError(ValidationFailedError):
    code, title = "lot_expiry_mismatch", "Lot known with another expiry"


class StockNotAvailableError(ConflictError):
    """The batch exists but is quarantined, expired or recalled at this location."""

    code, title = "stock_not_available", "Stock not available"


class InvalidStateError(ConflictError):
    """The record is in a state that does not allow this step (e.g. receive a draft PO)."""

    code, title = "invalid_state", "Not allowed in this state"


class MalformedBarcodeError(ValidationFailedError):
    code, title = "malformed_barcode", "Malformed barcode"


class UnknownBarcodeError(NotFoundError):
    code, title = "unknown_barcode", "Unknown barcode"


class WrongItemScannedError(ValidationFailedError):
    code, title = "wrong_item", "Scanned pack is not the prescribed medicine"


class WrongBatchScannedError(ValidationFailedError):
    code, title = "wrong_batch", "Scanned pack is not the picked batch"


class PrescriptionCancelledError(ConflictError):
    code, title = "prescription_cancelled", "Prescription cancelled"


class NothingOwedError(ConflictError):
    code, title = "nothing_owed", "Nothing left to dispense"


class ExceedsOwedError(ConflictError):
    code, title = "exceeds_owed", "More than is owed"


class OverReceiptError(ValidationFailedError):
    code, title = "over_receipt", "More than was ordered"


class ReturnExceedsDispensedError(ValidationFailedError):
    code, title = "return_exceeds_dispensed", "More than was dispensed"


def field_problem(field: str, message: str) -> dict[str, str]:
    """One entry of a problem's ``errors`` list (the API layer reports it under ``body.``)."""
    return {"field": field, "message": message, "type": "value_error"}


# --- quantities and dates --------------------------------------------------------------------


def check_quantity(
    quantity: Decimal, *, divisible: bool, unit: str, field: str, allow_negative: bool = False
) -> None:
    """A quantity of ``unit``: non-zero, positive unless a signed delta, whole unless the unit
    can be split (10 mL can be 2.5 mL; a tablet here cannot)."""
    if quantity == 0 or (quantity < 0 and not allow_negative):
        raise ValidationFailedError(
            f"The quantity must be {'non-zero' if allow_negative else 'greater than zero'}.",
            extra={
                "errors": [
                    field_problem(
                        field,
                        "must be greater than zero" if not allow_negative else "must not be zero",
                    )
                ]
            },
        )
    if not divisible and quantity != quantity.to_integral_value():
        raise IndivisibleUnitError(
            f"{unit!s} cannot be split: give a whole number (got {quantity}).",
            extra={"errors": [field_problem(field, f"whole {unit} only")]},
        )


def check_receipt_expiry(expiry: date, today: date, *, field: str) -> None:
    """A received lot must not be expired already, nor carry an absurd date (a typo)."""
    if expiry < today:
        raise ExpiredLotError(
            f"This lot expired on {expiry.isoformat()}; expired stock cannot be received.",
            extra={"errors": [field_problem(field, "already expired")]},
        )
    limit = (
        today.replace(year=today.year + MAX_SHELF_LIFE_YEARS)
        if not (today.month == 2 and today.day == 29)
        else date(today.year + MAX_SHELF_LIFE_YEARS, 2, 28)
    )
    if expiry > limit:
        raise ImplausibleExpiryError(
            f"An expiry of {expiry.isoformat()} is more than {MAX_SHELF_LIFE_YEARS} years ahead; "
            "check the date on the pack.",
            extra={"errors": [field_problem(field, "implausibly far in the future")]},
        )


def is_expired(expiry: date, today: date) -> bool:
    """A lot is usable through its expiry date and expired from the day after."""
    return expiry < today


def expiry_window(expiry: date, today: date, windows: Sequence[int]) -> int | None:
    """The smallest configured window (days) the expiry falls in, e.g. 30 of (90, 60, 30);
    None when it is further away than the largest window (or already expired)."""
    if expiry < today:
        return None
    days = (expiry - today).days
    inside = [w for w in windows if days <= w]
    return min(inside) if inside else None


# --- FEFO picking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PickCandidate:
    """One batch of the wanted medicine at the picking location, as the store holds it."""

    batch_id: int
    item_id: int
    lot: str
    expiry: date
    available: Decimal
    status: str = "available"


@dataclass(frozen=True)
class Pick:
    batch_id: int
    item_id: int
    lot: str
    expiry: date
    quantity: Decimal


def pickable(candidates: Iterable[PickCandidate], today: date) -> list[PickCandidate]:
    """Only available, unexpired batches with stock, first expiry first (FEFO); batch id breaks
    ties so two pickers agree on the order."""
    usable = [
        c
        for c in candidates
        if c.status == "available" and c.available > 0 and not is_expired(c.expiry, today)
    ]
    return sorted(usable, key=lambda c: (c.expiry, c.batch_id))


def pick_fefo(candidates: Iterable[PickCandidate], quantity: Decimal, today: date) -> list[Pick]:
    """Take ``quantity`` from the batches that expire first. Raises ``InsufficientStockError``
    (with how much is available) when the usable batches do not hold enough."""
    usable = pickable(candidates, today)
    remaining = quantity
    picks: list[Pick] = []
    for c in usable:
        if remaining <= 0:
            break
        take = min(c.available, remaining)
        picks.append(Pick(c.batch_id, c.item_id, c.lot, c.expiry, take))
        remaining -= take
    if remaining > 0:
        available = sum((c.available for c in usable), Decimal(0))
        raise InsufficientStockError(
            f"Only {_fmt(available)} usable in stock here (unexpired, not quarantined or "
            f"recalled); {_fmt(quantity)} needed.",
            extra={"available": _fmt(available), "requested": _fmt(quantity)},
        )
    return picks


def _fmt(q: Decimal) -> str:
    return format(q.normalize() if q == q.to_integral_value() else q, "f")


# --- purchase orders -------------------------------------------------------------------------

PO_STATUSES = ("draft", "approved", "sent", "partly_received", "closed", "cancelled")
_PO_NEXT: dict[str, tuple[str, ...]] = {
    "draft": ("approved", "cancelled"),
    "approved": ("sent", "cancelled", "partly_received", "closed"),
    "sent": ("partly_received", "closed", "cancelled"),
    "partly_received": ("partly_received", "closed"),
    "closed": (),
    "cancelled": (),
}
RECEIVABLE_PO_STATUSES = ("approved", "sent", "partly_received")


def check_po_transition(current: str, wanted: str) -> None:
    if wanted not in _PO_NEXT.get(current, ()):
        raise InvalidStateError(
            f"A purchase order that is {current.replace('_', ' ')} cannot "
            f"become {wanted.replace('_', ' ')}.",
            extra={"state": current},
        )


def po_status_after_receipt(lines: Iterable[tuple[Decimal, Decimal]]) -> str:
    """``partly_received`` until every line's received quantity reaches its ordered one."""
    return (
        "closed" if all(received >= ordered for ordered, received in lines) else "partly_received"
    )


# --- reorder arithmetic ----------------------------------------------------------------------


def smoothed_weekly_demand(
    newest_first: Sequence[Decimal | float],
    alpha: float = SMOOTHING_ALPHA,
    window: int = FORECAST_WEEKS,
) -> float:
    """Exponentially smoothed weekly consumption over ``window`` weeks (index 0 = the current
    week): the weights ``α(1-α)^k`` normalised over the window, so a new item's short
    history is not read as zero demand before it existed. ``adapters/queries/procurement``
    computes the same sum in SQL over the ledger; a test compares the two."""
    weights = [(alpha * (1 - alpha) ** k) for k in range(window)]
    norm = 1 - (1 - alpha) ** window
    return sum(w * float(x) for w, x in zip(weights, newest_first, strict=False)) / norm


@dataclass(frozen=True)
class ReorderInput:
    on_hand: Decimal
    on_order: Decimal
    weekly_demand: float
    lead_time_days: int
    reorder_level: Decimal | None
    par_level: Decimal | None
    safety_stock: Decimal
    pack_size: Decimal


@dataclass(frozen=True)
class ReorderAdvice:
    daily_demand: float
    days_of_stock: float | None  # None: no consumption, stock lasts indefinitely
    reorder_point: Decimal
    target: Decimal
    suggested: Decimal  # 0 when no order is needed; whole packs otherwise


def reorder_advice(x: ReorderInput, *, review_days: int = 14) -> ReorderAdvice:
    """How much to order now. Reorder point = demand over the lead time + safety stock (or the
    configured reorder level, whichever is higher); order up to the par level (or enough for
    the lead time plus a review period), in whole purchase packs."""
    daily = max(x.weekly_demand, 0.0) / 7.0
    days_left = float(x.on_hand) / daily if daily > 0 else None
    lead_demand = _thousandths(daily * x.lead_time_days)
    point = max(lead_demand + x.safety_stock, x.reorder_level or Decimal(0))
    cover = _thousandths(daily * (x.lead_time_days + review_days)) + x.safety_stock
    target = max(x.par_level or Decimal(0), cover, point)
    position = x.on_hand + x.on_order
    need = target - position if position <= point and (daily > 0 or x.reorder_level) else Decimal(0)
    if need <= 0:
        return ReorderAdvice(daily, days_left, point, target, Decimal(0))
    pack = x.pack_size if x.pack_size > 0 else Decimal(1)
    packs = math.ceil(need / pack)
    return ReorderAdvice(daily, days_left, point, target, pack * packs)


def _thousandths(value: float) -> Decimal:
    return Decimal(round(value * 1000)) / 1000


def days_until(day: date, today: date) -> int:
    return (day - today).days


def next_due(last: date | None, interval_days: int | None, start: date) -> date | None:
    """Next preventive maintenance / calibration date from the last one (or the start)."""
    if not interval_days:
        return None
    return (last or start) + timedelta(days=interval_days)


def problem_extra(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
