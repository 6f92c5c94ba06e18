"""The pieces of a report screen: the row of KPI cards, the trend chart and the tabbed
tables. They only display what they are given (GUI thread); the workspace fetches."""

from __future__ import annotations

from typing import Any

from hms_desktop.models.reports import SORT_ROLE, ReportTableModel
from hms_desktop.qt import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSortFilterProxyModel,
    QStackedWidget,
    Qt,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.record_table import make_record_table
from hms_desktop.workspaces.reports.bucket_chart import BucketChart
from hms_desktop.workspaces.reports.definitions import ChartSpec, Kpi, ReportView


class KpiCard(QFrame):
    """One headline figure: a small caption over a large value; the hint is the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("kpiCard")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        self.caption = QLabel(self)
        self.caption.setProperty("role", "muted")
        self.value = QLabel(self)
        self.value.setStyleSheet("font-size: 17pt; font-weight: 600")
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)

    def show_kpi(self, kpi: Kpi) -> None:
        self.caption.setText(kpi.label)
        self.value.setText(kpi.value)
        self.setToolTip(kpi.hint)
        self.setAccessibleName(f"{kpi.label}: {kpi.value}")
        self.setAccessibleDescription(kpi.hint)


class KpiStrip(QWidget):
    """The report's headline figures side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Headline figures"))
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.cards: list[KpiCard] = []

    def show_kpis(self, kpis: list[Kpi]) -> None:
        while len(self.cards) < len(kpis):
            card = KpiCard(self)
            self.cards.append(card)
            self._layout.addWidget(card, 1)
        for card, kpi in zip(self.cards, kpis, strict=False):
            card.show_kpi(kpi)
            card.show()
        for card in self.cards[len(kpis) :]:
            card.hide()

    def values(self) -> dict[str, str]:
        return {c.caption.text(): c.value.text() for c in self.cards if not c.isHidden()}


class ReportChart(QStackedWidget):
    """The report's chart, or a plain sentence when the period has nothing to chart."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chart = BucketChart(self)
        self.chart.setAccessibleName(self.tr("Report chart"))
        self.empty = QLabel(self.tr("Nothing to chart in this period."), self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setProperty("role", "muted")
        self.addWidget(self.chart)
        self.addWidget(self.empty)
        self.setMinimumHeight(190)

    def show_chart(self, spec: ChartSpec, grouping: str) -> None:
        series = [(s.name, s.points) for s in spec.series if s.points]
        buckets = [day for _name, points in series for day, _value in points]
        self.chart.set_data(spec.title, spec.unit, buckets, series, grouping)
        has_values = any(value for _name, points in series for _day, value in points)
        self.setCurrentWidget(self.chart if has_values else self.empty)

    def has_data(self) -> bool:
        return self.currentWidget() is self.chart


class ReportTables(QTabWidget):
    """One tab per table of the report, each a sortable read-only table."""

    def __init__(self, minor_unit: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Report tables"))
        self.minor_unit = minor_unit
        self.models: list[ReportTableModel] = []
        self.views: list[QTableView] = []
        self.view_spec: ReportView | None = None

    def set_report_view(self, view: ReportView) -> None:
        """Build the tabs of ``view`` (empty until a report arrives)."""
        if self.view_spec is view:
            return
        self.view_spec = view
        self.clear()
        self.models, self.views = [], []
        for spec in view.tables:
            model = ReportTableModel(spec.columns, minor_unit=self.minor_unit, parent=self)
            proxy = QSortFilterProxyModel(self)
            proxy.setSourceModel(model)
            proxy.setSortRole(SORT_ROLE)
            table = make_record_table(self, spec.title, proxy)
            table.setSortingEnabled(True)
            table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
            header = table.horizontalHeader()
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setStretchLastSection(False)
            header.setMinimumSectionSize(70)
            self.models.append(model)
            self.views.append(table)
            self.addTab(table, spec.title)

    def show_report(self, report: Any, grouping: str) -> None:
        assert self.view_spec is not None
        for model, spec in zip(self.models, self.view_spec.tables, strict=True):
            model.set_rows(spec.rows(report), grouping)
        for view in self.views:
            view.resizeColumnsToContents()

    def current_key(self) -> str:
        assert self.view_spec is not None
        return self.view_spec.tables[max(self.currentIndex(), 0)].key
