"""The selected patient's summary: demographics, contact, next of kin, appointments."""

from __future__ import annotations

import html

from hms_contract.patients import PatientRead, PatientSummary
from hms_desktop.api.patients import PatientsApi
from hms_desktop.api.scheduling import SchedulingApi
from hms_desktop.models.appointments import AppointmentsTableModel
from hms_desktop.models.patients import age_years, sex_text
from hms_desktop.qt import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext


class PatientSummaryCard(QFrame):
    """Shows one patient (re-read from the server when selected) and their appointments.

    ``patient`` is the ``PatientSummary`` picked in the list until the full ``PatientRead``
    has loaded. Signals: ``sig_edit_requested(patient)``,
    ``sig_print_label_requested(patient, kind)``, ``sig_loaded(PatientRead)``. GUI thread;
    loads through ``context.tasks``.
    """

    sig_edit_requested = Signal(object)
    sig_print_label_requested = Signal(object, str)
    sig_loaded = Signal(object)

    def __init__(
        self,
        context: WorkspaceContext,
        patients: PatientsApi,
        scheduling: SchedulingApi,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks, self.api = context.tasks, patients
        self.patient: PatientSummary | None = None
        self.loading = False
        self._generation = 0
        self.setObjectName("patientSummary")
        self.setStyleSheet(
            "QFrame#patientSummary { background: palette(base);"
            " border: 1px solid palette(mid); border-radius: 6px; }"
        )
        self.setAccessibleName(self.tr("Patient summary"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        self.placeholder = QLabel(self.tr("Select a patient to see their details."), self)
        self.placeholder.setProperty("role", "subtitle")
        layout.addWidget(self.placeholder)

        self.body = QWidget(self)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(12)
        self.form.setVerticalSpacing(3)
        self.fields: dict[str, QLabel] = {}
        for key, label in (
            ("born", self.tr("Born")),
            ("phone", self.tr("Phone")),
            ("email", self.tr("E-mail")),
            ("national_id", self.tr("National ID")),
            ("address", self.tr("Address")),
            ("kin", self.tr("Next of kin")),
            ("insurance", self.tr("Insurance")),
        ):
            value = QLabel(self.body)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setAccessibleName(label)
            self.fields[key] = value
            self.form.addRow(label, value)
        body.addLayout(self.form)

        buttons = QHBoxLayout()
        self.edit_button = QPushButton(self.tr("Edit…"), self.body)
        self.edit_button.setAccessibleName(self.tr("Edit patient"))
        self.edit_button.setToolTip(self.tr("Change this patient's details (Ctrl+E)"))
        self.edit_button.clicked.connect(lambda: self.sig_edit_requested.emit(self.patient))
        self.label_button = QPushButton(self.tr("Print ID label…"), self.body)
        self.label_button.setAccessibleName(self.tr("Print ID label"))
        self.label_button.setToolTip(self.tr("Preview and print the patient ID card (Ctrl+P)"))
        self.label_button.clicked.connect(
            lambda: self.sig_print_label_requested.emit(self.patient, "id_card")
        )
        self.wristband_button = QPushButton(self.tr("Wristband…"), self.body)
        self.wristband_button.setAccessibleName(self.tr("Print wristband"))
        self.wristband_button.setToolTip(self.tr("Preview and print a wristband"))
        self.wristband_button.clicked.connect(
            lambda: self.sig_print_label_requested.emit(self.patient, "wristband")
        )
        for button in (self.edit_button, self.label_button, self.wristband_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        body.addLayout(buttons)

        caption = QLabel(self.tr("Appointments"), self.body)
        caption.setStyleSheet("font-weight: 600;")
        body.addWidget(caption)
        self.appointments = AppointmentsTableModel(
            context.tasks, scheduling, self, show_patient=False
        )
        self.appointments_table = QTableView(self.body)
        self.appointments_table.setModel(self.appointments)
        self.appointments_table.setAccessibleName(self.tr("Patient's appointments"))
        self.appointments_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.appointments_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.appointments_table.verticalHeader().hide()
        self.appointments_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch
        )
        body.addWidget(self.appointments_table, 1)
        layout.addWidget(self.body, 1)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self.body.hide()

    def set_patient(self, summary: PatientSummary | None) -> None:
        """Show ``summary`` at once, then the full record and appointments when loaded."""
        self._generation += 1
        if not summary:
            self.patient = None
            self.body.hide()
            self.placeholder.show()
            return
        self._show(summary)
        generation, patient_id = self._generation, summary.id
        self.loading = True
        self.tasks.run(
            lambda: self.api.get(patient_id),
            lambda patient: self._on_loaded(generation, patient),
            lambda exc: self._on_failed(generation, exc),
            owner=self,
        )
        self.appointments.set_filters(patient_id=patient_id)

    def reload_appointments(self) -> None:
        if self.patient:
            self.appointments.reload()

    def _on_loaded(self, generation: int, patient: PatientRead) -> None:
        if generation != self._generation:
            return
        self.loading = False
        self._show(patient)
        self.sig_loaded.emit(patient)

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.loading = False
            self.problem.show_error(exc)

    def _show(self, patient: PatientSummary) -> None:
        """The summary's fields at once; the rest (contact, kin, insurance) once the full
        ``PatientRead`` is in."""
        self.patient = patient
        self.problem.clear()
        self.placeholder.hide()
        self.body.show()
        age = age_years(patient.date_of_birth)
        born = patient.date_of_birth.isoformat()
        if patient.birth_date_estimated:
            born += " " + self.tr("(estimated)")
        if age is not None:
            born += " · " + self.tr("{age} years").format(age=age)
        born += " · " + sex_text(patient.sex)
        full = patient if isinstance(patient, PatientRead) else None
        address = full.address if full else None
        kin = full.next_of_kin[0] if full and full.next_of_kin else None
        policy = full.insurance[0] if full and full.insurance else None
        values = {
            "born": born,
            "phone": patient.phone or "—",
            "email": (full.email if full else None) or "—",
            "national_id": patient.national_id or "—",
            "address": (
                ", ".join([*address.line, address.city or ""]).strip(", ") if address else ""
            )
            or "—",
            "kin": " · ".join(p for p in (kin.name, kin.relationship, kin.phone) if p)
            if kin
            else "—",
            "insurance": " · ".join(p for p in (policy.payer, policy.policy_number) if p)
            if policy
            else "—",
        }
        for key, value in values.items():
            self.fields[key].setText(html.escape(value))
