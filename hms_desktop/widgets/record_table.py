"""The house read-only record table: whole-row, single selection, no in-place editing.

Every list of records (patients, users, audit entries, the queue, chart items) starts from
this; the caller only decides how its columns size.
"""

from __future__ import annotations

from hms_desktop.qt import QAbstractItemModel, QAbstractItemView, QTableView, QWidget

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
