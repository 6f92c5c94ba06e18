"""The staff workspace: Directory, Roster, Leave, Payroll and Reviews tabs over one
``StaffApi``. It loads what several tabs need once (the places shifts are worked and the
people employed today) and hands it to them; each tab then loads its own data on the task
runner when first shown."""

from __future__ import annotations

from typing import Any

from hms_contract.staff import RosterUnit, StaffRead
from hms_desktop.api.staff import StaffApi
from hms_desktop.qt import QTabWidget, QVBoxLayout, QWidget
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.staff.directory_tab import DirectoryTab
from hms_desktop.workspaces.staff.leave_tab import LeaveTab
from hms_desktop.workspaces.staff.payroll_tab import PayrollTab
from hms_desktop.workspaces.staff.reviews_tab import ReviewsTab
from hms_desktop.workspaces.staff.roster_tab import RosterTab

PEOPLE_LIMIT = 500


class StaffWorkspace(QWidget):
    """HR officer's and manager's workspace. GUI thread only; owns its tabs."""

    def __init__(self, context: WorkspaceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.staff = StaffApi(context.api)
        self.units: list[RosterUnit] = []
        self.people: list[StaffRead] = []
        self.ready = False
        layout = QVBoxLayout(self)
        self.problem = ProblemLabel(self)
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Staff workspace sections"))
        self.directory = DirectoryTab(context, self.staff, self)
        self.roster = RosterTab(context, self.staff, self)
        self.leave = LeaveTab(context, self.staff, self)
        self.payroll = PayrollTab(context, self.staff, self)
        self.reviews = ReviewsTab(context, self.staff, self)
        for widget, title, tip in (
            (self.directory, self.tr("Directory"), self.tr("Staff records")),
            (self.roster, self.tr("Roster"), self.tr("Duty roster by week")),
            (self.leave, self.tr("Leave"), self.tr("Leave requests to decide")),
            (self.payroll, self.tr("Payroll"), self.tr("Pay runs and payslips")),
            (self.reviews, self.tr("Reviews"), self.tr("Performance reviews")),
        ):
            index = self.tabs.addTab(widget, title)
            self.tabs.setTabToolTip(index, tip)
        layout.addWidget(self.problem)
        layout.addWidget(self.tabs, 1)
        self._loaded: set[int] = set()
        self.tabs.currentChanged.connect(self._on_tab)
        context.tasks.run(self._load_shared, self._on_shared, self.problem.show_error, owner=self)
        # Another desk's change shows here: the tab already loaded reloads.
        events = context.events()
        events.subscribe(("shift.",), self._on_roster_event)
        events.subscribe(("leave.",), self._on_leave_event)
        events.subscribe(("pay_run.",), self._on_pay_run_event)

    def _load_shared(self) -> tuple[list[RosterUnit], list[StaffRead]]:
        units = self.staff.units()
        people = self.staff.staff(active=True, limit=PEOPLE_LIMIT).items
        return units, people

    def _on_shared(self, loaded: tuple[list[RosterUnit], list[StaffRead]]) -> None:
        self.units, self.people = loaded
        self.reviews.set_people(self.people)
        self.leave.set_people(self.people)
        self.ready = True
        self._loaded.clear()
        self._on_tab(self.tabs.currentIndex())

    def _on_tab(self, index: int) -> None:
        if not self.ready or index in self._loaded:
            return
        self._loaded.add(index)
        tab: Any = self.tabs.widget(index)
        if tab is self.directory:
            self.directory.start(self.units)
        elif tab is self.roster:
            self.roster.start(self.units, self.people)
        elif tab is self.leave:
            self.leave.reload()
        elif tab is self.payroll:
            self.payroll.reload()
        elif tab is self.reviews:
            self.reviews.reload()

    def _loaded_tab(self, tab: QWidget) -> bool:
        return self.tabs.indexOf(tab) in self._loaded

    def _on_roster_event(self, _type: str, _data: dict) -> None:
        if self._loaded_tab(self.roster):
            self.roster.reload()

    def _on_leave_event(self, _type: str, _data: dict) -> None:
        if self._loaded_tab(self.leave):
            self.leave.reload()

    def _on_pay_run_event(self, _type: str, data: dict) -> None:
        if self._loaded_tab(self.payroll):
            selected = self.payroll.selected_run()
            self.payroll.reload(None if selected else data.get("pay_run_id"))

    def prepare_screenshot(self) -> None:
        """Screenshot tour hook: the first person in the directory opened."""
        if self.directory.model.rowCount():
            self.directory.table.selectRow(0)

    def screenshot_views(self) -> list[tuple[str, object]]:
        """Screenshot tour hook: every other tab as it looks when opened (the roster on the
        first ward, the payroll tab with a payslip in print preview)."""
        return [
            ("roster", lambda: self._show_only("roster")),
            ("leave", lambda: self._show_only("leave")),
            ("payroll", lambda: self._show_only("payroll")),
            ("payslip", self._payslip_preview),
            ("reviews", lambda: self._show_only("reviews")),
            ("link-sign-in", self._link_dialog),
        ]

    def _link_dialog(self) -> QWidget | None:
        """The directory's "Link sign-in…" dialog for the first record, listing every
        sign-in (the demo's are all linked, so "not linked yet only" would list none)."""
        self._show_only("directory")
        if self.directory.model.rowCount():
            self.directory.table.selectRow(0)
        dialog = self.directory.link_sign_in()
        if dialog is not None:
            dialog.unlinked_only.setChecked(False)
        return dialog

    def _show_only(self, name: str) -> None:
        self.show_tab(name)  # the tour then grabs the whole window

    def _payslip_preview(self) -> QWidget | None:
        # The tour grabs the widget a hook returns, so the preview must exist now: this one
        # hook renders the (~10 ms) PDF on the GUI thread; the Print button never does.
        self.show_tab("payroll")
        slips = self.payroll.slips
        row = slips.find_row(lambda s: s.night_shifts > 0)  # a payslip with every line used
        if row >= 0:
            self.payroll.slips_table.selectRow(row)
        return self.payroll.open_preview_now()

    def show_tab(self, name: str) -> QWidget:
        """Bring a tab forward by attribute name (``"roster"``); used by the screenshot tour."""
        widget: QWidget = getattr(self, name)
        self.tabs.setCurrentWidget(widget)
        return widget
