"""The pharmacist's workspace: Dispensing (the live queue and the counter), Stock (look-up
by item, batch or location, batch actions, consumption chart), Store (reorder suggestions,
purchase orders and receiving, ward requisitions), Counts and Alerts.

Each tab loads when first shown; every request runs on the task runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hms_desktop.api.pharmacy import PharmacyApi
from hms_desktop.qt import QKeySequence, QLabel, QShortcut, Qt, QTabWidget, QVBoxLayout, QWidget
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.pharmacy.alerts_view import AlertsTab
from hms_desktop.workspaces.pharmacy.counts_view import CountsTab
from hms_desktop.workspaces.pharmacy.dispensing import DispensingTab
from hms_desktop.workspaces.pharmacy.stock_view import StockTab
from hms_desktop.workspaces.pharmacy.store_view import StoreTab


@dataclass
class PharmacyContext:
    """The shared workspace context plus the typed pharmacy API."""

    tasks: Any
    me: dict
    show_status: Any
    pharmacy: PharmacyApi
    events: Any = None

    @classmethod
    def from_workspace(cls, context: WorkspaceContext) -> PharmacyContext:
        return cls(
            context.tasks, context.me, context.show_status, PharmacyApi(context.api), context.events
        )


class PharmacyWorkspace(QWidget):
    """Tabs over one context. Shortcuts: Ctrl+1…5 switch tabs, Ctrl+F search the queue,
    Ctrl+D verify and dispense, Ctrl+P print labels, Ctrl+L look up stock, Ctrl+R reload
    the queue."""

    def __init__(self, context: WorkspaceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = PharmacyContext.from_workspace(context)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        title = QLabel(self.tr("Pharmacy"), self)
        title.setProperty("role", "title")
        layout.addWidget(title)
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Pharmacy sections"))
        self.dispensing = DispensingTab(self.context, self.tabs)
        self.stock = StockTab(self.context, self.tabs)
        self.store = StoreTab(self.context, self.tabs)
        self.counts = CountsTab(self.context, self.tabs)
        self.alerts = AlertsTab(self.context, self.tabs)
        for n, (page, text) in enumerate(
            (
                (self.dispensing, self.tr("Dispensing")),
                (self.stock, self.tr("Stock")),
                (self.store, self.tr("Store")),
                (self.counts, self.tr("Counts")),
                (self.alerts, self.tr("Alerts")),
            ),
            start=1,
        ):
            self.tabs.addTab(page, text)
            self.tabs.setTabToolTip(n - 1, f"{text} (Ctrl+{n})")
            self._shortcut(f"Ctrl+{n}", lambda i=n - 1: self.tabs.setCurrentIndex(i))
        layout.addWidget(self.tabs, 1)
        self._started: set[int] = set()
        self.tabs.currentChanged.connect(self._start_tab)
        for keys, slot in (
            ("Ctrl+F", self._focus_queue_search),
            ("Ctrl+D", self.dispensing.open_dispense),
            ("Ctrl+P", self.dispensing.print_selected_labels),
            ("Ctrl+R", self.dispensing.reload),
            ("Ctrl+L", self._focus_stock_search),
        ):
            self._shortcut(keys, slot)

    def _shortcut(self, keys: str, slot: Any) -> None:
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._start_tab(self.tabs.currentIndex())

    def _start_tab(self, index: int) -> None:
        if index in self._started or index < 0:
            return
        self._started.add(index)
        page = self.tabs.widget(index)
        start = getattr(page, "start", None)
        if callable(start):
            start()

    def _focus_queue_search(self) -> None:
        self.tabs.setCurrentWidget(self.dispensing)
        self.dispensing.search_edit.setFocus()
        self.dispensing.search_edit.selectAll()

    def _focus_stock_search(self) -> None:
        self.tabs.setCurrentWidget(self.stock)
        self.stock.search_edit.setFocus()
        self.stock.search_edit.selectAll()

    def prepare_screenshot(self) -> None:
        """Screenshot tour: select the first prescription in the queue."""
        if self.dispensing.model.rowCount():
            self.dispensing.table.selectRow(0)
