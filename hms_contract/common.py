"""Shared shapes: paging envelope and the problem document."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """Every list answers ``{"items": [...], "total": n}``."""

    items: list[T]
    total: int = Field(ge=0)


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, plus a stable ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None



def _no_float(value: object) -> object:
    # A float has already lost the exact amount (0.1 + 0.2); money arrives as a decimal
    # string ("12.50") or an integer, never as a JSON number with a fraction.
    if isinstance(value, float):
        raise ValueError("give amounts as decimal strings, e.g. \"12.50\"")
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(max_digits=15, decimal_places=4, allow_inf_nan=False),
    WithJsonSchema({"type": "string", "format": "decimal", "pattern": r"^-?\d{1,11}(\.\d{1,4})?$",
                    "examples": ["12.50"]}),
    PlainSerializer(lambda amount: format(amount, "f"), return_type=str, when_used="json"),
]
"""An amount of money: ``Decimal`` in Python, a decimal string in JSON (never a float).
Server-side rules check the currency's minor unit (2 decimals for EUR)."""

Quantity = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(max_digits=14, decimal_places=3, allow_inf_nan=False),
    WithJsonSchema({"type": "string", "format": "decimal", "pattern": r"^-?\d{1,11}(\.\d{1,3})?$",
                    "examples": ["2"]}),
    PlainSerializer(lambda q: format(q.normalize() if q == q.to_integral() else q, "f"),
                    return_type=str, when_used="json"),
]
"""A quantity of a countable thing (tablets, bed-days, millilitres) as a decimal string."""
