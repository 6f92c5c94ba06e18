"""A table model over a server list endpoint (``{items, total}`` with ``limit``/``offset``).

Rows are the contract's read models (``PatientSummary``, ``UserRead``, ...) as the typed
area APIs return them; columns read their attributes. Rows arrive a page (50) at a time:
the view asks ``canFetchMore``/``fetchMore`` when the user scrolls near the end, and the
page is fetched on the task runner. Sorting a column
asks the server (``sort`` parameter) instead of sorting locally, because only the server
sees every row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hms_desktop.qt import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from hms_desktop.tasks import TaskRunner

PAGE_SIZE = 50


class PageLike(Protocol):
    """``hms_contract.common.Page[T]`` or any list answer with the same two fields."""

    @property
    def items(self) -> Sequence[Any]: ...

    @property
    def total(self) -> int: ...


Fetch = Callable[[dict[str, Any], "str | None", int, int], PageLike]
"""``fetch(filters, sort, limit, offset) -> Page[T]``; runs on a worker."""

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    """One column: ``key`` an attribute of the row model, header ``title`` (already
    translated), ``sort_key`` the server sort field or ``None`` if the server cannot sort by
    it, ``render(item)`` the text when it is more than the attribute as it is."""

    key: str
    title: str
    sort_key: str | None = None
    render: Callable[[Any], str] | None = None

    def text(self, item: Any) -> str:
        if self.render is not None:
            return self.render(item)
        value = getattr(item, self.key, None)
        return "" if value is None else str(value)


class PagedTableModel(QAbstractTableModel):
    """Incrementally fetched, server-sorted rows. Lives on the GUI thread.

    Signals: ``sig_loading_changed(bool)``, ``sig_total_changed(int)``,
    ``sig_load_failed(exc)``. A failed page stops automatic fetching until ``reload()``.
    Results of a superseded query (filters changed meanwhile) are dropped.
    """

    sig_loading_changed = Signal(bool)
    sig_total_changed = Signal(int)
    sig_load_failed = Signal(object)

    def __init__(
        self,
        tasks: TaskRunner,
        fetch: Fetch,
        columns: list[Column],
        *,
        default_sort: str | None = None,
        page_size: int = PAGE_SIZE,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._fetch = fetch
        self.columns = columns
        self.page_size = page_size
        self._filters: dict[str, Any] = {}
        self._sort = default_sort
        self._rows: list[Any] = []
        self._total: int | None = None
        self._loading = False
        self._failed = False
        self._generation = 0
        self._started = False

    # -- query state -------------------------------------------------------------------
    @property
    def total(self) -> int | None:
        return self._total

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def sort_param(self) -> str | None:
        return self._sort

    @property
    def filters(self) -> dict[str, Any]:
        return dict(self._filters)

    def set_filters(self, **filters: Any) -> None:
        """Replace the filters and load the first page again."""
        self._filters = {k: v for k, v in filters.items() if v not in (None, "")}
        self.reload()

    def reload(self) -> None:
        """Drop all rows and fetch the first page for the current filters and sort."""
        self._generation += 1
        self._started = True
        self.beginResetModel()
        self._rows = []
        self._total = None
        self._failed = False
        self._set_loading(False)
        self.endResetModel()
        self._fetch_next()

    def row_item(self, row: int) -> Any:
        """The row's contract model."""
        return self._rows[row]

    def find_row(self, item_id: Any) -> int:
        for row, item in enumerate(self._rows):
            if getattr(item, "id", None) == item_id:
                return row
        return -1

    def replace_item(self, item: Any) -> None:
        """Show a changed record (e.g. after PATCH) without reloading the list."""
        row = self.find_row(getattr(item, "id", None))
        if row >= 0:
            self._rows[row] = item
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))

    # -- QAbstractTableModel -----------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = self.columns[index.column()]
        item = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return column.text(item)
        if role == Qt.ItemDataRole.UserRole:
            return item
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.ToolTipRole and column.sort_key is None:
            return self.tr("This column cannot be sorted")
        return None

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:
        if parent.isValid() or self._loading or self._failed or not self._started:
            return False
        return self._total is None or len(self._rows) < self._total

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:
        if self.canFetchMore(parent):
            self._fetch_next()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns) or self.columns[column].sort_key is None:
            return
        prefix = "-" if order == Qt.SortOrder.DescendingOrder else ""
        sort = prefix + str(self.columns[column].sort_key)
        if sort == self._sort and self._started:
            return
        self._sort = sort
        if self._started:
            self.reload()

    def sort_column(self) -> tuple[int, Qt.SortOrder] | None:
        """The column and order matching the current server sort, for the header indicator."""
        if not self._sort:
            return None
        key = self._sort.lstrip("-")
        order = (
            Qt.SortOrder.DescendingOrder
            if self._sort.startswith("-")
            else Qt.SortOrder.AscendingOrder
        )
        for i, column in enumerate(self.columns):
            if column.sort_key == key:
                return i, order
        return None

    # -- loading -----------------------------------------------------------------------
    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.sig_loading_changed.emit(loading)

    def _fetch_next(self) -> None:
        generation = self._generation
        filters, sort, limit, offset = (
            dict(self._filters),
            self._sort,
            self.page_size,
            len(self._rows),
        )
        fetch = self._fetch
        self._set_loading(True)
        self._tasks.run(
            lambda: fetch(filters, sort, limit, offset),
            on_done=lambda page: self._on_page(generation, offset, page),
            on_error=lambda exc: self._on_page_failed(generation, exc),
            owner=self,
        )

    def _on_page(self, generation: int, offset: int, page: PageLike) -> None:
        if generation != self._generation or offset != len(self._rows):
            return
        items = list(page.items)
        total = int(page.total)
        self._set_loading(False)
        if items:
            self.beginInsertRows(QModelIndex(), offset, offset + len(items) - 1)
            self._rows.extend(items)
            self.endInsertRows()
        if not items and len(self._rows) < total:
            total = len(self._rows)  # server shrank under us; stop asking
        if total != self._total:
            self._total = total
            self.sig_total_changed.emit(total)

    def _on_page_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._failed = True
        self._set_loading(False)
        self.sig_load_failed.emit(exc)
