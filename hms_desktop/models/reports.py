"""Qt item model for the tables of a management report, and how report figures read.

Report tables are bounded (departments, doctors, wards, items, or at most 731 days of a
series), so they are plain row models, not paged ones. Each column knows its kind: numbers
are right-aligned and sort as numbers (``SORT_ROLE``), money shows the currency's decimals
with thousands grouped, empty figures (no data) show an en dash.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from hms_desktop.qt import QAbstractTableModel, QModelIndex, Qt

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
NO_FIGURE = "–"


def money_text(amount: Decimal | None, minor_unit: int = 2) -> str:
    """``1234.5`` → ``1,234.50``."""
    if amount is None:
        return NO_FIGURE
    quantum = Decimal(1).scaleb(-minor_unit)
    return f"{amount.quantize(quantum):,.{minor_unit}f}"


def figure_text(value: Decimal | int | None, suffix: str = "") -> str:
    """A measured figure (percent, minutes, days) as sent, or an en dash for none."""
    if value is None:
        return NO_FIGURE
    return f"{value}{suffix}"


def count_text(value: int | Decimal | None) -> str:
    if value is None:
        return NO_FIGURE
    if isinstance(value, Decimal):
        value = value.normalize() if value == value.to_integral() else value
        return f"{value:,f}"
    return f"{value:,}"


def bucket_text(day: date, grouping: str) -> str:
    """How a series bucket reads: a day with its weekday, a week by its first day, a month."""
    if grouping == "month":
        return day.strftime("%b %Y")
    if grouping == "week":
        return day.strftime("w/c %d %b %Y")
    return day.strftime("%a %d %b %Y")


@dataclass(frozen=True)
class ReportColumn:
    """One column: its header, how to read the value from a row, and what kind it is
    (``text``, ``count``, ``money``, ``figure``, ``bucket``)."""

    header: str
    value: Callable[[Any], Any]
    kind: str = "text"
    suffix: str = ""


class ReportTableModel(QAbstractTableModel):
    """Rows of one report table (contract models). GUI thread only; rows are replaced
    whole when a report arrives."""

    def __init__(
        self, columns: Sequence[ReportColumn], *, minor_unit: int = 2, parent: Any = None
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.minor_unit = minor_unit
        self.grouping = "day"
        self.rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any], grouping: str = "day") -> None:
        self.beginResetModel()
        self.rows, self.grouping = list(rows), grouping
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header
        if role == Qt.ItemDataRole.TextAlignmentRole and column.kind not in ("text", "bucket"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def text(self, row: int, column: int) -> str:
        """The cell as shown (also what the PDF prints)."""
        spec = self.columns[column]
        value = spec.value(self.rows[row])
        if spec.kind == "money":
            return money_text(value, self.minor_unit)
        if spec.kind == "figure":
            return figure_text(value, spec.suffix)
        if spec.kind == "count":
            return count_text(value)
        if spec.kind == "bucket":
            return bucket_text(value, self.grouping)
        return "" if value is None else str(value)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        spec = self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.text(index.row(), index.column())
        if role == SORT_ROLE:
            value = spec.value(self.rows[index.row()])
            if spec.kind in ("text",):
                return "" if value is None else str(value).casefold()
            if spec.kind == "bucket":
                return value.toordinal()
            return float("-inf") if value is None else float(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and spec.kind not in ("text", "bucket"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
