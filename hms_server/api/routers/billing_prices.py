"""The price list (``price_list.read``; admin and billing clerk maintain it with
``price_list.manage``). A new price for a code is ``POST /price-items/{id}/prices``: the
old row ends the day before, so charges already captured keep their price."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.billing import PriceChange, PriceItemCreate, PriceItemRead, PriceItemUpdate
from hms_contract.common import Page
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath, Limit, Offset
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.routers._billing import (
    PriceManager,
    PriceReader,
    to_model,
    to_models,
)
from hms_server.services.billing import prices as svc

router = APIRouter(tags=["billing: price list"], responses=PROBLEM_RESPONSES)

PriceSort = Annotated[
    str,
    Query(
        pattern=r"^-?(code|name|category|unit_price|effective_from)$",
        description="code, name, category, unit_price, effective_from; '-' = descending",
    ),
]


@router.get("/price-items", operation_id="list_price_items")
def list_price_items(
    ctx: PriceReader,
    q: Annotated[str | None, Query(max_length=100)] = None,
    category: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,31}$")] = None,
    on: Annotated[date | None, Query(description="Prices in force on this day")] = None,
    current: Annotated[bool, Query(description="Only what is in force today")] = True,
    include_inactive: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
    sort: PriceSort = "code",
) -> Page[PriceItemRead]:
    """Search the price list (by code or name); by default what is in force today."""
    rows, total = svc.list_price_items(
        ctx.uow(),
        q=q,
        category=category,
        on=on,
        current=current,
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
        sort=sort,
    )
    return Page[PriceItemRead](items=to_models(ctx, PriceItemRead, rows), total=total)


@router.post(
    "/price-items", operation_id="create_price_item", status_code=201, response_model=PriceItemRead
)
def create_price_item(
    body: PriceItemCreate,
    request: Request,
    ctx: PriceManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Add an item; ``unit_price`` a decimal string with at most the currency's decimals,
    ``tax_rate`` a percentage."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.create_price_item(
            uow,
            code=body.code,
            name=body.name,
            category=body.category,
            unit_price=body.unit_price,
            tax_rate=body.tax_rate,
            tax_category=body.tax_category,
            effective_from=body.effective_from,
            effective_to=body.effective_to,
            department_id=body.department_id,
            lab_test_id=body.lab_test_id,
            drug_id=body.drug_id,
            ward_class=body.ward_class,
        ),
        lambda item: to_model(ctx, PriceItemRead, item),
        headers=lambda item: {"Location": f"/api/v1/price-items/{item.id}"},
    )


@router.get("/price-items/{item_id}", operation_id="get_price_item")
def get_price_item(item_id: IdPath, ctx: PriceReader) -> PriceItemRead:
    return to_model(ctx, PriceItemRead, svc.get_price_item(ctx.uow(), item_id))


@router.patch("/price-items/{item_id}", operation_id="update_price_item")
def update_price_item(item_id: IdPath, body: PriceItemUpdate, ctx: PriceManager) -> PriceItemRead:
    """Rename, deactivate or end an item (its price is changed with ``/prices``)."""
    item = svc.update_price_item(
        ctx.uow(),
        item_id,
        version=body.version,
        name=body.name,
        active=body.active,
        effective_to=body.effective_to,
        fields_set=set(body.model_fields_set),
    )
    return to_model(ctx, PriceItemRead, item)


@router.post(
    "/price-items/{item_id}/prices",
    operation_id="change_price",
    status_code=201,
    response_model=PriceItemRead,
)
def change_price(
    item_id: IdPath,
    body: PriceChange,
    request: Request,
    ctx: PriceManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A new price from ``effective_from`` (the current row ends the day before)."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.change_price(
            uow,
            item_id,
            unit_price=body.unit_price,
            tax_rate=body.tax_rate,
            tax_category=body.tax_category,
            effective_from=body.effective_from,
        ),
        lambda item: to_model(ctx, PriceItemRead, item),
    )
