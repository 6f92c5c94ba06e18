"""Stock counts: open a cycle count of a location (optionally one item class), type what is
on the shelf, review the variances (quantity and value), submit and approve."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hms_contract.pharmacy import CountEntries, CountEntry, StockCountRead
from hms_desktop.models.pharmacy import RecordColumn, RecordTableModel, quantity_text
from hms_desktop.qt import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import make_record_table
from hms_desktop.workspaces.pharmacy.forms import parse_quantity


class CountsTab(QWidget):
    """Counts list (left) and the selected count's sheet (right). GUI thread."""

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.count: StockCountRead | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Count location:"), self))
        self.location_combo = QComboBox(self)
        self.location_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.location_combo.setAccessibleName(self.tr("Location to count"))
        bar.addWidget(self.location_combo)
        self.class_edit = QLineEdit(self)
        self.class_edit.setAccessibleName(self.tr("Item class"))
        self.class_edit.setPlaceholderText(self.tr("Item class (optional)"))
        bar.addWidget(self.class_edit)
        self.open_button = QPushButton(self.tr("Start count"), self)
        self.open_button.setToolTip(self.tr("Snapshot what the system expects and start"))
        self.open_button.clicked.connect(self.open_count)
        bar.addWidget(self.open_button)
        bar.addStretch(1)
        layout.addLayout(bar)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        layout.addWidget(splitter, 1)
        self.counts: RecordTableModel[StockCountRead] = RecordTableModel(
            [
                RecordColumn(self.tr("Number"), lambda c: c.number),
                RecordColumn(self.tr("Status"), lambda c: c.status, status=lambda c: c.status),
                RecordColumn(self.tr("Class"), lambda c: c.item_class or self.tr("all")),
                RecordColumn(
                    self.tr("Opened"), lambda c: c.created_at.astimezone().strftime("%d %b %H:%M")
                ),
            ],
            self,
        )
        self.count_table = make_record_table(splitter, self.tr("Stock counts"), self.counts)
        self.count_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.count_table.selectionModel().currentRowChanged.connect(self._on_row)
        splitter.addWidget(self.count_table)
        sheet_box = QWidget(splitter)
        sheet_layout = QVBoxLayout(sheet_box)
        sheet_layout.setContentsMargins(8, 0, 0, 0)
        self.sheet_label = QLabel(self.tr("Choose or start a count."), sheet_box)
        sheet_layout.addWidget(self.sheet_label)
        self.sheet = QTableWidget(0, 6, sheet_box)
        self.sheet.setAccessibleName(self.tr("Count sheet"))
        self.sheet.setHorizontalHeaderLabels(
            [
                self.tr("Item"),
                self.tr("Lot"),
                self.tr("Expected"),
                self.tr("Counted"),
                self.tr("Variance"),
                self.tr("Value"),
            ]
        )
        self.sheet.verticalHeader().hide()
        self.sheet.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        sheet_layout.addWidget(self.sheet, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton(self.tr("Save counts"), sheet_box)
        self.save_button.clicked.connect(self.save_counts)
        self.submit_button = QPushButton(self.tr("Submit for review"), sheet_box)
        self.submit_button.clicked.connect(lambda: self.step("submit"))
        self.approve_button = QPushButton(self.tr("Approve variances"), sheet_box)
        self.approve_button.setToolTip(self.tr("Post every variance to the ledger"))
        self.approve_button.clicked.connect(lambda: self.step("approve"))
        for button in (self.save_button, self.submit_button, self.approve_button):
            buttons.addWidget(button)
        sheet_layout.addLayout(buttons)
        splitter.addWidget(sheet_box)
        splitter.setSizes([360, 860])
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self._show(None)

    def start(self) -> None:
        self.context.tasks.run(
            lambda: self.context.pharmacy.locations(),
            self._on_locations,
            on_error=self.problem.show_error,
            owner=self,
        )
        self.reload()

    def _on_locations(self, locations: list[Any]) -> None:
        self.location_combo.clear()
        for loc in locations:
            self.location_combo.addItem(f"{loc.name} ({loc.code})", loc.id)

    def reload(self) -> None:
        self.context.tasks.run(
            lambda: self.context.pharmacy.counts(),
            lambda page: self.counts.set_rows(page.items),
            on_error=self.problem.show_error,
            owner=self,
        )

    def _on_row(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            count_id = self.counts.row_item(current.row()).id
            self.context.tasks.run(
                lambda: self.context.pharmacy.count(count_id),
                self._show,
                on_error=self.problem.show_error,
                owner=self,
            )

    def open_count(self) -> None:
        location = self.location_combo.currentData()
        if location is None:
            return
        item_class = self.class_edit.text().strip() or None
        self.context.tasks.run(
            lambda: self.context.pharmacy.open_count(location, item_class),
            on_done=lambda c: (self.reload(), self._show(c)),
            on_error=self.problem.show_error,
            owner=self,
        )

    def _show(self, count: StockCountRead | None) -> None:
        self.count = count
        self.problem.clear()
        self.sheet.setRowCount(0)
        editable = count is not None and count.status == "open"
        self.save_button.setEnabled(editable)
        self.submit_button.setEnabled(editable)
        self.approve_button.setEnabled(count is not None and count.status == "submitted")
        if count is None:
            return
        self.sheet_label.setText(
            self.tr("{number} · {status} · variance value {value}").format(
                number=count.number, status=count.status, value=count.variance_value
            )
        )
        self.sheet.setRowCount(len(count.lines))
        for row, line in enumerate(count.lines):
            for col, text in (
                (0, line.item_name),
                (1, line.lot),
                (2, quantity_text(line.expected_quantity)),
                (4, quantity_text(line.variance)),
                (5, str(line.variance_value or "")),
            ):
                cell = QTableWidgetItem(text)
                cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if col == 4 and line.variance:
                    cell.setForeground(Qt.GlobalColor.darkRed)
                    cell.setText(("+" if line.variance > 0 else "") + text)
                self.sheet.setItem(row, col, cell)
            counted = QTableWidgetItem(quantity_text(line.counted_quantity))
            if not editable:
                counted.setFlags(counted.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.sheet.setItem(row, 3, counted)

    def save_counts(self) -> None:
        count = self.count
        if count is None:
            return
        entries = []
        for row, line in enumerate(count.lines):
            text = (self.sheet.item(row, 3).text() or "").strip()
            if not text:
                continue
            value = Decimal(0) if text == "0" else parse_quantity(text)
            if value is None:
                self.problem.show_text(
                    self.tr("Row {n}: counts are whole numbers or decimals like 2.5.").format(
                        n=row + 1
                    )
                )
                return
            entries.append(CountEntry(line_id=line.id, counted_quantity=value))
        if not entries:
            return
        body = CountEntries(version=count.version, entries=entries)
        self.context.tasks.run(
            lambda: self.context.pharmacy.enter_counts(count.id, body),
            self._show,
            on_error=self.problem.show_error,
            owner=self,
        )

    def step(self, step: str) -> None:
        count = self.count
        if count is None:
            return
        self.context.tasks.run(
            lambda: self.context.pharmacy.count_step(count.id, step, count.version),
            on_done=lambda c: (self.reload(), self._show(c)),
            on_error=self.problem.show_error,
            owner=self,
        )
