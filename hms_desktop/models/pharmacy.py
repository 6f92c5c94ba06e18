"""Qt models of the pharmacy workspace over ``hms_contract`` rows.

``RecordTableModel`` shows a list of contract models (the queue, suggestions, orders,
requisitions, counts, alerts): each column says how to turn a row into text and, where a
status matters, which colour *and* which words show it (colour is never the only signal).
``StockPagedModel`` is the incrementally fetched stock-by-batch list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from hms_desktop.models.paged import Column, PagedTableModel
from hms_desktop.qt import (
    QAbstractTableModel,
    QBrush,
    QColor,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from hms_desktop.tasks import TaskRunner

R = TypeVar("R", bound=BaseModel)
_Index = QModelIndex | QPersistentModelIndex

# The house status colours: waiting amber, in progress blue, done green, critical red.
AMBER, BLUE, GREEN, RED, GREY = "#8a5a00", "#1f5fa8", "#2e7d32", "#c62828", "#5f6b7a"
STATUS_COLOURS = {
    "available": GREEN,
    "quarantined": AMBER,
    "expired": RED,
    "recalled": RED,
    "new": BLUE,
    "partly_dispensed": AMBER,
    "draft": GREY,
    "approved": BLUE,
    "sent": BLUE,
    "partly_received": AMBER,
    "closed": GREEN,
    "cancelled": GREY,
    "requested": AMBER,
    "issued": BLUE,
    "received": GREEN,
    "rejected": GREY,
    "open": AMBER,
    "submitted": BLUE,
    "stock_out": RED,
    "low_stock": AMBER,
    "near_expiry": AMBER,
}


def quantity_text(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize() if value == value.to_integral_value() else value, "f")


def day_text(value: date | None) -> str:
    return value.isoformat() if value else ""


@dataclass(frozen=True)
class RecordColumn(Generic[R]):
    """``text(row)`` for the cell; ``status(row)`` names a status key for its colour."""

    title: str
    text: Callable[[R], str]
    status: Callable[[R], str | None] | None = None
    align_right: bool = False
    tooltip: Callable[[R], str] | None = None


class RecordTableModel(QAbstractTableModel, Generic[R]):
    """A read-only table of contract rows, replaced wholesale by ``set_rows``. GUI thread."""

    def __init__(self, columns: Sequence[RecordColumn[R]], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_item(self, row: int) -> R:
        return self.rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return column.text(row)
        if role == Qt.ItemDataRole.ForegroundRole and column.status is not None:
            colour = STATUS_COLOURS.get(column.status(row) or "")
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(row) if column.tooltip else column.text(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        return None


class StockPagedModel(PagedTableModel):
    """A stock list a page at a time (rows are contract models: ``StockSummaryRead`` in the
    stock tab). Status cells carry colour and words; quantities align right."""

    def __init__(
        self,
        tasks: TaskRunner,
        fetch: Callable[..., Any],
        columns: list[Column],
        parent: Any = None,
    ) -> None:
        super().__init__(tasks, fetch, columns, page_size=100, parent=parent)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and index.isValid()
            and self.columns[index.column()].key == "status"
        ):
            colour = STATUS_COLOURS.get(str(getattr(self.row_item(index.row()), "status", "")))
            return QBrush(QColor(colour)) if colour else None
        if (
            role == Qt.ItemDataRole.TextAlignmentRole
            and index.isValid()
            and self.columns[index.column()].key == "quantity"
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return super().data(index, role)
