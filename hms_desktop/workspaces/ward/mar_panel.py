"""The medication administration record of the patient in context, with the scan form.

The nurse picks the dose (or an as-needed medicine), scans the wristband, then the
medication; the server checks the five rights. A refusal is shown in red with what was
wrong (``wrong_patient``, ``wrong_drug`` …) and nothing is recorded; a dose outside its
window asks for the reason. Overdue doses are red, with the word OVERDUE.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hms_contract.mar import AdministrationCreate, MarRead, MedicationOrderRead
from hms_contract.wards import AdmissionRead
from hms_desktop.api.wards import FiveRightsError, WardsApi
from hms_desktop.models.ward import DoseTableModel
from hms_desktop.qt import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QLineEdit,
    QPushButton,
    QShortcut,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import make_record_table

STATUSES = (("given", "Given"), ("held", "Held"), ("refused", "Refused"), ("missed", "Missed"))


class MarPanel(QWidget):
    """GUI thread; loads and records through ``tasks``. ``sig_recorded`` after a dose."""

    sig_recorded = Signal()

    def __init__(self, tasks: Any, wards: WardsApi, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks, self.wards = tasks, wards
        self.admission: AdmissionRead | None = None
        self.mar: MarRead | None = None
        layout = QVBoxLayout(self)
        self.model = DoseTableModel(self)
        self.table = make_record_table(self, self.tr("Scheduled doses"), self.model)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (0, 2, 3, 4, 5):
            self.table.horizontalHeader().setSectionResizeMode(
                column, QHeaderView.ResizeMode.ResizeToContents
            )
        layout.addWidget(self.table, 1)

        box = QGroupBox(self.tr("Record a dose (scan the wristband, then the medicine)"), self)
        form = QFormLayout(box)
        self.prn_check = QCheckBox(self.tr("As-needed medicine:"), box)
        self.prn_combo = QComboBox(box)
        self.prn_combo.setAccessibleName(self.tr("As-needed medicine"))
        prn_row = QHBoxLayout()
        prn_row.addWidget(self.prn_check)
        prn_row.addWidget(self.prn_combo, 1)
        self.selected_label = QLabel(self.tr("Choose a dose in the list."), box)
        self.selected_label.setAccessibleName(self.tr("Dose to record"))
        self.patient_scan = QLineEdit(box)
        self.patient_scan.setAccessibleName(self.tr("Wristband barcode"))
        self.patient_scan.setPlaceholderText(self.tr("Scan the wristband (MRN)"))
        self.medication_scan = QLineEdit(box)
        self.medication_scan.setAccessibleName(self.tr("Medication barcode"))
        self.medication_scan.setPlaceholderText(self.tr("Scan the pack or dispensing label"))
        self.status_combo = QComboBox(box)
        self.status_combo.setAccessibleName(self.tr("Outcome"))
        for code, text in STATUSES:
            self.status_combo.addItem(self.tr(text), code)
        self.reason_edit = QLineEdit(box)
        self.reason_edit.setAccessibleName(self.tr("Reason"))
        self.reason_edit.setPlaceholderText(
            self.tr("Needed if held, refused, missed, or early/late")
        )
        self.record_button = QPushButton(self.tr("Record"), box)
        self.record_button.setToolTip(self.tr("Record the dose (Ctrl+Return)"))
        self.record_button.clicked.connect(self.record)
        form.addRow(self.tr("Dose"), self.selected_label)
        form.addRow(prn_row)
        form.addRow(self.tr("Wristband"), self.patient_scan)
        form.addRow(self.tr("Medicine"), self.medication_scan)
        form.addRow(self.tr("Outcome"), self.status_combo)
        form.addRow(self.tr("Reason"), self.reason_edit)
        form.addRow(self.record_button)
        self.problem = ProblemLabel(box)
        form.addRow(self.problem)
        layout.addWidget(box)
        # A scanner types the code and Enter: move on to the next field.
        self.patient_scan.returnPressed.connect(self.medication_scan.setFocus)
        self.medication_scan.returnPressed.connect(self.record)
        self.table.selectionModel().currentRowChanged.connect(self._on_dose_chosen)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.record)

    # -- loading -----------------------------------------------------------------------------
    def load(self, admission: AdmissionRead | None) -> None:
        self.admission = admission
        self.problem.clear()
        if admission is None:
            self.model.set_doses([])
            self.prn_combo.clear()
            return
        admission_id = admission.id
        now = datetime.now(UTC)
        self.tasks.run(
            lambda: self.wards.mar(
                admission_id, since=now - timedelta(hours=24), until=now + timedelta(hours=24)
            ),
            on_done=self._on_mar,
            on_error=self.problem.show_error,
        )

    def _on_mar(self, mar: MarRead) -> None:
        if self.admission is None or mar.admission_id != self.admission.id:
            return  # another patient was chosen meanwhile
        self.mar = mar
        self.model.set_doses(mar.items)
        self.prn_combo.clear()
        for order in mar.orders:
            if order.prn and order.status == "active":
                self.prn_combo.addItem(_order_text(order), order.id)
        self.prn_check.setEnabled(self.prn_combo.count() > 0)
        due = next(
            (
                n
                for n, d in enumerate(mar.items)
                if d.status == "scheduled" and (d.overdue or d.due)
            ),
            None,
        )
        if due is not None:
            self.table.selectRow(due)

    def _on_dose_chosen(self, current: Any, _previous: Any) -> None:
        dose = self.model.dose_at(current.row())
        if dose is None:
            self.selected_label.setText(self.tr("Choose a dose in the list."))
            return
        self.prn_check.setChecked(False)
        self.selected_label.setText(
            f"{dose.due_at:%H:%M} {dose.drug_name} "
            f"{dose.dose.normalize():f} {dose.unit} {dose.route}"
        )

    # -- recording ---------------------------------------------------------------------------
    def record(self) -> None:
        self.problem.clear()
        dose = self.model.dose_at(self.table.currentIndex().row())
        prn = self.prn_check.isChecked()
        status = self.status_combo.currentData()
        if not prn and dose is None:
            self.problem.show_text(self.tr("Choose the dose to record."))
            return
        if not self.patient_scan.text().strip():
            self.problem.show_text(self.tr("Scan the patient's wristband first."))
            self.patient_scan.setFocus()
            return
        if status == "given" and not self.medication_scan.text().strip():
            self.problem.show_text(self.tr("Scan the medicine before giving it."))
            self.medication_scan.setFocus()
            return
        if status != "given" and not self.reason_edit.text().strip():
            self.problem.show_text(self.tr("Say why the dose was not given."))
            self.reason_edit.setFocus()
            return
        body = AdministrationCreate(
            dose_id=None if prn else dose.id,  # type: ignore[union-attr]
            order_id=self.prn_combo.currentData() if prn else None,
            patient_barcode=self.patient_scan.text().strip(),
            medication_barcode=self.medication_scan.text().strip() or None,
            status=status,
            reason=self.reason_edit.text().strip() or None,
        )
        self.record_button.setEnabled(False)
        self.tasks.run(
            lambda: self.wards.record_dose(body),
            on_done=self._on_recorded,
            on_error=self._on_refused,
        )

    def _on_recorded(self, _result: Any) -> None:
        self.record_button.setEnabled(True)
        for field in (self.patient_scan, self.medication_scan, self.reason_edit):
            field.clear()
        self.status_combo.setCurrentIndex(0)
        self.load(self.admission)
        self.sig_recorded.emit()

    def _on_refused(self, exc: BaseException) -> None:
        self.record_button.setEnabled(True)
        self.problem.show_error(exc)
        if isinstance(exc, FiveRightsError):
            if exc.code == "wrong_patient":
                self.patient_scan.selectAll()
                self.patient_scan.setFocus()
            elif exc.reason_required:
                self.reason_edit.setFocus()
            else:
                self.medication_scan.selectAll()
                self.medication_scan.setFocus()

    def focus_scan(self) -> None:
        self.patient_scan.setFocus()
        self.patient_scan.selectAll()


def _order_text(order: MedicationOrderRead) -> str:
    strength = f" {order.strength}" if order.strength else ""
    every = f" (≥ {order.prn_interval_minutes // 60} h apart)" if order.prn_interval_minutes else ""
    return (
        f"{order.drug_name}{strength} {order.dose.normalize():f} {order.unit} {order.route}{every}"
    )
