"""The patient-in-context strip for reception: name, MRN, age, sex (demographics only)."""

from __future__ import annotations

import html

from hms_contract.patients import PatientSummary
from hms_desktop.models.patients import age_years, sex_text
from hms_desktop.qt import QFrame, QHBoxLayout, QLabel, QSizePolicy, QWidget


class PatientHeaderStrip(QFrame):
    """Always-visible strip naming the selected patient. Receptionists never see clinical
    data, so there is no allergy badge here. GUI thread only; fed by the workspace."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("receptionPatientStrip")
        self.setStyleSheet(
            "QFrame#receptionPatientStrip { background: palette(base);"
            " border: 1px solid palette(mid); border-radius: 6px; }"
            " QLabel#stripName { font-size: 13pt; font-weight: 600; }"
        )
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(self.tr("Patient in context"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setSpacing(18)
        self.name_label = QLabel(self)
        self.name_label.setObjectName("stripName")
        self.name_label.setAccessibleName(self.tr("Patient name"))
        self.details_label = QLabel(self)
        self.details_label.setAccessibleName(self.tr("Patient details"))
        layout.addWidget(self.name_label)
        layout.addWidget(self.details_label, 1)
        self.patient: PatientSummary | None = None
        self.set_patient(None)

    def set_patient(self, patient: PatientSummary | None) -> None:
        self.patient = patient
        if not patient:
            self.name_label.setText(self.tr("No patient selected"))
            self.details_label.setText(
                self.tr("Find a patient (Ctrl+F) or register a new one (Ctrl+N).")
            )
            self.details_label.setProperty("role", "subtitle")
            return
        name = f"{patient.given_name} {patient.family_name}".strip()
        age = age_years(patient.date_of_birth)
        parts = [
            self.tr("MRN {mrn}").format(mrn=patient.mrn),
            self.tr("{age} years").format(age=age) if age is not None else "",
            sex_text(patient.sex),
            self.tr("born {dob}").format(dob=patient.date_of_birth.isoformat()),
        ]
        self.name_label.setText(html.escape(name))
        self.details_label.setText("  ·  ".join(p for p in parts if p))
        self.details_label.setProperty("role", "")

    def text(self) -> str:
        return f"{self.name_label.text()} {self.details_label.text()}"
