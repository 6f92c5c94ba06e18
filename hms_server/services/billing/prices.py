"""The price list: billable items with their price for a period. A price change is a new
row from a date (the current one ends the day before), so a charge captured earlier keeps
its price: charges copy the price, and old rows are never rewritten."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hms_server.adapters.orm.billing import PriceItem
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import field_error
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.domain.versioning import check_version
from hms_server.services.billing.common import audit, money, repo


class PriceCodeTakenError(ConflictError):
    code, title = "price_code_taken", "Price code in use"


def _default_tax_category(rate: Decimal) -> str:
    return "standard" if rate > 0 else "exempt"


def create_price_item(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    category: str,
    unit_price: Decimal,
    tax_rate: Decimal,
    tax_category: str | None,
    effective_from: date | None,
    effective_to: date | None,
    department_id: int | None = None,
    lab_test_id: int | None = None,
    drug_id: int | None = None,
    ward_class: str | None = None,
) -> PriceItem:
    """Add an item to the price list (its code must be new; a new price for an existing
    code is ``change_price``)."""
    with uow:
        r = repo(uow)
        if r.code_exists(code):
            raise PriceCodeTakenError(
                f"The price list already has code {code}; change its price instead.",
                extra={"errors": [field_error("code", "already in the price list")]},
            )
        item = PriceItem(
            code=code.upper(),
            name=name,
            category=category,
            unit_price=money(uow, unit_price, "unit_price"),
            tax_rate=tax_rate,
            tax_category=tax_category or _default_tax_category(tax_rate),
            effective_from=effective_from or uow.hospital.today(),
            effective_to=effective_to,
            department_id=department_id,
            lab_test_id=lab_test_id,
            drug_id=drug_id,
            ward_class=ward_class,
            active=True,
        )
        uow.session.add(item)
        uow.session.flush()
        audit(
            uow,
            "price.create",
            patient_id=None,
            price_item_id=item.id,
            code=item.code,
            unit_price=item.unit_price,
        )
        uow.publish("price_list.changed", {"price_item_id": item.id})
        uow.commit()
        return item


def get_price_item(uow: UnitOfWork, item_id: int) -> PriceItem:
    with uow:
        item = repo(uow).price_item(item_id)
        if item is None:
            raise NotFoundError(f"No price item with id {item_id}.")
        return item


def list_price_items(
    uow: UnitOfWork,
    *,
    q: str | None,
    category: str | None,
    on: date | None,
    current: bool,
    include_inactive: bool,
    limit: int,
    offset: int,
    sort: str,
) -> tuple[list[PriceItem], int]:
    """The price list; ``current`` (default) shows what applies today."""
    with uow:
        when = on or (uow.hospital.today() if current else None)
        return repo(uow).list_price_items(
            q=q,
            category=category,
            on=when,
            include_inactive=include_inactive,
            limit=limit,
            offset=offset,
            sort=sort,
        )


def update_price_item(
    uow: UnitOfWork,
    item_id: int,
    *,
    version: int,
    name: str | None,
    active: bool | None,
    effective_to: date | None,
    fields_set: set[str],
) -> PriceItem:
    with uow:
        item = repo(uow).price_item(item_id, lock=True)
        if item is None:
            raise NotFoundError(f"No price item with id {item_id}.")
        check_version(item.version, version, "price item")
        if name is not None:
            item.name = name
        if active is not None:
            item.active = active
        if "effective_to" in fields_set:
            if effective_to is not None and effective_to < item.effective_from:
                raise ValidationFailedError(
                    "The end date is before the start date.",
                    extra={"errors": [field_error("effective_to", "before effective_from")]},
                )
            item.effective_to = effective_to
        item.updated_at = uow.hospital.now()
        uow.session.flush()
        audit(
            uow,
            "price.update",
            patient_id=None,
            price_item_id=item.id,
            fields=sorted(fields_set - {"version"}),
        )
        uow.publish("price_list.changed", {"price_item_id": item.id})
        uow.commit()
        return item


def change_price(
    uow: UnitOfWork,
    item_id: int,
    *,
    unit_price: Decimal,
    tax_rate: Decimal | None,
    tax_category: str | None,
    effective_from: date,
) -> PriceItem:
    """A new price for the item's code from ``effective_from``; the row in force then ends
    the day before. Charges already captured keep their price."""
    with uow:
        r = repo(uow)
        item = r.price_item(item_id, lock=True)
        if item is None:
            raise NotFoundError(f"No price item with id {item_id}.")
        if item.effective_to is not None and item.effective_to < effective_from:
            raise ValidationFailedError(
                "This price row has already ended; change the current one.",
                extra={"errors": [field_error("effective_from", "after this row ends")]},
            )
        if effective_from <= item.effective_from:
            raise ValidationFailedError(
                "The new price must start after the current one started.",
                extra={
                    "errors": [
                        field_error("effective_from", f"after {item.effective_from.isoformat()}")
                    ]
                },
            )
        rate = item.tax_rate if tax_rate is None else tax_rate
        successor = PriceItem(
            code=item.code,
            name=item.name,
            category=item.category,
            unit_price=money(uow, unit_price, "unit_price"),
            tax_rate=rate,
            tax_category=tax_category
            or (item.tax_category if tax_rate is None else _default_tax_category(rate)),
            effective_from=effective_from,
            effective_to=item.effective_to,
            department_id=item.department_id,
            lab_test_id=item.lab_test_id,
            drug_id=item.drug_id,
            ward_class=item.ward_class,
            active=item.active,
        )
        item.effective_to = effective_from - timedelta(days=1)
        item.updated_at = uow.hospital.now()
        uow.session.flush()
        uow.session.add(successor)
        uow.session.flush()
        audit(
            uow,
            "price.change",
            patient_id=None,
            price_item_id=successor.id,
            previous_id=item.id,
            code=item.code,
            unit_price=successor.unit_price,
            effective_from=effective_from.isoformat(),
        )
        uow.publish("price_list.changed", {"price_item_id": successor.id})
        uow.commit()
        return successor
