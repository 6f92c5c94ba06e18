"""Search-as-you-type patient list (master side of reception's master–detail)."""

from __future__ import annotations

from hms_contract.patients import PatientSummary
from hms_desktop.api.patients import PatientsApi
from hms_desktop.models.patients import PatientsTableModel
from hms_desktop.plurals import plural
from hms_desktop.qt import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QModelIndex,
    QProgressBar,
    QPushButton,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext

SEARCH_DEBOUNCE_MS = 250


class PatientSearchPanel(QWidget):
    """A search box over an incrementally fetched patient table.

    Typing restarts a short debounce timer; only then is the query sent, on the task
    runner. Pages of a query the user has typed past are discarded by the model.
    Signals: ``sig_patient_selected(summary: PatientSummary | None)``,
    ``sig_new_patient_requested()``.
    GUI thread only.
    """

    sig_patient_selected = Signal(object)
    sig_new_patient_requested = Signal()

    def __init__(
        self,
        context: WorkspaceContext,
        patients: PatientsApi,
        parent: QWidget | None = None,
        *,
        debounce_ms: int = SEARCH_DEBOUNCE_MS,
    ) -> None:
        super().__init__(parent)
        self.model = PatientsTableModel(context.tasks, patients, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        row = QHBoxLayout()
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText(self.tr("Name, MRN, phone, birth date or ID"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName(self.tr("Find patient"))
        self.search_edit.setToolTip(
            self.tr(
                "Find a patient by name (3+ letters anywhere in the name), MRN, phone, "
                "date of birth (YYYY-MM-DD) or national ID (Ctrl+F)"
            )
        )
        self.new_button = QPushButton(self.tr("New patient…"), self)
        self.new_button.setAccessibleName(self.tr("Register a new patient"))
        self.new_button.setToolTip(self.tr("Register a new patient (Ctrl+N)"))
        self.new_button.clicked.connect(self.sig_new_patient_requested)
        row.addWidget(self.search_edit, 1)
        row.addWidget(self.new_button)
        layout.addLayout(row)

        self.table = make_record_table(self, self.tr("Patients"), self.model)
        # Name, MRN, born (age), sex, phone ending: never "H…" (two namesakes must differ).
        keep_columns_whole(self.table)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)
        layout.addWidget(self.table, 1)

        status = QHBoxLayout()
        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "subtitle")
        self.count_label.setAccessibleName(self.tr("Number of patients found"))
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(90)
        self.progress.setMaximumHeight(12)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(self.tr("Searching"))
        self.progress.hide()
        status.addWidget(self.count_label, 1)
        status.addWidget(self.progress)
        layout.addLayout(status)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self.search_edit.textChanged.connect(self._on_search_text_changed)
        self.search_edit.returnPressed.connect(self._on_search_return_pressed)
        self.model.sig_loading_changed.connect(self.progress.setVisible)
        self.model.sig_total_changed.connect(self._on_model_total_changed)
        self.model.sig_load_failed.connect(self.problem.show_error)
        self.model.modelReset.connect(self._on_model_reset)

    # -- public ------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def search_now(self, text: str | None = None) -> None:
        """Search for ``text`` (default: the box) without waiting for the debounce."""
        if text is not None and text != self.search_edit.text():
            self.search_edit.setText(text)
        self._debounce.stop()
        self.problem.clear()
        self.model.set_filters(q=self.search_edit.text().strip())

    def current_patient(self) -> PatientSummary | None:
        index = self.table.currentIndex()
        return self.model.row_item(index.row()) if index.isValid() else None

    def select_patient_id(self, patient_id: int) -> bool:
        row = self.model.find_row(patient_id)
        if row >= 0:
            self.table.selectRow(row)
        return row >= 0

    # -- slots -------------------------------------------------------------------------
    def _on_search_text_changed(self, _text: str) -> None:
        self._debounce.start()

    def _on_search_return_pressed(self) -> None:
        self.search_now()
        if self.model.rowCount():
            self.table.setFocus()

    def _on_debounce_timeout(self) -> None:
        self.search_now()

    def _on_model_total_changed(self, total: int) -> None:
        q = self.search_edit.text().strip()
        if total == 0 and q:
            text = self.tr("No patient matches “{q}”. Register them with Ctrl+N.").format(q=q)
        else:
            text = plural(
                total, self.tr("%n patient", "", total), self.tr("%n patients", "", total)
            )
        self.count_label.setText(text)

    def _on_model_reset(self) -> None:
        # The patient in context stays until another one is picked.
        self.count_label.setText(self.tr("Searching…"))

    def _on_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.sig_patient_selected.emit(
            self.model.row_item(current.row()) if current.isValid() else None
        )
