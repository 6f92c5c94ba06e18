"""The stock tab: look stock up by item (name or scanned pack), lot or location; see every
batch of the chosen item everywhere, its consumption trend, and act on a batch (quarantine,
release, adjust, write off, recall, transfer)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from hms_contract.pharmacy import (
    AdjustmentCreate,
    ConsumptionSeries,
    RecallReport,
    StatusChange,
    StockRead,
    TransferCreate,
    TransferLine,
    WriteOffCreate,
)
from hms_desktop.models.paged import Column
from hms_desktop.models.pharmacy import (
    RecordColumn,
    RecordTableModel,
    StockPagedModel,
    quantity_text,
)
from hms_desktop.plurals import plural
from hms_desktop.qt import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    Qt,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import make_record_table
from hms_desktop.widgets.trend_chart import Series, TrendChart
from hms_desktop.workspaces.pharmacy.forms import QuantityReasonDialog, ReasonDialog

WRITE_OFF_CODES = (
    ("expired", "Expired"),
    ("damaged", "Damaged"),
    ("returned_unusable", "Returned, unusable"),
    ("other", "Other"),
)
_STATUS_WORDS = {
    "available": "Available",
    "quarantined": "Quarantined",
    "expired": "Expired",
    "recalled": "Recalled",
}


@dataclass(frozen=True)
class ItemRef:
    """The item the detail side shows."""

    item_id: int
    item_name: str
    base_unit: str = ""


def looks_like_barcode(text: str) -> bool:
    t = text.strip()
    return t.startswith(("]d2", "]C1", "(01)", "HMSDL")) or (t.isdigit() and len(t) >= 8)


class StockTab(QWidget):
    """Master (items at a location) – detail (batches everywhere, trend, actions).
    Shortcut: Ctrl+L focuses the look-up field. GUI thread."""

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.item: ItemRef | None = None
        self.locations: list[Any] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Location:"), self))
        self.location_combo = QComboBox(self)
        self.location_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.location_combo.setAccessibleName(self.tr("Location"))
        self.location_combo.currentIndexChanged.connect(lambda _i: self.apply_search())
        bar.addWidget(self.location_combo)
        self.search_edit = QLineEdit(self)
        self.search_edit.setAccessibleName(self.tr("Look up stock"))
        self.search_edit.setPlaceholderText(self.tr("Item name, scanned pack, or lot:ABC123"))
        self.search_edit.setToolTip(self.tr("Look up by item, barcode or lot (Ctrl+L)"))
        self.search_edit.returnPressed.connect(self.apply_search)
        bar.addWidget(self.search_edit, 1)
        layout.addLayout(bar)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        layout.addWidget(splitter, 1)

        left = QWidget(splitter)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.total_label = QLabel(left)
        left_layout.addWidget(self.total_label)
        columns = [
            Column("item_name", self.tr("Item")),
            Column(
                "available",
                self.tr("Usable"),
                render=lambda r: f"{quantity_text(r.available)} {r.base_unit}",
            ),
            Column(
                "unavailable",
                self.tr("Not usable"),
                render=lambda r: quantity_text(r.unavailable) if r.unavailable else "",
            ),
            Column(
                "next_expiry",
                self.tr("Next expiry"),
                render=lambda r: r.next_expiry.isoformat() if r.next_expiry else "",
            ),
            Column("value", self.tr("Value"), render=lambda r: str(r.value)),
        ]
        self.summary = StockPagedModel(context.tasks, self._fetch_summary, columns, self)
        self.summary.sig_total_changed.connect(
            lambda n: self.total_label.setText(
                plural(n, self.tr("{n} item here"), self.tr("{n} items here")).format(n=n)
            )
        )
        self.summary_table = make_record_table(left, self.tr("Items at the location"), self.summary)
        # Item names are how people tell items apart: never elided (the list scrolls
        # sideways instead).
        self.summary_table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.summary_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.summary_table.selectionModel().currentRowChanged.connect(self._on_item_row)
        left_layout.addWidget(self.summary_table, 1)
        splitter.addWidget(left)

        right = QWidget(splitter)
        detail = QVBoxLayout(right)
        detail.setContentsMargins(8, 0, 0, 0)
        self.item_label = QLabel(self.tr("Choose an item to see its batches."), right)
        self.item_label.setAccessibleName(self.tr("Item"))
        self.item_label.setTextFormat(Qt.TextFormat.RichText)
        detail.addWidget(self.item_label)
        self.batches: RecordTableModel[StockRead] = RecordTableModel(
            [
                RecordColumn(self.tr("Location"), lambda r: r.location_code),
                RecordColumn(self.tr("Lot"), lambda r: r.lot),
                RecordColumn(self.tr("Expiry"), lambda r: r.expiry.isoformat()),
                RecordColumn(
                    self.tr("Days left"), lambda r: str(r.expires_in_days), align_right=True
                ),
                RecordColumn(
                    self.tr("Quantity"), lambda r: quantity_text(r.quantity), align_right=True
                ),
                RecordColumn(
                    self.tr("Status"),
                    lambda r: self.tr(_STATUS_WORDS[r.status]),
                    status=lambda r: r.status,
                ),
                RecordColumn(self.tr("Unit cost"), lambda r: str(r.unit_cost), align_right=True),
            ],
            self,
        )
        self.batch_table = make_record_table(right, self.tr("Batches"), self.batches)
        self.batch_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.batch_table.horizontalHeader().setStretchLastSection(True)
        detail.addWidget(self.batch_table, 2)
        actions = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip in (
            ("quarantine", self.tr("Quarantine…"), self.tr("Stop this lot being picked")),
            ("release", self.tr("Release…"), self.tr("Make a quarantined lot usable")),
            ("adjust", self.tr("Adjust…"), self.tr("Correct the quantity with a reason")),
            ("write_off", self.tr("Write off…"), self.tr("Expired or damaged stock")),
            ("transfer", self.tr("Transfer…"), self.tr("Move to another location")),
            (
                "recall",
                self.tr("Recall…"),
                self.tr("Recall the lot everywhere and trace its patients"),
            ),
        ):
            button = QPushButton(text, right)
            button.setToolTip(tip)
            button.setAccessibleName(text.rstrip("…"))
            button.clicked.connect(lambda _c=False, k=key: self.batch_action(k))
            actions.addWidget(button)
            self.buttons[key] = button
        actions.addStretch(1)
        detail.addLayout(actions)
        self.chart = TrendChart(right)
        self.chart.setAccessibleName(self.tr("Weekly consumption"))
        self.chart.setMinimumHeight(180)
        detail.addWidget(self.chart, 2)
        self.problem = ProblemLabel(right)
        detail.addWidget(self.problem)
        splitter.addWidget(right)
        splitter.setSizes([660, 580])
        splitter.setChildrenCollapsible(False)
        self._enable_actions()
        self.batch_table.selectionModel().currentRowChanged.connect(
            lambda *_a: self._enable_actions()
        )

    # -- loading ---------------------------------------------------------------------------
    def start(self) -> None:
        self.context.tasks.run(
            lambda: self.context.pharmacy.locations(),
            self._on_locations,
            on_error=self.problem.show_error,
            owner=self,
        )

    def _on_locations(self, locations: list[Any]) -> None:
        self.locations = locations
        self.location_combo.blockSignals(True)
        self.location_combo.clear()
        for loc in sorted(locations, key=lambda x: (x.kind != "pharmacy", x.name)):
            self.location_combo.addItem(f"{loc.name} ({loc.code})", loc.id)
        self.location_combo.blockSignals(False)
        self.apply_search()

    def _fetch_summary(self, filters: dict, _sort: Any, limit: int, offset: int) -> Any:
        return self.context.pharmacy.summary(
            filters["location_id"], q=filters.get("q"), limit=limit, offset=offset
        )

    def apply_search(self) -> None:
        """Name → items at the location; ``lot:X`` → that lot everywhere; a scan → the
        scanned item."""
        text = self.search_edit.text().strip()
        location = self.location_combo.currentData()
        if location is None:
            return
        if text.lower().startswith("lot:"):
            lot = text[4:].strip()
            self.context.tasks.run(
                lambda: self.context.pharmacy.stock(lot=lot),
                on_done=lambda page: self._show_batches(None, page.items),
                on_error=self.problem.show_error,
                owner=self,
            )
            return
        if looks_like_barcode(text):
            self.context.tasks.run(
                lambda: self.context.pharmacy.resolve(text),
                on_done=self._on_resolved,
                on_error=self.problem.show_error,
                owner=self,
            )
            return
        self.summary.set_filters(location_id=location, q=text or None)

    def _on_resolved(self, scan: Any) -> None:
        self.search_edit.setText(scan.item_name or "")
        self.apply_search()
        if scan.stock_item_id:
            self.show_item(ItemRef(scan.stock_item_id, scan.item_name or ""))

    def _on_item_row(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            row = self.summary.row_item(current.row())
            self.show_item(ItemRef(row.item_id, row.item_name, row.base_unit))

    def show_item(self, ref: ItemRef) -> None:
        self.item = ref
        self.problem.clear()
        item_id = ref.item_id
        self.item_label.setText(
            self.tr("<b>{name}</b> — batches at every location").format(
                name=html.escape(ref.item_name)
            )
        )
        self.context.tasks.run(
            lambda: self.context.pharmacy.stock(item_id=item_id),
            on_done=lambda page: self._show_batches(ref, page.items),
            on_error=self.problem.show_error,
            owner=self,
        )
        location = self.location_combo.currentData()
        self.context.tasks.run(
            lambda: self.context.pharmacy.consumption(item_id, location_id=location),
            on_done=self._show_consumption,
            on_error=self.problem.show_error,
            owner=self,
        )

    def _show_batches(self, ref: ItemRef | None, rows: list[StockRead]) -> None:
        if ref is None and rows:
            self.item = ItemRef(rows[0].item_id, rows[0].item_name, rows[0].base_unit)
            self.item_label.setText(
                self.tr("<b>Lot {lot}</b> — where it is").format(lot=html.escape(rows[0].lot))
            )
        self.batches.set_rows(rows)
        self._enable_actions()

    def _show_consumption(self, series: ConsumptionSeries) -> None:
        points = [
            (datetime.combine(p.week_start, time(12), UTC), float(p.quantity))
            for p in series.points
        ]
        name = self.item.item_name if self.item else ""
        self.chart.set_data(
            self.tr("Weekly consumption — {name}").format(name=name),
            self.item.base_unit if self.item else "",
            [Series(self.tr("Used per week"), points)],
        )

    # -- batch actions ---------------------------------------------------------------------
    def selected_batch(self) -> StockRead | None:
        rows = self.batch_table.selectionModel().selectedRows()
        return self.batches.row_item(rows[0].row()) if rows else None

    def _enable_actions(self) -> None:
        batch = self.selected_batch()
        state = batch.status if batch else None
        self.buttons["quarantine"].setEnabled(state == "available")
        self.buttons["release"].setEnabled(state == "quarantined")
        for key in ("adjust", "write_off"):
            self.buttons[key].setEnabled(batch is not None)
        self.buttons["transfer"].setEnabled(state == "available")
        self.buttons["recall"].setEnabled(batch is not None and state != "recalled")

    def batch_action(self, key: str) -> Any:
        """Open the dialog for ``key`` on the selected batch (returned, for tests)."""
        batch = self.selected_batch()
        if batch is None:
            return None
        pharmacy, tasks = self.context.pharmacy, self.context.tasks
        title = f"{batch.item_name} · {self.tr('lot')} {batch.lot} · {batch.location_code}"
        dialog: Any
        if key in ("quarantine", "release"):
            status = "quarantined" if key == "quarantine" else "available"
            dialog = ReasonDialog(
                tasks,
                title,
                self.tr("Quarantine") if key == "quarantine" else self.tr("Release"),
                self.tr("Why?"),
                lambda reason: pharmacy.set_status(
                    batch.batch_id,
                    StatusChange(location_id=batch.location_id, status=status, reason=reason),
                ),
                self,
            )
        elif key == "adjust":
            dialog = QuantityReasonDialog(
                tasks,
                title,
                self.tr("Adjust"),
                unit=batch.base_unit,
                signed=True,
                send=lambda q, reason, _c: pharmacy.adjust(
                    AdjustmentCreate(
                        item_id=batch.item_id,
                        location_id=batch.location_id,
                        lot=batch.lot,
                        quantity_delta=q,
                        reason=reason,
                    )
                ),
                parent=self,
            )
        elif key == "write_off":
            dialog = QuantityReasonDialog(
                tasks,
                title,
                self.tr("Write off"),
                unit=batch.base_unit,
                signed=False,
                codes=[(k, self.tr(t)) for k, t in WRITE_OFF_CODES],
                send=lambda q, reason, code: pharmacy.write_off(
                    WriteOffCreate(
                        item_id=batch.item_id,
                        location_id=batch.location_id,
                        lot=batch.lot,
                        quantity=q,
                        reason_code=code or "other",
                        reason=reason,
                    )
                ),
                parent=self,
            )
        elif key == "transfer":
            dialog = self._transfer_dialog(batch, title)
        else:
            dialog = ReasonDialog(
                tasks,
                self.tr("Recall lot {lot}").format(lot=batch.lot),
                self.tr("Recall"),
                self.tr(
                    "Every unit of this lot, at every location, becomes unusable. You "
                    "will see where it is and which patients received it."
                ),
                lambda reason: pharmacy.recall(batch.batch_id, reason),
                self,
            )
            dialog.sig_saved.connect(self._show_recall)
        dialog.sig_saved.connect(lambda _r: self._after_change())
        dialog.open()
        return dialog

    def _transfer_dialog(self, batch: StockRead, title: str) -> Any:
        others = [loc for loc in self.locations if loc.id != batch.location_id]
        dialog = QuantityReasonDialog(
            self.context.tasks,
            title,
            self.tr("Transfer"),
            unit=batch.base_unit,
            signed=False,
            codes=[(str(loc.id), loc.name) for loc in others],
            send=lambda q, reason, dest: self.context.pharmacy.transfer(
                TransferCreate(
                    from_location_id=batch.location_id,
                    to_location_id=int(dest or 0),
                    lines=[TransferLine(item_id=batch.item_id, quantity=q, lot=batch.lot)],
                    note=reason,
                )
            ),
            parent=self,
        )
        dialog.form.labelForField(dialog.code_combo).setText(self.tr("To"))
        return dialog

    def _show_recall(self, report: RecallReport) -> None:
        where = "\n".join(
            f"• {h.location_name}: {quantity_text(h.quantity)}" for h in report.holdings
        ) or self.tr("• none in stock")
        who = "\n".join(
            f"• {r.patient_name} (MRN {r.mrn}): {quantity_text(r.quantity)} on "
            f"{r.dispensed_at.astimezone():%d %b %Y}"
            for r in report.recipients
        )
        self.recall_box = QMessageBox(self)
        self.recall_box.setWindowTitle(self.tr("Recall of lot {lot}").format(lot=report.batch.lot))
        self.recall_box.setAccessibleName(self.tr("Recall trace"))
        self.recall_box.setText(
            self.tr(
                "In stock ({on_hand}):\n{where}\n\nDispensed to patients ({n}) "
                "({dispensed}):\n{who}"
            ).format(
                on_hand=quantity_text(report.on_hand_total),
                where=where,
                n=len({r.patient_id for r in report.recipients}),
                dispensed=quantity_text(report.dispensed_total),
                who=who or "—",
            )
        )
        self.recall_box.open()

    def _after_change(self) -> None:
        self.summary.reload()
        if self.item is not None:
            self.show_item(self.item)
