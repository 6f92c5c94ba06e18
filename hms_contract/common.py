"""Shared shapes: paging envelope and the problem document."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import (
    AfterValidator,
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
        raise ValueError('give amounts as decimal strings, e.g. "12.50"')
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(max_digits=15, decimal_places=4, allow_inf_nan=False),
    WithJsonSchema(
        {
            "type": "string",
            "format": "decimal",
            "pattern": r"^-?\d{1,11}(\.\d{1,4})?$",
            "examples": ["12.50"],
        }
    ),
    PlainSerializer(lambda amount: format(amount, "f"), return_type=str, when_used="json"),
]
"""An amount of money: ``Decimal`` in Python, a decimal string in JSON (never a float).
Server-side rules check the currency's minor unit (2 decimals for EUR)."""

Quantity = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(max_digits=14, decimal_places=3, allow_inf_nan=False),
    WithJsonSchema(
        {
            "type": "string",
            "format": "decimal",
            "pattern": r"^-?\d{1,11}(\.\d{1,3})?$",
            "examples": ["2"],
        }
    ),
    PlainSerializer(
        lambda q: format(q.normalize() if q == q.to_integral() else q, "f"),
        return_type=str,
        when_used="json",
    ),
]
"""A quantity of a countable thing (tablets, bed-days, millilitres) as a decimal string."""


EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)
"""The range of every date and time HMS accepts (issue 8: year 9999 overflowed date
arithmetic into 500s). Nobody alive was born before 1900; nothing is booked after 2200."""


def _date_in_range(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(
            f"must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"
        )
    return value


def _datetime_in_range(value: datetime) -> datetime:
    _date_in_range(value.date())
    return value


SaneDate = Annotated[date, AfterValidator(_date_in_range)]
"""A date between 1900-01-01 and 2200-12-31 (for bodies and query parameters alike)."""

SaneDateTime = Annotated[datetime, AfterValidator(_datetime_in_range)]
"""A date-time whose date lies between 1900-01-01 and 2200-12-31."""
