"""Short, focused ward dialogs: admit a patient, transfer to another bed, discharge with
the summary. Each validates inline before sending, sends off the GUI thread, and shows the
server's problem (with its code) if it refuses; on success it closes with the answer in
``result_admission``."""

from __future__ import annotations

from typing import Any

from hms_contract.patients import PatientSummary
from hms_contract.wards import AdmissionCreate, AdmissionRead, BedRead, WardRead
from hms_desktop.api.wards import WardsApi
from hms_desktop.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.problems import ProblemLabel

SOURCES = (
    ("clinic", "From clinic"),
    ("emergency", "From emergency"),
    ("booked", "Booked admission"),
    ("transfer", "Transfer from elsewhere"),
)
DISPOSITIONS = (
    ("home", "Home"),
    ("transfer_out", "Transfer to another facility"),
    ("against_advice", "Left against advice"),
    ("deceased", "Deceased"),
    ("other", "Other"),
)


class _WardDialog(QDialog):
    """Shared plumbing: the problem label, the button box, a busy state."""

    def __init__(
        self, tasks: Any, wards: WardsApi, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.tasks, self.wards = tasks, wards
        self.setWindowTitle(title)
        self.setModal(True)
        self.layout_ = QVBoxLayout(self)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.problem = ProblemLabel(self)
        self.layout_.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)
        self.result_admission: AdmissionRead | None = None
        self._busy = False

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not busy)

    def _send(self, call: Any) -> None:
        if self._busy:
            return
        self.problem.clear()
        self._set_busy(True)
        self.tasks.run(call, on_done=self._on_done, on_error=self._on_error)

    def _on_done(self, admission: AdmissionRead) -> None:
        self._set_busy(False)
        self.result_admission = admission
        self.accept()

    def _on_error(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.problem.show_error(exc)

    def submit(self) -> None:  # pragma: no cover - subclasses
        raise NotImplementedError


class AdmitDialog(_WardDialog):
    """Find the patient, choose a free bed, give the reason (Enter in the search field
    searches; Ctrl+Enter admits)."""

    def __init__(
        self,
        tasks: Any,
        wards: WardsApi,
        free_beds: list[BedRead],
        bed_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tasks, wards, self.tr("Admit a patient"), parent)
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText(self.tr("Name, MRN, phone or date of birth"))
        self.search_edit.setAccessibleName(self.tr("Find patient"))
        self.search_edit.returnPressed.connect(self.search)
        find = QPushButton(self.tr("Find"), self)
        find.clicked.connect(self.search)
        self.results = QListWidget(self)
        self.results.setAccessibleName(self.tr("Matching patients"))
        self.results.setMinimumHeight(120)
        self.bed_combo = QComboBox(self)
        self.bed_combo.setAccessibleName(self.tr("Bed"))
        for bed in free_beds:
            self.bed_combo.addItem(
                self.tr("Bed {label} ({room})").format(label=bed.label, room=bed.room_label), bed.id
            )
        if bed_id is not None:
            self.bed_combo.setCurrentIndex(max(0, self.bed_combo.findData(bed_id)))
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setAccessibleName(self.tr("Reason for admission"))
        self.diagnosis_edit = QLineEdit(self)
        self.diagnosis_edit.setAccessibleName(self.tr("Working diagnosis"))
        self.source_combo = QComboBox(self)
        self.source_combo.setAccessibleName(self.tr("Admitted from"))
        for code, text in SOURCES:
            self.source_combo.addItem(self.tr(text), code)
        self.los_spin = QSpinBox(self)
        self.los_spin.setRange(0, 365)
        self.los_spin.setSpecialValueText(self.tr("not known"))
        self.los_spin.setSuffix(self.tr(" days"))
        self.los_spin.setAccessibleName(self.tr("Expected length of stay"))
        row = QWidget(self)
        row_layout = QVBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.search_edit)
        row_layout.addWidget(find)
        self.form.addRow(self.tr("Patient"), row)
        self.form.addRow("", self.results)
        self.form.addRow(self.tr("Bed"), self.bed_combo)
        self.form.addRow(self.tr("Reason"), self.reason_edit)
        self.form.addRow(self.tr("Diagnosis"), self.diagnosis_edit)
        self.form.addRow(self.tr("From"), self.source_combo)
        self.form.addRow(self.tr("Expected stay"), self.los_spin)
        self.resize(480, 520)

    def search(self) -> None:
        query = self.search_edit.text().strip()
        if len(query) < 2:
            self.problem.show_text(self.tr("Type at least two characters to search."))
            return
        self.problem.clear()
        self.tasks.run(
            lambda: self.wards.search_patients(query),
            on_done=self._on_found,
            on_error=self.problem.show_error,
        )

    def _on_found(self, patients: list[PatientSummary]) -> None:
        self.results.clear()
        for p in patients:
            item = QListWidgetItem(
                f"{p.family_name.upper()}, {p.given_name} · {p.mrn} · "
                f"{p.date_of_birth.isoformat()}",
                self.results,
            )
            item.setData(Qt.ItemDataRole.UserRole, p.id)
        if patients:
            self.results.setCurrentRow(0)
        else:
            self.problem.show_text(
                self.tr("No patient matches. Register the patient at reception first.")
            )

    def submit(self) -> None:
        item = self.results.currentItem()
        if item is None:
            self.problem.show_text(self.tr("Choose the patient to admit."))
            return
        if self.bed_combo.currentData() is None:
            self.problem.show_text(self.tr("There is no free bed on this ward."))
            return
        reason = self.reason_edit.text().strip()
        if not reason:
            self.problem.show_text(self.tr("Give the reason for admission."))
            self.reason_edit.setFocus()
            return
        body = AdmissionCreate(
            patient_id=int(item.data(Qt.ItemDataRole.UserRole)),
            bed_id=int(self.bed_combo.currentData()),
            reason=reason,
            diagnosis=self.diagnosis_edit.text().strip() or None,
            source=self.source_combo.currentData(),
            expected_los_days=self.los_spin.value() or None,
        )
        self._send(lambda: self.wards.admit(body))


