"""The house read-only record table: whole-row, single selection, no in-place editing.

Every list of records (patients, users, audit entries, the queue, chart items) starts from
this; the caller only decides how its columns size. Columns that identify a patient (name,
MRN, birth date, sex, phone) are *whole columns* (``keep_columns_whole``): they are never
elided to "H…" or "19…", because two rows that look alike are a wrong-patient risk.
"""

from __future__ import annotations

from collections.abc import Sequence

from hms_desktop.qt import (
    QAbstractItemModel,
    QAbstractItemView,
    QHeaderView,
    QObject,
    Qt,
    QTableView,
    QTimer,
    QWidget,
)

ROW_HEIGHT = 26


def make_record_table(parent: QWidget, name: str, model: QAbstractItemModel) -> QTableView:
    table = QTableView(parent)
    table.setModel(model)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    return table


class WholeColumns(QObject):
    """Keeps the given columns of ``table`` as wide as their widest loaded text, and the
    table at least as wide as those columns together, so the splitter or window around it
    can never squeeze them into an ellipsis. Other columns share what is left (they
    stretch, and only they may elide); when every column is whole, the last one (or the
    whole column named by ``stretch``) stretches to fill the row, never narrower than its
    text. Recomputed, coalesced, whenever rows arrive or change.

    GUI thread only; owned by the table.
    """

    def __init__(
        self,
        table: QTableView,
        columns: Sequence[int],
        other_minimum: int = 60,
        stretch: int | None = None,
    ) -> None:
        super().__init__(table)
        self.table = table
        self.columns = tuple(columns)
        self.other_minimum = other_minimum
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)  # only the non-identifying ones
        header = table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(min(other_minimum, header.minimumSectionSize()))
        count = table.model().columnCount()
        # Whole columns are sized here, from the rows (Qt's own ResizeToContents mode does
        # not always follow rows that arrive later); the others stretch.
        for column in range(count):
            whole = column in self.columns
            header.setSectionResizeMode(
                column,
                QHeaderView.ResizeMode.Interactive if whole else QHeaderView.ResizeMode.Stretch,
            )
        self._stretched_whole = -1
        if stretch is not None and stretch in self.columns:
            self._stretched_whole = stretch
        elif count and all(c in self.columns for c in range(count)):
            self._stretched_whole = count - 1
        if self._stretched_whole >= 0:
            header.setSectionResizeMode(self._stretched_whole, QHeaderView.ResizeMode.Stretch)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.update_minimum_width)
        model = table.model()
        for signal in (
            model.modelReset,
            model.rowsInserted,
            model.dataChanged,
            model.layoutChanged,
        ):
            signal.connect(self._schedule)
        self.update_minimum_width()

    def _schedule(self, *_args: object) -> None:
        self._timer.start()

    def required_width(self) -> int:
        """The narrowest the table may be: every whole column at its content width, the
        others at their minimum, plus the frame and a vertical scroll bar."""
        table, header = self.table, self.table.horizontalHeader()
        width = 0
        for column in range(header.count()):
            if header.isSectionHidden(column):
                continue
            if column in self.columns:
                width += self.content_width(column)
            else:
                width += self.other_minimum
        scroll = table.verticalScrollBar().sizeHint().width()
        return width + scroll + 2 * table.frameWidth() + 2

    def content_width(self, column: int) -> int:
        return max(
            self.table.sizeHintForColumn(column),
            self.table.horizontalHeader().sectionSizeHint(column),
        )

    def update_minimum_width(self) -> None:
        """Size the whole columns to their content and the table to need them all."""
        header = self.table.horizontalHeader()
        for column in self.columns:
            if column != self._stretched_whole and column < header.count():
                width = self.content_width(column)
                if header.sectionSize(column) != width:
                    header.resizeSection(column, width)
        needed = self.required_width()
        if needed != self.table.minimumWidth():
            self.table.setMinimumWidth(needed)


def keep_columns_whole(
    table: QTableView,
    columns: Sequence[int] | None = None,
    other_minimum: int = 60,
    stretch: int | None = None,
) -> WholeColumns:
    """Make ``columns`` (default: all) of ``table`` whole columns (see ``WholeColumns``);
    ``stretch``, one of them, takes the row's spare width instead of the last column."""
    count = table.model().columnCount()
    whole = WholeColumns(
        table, range(count) if columns is None else columns, other_minimum, stretch
    )
    table.whole_columns = whole  # type: ignore[attr-defined]  (kept alive with the table)
    return whole


def column_is_whole(table: QTableView, column: int) -> bool:
    """Every loaded row's text fits its cell (tests and the screenshot check use this)."""
    return table.columnWidth(column) >= table.sizeHintForColumn(column)
