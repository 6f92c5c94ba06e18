"""Prescribe from the chart: whose prescription it is, formulary search (by generic, other
common and brand names), item rows with units that fit the form, and the safety check.

The dialog opens with the patient's name, MRN, age, latest weight and allergies on top. Each
time a medicine is added or removed it asks the server's dry-run check
(``POST /prescriptions/check``) and shows what it found at once. The server checks again on
sending: a conflict comes back as 409 with the conflicts listed; either way the prescriber
can only go ahead after typing a reason, which the server audits.
"""

from __future__ import annotations

import html

from hms_contract.clinical import ChartRead, VitalsRead
from hms_contract.prescribing import ConflictRead, DrugRead, SafetyCheckRead
from hms_desktop.api.clinical import ClinicalApi, SafetyConflictError
from hms_desktop.models.clinical import local_time
from hms_desktop.models.patients import PatientRef
from hms_desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.theme import STATUS_COLOURS
from hms_desktop.widgets.patient_header import PatientHeader
from hms_desktop.widgets.problems import describe_error
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.clinical.common import field_error_label, set_error
from hms_desktop.workspaces.clinical.dialogs import self_tr
from hms_desktop.workspaces.clinical.form_dialog import FormDialog

FREQUENCIES = (
    "once daily",
    "twice daily",
    "three times daily",
    "four times daily",
    "every 8 hours",
    "at night",
    "as needed",
)
CONFLICT_TYPES = {
    "allergy_conflict": "Allergy",
    "interaction": "Interaction",
    "duplicate_therapy": "Duplicate therapy",
}
SEVERITY_WORDS = {
    "contraindicated": "CONTRAINDICATED",
    "major": "MAJOR",
    "moderate": "Moderate",
    "minor": "Minor",
}


def drug_label(drug: DrugRead) -> str:
    parts = [drug.generic_name, drug.strength or "", drug.form]
    text = " ".join(p for p in parts if p)
    return f"{text} ({drug.route})" if drug.route else text


# Dose units that fit a dosage form, most usual first. Counted units (a tablet, a puff)
# are dosed "1", "2"; measured ones (mg, mL) need the amount typed.
_FORM_UNITS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("inhaler", ("puff",)),
    ("nebuliser", ("nebule", "mL", "mg")),
    ("eye drops", ("drop",)),
    ("drops", ("drop",)),
    ("eye ointment", ("application",)),
    ("cream", ("application",)),
    ("ointment", ("application",)),
    ("gel", ("application",)),
    ("patch", ("patch",)),
    ("suppository", ("suppository",)),
    ("capsule", ("capsule", "mg")),
    ("tablet", ("tablet", "mg")),
    ("powder for oral liquid", ("mL", "mg")),
    ("oral liquid", ("mL", "mg")),
    ("syrup", ("mL", "mg")),
    ("suspension", ("mL", "mg")),
    ("powder", ("sachet", "g")),
    ("infusion", ("mg", "mL")),
    ("injection", ("mg", "mL")),
)
COUNTED_UNITS = frozenset(
    {"puff", "nebule", "drop", "application", "patch", "suppository", "capsule", "tablet", "sachet"}
)


def units_for(drug: DrugRead) -> tuple[str, ...]:
    """The dose units that fit ``drug``'s form (an inhaler is dosed in puffs, not tablets);
    insulin is dosed in units."""
    if any("insulin" in ingredient for ingredient in drug.ingredients):
        return ("units",)
    form = drug.form.lower()
    for word, units in _FORM_UNITS:
        if word in form:
            return units
    return ("dose",)


def default_unit(drug: DrugRead) -> str:
    return units_for(drug)[0]


def other_names(drug: DrugRead) -> str:
    """``also: acetaminophen · Panadol, Tylenol`` (empty when the drug has none)."""
    parts = [", ".join(drug.synonyms), ", ".join(drug.brand_names)]
    text = " · ".join(p for p in parts if p)
    return f"also: {text}" if text else ""


