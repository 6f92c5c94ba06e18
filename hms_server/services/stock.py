"""Inventory use cases: locations, the catalogue, stock look-up, adjustments, write-offs,
transfers, quarantine and the expiry sweep.

Every quantity change is a ledger row (``StockRepository.post_movements``); the database
applies it to the balance and refuses a negative one, so the Python checks here only give
the friendly message first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.base import touch
from hms_server.adapters.orm.pharmacy import (
    TRANSFER_NUMBER_SEQUENCE,
    StockItem,
    StockItemPack,
    StockLevel,
    StockLocation,
    StockMovement,
)
from hms_server.adapters.queries.pharmacy import StockQueries
from hms_server.adapters.repositories.pharmacy import Posting, StockRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.barcodes import normalize_gtin
from hms_server.domain.errors import ConflictError, ForbiddenError, ValidationFailedError
from hms_server.domain.pharmacy import (
    InsufficientStockError,
    StockNotAvailableError,
    UnknownLotError,
    check_quantity,
    field_problem,
    pick_fefo,
)
from hms_server.domain.versioning import check_version

CATEGORY = "inventory"
log = logging.getLogger("hms_server.pharmacy")


def user_id_of(uow: UnitOfWork) -> int | None:
    return uow.actor.user_id if uow.actor else None


def _invalid(field: str, message: str, detail: str | None = None) -> ValidationFailedError:
    return ValidationFailedError(
        detail or message, extra={"errors": [field_problem(field, message)]}
    )


class WardStockOnlyError(ForbiddenError):
    """The role sees ward-store stock only (not a refusal of the route itself)."""

    code, title = "ward_stock_only", "Ward stock only"


# ---------------------------------------------------------------- locations


def list_locations(
    uow: UnitOfWork, *, kind: str | None, include_inactive: bool
) -> list[StockLocation]:
    with uow:
        return uow.repo(StockRepository).locations(kind=kind, active_only=not include_inactive)


def create_location(
    uow: UnitOfWork, *, code: str, name: str, kind: str, ward_code: str | None, dispensing: bool
) -> StockLocation:
    with uow:
        repo = uow.repo(StockRepository)
        if repo.location_code_taken(code):
            raise ConflictError(
                f"A location with code {code} exists already.",
                extra={"errors": [field_problem("code", "already used")]},
            )
        if kind == "ward_store" and not ward_code:
            raise _invalid(
                "ward_code",
                "required for a ward store",
                "A ward store must name the ward it serves (ward_code).",
            )
        location = StockLocation(
            code=code.upper(),
            name=name,
            kind=kind,
            ward_code=ward_code,
            dispensing=dispensing,
            active=True,
            version=1,
        )
        repo.add(location)
        uow.audit(CATEGORY, "location.create", detail={"location_id": location.id})
        uow.commit()
        return location


def update_location(
    uow: UnitOfWork, location_id: int, *, version: int, changes: dict[str, Any]
) -> StockLocation:
    with uow:
        location = uow.repo(StockRepository).location(location_id)
        check_version(location.version, version, "location")
        for key, value in changes.items():
            setattr(location, key, value)
        if location.kind == "ward_store" and not location.ward_code:
            raise _invalid("ward_code", "required for a ward store")
        touch(location)
        uow.audit(
            CATEGORY,
            "location.update",
            detail={"location_id": location.id, "fields": sorted(changes)},
        )
        uow.commit()
        return location


def readable_location(uow: UnitOfWork, location_id: int, *, all_locations: bool) -> StockLocation:
    """The location, if this user may see its stock: ward staff see ward stores only."""
    location = uow.repo(StockRepository).location(location_id)
    if not all_locations and location.kind != "ward_store":
        raise WardStockOnlyError(
            "Your role sees the stock of ward stores only; choose a ward store."
        )
    return location


# ---------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class PackInput:
    name: str
    base_quantity: Decimal
    gtin: str | None


def create_item(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    kind: str,
    drug_id: int | None,
    base_unit: str,
    divisible: bool,
    item_class: str | None,
    preferred_supplier_id: int | None,
    packs: list[PackInput],
) -> dict[str, Any]:
    """A new stock item; a medicine must name its formulary drug."""
    with uow:
        repo = uow.repo(StockRepository)
        if kind == "medicine" and drug_id is None:
            raise _invalid(
                "drug_id",
                "required for a medicine",
                "A medicine must be linked to its formulary drug (drug_id).",
            )
        if kind != "medicine" and drug_id is not None:
            raise _invalid("drug_id", "only medicines link to the formulary")
        if drug_id is not None:
            drug = repo.drug(drug_id)
            if drug is None or not drug.active:
                raise _invalid(
                    "drug_id",
                    "not in the formulary",
                    f"No active formulary drug with id {drug_id}.",
                )
        if repo.item_code_taken(code):
            raise ConflictError(
                f"A stock item with code {code} exists already.",
                extra={"errors": [field_problem("code", "already used")]},
            )
        gtins: list[str] = []
        names: set[str] = set()
        for n, pack in enumerate(packs):
            check_quantity(
                pack.base_quantity,
                divisible=divisible,
                unit=base_unit,
                field=f"packs.{n}.base_quantity",
            )
            if pack.name.lower() in names:
                raise _invalid(f"packs.{n}.name", "pack names must differ")
            names.add(pack.name.lower())
            if pack.gtin:
                try:
                    gtins.append(normalize_gtin(pack.gtin))
                except ValidationFailedError as exc:
                    raise _invalid(
                        f"packs.{n}.gtin", "not a valid GTIN (check digit)", exc.detail
                    ) from exc
        if len(set(gtins)) != len(gtins):
            raise _invalid("packs", "each pack level needs its own GTIN")
        taken = repo.gtins_taken(gtins)
        if taken:
            raise ConflictError(
                f"GTIN {taken[0]} already belongs to another item.",
                extra={"errors": [field_problem("packs", "GTIN already used")]},
            )
        if preferred_supplier_id is not None:
            _supplier_exists(uow, preferred_supplier_id)
        item = StockItem(
            code=code.upper(),
            name=name,
            kind=kind,
            drug_id=drug_id,
            base_unit=base_unit,
            divisible=divisible,
            item_class=item_class,
            preferred_supplier_id=preferred_supplier_id,
            active=True,
            version=1,
        )
        repo.add(item)
        repo.add_all(
            [
                StockItemPack(
                    item_id=item.id,
                    name=pack.name,
                    base_quantity=pack.base_quantity,
                    gtin=normalize_gtin(pack.gtin) if pack.gtin else None,
                )
                for pack in packs
            ]
        )
        uow.audit(CATEGORY, "item.create", detail={"item_id": item.id, "drug_id": drug_id})
        row = uow.repo(StockQueries).item_rows(item_ids=[item.id])[0]
        uow.commit()
        return row


def _supplier_exists(uow: UnitOfWork, supplier_id: int) -> None:
    if uow.repo(StockRepository).supplier(supplier_id) is None:
        raise _invalid(
            "preferred_supplier_id", "unknown supplier", f"No supplier with id {supplier_id}."
        )


def update_item(
    uow: UnitOfWork, item_id: int, *, version: int, changes: dict[str, Any]
) -> dict[str, Any]:
    with uow:
        item = uow.repo(StockRepository).item(item_id, lock=True)
        check_version(item.version, version, "stock item")
        if changes.get("preferred_supplier_id") is not None:
            _supplier_exists(uow, changes["preferred_supplier_id"])
        for key, value in changes.items():
            setattr(item, key, value)
        touch(item)
        uow.repo(StockRepository).flush()
        uow.audit(CATEGORY, "item.update", detail={"item_id": item.id, "fields": sorted(changes)})
        row = uow.repo(StockQueries).item_rows(item_ids=[item.id])[0]
        uow.commit()
        return row


def list_items(
    uow: UnitOfWork,
    *,
    q: str | None,
    kind: str | None,
    drug_id: int | None,
    item_class: str | None,
    include_inactive: bool,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    with uow:
        return uow.repo(StockQueries).search_items(
            q=q,
            kind=kind,
            drug_id=drug_id,
            item_class=item_class,
            include_inactive=include_inactive,
            limit=limit,
            offset=offset,
        )


def get_item(uow: UnitOfWork, item_id: int) -> dict[str, Any]:
    with uow:
        uow.repo(StockRepository).item(item_id)
        return uow.repo(StockQueries).item_rows(item_ids=[item_id])[0]


def set_level(
    uow: UnitOfWork,
    item_id: int,
    location_id: int,
    *,
    reorder_level: Decimal,
    par_level: Decimal,
    safety_stock: Decimal,
) -> StockLevel:
    """Reorder level, par level and safety stock of an item at a location (upsert)."""
    with uow:
        repo = uow.repo(StockRepository)
        repo.item(item_id)
        repo.location(location_id)
        if par_level < reorder_level:
            raise _invalid("par_level", "must be at least the reorder level")
        level = repo.level(item_id, location_id)
        if level is None:
            level = StockLevel(
                item_id=item_id,
                location_id=location_id,
                version=1,
                reorder_level=reorder_level,
                par_level=par_level,
                safety_stock=safety_stock,
            )
            repo.stage(level)
        else:
            level.reorder_level, level.par_level = reorder_level, par_level
            level.safety_stock = safety_stock
            touch(level)
        repo.flush()
        uow.audit(CATEGORY, "level.set", detail={"item_id": item_id, "location_id": location_id})
        uow.commit()
        return level


# ---------------------------------------------------------------- look-up


def list_stock(
    uow: UnitOfWork,
    *,
    item_id: int | None,
    location_id: int | None,
    lot: str | None,
    status: str | None,
    include_empty: bool,
    all_locations: bool,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Stock by batch. Ward staff must name a ward store (they see ward stock only)."""
    with uow:
        if not all_locations:
            if location_id is None:
                raise WardStockOnlyError(
                    "Your role sees ward-store stock only: give location_id of a ward store."
                )
            readable_location(uow, location_id, all_locations=False)
        return uow.repo(StockQueries).stock_rows(
            item_id=item_id,
            location_id=location_id,
            lot=lot,
            status=status,
            include_empty=include_empty,
            today=uow.hospital.today(),
            limit=limit,
            offset=offset,
        )


