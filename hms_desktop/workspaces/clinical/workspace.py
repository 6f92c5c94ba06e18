"""The clinical (doctor's) workspace: patient list on the left, the chart on the right."""

from __future__ import annotations

from hms_desktop.api.clinical import ClinicalApi
from hms_desktop.api.patients import PatientsApi
from hms_desktop.api.scheduling import SchedulingApi
from hms_desktop.qt import QKeySequence, QLabel, QShortcut, QSplitter, Qt, QVBoxLayout, QWidget
from hms_desktop.widgets.layout_memory import remember_splitter
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.clinical.chart import ChartView
from hms_desktop.workspaces.clinical.chart_tabs import may_do
from hms_desktop.workspaces.clinical.patient_list import PatientListPanel
from hms_desktop.workspaces.clinical.today_queue import QUEUE_ACTIONS


class ClinicalWorkspace(QWidget):
    """Master–detail: today's patients and search (left), the chart (right).

    Shortcuts: Ctrl+F find patient, Ctrl+N new note, Ctrl+P print prescription; the queue:
    Ctrl+Shift+N call next, Ctrl+Shift+S start consultation, Ctrl+Shift+D complete.
    The first load (today's list and a first page of patients) starts when shown. Builds
    the typed area APIs (``ClinicalApi``, ``PatientsApi``, ``SchedulingApi``) once over
    ``context.api`` and hands them to its panels with the context.
    """

    def __init__(self, context: WorkspaceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.clinical = ClinicalApi(context.api)
        self.patients_api = PatientsApi(context.api)
        self.scheduling_api = SchedulingApi(context.api)
        self._started = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        title = QLabel(self.tr("Clinical"), self)
        title.setProperty("role", "title")
        layout.addWidget(title)
        self.patients = PatientListPanel(context, self.patients_api, self.scheduling_api, self)
        self.chart = ChartView(context, self.clinical, self)
        splitter = self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.patients)
        splitter.addWidget(self.chart)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([470, 790])
        splitter.setChildrenCollapsible(False)
        remember_splitter(splitter, context.settings, "clinical/panes")
        layout.addWidget(splitter, 1)
        self.patients.sig_patient_chosen.connect(self.chart.open_patient)

        today = self.patients.today
        for keys, slot in (
            ("Ctrl+F", self.focus_search),
            ("Ctrl+N", lambda: self.chart.do_action("new_note")),
            ("Ctrl+P", lambda: self.chart.do_action("print")),
            *(
                (keys, lambda k=key: today.run_action(k))
                for key, _text, _tip, keys in QUEUE_ACTIONS
            ),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            self.patients.load_today()
            self.patients.apply_search()

    def focus_search(self) -> None:
        self.patients.search_edit.setFocus()
        self.patients.search_edit.selectAll()

    def screenshot_views(self) -> list[tuple[str, object]]:
        """Screenshot tour hook: the prescribing dialog for the chart that is open."""
        if self.chart.patient is None or self.chart.chart is None:
            return []

        def prescribe():
            self.chart.do_action("prescribe")
            dialog = self.chart.dialog
            if dialog is not None:
                dialog.resize(860, 760)
                # A search by another common name: the drug and its other names show.
                dialog.search_edit.setText("aspirin")
                dialog.search()
            return dialog

        views: list[tuple[str, object]] = [
            ("timeline", lambda: self.chart.tabs.setCurrentWidget(self.chart.timeline_tab))
        ]
        if may_do(self.context, "prescribe"):
            views.append(("prescribe", prescribe))
        return views

    def prepare_screenshot(self) -> None:
        """Screenshot tour: open the first patient of today's list (or of the search)."""
        panel = self.patients
        if panel.today_list.count():
            panel.today.open_row(0)
        elif panel.model.rowCount():
            panel.sig_patient_chosen.emit(panel.model.row_item(0))