class PrescribeDialog(FormDialog):
    """Build a prescription and send it; shows conflicts and asks for an override reason.

    ``sig_saved(PrescriptionRead)`` after a 201. ``items`` are ``PrescriptionItemCreate``
    fields (the API layer builds the contract model).
    """

    def __init__(
        self,
        context: WorkspaceContext,
        clinical: ClinicalApi,
        patient_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(context, clinical, self_tr("Prescribe"), self_tr("Prescribe"), parent)
        self.patient_id = patient_id
        self.items: list[dict] = []
        self.drugs: list[DrugRead] = []
        self.conflicts: list[ConflictRead] = []
        self.detail = ""
        self.selected_drug: DrugRead | None = None
        self.encounter_id: int | None = None
        self.patient_loaded = False
        self.checking = False
        self._generation = 0
        self._check_generation = 0
        self._sent_generation = 0
        self.setMinimumSize(780, 700)

        # Whose prescription this is: name, MRN, age, allergies, and the latest weight.
        self.header = PatientHeader(self)
        self.weight_label = QLabel(self.tr("Weight: loading…"), self)
        self.weight_label.setAccessibleName(self.tr("Latest weight"))
        self.weight_label.setProperty("role", "subtitle")
        top = self.layout()
        top.insertWidget(0, self.header)
        top.insertWidget(1, self.weight_label)

        self.search_edit = QLineEdit(self.body)
        self.search_edit.setAccessibleName(self.tr("Search formulary"))
        self.search_edit.setPlaceholderText(self.tr("Medicine name, e.g. amoxicillin"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setToolTip(self.tr("Type 2 or more letters; Down to choose a match"))
        self.results = QListWidget(self.body)
        self.results.setAccessibleName(self.tr("Formulary matches"))
        self.results.setMaximumHeight(120)
        self.results.currentItemChanged.connect(self._on_results_current_changed)
        self.results.itemActivated.connect(lambda _item: self.dose_edit.setFocus())
        self.form.addRow(self.tr("&Medicine:"), self.search_edit)
        self.form.addRow("", self.results)
        self.form.addRow("", self._build_item_editor())
        self.item_error = field_error_label(self.body, self.tr("Item problem"))
        self.form.addRow("", self.item_error)

        self.table = QTableWidget(0, 5, self.body)
        self.table.setAccessibleName(self.tr("Prescription items"))
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Medicine"),
                self.tr("Dose"),
                self.tr("How often"),
                self.tr("Days"),
                self.tr("Quantity"),
            ]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(110)
        self.remove_button = QPushButton(self.tr("Remove item"), self.body)
        self.remove_button.setAccessibleName(self.tr("Remove item"))
        self.remove_button.setAutoDefault(False)
        self.remove_button.setToolTip(self.tr("Remove the selected item (Delete)"))
        self.remove_button.clicked.connect(self.remove_selected)
        self.form.addRow(self.tr("Items:"), self.table)
        self.form.addRow("", self.remove_button)
        self.items_error = field_error_label(self.body, self.tr("Items problem"))
        self.form.addRow("", self.items_error)
        self.form.addRow(self._build_safety_panel())

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.search)
        self.search_edit.textEdited.connect(lambda _t: self._timer.start())
        self.load_patient()

    # -- the patient -------------------------------------------------------------------
    def load_patient(self) -> None:
        """The chart's header, allergies and open encounter, and the latest weight."""
        api, pid = self.clinical, self.patient_id

        def fetch():
            chart = api.get_chart(pid)
            weights = [v for v in api.list_vitals(pid, limit=50).items if v.weight_kg is not None]
            return chart, (max(weights, key=lambda v: v.recorded_at) if weights else None)

        self.context.tasks.run(fetch, self._on_patient_loaded, self._on_patient_failed, owner=self)

    def _on_patient_loaded(self, result: tuple[ChartRead, VitalsRead | None]) -> None:
        chart, weighed = result
        self.patient_loaded = True
        self.header.set_patient(PatientRef.of(chart.patient))
        self.header.set_allergies(chart.allergies)
        if weighed is not None:
            self.weight_label.setText(
                self.tr("Weight: {kg} kg (recorded {when})").format(
                    kg=f"{weighed.weight_kg:g}", when=local_time(weighed.recorded_at, "%Y-%m-%d")
                )
            )
        else:
            self.weight_label.setText(
                self.tr("Weight: not recorded — weigh the patient before weight-based dosing")
            )
        open_visits = [e for e in chart.recent_encounters if e.status == "in_progress"]
        self.encounter_id = open_visits[0].id if open_visits else None

    def _on_patient_failed(self, exc: BaseException) -> None:
        self.patient_loaded = True
        self.header.set_allergies_unavailable()
        self.weight_label.setText(self.tr("Weight: could not be loaded"))
        self.problem.show_error(exc)

    # -- building ----------------------------------------------------------------------
    def _build_item_editor(self) -> QWidget:
        host = QWidget(self.body)
        row = QHBoxLayout(host)
        row.setContentsMargins(0, 0, 0, 0)
        self.dose_edit = QLineEdit(host)
        self.dose_edit.setAccessibleName(self.tr("Dose"))
        self.dose_edit.setPlaceholderText(self.tr("Dose"))
        self.dose_edit.setMaximumWidth(70)
        self.unit_combo = QComboBox(host)
        self.unit_combo.setAccessibleName(self.tr("Dose unit"))
        self.unit_combo.setToolTip(self.tr("Units that fit the medicine's form"))
        self.unit_combo.setEditable(True)
        self.unit_combo.setMinimumWidth(110)
        self.frequency_combo = QComboBox(host)
        self.frequency_combo.setAccessibleName(self.tr("How often"))
        self.frequency_combo.setEditable(True)
        for value in FREQUENCIES:
            self.frequency_combo.addItem(self.tr(value), value)
        self.days_spin = QSpinBox(host)
        self.days_spin.setAccessibleName(self.tr("Duration in days"))
        self.days_spin.setRange(1, 365)
        self.days_spin.setValue(5)
        self.days_spin.setSuffix(self.tr(" days"))
        self.quantity_edit = QLineEdit(host)
        self.quantity_edit.setAccessibleName(self.tr("Quantity"))
        self.quantity_edit.setPlaceholderText(self.tr("Qty"))
        self.quantity_edit.setMaximumWidth(70)
        self.add_button = QPushButton(self.tr("Add item"), host)
        self.add_button.setAccessibleName(self.tr("Add item"))
        self.add_button.setAutoDefault(False)
        self.add_button.setToolTip(self.tr("Add this medicine to the prescription (Alt+A)"))
        self.add_button.setShortcut("Alt+A")
        self.add_button.clicked.connect(self.add_item)
        for widget in (
            self.dose_edit,
            self.unit_combo,
            self.frequency_combo,
            self.days_spin,
            self.quantity_edit,
            self.add_button,
        ):
            row.addWidget(widget)
        row.addStretch(1)
        return host

    def _build_safety_panel(self) -> QFrame:
        self.safety_panel = QFrame(self.body)
        self.safety_panel.setObjectName("safetyPanel")
        self.safety_panel.setStyleSheet(
            f"QFrame#safetyPanel {{ border: 2px solid {STATUS_COLOURS['critical']}; "
            "border-radius: 6px; background: palette(base); }"
        )
        self.safety_panel.setAccessibleName(self.tr("Safety check"))
        layout = QVBoxLayout(self.safety_panel)
        heading = QLabel(self.tr("⚠ Safety check: the server found problems"), self.safety_panel)
        heading.setStyleSheet(f"color: {STATUS_COLOURS['critical']}; font-weight: 600;")
        self.safety_heading = heading
        self.conflicts_label = QLabel(self.safety_panel)
        self.conflicts_label.setWordWrap(True)
        self.conflicts_label.setTextFormat(Qt.TextFormat.RichText)
        self.conflicts_label.setAccessibleName(self.tr("Safety conflicts"))
        self.override_edit = QLineEdit(self.safety_panel)
        self.override_edit.setAccessibleName(self.tr("Override reason"))
        self.override_edit.setPlaceholderText(
            self.tr("Reason to prescribe anyway (required, recorded)")
        )
        self.override_edit.setMaxLength(1000)
        self.override_error = field_error_label(
            self.safety_panel, self.tr("Override reason problem")
        )
        layout.addWidget(heading)
        layout.addWidget(self.conflicts_label)
        layout.addWidget(self.override_edit)
        layout.addWidget(self.override_error)
        self.safety_panel.hide()
        self.safe_label = QLabel(self.body)
        self.safe_label.setAccessibleName(self.tr("Safety check result"))
        self.safe_label.setWordWrap(True)
        self.safe_label.hide()
        holder = QWidget(self.body)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.safe_label)
        column.addWidget(self.safety_panel)
        return holder

    # -- formulary search --------------------------------------------------------------
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Down and self.search_edit.hasFocus() and self.results.count():
            self.results.setFocus()
            self.results.setCurrentRow(0)
            return
        if event.key() == Qt.Key.Key_Delete and self.table.hasFocus():
            self.remove_selected()
            return
        super().keyPressEvent(event)

    def search(self) -> None:
        self._timer.stop()
        text = self.search_edit.text().strip()
        self._generation += 1
        if len(text) < 2:
            self.results.clear()
            return
        generation, api = self._generation, self.clinical
        self.context.tasks.run(
            lambda: api.search_formulary(text),
            on_done=lambda items: self._on_formulary_loaded(generation, items),
            on_error=self.problem.show_error,
            owner=self,
        )

    def _on_formulary_loaded(self, generation: int, items: list[DrugRead]) -> None:
        if generation != self._generation:
            return
        self.results.clear()
        for drug in items:
            also = other_names(drug)
            entry = QListWidgetItem(
                drug_label(drug) + (f"  —  {also}" if also else ""), self.results
            )
            entry.setData(Qt.ItemDataRole.UserRole, drug)
            entry.setToolTip(also or drug_label(drug))
        if items:
            self.results.setCurrentRow(0)
        else:
            QListWidgetItem(self.tr("No medicine matches."), self.results).setFlags(
                Qt.ItemFlag.NoItemFlags
            )

    def _on_results_current_changed(self, current, _previous) -> None:
        drug = current.data(Qt.ItemDataRole.UserRole) if current else None
        self.selected_drug = drug
        if drug:
            units = units_for(drug)
            self.unit_combo.clear()
            self.unit_combo.addItems(list(units))
            self.unit_combo.setCurrentIndex(0)
            if units[0] in COUNTED_UNITS and not self.dose_edit.text().strip():
                self.dose_edit.setText("1")

    # -- items -------------------------------------------------------------------------
    def add_item(self) -> bool:
        problem = None
        dose = quantity = None
        try:
            dose = float(self.dose_edit.text().replace(",", "."))
            quantity = float(self.quantity_edit.text().replace(",", "."))
        except ValueError:
            pass
        if self.selected_drug is None:
            problem = self.tr("Choose a medicine from the list first.")
        elif dose is None or dose <= 0:
            problem = self.tr("Enter a dose greater than zero.")
        elif not self.unit_combo.currentText().strip():
            problem = self.tr("Enter the dose unit.")
        elif not self.frequency_combo.currentText().strip():
            problem = self.tr("Say how often to take it.")
        elif quantity is None or quantity <= 0:
            problem = self.tr("Enter the quantity to supply.")
        set_error(self.item_error, problem)
        if problem:
            return False
        drug = self.selected_drug
        item = {
            "drug_id": drug.id,
            "dose": dose,
            "unit": self.unit_combo.currentText().strip(),
            "route": drug.route or "oral",
            "frequency": self.frequency_combo.currentText().strip(),
            "duration_days": self.days_spin.value(),
            "quantity": quantity,
        }
        self.items.append(item)
        self.drugs.append(drug)
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, text in enumerate(
            (
                drug_label(drug),
                f"{dose:g} {item['unit']}",
                item["frequency"],
                str(item["duration_days"]),
                f"{quantity:g}",
            )
        ):
            self.table.setItem(row, col, QTableWidgetItem(text))
        for edit in (self.dose_edit, self.quantity_edit):
            edit.clear()
        self.search_edit.clear()
        self.results.clear()
        self.unit_combo.clear()
        self.selected_drug = None
        set_error(self.items_error, None)
        self._reset_safety()
        self.check_now()
        self.search_edit.setFocus()
        return True

    def remove_selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.items):
            self.table.removeRow(row)
            del self.items[row]
            del self.drugs[row]
            self._reset_safety()
            self.check_now()

    # -- checking as the prescription grows --------------------------------------------
    def check_now(self) -> None:
        """Ask the server's dry-run check about the medicines listed now; the answer of a
        list that has changed since is dropped."""
        self._check_generation += 1
        generation = self._check_generation
        if not self.items:
            self.checking = False
            self.safe_label.hide()
            return
        api, pid = self.clinical, self.patient_id
        drug_ids = [int(i["drug_id"]) for i in self.items]
        self.checking = True
        self.safe_label.setText(self.tr("Checking allergies and interactions…"))
        self.safe_label.setStyleSheet("")
        self.safe_label.show()
        self.context.tasks.run(
            lambda: api.check_prescription(pid, drug_ids),
            lambda result: self._on_checked(generation, result),
            lambda exc: self._on_check_failed(generation, exc),
            owner=self,
        )

    def _on_checked(self, generation: int, result: SafetyCheckRead) -> None:
        if generation != self._check_generation:
            return
        self.checking = False
        if result.conflicts:
            self.safe_label.hide()
            self.show_conflicts(result.conflicts, focus=False)
            return
        self.safe_label.setText(
            self.tr(
                "✓ No allergy, interaction or duplicate-therapy problem found for these medicines."
            )
        )
        self.safe_label.setStyleSheet(f"color: {STATUS_COLOURS['ok']};")
        self.safe_label.show()

    def _on_check_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._check_generation:
            return
        self.checking = False
        text, _code = describe_error(exc)
        self.safe_label.setText(
            self.tr(
                "The safety check could not run now ({why}); it runs again when you prescribe."
            ).format(why=text)
        )
        self.safe_label.setStyleSheet(f"color: {STATUS_COLOURS['waiting']};")
        self.safe_label.show()

    # -- sending -----------------------------------------------------------------------
    def _reset_safety(self) -> None:
        """Different items mean a different check: forget the old conflicts."""
        self.conflicts = []
        self.detail = ""
        self.safety_panel.hide()
        self.override_edit.clear()
        set_error(self.override_error, None)
        self.submit_button.setText(self.tr("Prescribe"))

    def validate(self) -> bool:
        items_problem = None if self.items else self.tr("Add at least one medicine.")
        set_error(self.items_error, items_problem)
        override_problem = None
        if self.needs_override and len(self.override_edit.text().strip()) < 5:
            override_problem = self.tr(
                "To prescribe despite these problems, type the clinical reason."
            )
        set_error(self.override_error, override_problem)
        return items_problem is None and override_problem is None

    def send(self) -> None:
        api, pid, items = self.clinical, self.patient_id, [dict(i) for i in self.items]
        reason = self.override_edit.text().strip() if self.needs_override else None
        encounter_id = self.encounter_id
        # Which list this is (each change of the list starts a new check generation): a
        # refusal that comes back after the prescriber changed the list is about medicines
        # no longer there.
        self._sent_generation = self._check_generation
        self.run(
            lambda: api.create_prescription(
                pid, items, override_reason=reason, encounter_id=encounter_id
            )
        )

    def on_failure(self, exc: BaseException) -> None:
        if isinstance(exc, SafetyConflictError):
            if self._sent_generation != self._check_generation:
                return  # the list changed meanwhile; its own check says what applies now
            self.show_conflicts(exc.conflicts, exc.detail)
            return
        super().on_failure(exc)

    @property
    def needs_override(self) -> bool:
        """The server refused these items; sending them again needs a reason."""
        return bool(self.conflicts or self.detail)

    def show_conflicts(
        self, conflicts: list[ConflictRead], detail: str = "", *, focus: bool = True
    ) -> None:
        """List what the check found, each with its source; a refusal without a list shows
        the server's words."""
        self.conflicts, self.detail = list(conflicts), detail
        lines = []
        for c in self.conflicts:
            words = self.tr(SEVERITY_WORDS.get(c.severity, c.severity.capitalize()))
            kind = self.tr(CONFLICT_TYPES.get(c.type, c.type))
            colour = (
                STATUS_COLOURS["critical"]
                if c.severity in ("contraindicated", "major")
                else STATUS_COLOURS["waiting"]
            )
            label = " · ".join(x for x in (words, kind) if x)
            cited = self.tr("Source: {source}").format(source=c.source) if c.source else ""
            source = f"<br><small>{html.escape(cited)}</small>" if cited else ""
            lines.append(
                f"<li><b style='color:{colour}'>{html.escape(label)}</b> — "
                f"{html.escape(c.reason)}{source}</li>"
            )
        if not self.conflicts:
            lines.append(
                f"<li><b style='color:{STATUS_COLOURS['waiting']}'></b> — "
                f"{html.escape(detail)}</li>"
            )
        self.conflicts_label.setText("<ul style='margin-left:-20px'>" + "".join(lines) + "</ul>")
        self.safety_panel.show()
        self.submit_button.setText(self.tr("Prescribe anyway"))
        if focus:
            self.override_edit.setFocus()

    def conflict_texts(self) -> list[str]:
        return [c.reason for c in self.conflicts] or ([self.detail] if self.detail else [])
