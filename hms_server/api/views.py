"""Mapping service results onto contract models by field name.

Routers answer ``Model.model_validate(obj, from_attributes=True)``. When a response's fields
come from several rows (a prescription item and its drug, a grant and its user's name),
``combined(row_a, row_b, extra=value)`` is the one object to validate from: each attribute is
looked up in the keyword values first, then in each row in turn, so only the fields whose
names differ are spelled out.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


class combined:
    __slots__ = ("_fields", "_rows")

    def __init__(self, *rows: object, **fields: Any) -> None:
        self._rows, self._fields = rows, fields

    def __getattr__(self, name: str) -> Any:
        if name in self._fields:
            return self._fields[name]
        for row in self._rows:
            if hasattr(row, name):
                return getattr(row, name)
        raise AttributeError(name)


def read(model: type[M], obj: object) -> M:
    """``obj`` (a row, a view, or ``combined(...)``) as the contract model ``model``."""
    return model.model_validate(obj, from_attributes=True)
