"""Short chart dialogs: record vitals, add allergy, add problem (ICD-10), break the glass."""

from __future__ import annotations

from hms_contract.clinical import Icd10Read
from hms_desktop.api.clinical import ClinicalApi
from hms_desktop.api.errors import ApiProblem
from hms_desktop.qt import (
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    Qt,
    QTimer,
    QWidget,
    translate,
)
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.clinical.common import (
    VITAL_RANGES,
    field_error_label,
    set_error,
)
from hms_desktop.workspaces.clinical.form_dialog import FormDialog

BREAK_GLASS_MIN_REASON = 10
SEVERITIES = ("mild", "moderate", "severe")
CATEGORIES = ("medication", "food", "environment", "biologic")


def self_tr(text: str) -> str:
    return translate("ClinicalDialogs", text)


class VitalsDialog(FormDialog):
    """Record one set of vital signs. Implausible values are refused inline before
    sending; abnormal but real values get a plain-words hint and can still be saved."""

    def __init__(
        self,
        context: WorkspaceContext,
        clinical: ClinicalApi,
        patient_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            context, clinical, self_tr("Record vitals"), self_tr("Save vitals"), parent
        )
        self.patient_id = patient_id
        grid_host = QWidget(self.body)
        grid = QGridLayout(grid_host)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(3, 1)
        self.edits: dict[str, QLineEdit] = {}
        self.hints: dict[str, QLabel] = {}
        for row, spec in enumerate(VITAL_RANGES):
            label = QLabel(spec.display_label() + ":", grid_host)
            edit = QLineEdit(grid_host)
            edit.setAccessibleName(spec.display_label())
            edit.setMaximumWidth(90)
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
            normal = (
                self.tr("normal {lo:g}–{hi:g}").format(lo=spec.normal[0], hi=spec.normal[1])
                if spec.normal
                else ""
            )
            edit.setPlaceholderText(normal.split(" ", 1)[-1] if normal else "")
            edit.setToolTip(
                self.tr("{label} in {unit}. Possible values {lo:g}–{hi:g}. {normal}").format(
                    label=spec.display_label(),
                    unit=spec.unit,
                    lo=spec.plausible[0],
                    hi=spec.plausible[1],
                    normal=normal,
                )
            )
            label.setBuddy(edit)
            unit = QLabel(spec.unit, grid_host)
            unit.setProperty("role", "subtitle")
            hint = QLabel(normal, grid_host)
            hint.setProperty("role", "subtitle")
            hint.setAccessibleName(self.tr("{label} check").format(label=spec.display_label()))
            hint.setWordWrap(True)
            grid.addWidget(label, row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(unit, row, 2)
            grid.addWidget(hint, row, 3)
            edit.textEdited.connect(lambda _t, k=spec.key: self._check(k))
            self.edits[spec.key] = edit
            self.hints[spec.key] = hint
        self.form.addRow(grid_host)
        self.notes_edit = QLineEdit(self.body)
        self.notes_edit.setAccessibleName(self.tr("Notes"))
        self.notes_edit.setMaxLength(500)
        self.form.addRow(self.tr("&Notes:"), self.notes_edit)
        self.form_error = field_error_label(self.body, self.tr("Vitals problem"))
        self.form.addRow(self.form_error)
        self.setMinimumWidth(560)

    def _value(self, key: str) -> float | None:
        text = self.edits[key].text().strip().replace(",", ".")
        return float(text) if text else None

    def _check(self, key: str) -> str | None:
        """Update the hint of one field; returns its blocking problem, if any."""
        spec = next(r for r in VITAL_RANGES if r.key == key)
        hint = self.hints[key]
        normal = (
            self.tr("normal {lo:g}–{hi:g}").format(lo=spec.normal[0], hi=spec.normal[1])
            if spec.normal
            else ""
        )
        try:
            value = self._value(key)
        except ValueError:
            return self._hint(hint, self.tr("Enter a number."), "error")
        if value is None:
            return self._hint(hint, normal, "subtitle", blocking=False)
        lo, hi = spec.plausible
        if not lo <= value <= hi:
            return self._hint(
                hint,
                self.tr("Must be between {lo:g} and {hi:g} {unit}.").format(
                    lo=lo, hi=hi, unit=spec.unit
                ),
                "error",
            )
        if spec.normal and value < spec.normal[0]:
            return self._hint(
                hint, self.tr("Low — {normal}").format(normal=normal), "notice", blocking=False
            )
        if spec.normal and value > spec.normal[1]:
            return self._hint(
                hint, self.tr("High — {normal}").format(normal=normal), "notice", blocking=False
            )
        return self._hint(hint, self.tr("Normal"), "subtitle", blocking=False)

    @staticmethod
    def _hint(label: QLabel, text: str, role: str, *, blocking: bool = True) -> str | None:
        label.setText(text)
        label.setProperty("role", role)
        label.style().unpolish(label)
        label.style().polish(label)
        return text if blocking else None

    def validate(self) -> bool:
        problems = [p for p in (self._check(k) for k in self.edits) if p]
        values = self.values()
        message = None
        if problems:
            message = self.tr("Correct the values marked in red.")
        elif not any(k in values for k in self.edits):
            message = self.tr("Record at least one measurement.")
        elif ("systolic_mmhg" in values) != ("diastolic_mmhg" in values):
            message = self.tr("Blood pressure needs both systolic and diastolic values.")
        elif "systolic_mmhg" in values and values["diastolic_mmhg"] >= values["systolic_mmhg"]:
            message = self.tr("Diastolic pressure must be lower than systolic.")
        set_error(self.form_error, message)
        return message is None

    def values(self) -> dict:
        out: dict = {}
        for spec in VITAL_RANGES:
            try:
                value = self._value(spec.key)
            except ValueError:
                continue
            if value is not None:
                out[spec.key] = round(value, spec.decimals) if spec.decimals else round(value)
        if self.notes_edit.text().strip():
            out["notes"] = self.notes_edit.text().strip()
        return out

    def send(self) -> None:
        api, pid, values = self.clinical, self.patient_id, self.values()
        self.run(lambda: api.record_vitals(pid, values))

    def on_failure(self, exc: BaseException) -> None:
        if isinstance(exc, ApiProblem):
            for name, message in exc.field_errors().items():
                if name in self.hints:
                    self._hint(self.hints[name], message, "error")
        super().on_failure(exc)


class AllergyDialog(FormDialog):
    """Add an allergy or intolerance (substance, reaction, severity, category)."""

    def __init__(
        self,
        context: WorkspaceContext,
        clinical: ClinicalApi,
        patient_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(context, clinical, self_tr("Add allergy"), self_tr("Add allergy"), parent)
        self.patient_id = patient_id
        self.substance_edit = QLineEdit(self.body)
        self.substance_edit.setAccessibleName(self.tr("Substance"))
        self.substance_edit.setPlaceholderText(self.tr("e.g. penicillin, peanuts, latex"))
        self.substance_edit.setMaxLength(200)
        self.substance_error = field_error_label(self.body, self.tr("Substance problem"))
        self.reaction_edit = QLineEdit(self.body)
        self.reaction_edit.setAccessibleName(self.tr("Reaction"))
        self.reaction_edit.setPlaceholderText(self.tr("e.g. hives, anaphylaxis"))
        self.reaction_edit.setMaxLength(500)
        self.severity_combo = QComboBox(self.body)
        self.severity_combo.setAccessibleName(self.tr("Severity"))
        for value in SEVERITIES:
            self.severity_combo.addItem(self.tr(value.capitalize()), value)
        self.severity_combo.setCurrentIndex(1)
        self.category_combo = QComboBox(self.body)
        self.category_combo.setAccessibleName(self.tr("Category"))
        for value in CATEGORIES:
            self.category_combo.addItem(self.tr(value.capitalize()), value)
        self.form.addRow(self.tr("&Substance:"), self.substance_edit)
        self.form.addRow("", self.substance_error)
        self.form.addRow(self.tr("&Reaction:"), self.reaction_edit)
        self.form.addRow(self.tr("Se&verity:"), self.severity_combo)
        self.form.addRow(self.tr("&Category:"), self.category_combo)

    def validate(self) -> bool:
        problem = (
            None
            if self.substance_edit.text().strip()
            else self.tr("Enter the substance the patient reacts to.")
        )
        set_error(self.substance_error, problem)
        return problem is None

    def send(self) -> None:
        api, pid = self.clinical, self.patient_id
        fields = {
            "substance": self.substance_edit.text().strip(),
            "reaction": self.reaction_edit.text().strip(),
            "severity": self.severity_combo.currentData(),
            "category": self.category_combo.currentData(),
        }
        self.run(lambda: api.add_allergy(pid, **fields))


class ProblemDialog(FormDialog):
    """Add a problem-list entry coded in ICD-10, searched as you type (≥2 characters)."""

    def __init__(
        self,
        context: WorkspaceContext,
        clinical: ClinicalApi,
        patient_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(context, clinical, self_tr("Add problem"), self_tr("Add problem"), parent)
        self.patient_id = patient_id
        self.selected: Icd10Read | None = None
        self._generation = 0
        self.search_edit = QLineEdit(self.body)
        self.search_edit.setAccessibleName(self.tr("Search ICD-10"))
        self.search_edit.setPlaceholderText(self.tr("Code or words, e.g. J45 or asthma"))
        self.search_edit.setClearButtonEnabled(True)
        self.results = QListWidget(self.body)
        self.results.setAccessibleName(self.tr("ICD-10 matches"))
        self.results.setMinimumHeight(160)
        self.status_label = QLabel(self.tr("Type at least 2 characters."), self.body)
        self.status_label.setProperty("role", "subtitle")
        self.status_label.setAccessibleName(self.tr("Search status"))
        self.code_error = field_error_label(self.body, self.tr("Diagnosis problem"))
        self.onset_edit = QLineEdit(self.body)
        self.onset_edit.setAccessibleName(self.tr("Onset date"))
        self.onset_edit.setPlaceholderText(self.tr("YYYY-MM-DD (optional)"))
        self.onset_error = field_error_label(self.body, self.tr("Onset date problem"))
        self.form.addRow(self.tr("&Diagnosis:"), self.search_edit)
        self.form.addRow("", self.results)
        self.form.addRow("", self.status_label)
        self.form.addRow("", self.code_error)
        self.form.addRow(self.tr("&Onset:"), self.onset_edit)
        self.form.addRow("", self.onset_error)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.search)
        self.search_edit.textEdited.connect(lambda _t: self._timer.start())
        self.results.currentItemChanged.connect(self._on_results_current_changed)
        self.setMinimumWidth(540)

    def keyPressEvent(self, event) -> None:
        # Down from the search box walks into the matches, as in any search-as-you-type.
        if event.key() == Qt.Key.Key_Down and self.search_edit.hasFocus() and self.results.count():
            self.results.setFocus()
            self.results.setCurrentRow(0)
            return
        super().keyPressEvent(event)

    def search(self) -> None:
        self._timer.stop()
        text = self.search_edit.text().strip()
        self._generation += 1
        if len(text) < 2:
            self.results.clear()
            self.status_label.setText(self.tr("Type at least 2 characters."))
            return
        generation, api = self._generation, self.clinical
        self.status_label.setText(self.tr("Searching…"))
        self.context.tasks.run(
            lambda: api.search_icd10(text),
            on_done=lambda items: self._on_icd_loaded(generation, items),
            on_error=self.problem.show_error,
            owner=self,
        )

    def _on_icd_loaded(self, generation: int, items: list[Icd10Read]) -> None:
        if generation != self._generation:
            return  # the user kept typing
        self.results.clear()
        for item in items:
            entry = QListWidgetItem(f"{item.code}  {item.description}", self.results)
            entry.setData(Qt.ItemDataRole.UserRole, item)
        self.status_label.setText(
            self.tr("{n} matches").format(n=len(items)) if items else self.tr("No matching codes.")
        )
        if items:
            self.results.setCurrentRow(0)

    def _on_results_current_changed(self, current, _previous) -> None:
        self.selected = current.data(Qt.ItemDataRole.UserRole) if current else None
        if self.selected:
            set_error(self.code_error, None)

    def validate(self) -> bool:
        code_problem = None if self.selected else self.tr("Choose a diagnosis from the list.")
        set_error(self.code_error, code_problem)
        onset = self.onset_edit.text().strip()
        onset_problem = None
        if onset:
            from datetime import date

            try:
                if date.fromisoformat(onset) > date.today():
                    onset_problem = self.tr("The onset cannot be in the future.")
            except ValueError:
                onset_problem = self.tr("Use the form YYYY-MM-DD.")
        set_error(self.onset_error, onset_problem)
        return code_problem is None and onset_problem is None

    def send(self) -> None:
        api, pid = self.clinical, self.patient_id
        code = self.selected.code
        description = self.selected.description
        onset = self.onset_edit.text().strip() or None
        self.run(
            lambda: api.add_problem(pid, icd10_code=code, description=description, onset_date=onset)
        )


class BreakGlassDialog(FormDialog):
    """Emergency access to a chart outside the care team: the reason is required, the
    access is time-limited and every use is audited and reviewed."""

    def __init__(
        self,
        context: WorkspaceContext,
        clinical: ClinicalApi,
        patient_id: int,
        patient_label: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            context,
            clinical,
            self_tr("Emergency access (break the glass)"),
            self_tr("Open chart"),
            parent,
        )
        self.patient_id = patient_id
        warning = QLabel(
            self.tr(
                "You are not in the care team of {patient}. You may open the chart in an "
                "emergency. Access lasts a limited time, is recorded with your reason and is "
                "reviewed by an administrator."
            ).format(patient=patient_label),
            self.body,
        )
        warning.setWordWrap(True)
        warning.setProperty("role", "notice")
        self.reason_edit = QPlainTextEdit(self.body)
        self.reason_edit.setAccessibleName(self.tr("Reason for emergency access"))
        self.reason_edit.setPlaceholderText(
            self.tr("e.g. Patient collapsed in the waiting area; treating doctor unavailable.")
        )
        self.reason_edit.setTabChangesFocus(True)
        self.reason_edit.setMaximumHeight(90)
        self.reason_error = field_error_label(self.body, self.tr("Reason problem"))
        self.form.addRow(warning)
        self.form.addRow(self.tr("&Reason:"), self.reason_edit)
        self.form.addRow("", self.reason_error)
        self.submit_button.setToolTip(self.tr("Record the reason and open the chart"))

    def validate(self) -> bool:
        reason = self.reason_edit.toPlainText().strip()
        problem = None
        if len(reason) < BREAK_GLASS_MIN_REASON:
            problem = self.tr("Give the reason in at least {n} characters.").format(
                n=BREAK_GLASS_MIN_REASON
            )
        set_error(self.reason_error, problem)
        return problem is None

    def send(self) -> None:
        api, pid = self.clinical, self.patient_id
        reason = self.reason_edit.toPlainText().strip()
        self.run(lambda: api.break_glass(pid, reason))
