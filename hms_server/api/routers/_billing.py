"""Shared pieces of the billing routers (no routes here): permissions, id types, mapping
views to contract models, and hiding patient names from roles without ``patients.read``
(a manager approves and reads receivables by ids)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from hms_server.api.deps import RequestContext, requirement
from hms_server.domain.permissions import Perm

M = TypeVar("M", bound=BaseModel)

PriceReader = requirement(Perm.PRICE_LIST_READ)
PriceManager = requirement(Perm.PRICE_LIST_MANAGE)
BillingReader = requirement(Perm.BILLING_READ)
BillingWriter = requirement(Perm.BILLING_WRITE)
Cashier = requirement(Perm.PAYMENTS_TAKE)
Approver = requirement(Perm.BILLING_APPROVE)
InsuranceManager = requirement(Perm.INSURANCE_MANAGE)
SignedIn = requirement(Perm.SELF)


_NAME_FIELDS = ("patient_name", "patient_mrn")


def _scrub(value: Any) -> Any:
    if isinstance(value, BaseModel):
        updates = {name: _scrub(getattr(value, name)) for name in type(value).model_fields}
        for name in _NAME_FIELDS:
            if name in updates:
                updates[name] = None
        return value.model_copy(update=updates)
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


def to_model(ctx: RequestContext, model: type[M], view: Any) -> M:
    """``view`` (a service dataclass or ORM row) as ``model``; patient names removed for
    roles that may not read demographics."""
    result = model.model_validate(view, from_attributes=True)
    if Perm.PATIENTS_READ not in ctx.principal.permissions:
        result = _scrub(result)
    return result


def to_models(ctx: RequestContext, model: type[M], views: list[Any]) -> list[M]:
    return [to_model(ctx, model, view) for view in views]
