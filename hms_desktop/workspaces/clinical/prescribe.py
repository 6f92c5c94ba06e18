"""Prescribe from the chart: formulary search, item rows, and the server's safety prompt.

The server checks allergies, interactions and duplicate therapy. A conflict comes back as
409 with the conflicts listed; the dialog shows each one in plain words with its severity
and only lets the prescriber go ahead after typing a reason, which the server audits.
"""

from __future__ import annotations

import html

from hms_contract.prescribing import ConflictRead, DrugRead
from hms_desktop.api.clinical import ClinicalApi, SafetyConflictError
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
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.clinical.common import field_error_label, set_error
from hms_desktop.workspaces.clinical.dialogs import self_tr
from hms_desktop.workspaces.clinical.form_dialog import FormDialog

FREQUENCIES = ("once daily", "twice daily", "three times daily", "four times daily",
               "every 8 hours", "at night", "as needed")
CONFLICT_TYPES = {"allergy_conflict": "Allergy", "interaction": "Interaction",
                  "duplicate_therapy": "Duplicate therapy"}
SEVERITY_WORDS = {"contraindicated": "CONTRAINDICATED", "major": "MAJOR",
                  "moderate": "Moderate", "minor": "Minor"}


def drug_label(drug: DrugRead) -> str:
    parts = [drug.generic_name, drug.strength or "", drug.form]
    text = " ".join(p for p in parts if p)
    return f"{text} ({drug.route})" if drug.route else text


def default_unit(drug: DrugRead) -> str:
    form = drug.form.lower()
    for word, unit in (("tablet", "tablet"), ("capsule", "capsule"), ("inject", "mL"),
                       ("solution", "mL"), ("suspension", "mL"), ("syrup", "mL")):
        if word in form:
            return unit
    return "dose"


