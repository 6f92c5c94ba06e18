"""The patient in the chosen bed: the header strip (name, MRN, age, sex, allergy badge),
the admission line (bed, ward, day, doctor, diagnosis), the actions (transfer, discharge,
wristband) and the tabs: MAR, vitals, nursing."""

from __future__ import annotations

from typing import Any

from hms_contract.clinical import AllergyRead
from hms_contract.patients import PatientRead
from hms_contract.wards import AdmissionRead
from hms_desktop.api.wards import WardsApi
from hms_desktop.models.patients import PatientRef
from hms_desktop.qt import (
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QMenu,
    QPushButton,
    QShortcut,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.patient_header import PatientHeader
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces.ward.care_panels import NursingPanel, VitalsPanel
from hms_desktop.workspaces.ward.mar_panel import MarPanel


class PatientPanel(QWidget):
    """Detail side of the ward. Signals ask the workspace for the actions that need the
    board (transfer, discharge, wristband); loading is per admission, on the task runner."""

    sig_transfer = Signal()
    sig_discharge = Signal()
    sig_wristband = Signal(bool)  # True: on A4
    sig_changed = Signal()

    def __init__(
        self, tasks: Any, wards: WardsApi, *, can_discharge: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.tasks, self.wards = tasks, wards
        self.admission: AdmissionRead | None = None
        self.patient: PatientRead | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.header = PatientHeader(self)
        layout.addWidget(self.header)
        line = QHBoxLayout()
        self.admission_label = QLabel(self)
        self.admission_label.setAccessibleName(self.tr("Admission"))
        self.admission_label.setWordWrap(True)
        line.addWidget(self.admission_label, 1)
        self.transfer_button = QPushButton(self.tr("Transfer…"), self)
        self.transfer_button.setToolTip(
            self.tr("Move to another bed (Ctrl+T); or drag the bed tile onto a free bed")
        )
        self.transfer_button.clicked.connect(self.sig_transfer)
        self.discharge_button = QPushButton(self.tr("Discharge…"), self)
        self.discharge_button.setToolTip(self.tr("Discharge with a signed summary (Ctrl+D)"))
        self.discharge_button.clicked.connect(self.sig_discharge)
        self.discharge_button.setVisible(can_discharge)
        self.wristband_button = QToolButton(self)
        self.wristband_button.setText(self.tr("Wristband"))
        self.wristband_button.setToolTip(self.tr("Print the wristband (Ctrl+W)"))
        self.wristband_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        menu = QMenu(self.wristband_button)
        menu.addAction(
            self.tr("Band printer (200 × 25 mm)"), lambda: self.sig_wristband.emit(False)
        )
        menu.addAction(self.tr("A4 sheet"), lambda: self.sig_wristband.emit(True))
        self.wristband_button.setMenu(menu)
        self.wristband_button.clicked.connect(lambda: self.sig_wristband.emit(False))
        for button in (self.transfer_button, self.discharge_button, self.wristband_button):
            line.addWidget(button)
        layout.addLayout(line)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self.tabs = QTabWidget(self)
        self.mar = MarPanel(tasks, wards, self.tabs)
        self.vitals = VitalsPanel(tasks, wards, self.tabs)
        self.nursing = NursingPanel(tasks, wards, self.tabs)
        self.tabs.addTab(self.mar, self.tr("Medicines (MAR)"))
        self.tabs.addTab(self.vitals, self.tr("Vitals"))
        self.tabs.addTab(self.nursing, self.tr("Nursing"))
        self.tabs.setAccessibleName(self.tr("Patient care"))
        layout.addWidget(self.tabs, 1)
        for n in range(3):
            QShortcut(
                QKeySequence(f"Ctrl+{n + 1}"),
                self,
                activated=lambda n=n: self.tabs.setCurrentIndex(n),
            )
        for panel in (self.mar, self.vitals, self.nursing):
            signal = getattr(panel, "sig_recorded", None) or panel.sig_saved
            signal.connect(self.sig_changed)
        self.show_admission(None)

    def show_admission(self, admission: AdmissionRead | None) -> None:
        """Show (and load everything for) ``admission``; ``None`` empties the panel."""
        changed = admission is None or self.admission is None or admission.id != self.admission.id
        self.admission = admission
        self.problem.clear()
        for widget in (
            self.transfer_button,
            self.discharge_button,
            self.wristband_button,
            self.tabs,
        ):
            widget.setEnabled(admission is not None and admission.status == "admitted")
        if admission is None:
            self.patient = None
            self.header.set_patient(None)
            self.header.set_allergies(None)
            self.admission_label.setText(self.tr("Choose a bed with a patient."))
        else:
            self.admission_label.setText(self.describe(admission))
            if changed:
                self.header.set_allergies(None)
                pid = admission.patient_id
                self.tasks.run(
                    lambda: (self.wards.patient(pid), self.wards.allergies(pid)),
                    on_done=self._on_patient,
                    on_error=self.problem.show_error,
                )
        self.mar.load(admission)
        self.vitals.load(admission)
        self.nursing.load(admission)

    def describe(self, a: AdmissionRead) -> str:
        parts = [
            self.tr("Bed {bed} · {ward}").format(bed=a.bed_label or "—", ward=a.ward_code or ""),
            self.tr("day {n}").format(n=a.days_in),
        ]
        if a.attending_doctor_name:
            parts.append(a.attending_doctor_name)
        if a.diagnosis or a.reason:
            parts.append(a.diagnosis or a.reason or "")
        return " · ".join(parts)

    def _on_patient(self, loaded: tuple[PatientRead, list[AllergyRead]]) -> None:
        patient, allergies = loaded
        if self.admission is None or patient.id != self.admission.patient_id:
            return
        self.patient = patient
        self.header.set_patient(PatientRef.of(patient))
        self.header.set_allergies(allergies)
