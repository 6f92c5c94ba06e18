"""The patient-in-context strip: name, MRN, age, sex and an always-visible allergy badge.

Shown above every clinical screen about one patient, so nobody writes a note or a
prescription without seeing who it is for and what they are allergic to.
"""

from __future__ import annotations

import html

from hms_contract.clinical import AllergyRead
from hms_desktop.models.patients import PatientRef, age_years
from hms_desktop.qt import QFrame, QHBoxLayout, QLabel, QSizePolicy, Qt, QVBoxLayout, QWidget

SEVERITY_ORDER = {"severe": 0, "moderate": 1, "mild": 2}

_STYLE = """
QFrame#patientHeader { background: palette(base); border: 1px solid palette(mid);
    border-radius: 6px; }
QLabel#patientName { font-size: 14pt; font-weight: 600; }
QLabel#allergyBadge { border-radius: 4px; padding: 4px 10px; font-weight: 600; }
QLabel#allergyBadge[state="allergic"] { background: #c62828; color: #ffffff; }
QLabel#allergyBadge[state="none"] { background: #e6f2e7; color: #1b5e20;
    border: 1px solid #2e7d32; }
QLabel#allergyBadge[state="unknown"] { background: #fff4e0; color: #5a3b00;
    border: 1px solid #e0b060; }
QLabel#allergyBadge[state="restricted"] { background: #eceff3; color: #1c2430;
    border: 1px dashed #6b7280; }
"""

_SEX = {"male": "Male", "female": "Female", "other": "Other", "unknown": "Sex unknown"}


def active_allergies(allergies: list[AllergyRead]) -> list[AllergyRead]:
    """Allergies that still matter, most severe first."""
    live = [a for a in allergies if a.status == "active"]
    return sorted(live, key=lambda a: (SEVERITY_ORDER.get(a.severity, 3), a.substance.lower()))


class PatientHeader(QFrame):
    """Read-only header; call ``set_patient`` and ``set_allergies`` (``None`` = not known yet).

    Lives on the GUI thread and never loads anything itself: the chart feeds it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientHeader")
        self.setStyleSheet(_STYLE)
        self.setAccessibleName(self.tr("Patient in context"))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(12, 8, 12, 8)
        outer.setSpacing(16)
        who = QVBoxLayout()
        who.setSpacing(2)
        self.name_label = QLabel(self)
        self.name_label.setObjectName("patientName")
        self.name_label.setAccessibleName(self.tr("Patient name"))
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_label = QLabel(self)
        self.details_label.setProperty("role", "subtitle")
        self.details_label.setAccessibleName(self.tr("MRN, age and sex"))
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        who.addWidget(self.name_label)
        who.addWidget(self.details_label)
        outer.addLayout(who, 0)
        self.allergy_badge = QLabel(self)
        self.allergy_badge.setObjectName("allergyBadge")
        self.allergy_badge.setAccessibleName(self.tr("Allergies"))
        self.allergy_badge.setWordWrap(True)
        self.allergy_badge.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.allergy_badge.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        outer.addWidget(self.allergy_badge, 1)
        self.patient: PatientRef | None = None
        self.set_patient(None)
        self.set_allergies(None)

    def set_patient(self, patient: PatientRef | None) -> None:
        self.patient = patient
        if patient is None:
            self.name_label.setText(self.tr("No patient selected"))
            self.details_label.setText(self.tr("Find a patient with Ctrl+F"))
            return
        family, given = patient.family_name, patient.given_name
        self.name_label.setText(f"{family.upper()}, {given}".strip(", "))
        parts = [self.tr("MRN {mrn}").format(mrn=patient.mrn or "—")]
        age = age_years(patient.date_of_birth)
        if patient.date_of_birth is not None and age is not None:
            estimated = self.tr(" (estimated)") if patient.birth_date_estimated else ""
            parts.append(
                self.tr("{age} y · born {dob}{est}").format(
                    age=age, dob=patient.date_of_birth.isoformat(), est=estimated
                )
            )
        parts.append(self.tr(_SEX.get(str(patient.sex), "Sex unknown")))
        self.details_label.setText("  ·  ".join(parts))

    def set_allergies(self, allergies: list[AllergyRead] | None) -> None:
        """``None``: loading (amber); ``[]``: no known allergies; else a red badge."""
        if allergies is None:
            state = "unknown"
            text = self.tr("Allergies: loading…")
            tip = text
        else:
            live = active_allergies(allergies)
            if not live:
                state = "none"
                text = self.tr("No known allergies")
                tip = text
            else:
                state = "allergic"
                parts = [self._allergy_text(a) for a in live]
                text = self.tr("Allergies: {list}").format(list=", ".join(parts))
                tip = "<br>".join(html.escape(self._allergy_text(a, reaction=True)) for a in live)
        self._show_badge(state, text, tip)

    def set_allergies_restricted(self) -> None:
        """The user may not see this chart: say so, and how to open it, rather than leave
        "loading" standing (which reads as if there were nothing to know)."""
        text = self.tr("Allergies: restricted — break the glass to view")
        self._show_badge(
            "restricted",
            text,
            self.tr(
                "You are not in this patient's care team. Emergency access (break the glass) "
                "shows the allergies and is recorded with your reason."
            ),
        )

    def set_allergies_unavailable(self) -> None:
        """The chart could not be loaded (the allergies are unknown, not absent)."""
        text = self.tr("Allergies: could not be loaded")
        self._show_badge("unknown", text, text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_badge()

    def _fit_badge(self) -> None:
        """A wrapped badge gets the height its lines need (a narrow chart pane wraps the
        allergy list onto more lines; none of it may be cut off)."""
        badge = self.allergy_badge
        needed = badge.heightForWidth(max(badge.width(), 1))
        if needed > 0 and needed != badge.minimumHeight():
            badge.setMinimumHeight(needed)

    def _show_badge(self, state: str, text: str, tip: str) -> None:
        self.allergy_badge.setProperty("state", state)
        self.allergy_badge.setText(text)
        self._fit_badge()
        self.allergy_badge.setToolTip(tip)
        self.allergy_badge.setAccessibleDescription(text)
        style = self.allergy_badge.style()
        style.unpolish(self.allergy_badge)
        style.polish(self.allergy_badge)

    def _allergy_text(self, allergy: AllergyRead, *, reaction: bool = False) -> str:
        text = f"{allergy.substance} ({self.tr(allergy.severity)})"
        if reaction and allergy.reaction:
            text += f" — {allergy.reaction}"
        return text

    @property
    def allergy_state(self) -> str:
        return str(self.allergy_badge.property("state"))