class PrescribeDialog(FormDialog):
    """Build a prescription and send it; shows conflicts and asks for an override reason.

    ``sig_saved(PrescriptionRead)`` after a 201. ``items`` are ``PrescriptionItemCreate``
    fields (the API layer builds the contract model).
    """

    def __init__(self, context: WorkspaceContext, clinical: ClinicalApi, patient_id: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(context, clinical, self_tr("Prescribe"), self_tr("Prescribe"), parent)
        self.patient_id = patient_id
        self.items: list[dict] = []
        self.conflicts: list[ConflictRead] = []
        self.detail = ""
        self.selected_drug: DrugRead | None = None
        self._generation = 0
        self.setMinimumSize(760, 640)

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
        self.table.setHorizontalHeaderLabels([self.tr("Medicine"), self.tr("Dose"),
                                              self.tr("How often"), self.tr("Days"),
                                              self.tr("Quantity")])
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

    # -- building ----------------------------------------------------------------------
    def _build_item_editor(self) -> QWidget:
        host = QWidget(self.body)
        row = QHBoxLayout(host)
        row.setContentsMargins(0, 0, 0, 0)
        self.dose_edit = QLineEdit(host)
        self.dose_edit.setAccessibleName(self.tr("Dose"))
        self.dose_edit.setPlaceholderText(self.tr("Dose"))
        self.dose_edit.setMaximumWidth(70)
        self.unit_edit = QLineEdit(host)
        self.unit_edit.setAccessibleName(self.tr("Dose unit"))
        self.unit_edit.setPlaceholderText(self.tr("unit"))
        self.unit_edit.setMaximumWidth(80)
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
        for widget in (self.dose_edit, self.unit_edit, self.frequency_combo, self.days_spin,
                       self.quantity_edit, self.add_button):
            row.addWidget(widget)
        row.addStretch(1)
        return host

    def _build_safety_panel(self) -> QFrame:
        self.safety_panel = QFrame(self.body)
        self.safety_panel.setObjectName("safetyPanel")
        self.safety_panel.setStyleSheet(
            f"QFrame#safetyPanel {{ border: 2px solid {STATUS_COLOURS['critical']}; "
            "border-radius: 6px; background: palette(base); }")
        self.safety_panel.setAccessibleName(self.tr("Safety check"))
        layout = QVBoxLayout(self.safety_panel)
        heading = QLabel(self.tr("⚠ Safety check: the server found problems"),
                         self.safety_panel)
        heading.setStyleSheet(f"color: {STATUS_COLOURS['critical']}; font-weight: 600;")
        self.conflicts_label = QLabel(self.safety_panel)
        self.conflicts_label.setWordWrap(True)
        self.conflicts_label.setTextFormat(Qt.TextFormat.RichText)
        self.conflicts_label.setAccessibleName(self.tr("Safety conflicts"))
        self.override_edit = QLineEdit(self.safety_panel)
        self.override_edit.setAccessibleName(self.tr("Override reason"))
        self.override_edit.setPlaceholderText(
            self.tr("Reason to prescribe anyway (required, recorded)"))
        self.override_edit.setMaxLength(1000)
        self.override_error = field_error_label(self.safety_panel,
                                                self.tr("Override reason problem"))
        layout.addWidget(heading)
        layout.addWidget(self.conflicts_label)
        layout.addWidget(self.override_edit)
        layout.addWidget(self.override_error)
        self.safety_panel.hide()
        return self.safety_panel

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
        self.context.tasks.run(lambda: api.search_formulary(text),
                               on_done=lambda items: self._on_formulary_loaded(generation, items),
                               on_error=self.problem.show_error, owner=self)

    def _on_formulary_loaded(self, generation: int, items: list[DrugRead]) -> None:
        if generation != self._generation:
            return
        self.results.clear()
        for drug in items:
            entry = QListWidgetItem(drug_label(drug), self.results)
            entry.setData(Qt.ItemDataRole.UserRole, drug)
        if items:
            self.results.setCurrentRow(0)
        else:
            QListWidgetItem(self.tr("No medicine matches."), self.results).setFlags(
                Qt.ItemFlag.NoItemFlags)

    def _on_results_current_changed(self, current, _previous) -> None:
        drug = current.data(Qt.ItemDataRole.UserRole) if current else None
        self.selected_drug = drug
        if drug:
            self.unit_edit.setText(default_unit(drug))

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
        elif not self.unit_edit.text().strip():
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
            "drug_id": drug.id, "dose": dose, "unit": self.unit_edit.text().strip(),
            "route": drug.route or "oral",
            "frequency": self.frequency_combo.currentText().strip(),
            "duration_days": self.days_spin.value(), "quantity": quantity,
        }
        self.items.append(item)
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, text in enumerate((drug_label(drug), f"{dose:g} {item['unit']}",
                                    item["frequency"], str(item["duration_days"]),
                                    f"{quantity:g}")):
            self.table.setItem(row, col, QTableWidgetItem(text))
        for edit in (self.dose_edit, self.quantity_edit):
            edit.clear()
        self.search_edit.clear()
        self.results.clear()
        self.selected_drug = None
        set_error(self.items_error, None)
        self._reset_safety()
        self.search_edit.setFocus()
        return True

    def remove_selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.items):
            self.table.removeRow(row)
            del self.items[row]
            self._reset_safety()

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
                "To prescribe despite these problems, type the clinical reason.")
        set_error(self.override_error, override_problem)
        return items_problem is None and override_problem is None

    def send(self) -> None:
        api, pid, items = self.clinical, self.patient_id, [dict(i) for i in self.items]
        reason = self.override_edit.text().strip() if self.needs_override else None
        self.run(lambda: api.create_prescription(pid, items, override_reason=reason))

    def on_failure(self, exc: BaseException) -> None:
        if isinstance(exc, SafetyConflictError):
            self.show_conflicts(exc.conflicts, exc.detail)
            return
        super().on_failure(exc)

    @property
    def needs_override(self) -> bool:
        """The server refused these items; sending them again needs a reason."""
        return bool(self.conflicts or self.detail)

    def show_conflicts(self, conflicts: list[ConflictRead], detail: str = "") -> None:
        """List what the check found; a refusal without a list shows the server's words."""
        self.conflicts, self.detail = list(conflicts), detail
        lines = []
        for c in self.conflicts:
            words = self.tr(SEVERITY_WORDS.get(c.severity, c.severity.capitalize()))
            kind = self.tr(CONFLICT_TYPES.get(c.type, c.type))
            colour = (STATUS_COLOURS["critical"] if c.severity in ("contraindicated", "major")
                      else STATUS_COLOURS["waiting"])
            label = " · ".join(x for x in (words, kind) if x)
            lines.append(f"<li><b style='color:{colour}'>{html.escape(label)}</b> — "
                         f"{html.escape(c.reason)}</li>")
        if not self.conflicts:
            lines.append(f"<li><b style='color:{STATUS_COLOURS['waiting']}'></b> — "
                         f"{html.escape(detail)}</li>")
        self.conflicts_label.setText("<ul style='margin-left:-20px'>" + "".join(lines)
                                     + "</ul>")
        self.safety_panel.show()
        self.submit_button.setText(self.tr("Prescribe anyway"))
        self.override_edit.setFocus()

    def conflict_texts(self) -> list[str]:
        return [c.reason for c in self.conflicts] or ([self.detail] if self.detail else [])
