"""The alerts panel: stock-outs, low stock, near-expiry (in the chosen windows) and expired
stock, plus equipment due for service or calibration — each list says what it is in words,
not only in colour."""

from __future__ import annotations

from typing import Any

from hms_contract.equipment import EquipmentAlert
from hms_contract.pharmacy import StockAlert, StockAlerts
from hms_desktop.models.pharmacy import RecordColumn, RecordTableModel, quantity_text
from hms_desktop.qt import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import make_record_table

WINDOW_CHOICES = ((90, 60, 30), (180, 90, 30), (60, 30, 14))


class AlertsTab(QWidget):
    """Four stock lists and the equipment list, reloaded on demand. GUI thread."""

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Near-expiry windows (days):"), self))
        self.window_combo = QComboBox(self)
        self.window_combo.setAccessibleName(self.tr("Near-expiry windows"))
        for windows in WINDOW_CHOICES:
            self.window_combo.addItem(" / ".join(str(w) for w in windows), windows)
        self.window_combo.currentIndexChanged.connect(lambda _i: self.reload())
        bar.addWidget(self.window_combo)
        bar.addStretch(1)
        refresh = QPushButton(self.tr("Refresh"), self)
        refresh.clicked.connect(self.reload)
        bar.addWidget(refresh)
        layout.addLayout(bar)
        grid = QGridLayout()
        self.models: dict[str, RecordTableModel[StockAlert]] = {}
        self.groups: dict[str, QGroupBox] = {}
        for n, (key, title) in enumerate(
            (
                ("stock_outs", self.tr("Out of stock")),
                ("low_stock", self.tr("Low stock (at or below reorder level)")),
                ("near_expiry", self.tr("Expiring soon")),
                ("expired", self.tr("Expired — quarantined, to write off")),
            )
        ):
            group = QGroupBox(title, self)
            box = QVBoxLayout(group)
            columns = [
                RecordColumn(self.tr("Item"), lambda a: a.item_name),
                RecordColumn(self.tr("Where"), lambda a: a.location_code),
                RecordColumn(
                    self.tr("Quantity"),
                    lambda a: quantity_text(a.quantity),
                    align_right=True,
                    status=lambda a: a.kind,
                ),
            ]
            if key in ("near_expiry", "expired"):
                columns += [
                    RecordColumn(self.tr("Lot"), lambda a: a.lot or ""),
                    RecordColumn(
                        self.tr("Expiry"), lambda a: a.expiry.isoformat() if a.expiry else ""
                    ),
                    RecordColumn(
                        self.tr("Within"),
                        lambda a: (
                            self.tr("{n} days").format(n=a.window_days) if a.window_days else "—"
                        ),
                    ),
                ]
            else:
                columns.append(
                    RecordColumn(
                        self.tr("Reorder at"),
                        lambda a: quantity_text(a.reorder_level),
                        align_right=True,
                    )
                )
            model: RecordTableModel[StockAlert] = RecordTableModel(columns, self)
            table = make_record_table(group, title, model)
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            table.horizontalHeader().setStretchLastSection(True)
            box.addWidget(table)
            self.models[key], self.groups[key] = model, group
            grid.addWidget(group, n // 2, n % 2)
        layout.addLayout(grid, 3)
        equipment = QGroupBox(self.tr("Equipment: service, calibration, out of service"), self)
        eq = QVBoxLayout(equipment)
        self.equipment: RecordTableModel[EquipmentAlert] = RecordTableModel(
            [
                RecordColumn(self.tr("Asset"), lambda a: f"{a.asset_tag} {a.name}"),
                RecordColumn(self.tr("What"), lambda a: a.kind.replace("_", " ")),
                RecordColumn(self.tr("Due"), lambda a: a.due_on.isoformat() if a.due_on else ""),
                RecordColumn(
                    self.tr("State"),
                    lambda a: (
                        self.tr("OVERDUE")
                        if a.overdue
                        else (self.tr("in {n} days").format(n=a.days) if a.days is not None else "")
                    ),
                    status=lambda a: (
                        "stock_out" if a.overdue or a.kind == "out_of_service" else "near_expiry"
                    ),
                ),
            ],
            self,
        )
        table = make_record_table(equipment, self.tr("Equipment alerts"), self.equipment)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        eq.addWidget(table)
        layout.addWidget(equipment, 1)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)

    def start(self) -> None:
        self.reload()

    def reload(self) -> None:
        windows = self.window_combo.currentData() or (90, 60, 30)
        self.context.tasks.run(
            lambda: self.context.pharmacy.alerts(windows=windows),
            self._on_alerts,
            on_error=self.problem.show_error,
            owner=self,
        )
        self.context.tasks.run(
            lambda: self.context.pharmacy.equipment_alerts(),
            self.equipment.set_rows,
            on_error=self.problem.show_error,
            owner=self,
        )

    def _on_alerts(self, alerts: StockAlerts) -> None:
        for key, model in self.models.items():
            rows = getattr(alerts, key)
            model.set_rows(rows)
            title = self.groups[key].title().split(" (")[0].split(" —")[0]
            self.groups[key].setAccessibleName(f"{title}: {len(rows)}")

    def counts(self) -> dict[str, int]:
        return {key: model.rowCount() for key, model in self.models.items()}
