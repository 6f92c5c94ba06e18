"""The master list: my patients today (with the queue, ``today_queue``) and patient search."""

from __future__ import annotations

from hms_desktop.api.patients import PatientsApi
from hms_desktop.api.scheduling import SchedulingApi
from hms_desktop.models.clinical import PatientSearchModel
from hms_desktop.qt import (
    QLabel,
    QLineEdit,
    QListWidget,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.clinical.today_queue import TodayQueuePanel


class PatientListPanel(QWidget):
    """Today's patients of the signed-in doctor (with their queue) above a search-as-you-type
    list.

    Emits ``sig_patient_chosen(patient)`` with a ``PatientSummary`` (search) or a
    ``PatientRef`` (today's list); the chart opens either.
    Emits ``sig_today_loaded(count)`` when today's list has arrived (or failed: -1).
    """

    sig_patient_chosen = Signal(object)
    sig_today_loaded = Signal(int)

    def __init__(
        self,
        context: WorkspaceContext,
        patients: PatientsApi,
        scheduling: SchedulingApi,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.today = TodayQueuePanel(context, scheduling, self)
        self.today.sig_patient_chosen.connect(self.sig_patient_chosen)
        self.today.sig_loaded.connect(self.sig_today_loaded)

        search_title = QLabel(self.tr("Find patient"), self)
        search_title.setStyleSheet("font-weight: 600;")
        self.search_edit = QLineEdit(self)
        self.search_edit.setAccessibleName(self.tr("Find patient"))
        self.search_edit.setPlaceholderText(self.tr("Name, MRN, phone or birth date (Ctrl+F)"))
        self.search_edit.setToolTip(self.tr("Find a patient (Ctrl+F); Down moves to results"))
        self.search_edit.setClearButtonEnabled(True)
        search_title.setBuddy(self.search_edit)
        self.model = PatientSearchModel(context.tasks, patients, self)
        self.table = make_record_table(self, self.tr("Patients found"), self.model)
        keep_columns_whole(self.table)  # name, MRN, born, sex, phone: never elided
        self.table.activated.connect(self._on_table_activated)
        self.table.clicked.connect(self._on_table_activated)
        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "subtitle")
        self.count_label.setAccessibleName(self.tr("Number of patients found"))
        self.problem = ProblemLabel(self)
        self.model.sig_total_changed.connect(self._update_count)
        self.model.rowsInserted.connect(self._update_count)
        self.model.sig_load_failed.connect(self.problem.show_error)
        self.model.modelReset.connect(self.problem.clear)

        layout.addWidget(self.today)
        layout.addSpacing(8)
        layout.addWidget(search_title)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.count_label)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.apply_search)
        self.search_edit.textEdited.connect(lambda _t: self._timer.start())
        self.search_edit.returnPressed.connect(self.apply_search)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Down and self.search_edit.hasFocus():
            self.table.setFocus()
            if self.model.rowCount():
                self.table.selectRow(0)
            return
        super().keyPressEvent(event)

    # -- today -------------------------------------------------------------------------
    @property
    def today_list(self) -> QListWidget:
        return self.today.list

    @property
    def today_count(self) -> int | None:
        return self.today.count

    def load_today(self) -> None:
        self.today.reload()

    # -- search ------------------------------------------------------------------------
    def apply_search(self) -> None:
        self._timer.stop()
        text = self.search_edit.text().strip()
        if text != self.model.filters.get("q", "") or self.model.total is None:
            self.model.set_filters(q=text)

    def _update_count(self, *_args) -> None:
        total = self.model.total
        if total is None:
            self.count_label.setText(self.tr("Searching…"))
        else:
            self.count_label.setText(
                self.tr("Showing {shown} of {total} patients").format(
                    shown=self.model.rowCount(), total=total
                )
            )

    def _on_table_activated(self, index) -> None:
        if index.isValid():
            self.sig_patient_chosen.emit(self.model.row_item(index.row()))