def stock_summary(
    uow: UnitOfWork,
    *,
    location_id: int,
    q: str | None,
    all_locations: bool,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    with uow:
        readable_location(uow, location_id, all_locations=all_locations)
        rows, total = uow.repo(StockQueries).summary_rows(
            location_id=location_id, q=q, today=uow.hospital.today(), limit=limit, offset=offset
        )
        return [{**r, "value": uow.hospital.round_money(r["value"])} for r in rows], total


def list_movements(
    uow: UnitOfWork,
    *,
    item_id: int | None,
    location_id: int | None,
    batch_id: int | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    with uow:
        return uow.repo(StockQueries).movement_rows(
            item_id=item_id,
            location_id=location_id,
            batch_id=batch_id,
            kind=kind,
            limit=limit,
            offset=offset,
        )


def list_batches(uow: UnitOfWork, *, item_id: int) -> list[Any]:
    with uow:
        uow.repo(StockRepository).item(item_id)
        return uow.repo(StockQueries).batches_of(item_id)


# ---------------------------------------------------------------- adjustments, write-offs


def _lot_at(uow: UnitOfWork, item: StockItem, location_id: int, lot: str) -> Any:
    repo = uow.repo(StockRepository)
    batch = repo.batch_by_lot(item.id, lot)
    if batch is None:
        raise UnknownLotError(
            f"{item.name} has no lot {lot!r}.",
            extra={"errors": [field_problem("lot", "unknown lot")]},
        )
    return batch


def adjust_stock(
    uow: UnitOfWork,
    *,
    item_id: int,
    location_id: int,
    lot: str,
    quantity_delta: Decimal,
    reason: str,
) -> StockMovement:
    """Correct a balance up or down with a reason (found stock, count correction, …)."""
    with uow:
        repo = uow.repo(StockRepository)
        item = repo.item(item_id)
        repo.location(location_id)
        check_quantity(
            quantity_delta,
            divisible=item.divisible,
            unit=item.base_unit,
            field="quantity_delta",
            allow_negative=True,
        )
        if not reason.strip():
            raise _invalid("reason", "a reason is required")
        batch = _lot_at(uow, item, location_id, lot)
        balance = repo.balance(location_id, batch.id, lock=True)
        held = balance.quantity if balance else Decimal(0)
        if held + quantity_delta < 0:
            raise InsufficientStockError(
                f"Lot {lot} holds {held} {item.base_unit} here; it cannot go down by "
                f"{-quantity_delta}.",
                extra={"available": str(held)},
            )
        [movement_id] = repo.post_movements(
            [
                Posting(
                    "adjustment",
                    item.id,
                    batch.id,
                    location_id,
                    quantity_delta,
                    batch.unit_cost,
                    user_id_of(uow),
                    reason=reason.strip(),
                    reason_code="adjustment",
                )
            ]
        )
        uow.audit(
            CATEGORY,
            "stock.adjust",
            detail={
                "movement_id": movement_id,
                "item_id": item.id,
                "batch_id": batch.id,
                "location_id": location_id,
            },
        )
        uow.publish("stock.changed", {"item_id": item.id, "location_id": location_id})
        movement = repo.movements([movement_id])[0]
        uow.commit()
        return movement


def write_off(
    uow: UnitOfWork,
    *,
    item_id: int,
    location_id: int,
    lot: str,
    quantity: Decimal,
    reason_code: str,
    reason: str,
) -> StockMovement:
    """Remove stock as waste (expired, damaged, …); counts in the waste report."""
    with uow:
        repo = uow.repo(StockRepository)
        item = repo.item(item_id)
        repo.location(location_id)
        check_quantity(quantity, divisible=item.divisible, unit=item.base_unit, field="quantity")
        batch = _lot_at(uow, item, location_id, lot)
        balance = repo.balance(location_id, batch.id, lock=True)
        held = balance.quantity if balance else Decimal(0)
        if held < quantity:
            raise InsufficientStockError(
                f"Lot {lot} holds only {held} {item.base_unit} here.",
                extra={"available": str(held)},
            )
        kind = "recall" if reason_code == "recalled" else "write_off"
        [movement_id] = repo.post_movements(
            [
                Posting(
                    kind,
                    item.id,
                    batch.id,
                    location_id,
                    -quantity,
                    batch.unit_cost,
                    user_id_of(uow),
                    reason=reason.strip(),
                    reason_code=reason_code,
                )
            ]
        )
        uow.audit(
            CATEGORY,
            "stock.write_off",
            detail={
                "movement_id": movement_id,
                "item_id": item.id,
                "batch_id": batch.id,
                "location_id": location_id,
                "reason_code": reason_code,
            },
        )
        uow.publish("stock.changed", {"item_id": item.id, "location_id": location_id})
        movement = repo.movements([movement_id])[0]
        uow.commit()
        return movement


def change_status(
    uow: UnitOfWork, batch_id: int, *, location_id: int, status: str, reason: str
) -> dict[str, Any]:
    """Quarantine a batch at a location (not pickable) or release it again."""
    with uow:
        repo = uow.repo(StockRepository)
        batch = repo.batch(batch_id)
        balance = repo.balance(location_id, batch_id, lock=True)
        if balance is None:
            raise UnknownLotError(f"Lot {batch.lot} is not held at this location.")
        if status == "available":
            if balance.status == "recalled" or batch.recalled_at is not None:
                raise StockNotAvailableError("A recalled lot cannot be released.")
            if batch.expiry < uow.hospital.today():
                raise StockNotAvailableError(
                    f"Lot {batch.lot} expired on {batch.expiry.isoformat()}; it cannot be released."
                )
        elif balance.status not in ("available", "quarantined"):
            raise StockNotAvailableError(f"Lot {batch.lot} is {balance.status} here.")
        repo.set_status(location_id, batch_id, status, reason)
        uow.audit(
            CATEGORY, f"stock.{status}", detail={"batch_id": batch_id, "location_id": location_id}
        )
        uow.publish("stock.changed", {"item_id": batch.item_id, "location_id": location_id})
        rows, _ = uow.repo(StockQueries).stock_rows(
            item_id=batch.item_id,
            location_id=location_id,
            lot=batch.lot,
            status=None,
            include_empty=True,
            today=uow.hospital.today(),
            limit=1,
            offset=0,
        )
        uow.commit()
        return rows[0]


# ---------------------------------------------------------------- transfers


@dataclass(frozen=True)
class TransferInput:
    item_id: int
    quantity: Decimal
    lot: str | None


@dataclass(frozen=True)
class TransferResult:
    reference: str
    from_location_id: int
    to_location_id: int
    movements: list[StockMovement]


def move_stock(
    uow: UnitOfWork,
    *,
    from_location_id: int,
    to_location_id: int,
    lines: list[TransferInput],
    kind: str,
    reference_type: str,
    reference_id: int | None,
    reason: str | None,
) -> list[int]:
    """Post a transfer (or an issue to a ward): minus at the source, plus at the destination,
    FEFO unless a lot is named. Runs inside the caller's transaction."""
    repo = uow.repo(StockRepository)
    if from_location_id == to_location_id:
        raise _invalid("to_location_id", "must differ from the source")
    repo.location(from_location_id)
    repo.location(to_location_id)
    items = repo.items_by_id(line.item_id for line in lines)
    for n, line in enumerate(lines):
        item = items.get(line.item_id)
        if item is None:
            raise _invalid(f"lines.{n}.item_id", "unknown item")
        check_quantity(
            line.quantity,
            divisible=item.divisible,
            unit=item.base_unit,
            field=f"lines.{n}.quantity",
        )
    held = repo.lock_balances(from_location_id, items)
    repo.lock_batches(b.batch_id for b in held)
    today = uow.hospital.today()
    remaining = {b.batch_id: b for b in held}
    postings: list[Posting] = []
    me = user_id_of(uow)
    for n, line in enumerate(lines):
        candidates = [b.candidate() for b in remaining.values() if b.item_id == line.item_id]
        if line.lot is not None:
            candidates = [c for c in candidates if c.lot == line.lot]
            if not candidates:
                raise UnknownLotError(
                    f"Lot {line.lot!r} of {items[line.item_id].name} is not held at the source.",
                    extra={"errors": [field_problem(f"lines.{n}.lot", "not held here")]},
                )
        try:
            picks = pick_fefo(candidates, line.quantity, today)
        except InsufficientStockError as exc:
            exc.extra["item_id"] = line.item_id
            raise
        for pick in picks:
            row = remaining[pick.batch_id]
            cost = row.unit_cost
            # Later lines of the same request see what this one took.
            remaining[pick.batch_id] = replace(row, quantity=row.quantity - pick.quantity)
            postings.append(
                Posting(
                    kind,
                    pick.item_id,
                    pick.batch_id,
                    from_location_id,
                    -pick.quantity,
                    cost,
                    me,
                    reason=reason,
                    reference_type=reference_type,
                    reference_id=reference_id,
                )
            )
            postings.append(
                Posting(
                    kind,
                    pick.item_id,
                    pick.batch_id,
                    to_location_id,
                    pick.quantity,
                    cost,
                    me,
                    reason=reason,
                    reference_type=reference_type,
                    reference_id=reference_id,
                )
            )
    return repo.post_movements(postings)


def transfer_stock(
    uow: UnitOfWork,
    *,
    from_location_id: int,
    to_location_id: int,
    lines: list[TransferInput],
    note: str | None,
) -> TransferResult:
    with uow:
        repo = uow.repo(StockRepository)
        number = repo.next_number("TR", TRANSFER_NUMBER_SEQUENCE)
        ids = move_stock(
            uow,
            from_location_id=from_location_id,
            to_location_id=to_location_id,
            lines=lines,
            kind="transfer",
            reference_type="transfer",
            reference_id=int(number[2:]),
            reason=note or f"Transfer {number}",
        )
        uow.audit(
            CATEGORY,
            "stock.transfer",
            detail={
                "reference": number,
                "from_location_id": from_location_id,
                "to_location_id": to_location_id,
                "movements": len(ids),
            },
        )
        for location in (from_location_id, to_location_id):
            uow.publish("stock.changed", {"location_id": location})
        result = TransferResult(number, from_location_id, to_location_id, repo.movements(ids))
        uow.commit()
        return result


# ---------------------------------------------------------------- expiry


def sweep_expired(uow: UnitOfWork) -> tuple[int, Decimal]:
    """Quarantine every lot past its expiry date (status ``expired``): it can no longer be
    picked, transferred or released, only written off. Idempotent."""
    with uow:
        count, quantity = uow.repo(StockRepository).expire_balances(uow.hospital.today())
        if count:
            uow.audit(CATEGORY, "stock.expiry_sweep", detail={"balances": count})
            uow.publish("stock.changed", {"expired_balances": count})
        uow.commit()
        return count, quantity


class ExpirySweeper:
    """Background worker: runs ``sweep_expired`` at start and then every ``interval``
    seconds. Owns one daemon thread; ``stop`` returns within a second."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], interval: float = 3600.0):
        self._uow_factory = uow_factory
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hms-expiry-sweeper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sweep_expired(self._uow_factory())
            except Exception as exc:  # keep sweeping; the database may be restarting
                log.warning("expiry sweep failed: %s", type(exc).__name__)
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def reconcile(uow: UnitOfWork) -> tuple[int, list[dict[str, str]]]:
    with uow:
        return uow.repo(StockQueries).reconcile()