class TransferDialog(_WardDialog):
    """Choose the ward and a free bed to move the patient to."""

    def __init__(
        self,
        tasks: Any,
        wards: WardsApi,
        admission_id: int,
        patient_name: str,
        all_wards: list[WardRead],
        ward_id: int | None,
        parent: QWidget | None = None,
        *,
        preselect_bed: int | None = None,
    ) -> None:
        super().__init__(tasks, wards, self.tr("Transfer {name}").format(name=patient_name), parent)
        self.admission_id = admission_id
        self._preselect = preselect_bed
        self.ward_combo = QComboBox(self)
        self.ward_combo.setAccessibleName(self.tr("Ward"))
        for ward in all_wards:
            self.ward_combo.addItem(
                self.tr("{code} — {name} ({free} free)").format(
                    code=ward.code, name=ward.name, free=ward.free_beds
                ),
                ward.id,
            )
        if ward_id is not None:
            self.ward_combo.setCurrentIndex(max(0, self.ward_combo.findData(ward_id)))
        self.bed_combo = QComboBox(self)
        self.bed_combo.setAccessibleName(self.tr("Free bed"))
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setAccessibleName(self.tr("Reason for the transfer"))
        self.form.addRow(self.tr("Ward"), self.ward_combo)
        self.form.addRow(self.tr("Bed"), self.bed_combo)
        self.form.addRow(self.tr("Reason"), self.reason_edit)
        self.ward_combo.currentIndexChanged.connect(self._load_beds)
        self._load_beds()

    def _load_beds(self) -> None:
        ward_id = self.ward_combo.currentData()
        self.bed_combo.clear()
        if ward_id is None:
            return
        self.tasks.run(
            lambda: self.wards.beds(ward_id).items,
            on_done=self._on_beds,
            on_error=self.problem.show_error,
        )

    def _on_beds(self, beds: list[BedRead]) -> None:
        self.bed_combo.clear()
        for bed in beds:
            if bed.status == "free":
                self.bed_combo.addItem(
                    self.tr("Bed {label} ({room})").format(label=bed.label, room=bed.room_label),
                    bed.id,
                )
        if self._preselect is not None:
            self.choose_bed(self._preselect)

    def choose_bed(self, bed_id: int) -> None:
        index = self.bed_combo.findData(bed_id)
        if index >= 0:
            self.bed_combo.setCurrentIndex(index)

    def submit(self) -> None:
        bed_id = self.bed_combo.currentData()
        if bed_id is None:
            self.problem.show_text(self.tr("Choose a free bed."))
            return
        reason = self.reason_edit.text().strip() or None
        self._send(lambda: self.wards.transfer(self.admission_id, int(bed_id), reason))


class DischargeDialog(_WardDialog):
    """The doctor's discharge summary (signed by the server as the discharging doctor)."""

    def __init__(
        self,
        tasks: Any,
        wards: WardsApi,
        admission_id: int,
        patient_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            tasks, wards, self.tr("Discharge {name}").format(name=patient_name), parent
        )
        self.admission_id = admission_id
        self.summary_edit = QPlainTextEdit(self)
        self.summary_edit.setAccessibleName(self.tr("Discharge summary"))
        self.summary_edit.setPlaceholderText(
            self.tr("Course in hospital, results, treatment, follow-up and advice for the GP")
        )
        self.disposition_combo = QComboBox(self)
        self.disposition_combo.setAccessibleName(self.tr("Discharged to"))
        for code, text in DISPOSITIONS:
            self.disposition_combo.addItem(self.tr(text), code)
        self.form.addRow(QLabel(self.tr("Summary (signed by you when you discharge)"), self))
        self.form.addRow(self.summary_edit)
        self.form.addRow(self.tr("Discharged to"), self.disposition_combo)
        self.resize(560, 460)

    def submit(self) -> None:
        summary = self.summary_edit.toPlainText().strip()
        if len(summary) < 10:
            self.problem.show_text(self.tr("Write the discharge summary (at least a sentence)."))
            self.summary_edit.setFocus()
            return
        disposition = self.disposition_combo.currentData()
        self._send(lambda: self.wards.discharge(self.admission_id, summary, disposition))
