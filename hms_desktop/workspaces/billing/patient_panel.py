"""Find the patient whose account to open (search as at reception: name, MRN, phone, birth
date or ID), or open an invoice straight from its number (what a patient brings to the
desk, or what the QR code on it scans to)."""

from __future__ import annotations

from hms_desktop.api.patients import PatientsApi
from hms_desktop.models.paged import Column
from hms_desktop.models.patients import PatientsTableModel
from hms_desktop.qt import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QModelIndex,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table

DEBOUNCE_MS = 250


class PatientPanel(QWidget):
    """Signals: ``sig_patient_selected(summary: dict)``, ``sig_invoice_number_entered(str)``.
    The patient search is hidden for roles that may not read demographics (a manager)."""

    sig_patient_selected = Signal(object)
    sig_invoice_number_entered = Signal(str)

    def __init__(
        self, tasks: TaskRunner, patients_api: PatientsApi | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        number_row = QHBoxLayout()
        self.number_edit = QLineEdit(self)
        self.number_edit.setPlaceholderText(self.tr("Invoice number, e.g. INV-2026-000123"))
        self.number_edit.setAccessibleName(self.tr("Open invoice by number"))
        self.number_edit.setToolTip(
            self.tr("Type or scan an invoice number and press Enter (Ctrl+G)")
        )
        self.number_edit.returnPressed.connect(self._on_number_return_pressed)
        number_row.addWidget(QLabel(self.tr("Invoice"), self))
        number_row.addWidget(self.number_edit, 1)
        layout.addLayout(number_row)
        self.model: PatientsTableModel | None = None
        self.search_edit = QLineEdit(self)
        self.problem = ProblemLabel(self)
        if patients_api is None:
            note = QLabel(
                self.tr(
                    "Your role reads accounts by invoice number; patient search "
                    "is for the billing desk."
                ),
                self,
            )
            note.setWordWrap(True)
            layout.addWidget(note)
            layout.addStretch(1)
            self.search_edit.hide()
            return
        self.search_edit.setPlaceholderText(self.tr("Name, MRN, phone, birth date or ID"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName(self.tr("Find patient"))
        self.search_edit.setToolTip(self.tr("Find the patient whose account to open (Ctrl+F)"))
        layout.addWidget(self.search_edit)
        self.model = PatientsTableModel(tasks, patients_api, self)
        # At the billing desk the birth date tells namesakes apart; the age is not needed,
        # and the name gets the room (it identifies the patient: never elided).
        self.model.columns[2] = Column("date_of_birth", self.tr("Born"))
        self.table = make_record_table(self, self.tr("Patients"), self.model)
        for column in range(3, self.model.columnCount()):
            self.table.setColumnHidden(column, True)  # sex, phone: not needed at the desk
        # Name, MRN and birth date are whole columns, never cut to "Adeyemi, …": two
        # namesakes must look different (the pane widens to fit them).
        keep_columns_whole(self.table, (0, 1, 2))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.search_now)
        self.search_edit.textChanged.connect(lambda _t: self._debounce.start())
        self.search_edit.returnPressed.connect(self.search_now)
        self.model.sig_load_failed.connect(self.problem.show_error)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

    @property
    def loading(self) -> bool:
        return bool(self.model and self.model.loading)

    def focus_search(self) -> None:
        target = self.search_edit if self.model is not None else self.number_edit
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)
        target.selectAll()

    def focus_number(self) -> None:
        self.number_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.number_edit.selectAll()

    def search_now(self) -> None:
        if self.model is not None:
            self._debounce.stop()
            self.problem.clear()
            self.model.set_filters(q=self.search_edit.text().strip())

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and self.model is not None:
            self.sig_patient_selected.emit(self.model.row_item(current.row()))

    def _on_number_return_pressed(self) -> None:
        number = self.number_edit.text().strip().upper()
        if number:
            self.sig_invoice_number_entered.emit(number)
