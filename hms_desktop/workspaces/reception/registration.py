"""Register a patient or edit their demographics: inline validation, duplicate prompt,
and a stale-edit banner that offers to reload."""

from __future__ import annotations

from typing import Any

from hms_contract.patients import PatientRead
from hms_desktop.api.errors import ApiProblem
from hms_desktop.api.patients import PatientsApi, PossibleDuplicatesError
from hms_desktop.models.patients import duplicate_reasons_text
from hms_desktop.qt import (
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.reception.validation import parse_date, validate_patient

# (key, label, placeholder); the order is the Tab order.
_TEXT_FIELDS = (
    ("given_name", "Given name(s) *", ""),
    ("family_name", "Family name *", ""),
    ("date_of_birth", "Date of birth *", "YYYY-MM-DD"),
    ("age_years", "…or estimated age", "years, if the birth date is unknown"),
    ("phone", "Phone", "+44 20 7946 0000"),
    ("email", "E-mail", "name@example.org"),
    ("national_id", "National ID", ""),
    ("address_line", "Address", "street and number"),
    ("city", "City", ""),
    ("kin_name", "Next of kin", "name"),
    ("kin_relationship", "Relationship", "e.g. mother, spouse"),
    ("kin_phone", "Next of kin phone", ""),
    ("payer", "Insurer", ""),
    ("policy_number", "Policy number", ""),
)
_SEX_CHOICES = (
    ("", "— choose —"),
    ("female", "Female"),
    ("male", "Male"),
    ("other", "Other"),
    ("unknown", "Unknown"),
)


def _plain(value: Any) -> Any:
    """JSON form without empty members, so a form value compares with the record's."""
    if isinstance(value, dict):
        cleaned = {k: _plain(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, [], {})} or None
    if isinstance(value, list):
        return [_plain(v) for v in value] or None
    return value


class PatientFormDialog(QDialog):
    """New patient (``patient=None``) or edit demographics (``patient`` = ``PatientRead``).

    Nothing is sent until every field passes ``validate_patient``; problems show next to
    their field. A 409 ``possible_duplicates`` shows the candidates inside this dialog:
    pick one (``sig_existing_chosen``) or "Register anyway" (resends with ``confirm_new``).
    A 409 ``version_conflict`` shows a banner offering to reload the current record.
    ``sig_saved(PatientRead)`` after a successful save, ``sig_existing_chosen(
    DuplicateCandidate)`` when the clerk picks an existing record. GUI thread; requests via
    ``context.tasks``.
    """

    sig_saved = Signal(object)
    sig_existing_chosen = Signal(object)

    def __init__(
        self,
        context: WorkspaceContext,
        patients: PatientsApi,
        patient: PatientRead | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks = context.tasks
        self.api = patients
        self.patient = patient
        self.editing = patient is not None
        self.busy = False
        self.setWindowTitle(self.tr("Edit patient") if self.editing else self.tr("New patient"))
        self.setAccessibleName(self.windowTitle())
        self.setMinimumWidth(520)

        layout = QVBoxLayout(self)
        self.conflict_banner = self._build_conflict_banner()
        layout.addWidget(self.conflict_banner)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        for key, label, placeholder in _TEXT_FIELDS:
            if self.editing and key == "age_years":
                continue
            edit = QLineEdit(self)
            edit.setPlaceholderText(self.tr(placeholder) if placeholder else "")
            edit.setAccessibleName(self.tr(label).rstrip(" *"))
            self.edits[key] = edit
            self._add_row(key, self.tr(label), edit)
            if key == "age_years":
                self.sex_combo = self._build_sex_combo()
                self._add_row("sex", self.tr("Sex *"), self.sex_combo)
        if self.editing:
            self.sex_combo = self._build_sex_combo()
            self._add_row("sex", self.tr("Sex *"), self.sex_combo)
        layout.addLayout(self.form)

        self.duplicates_panel = self._build_duplicates_panel()
        layout.addWidget(self.duplicates_panel)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)

        buttons = QHBoxLayout()
        hint = QLabel(self.tr("* required"), self)
        hint.setProperty("role", "subtitle")
        buttons.addWidget(hint)
        buttons.addStretch(1)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setAccessibleName(self.tr("Cancel"))
        self.cancel_button.setToolTip(self.tr("Close without saving (Esc)"))
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton(
            self.tr("Save changes") if self.editing else self.tr("Register"), self
        )
        self.save_button.setAccessibleName(self.save_button.text())
        self.save_button.setToolTip(self.tr("Check the form and save (Enter)"))
        self.save_button.setDefault(True)
        self.save_button.setAutoDefault(True)
        self.save_button.clicked.connect(self.submit)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        if patient:
            self._fill(patient)
        self.edits["given_name"].setFocus()

    # -- building ----------------------------------------------------------------------
    def _add_row(self, key: str, label: str, field: QWidget) -> None:
        error = QLabel(self)
        error.setProperty("role", "error")
        error.setWordWrap(True)
        error.setAccessibleName(self.tr("Problem with {field}").format(field=label.rstrip(" *")))
        error.hide()
        self.errors[key] = error
        box = QVBoxLayout()
        box.setSpacing(2)
        box.addWidget(field)
        box.addWidget(error)
        self.form.addRow(label, box)

    def _build_sex_combo(self) -> QComboBox:
        combo = QComboBox(self)
        combo.setAccessibleName(self.tr("Sex"))
        for code, text in _SEX_CHOICES:
            combo.addItem(self.tr(text), code)
        return combo

    def _build_conflict_banner(self) -> QFrame:
        banner = QFrame(self)
        banner.setProperty("role", "banner")
        row = QHBoxLayout(banner)
        self.conflict_label = QLabel(
            self.tr(
                "Someone else changed this patient while you were editing. Reload to see "
                "their changes, then make yours again."
            ),
            banner,
        )
        self.conflict_label.setWordWrap(True)
        self.reload_button = QPushButton(self.tr("Reload"), banner)
        self.reload_button.setAccessibleName(self.tr("Reload the patient"))
        self.reload_button.setToolTip(self.tr("Load the current record, discarding your edits"))
        self.reload_button.clicked.connect(self.reload)
        row.addWidget(self.conflict_label, 1)
        row.addWidget(self.reload_button)
        banner.hide()
        return banner

    def _build_duplicates_panel(self) -> QFrame:
        panel = QFrame(self)
        panel.setProperty("role", "banner")
        box = QVBoxLayout(panel)
        self.duplicates_label = QLabel(panel)
        self.duplicates_label.setWordWrap(True)
        self.duplicates_list = QListWidget(panel)
        self.duplicates_list.setAccessibleName(self.tr("Possible duplicates"))
        self.duplicates_list.setMaximumHeight(140)
        self.duplicates_list.setWordWrap(True)
        self.duplicates_list.itemDoubleClicked.connect(lambda _item: self.use_selected())
        row = QHBoxLayout()
        self.use_existing_button = QPushButton(self.tr("Use selected patient"), panel)
        self.use_existing_button.setAccessibleName(self.tr("Use the selected existing patient"))
        self.use_existing_button.setToolTip(self.tr("Open the existing record instead"))
        self.use_existing_button.clicked.connect(self.use_selected)
        self.register_anyway_button = QPushButton(self.tr("Register anyway"), panel)
        self.register_anyway_button.setAccessibleName(self.tr("Register as a new patient"))
        self.register_anyway_button.setToolTip(
            self.tr("None of these is the same person: register a new record")
        )
        self.register_anyway_button.clicked.connect(self.register_anyway)
        row.addStretch(1)
        row.addWidget(self.use_existing_button)
        row.addWidget(self.register_anyway_button)
        box.addWidget(self.duplicates_label)
        box.addWidget(self.duplicates_list)
        box.addLayout(row)
        panel.hide()
        return panel

    # -- values ------------------------------------------------------------------------
    def values(self) -> dict[str, str]:
        values = {key: edit.text().strip() for key, edit in self.edits.items()}
        values["sex"] = str(self.sex_combo.currentData() or "")
        return values

    def _fill(self, patient: PatientRead) -> None:
        self.patient = patient
        self.edits["given_name"].setText(patient.given_name)
        self.edits["family_name"].setText(patient.family_name)
        self.edits["date_of_birth"].setText(patient.date_of_birth.isoformat())
        self.edits["phone"].setText(patient.phone or "")
        self.edits["email"].setText(patient.email or "")
        self.edits["national_id"].setText(patient.national_id or "")
        address = patient.address
        self.edits["address_line"].setText(", ".join(address.line) if address else "")
        self.edits["city"].setText((address.city if address else None) or "")
        kin = patient.next_of_kin[0] if patient.next_of_kin else None
        self.edits["kin_name"].setText(kin.name if kin else "")
        self.edits["kin_relationship"].setText((kin.relationship if kin else None) or "")
        self.edits["kin_phone"].setText((kin.phone if kin else None) or "")
        policy = patient.insurance[0] if patient.insurance else None
        self.edits["payer"].setText(policy.payer if policy else "")
        self.edits["policy_number"].setText(policy.policy_number if policy else "")
        index = self.sex_combo.findData(patient.sex)
        self.sex_combo.setCurrentIndex(max(index, 0))

    def request_body(self) -> dict:
        """The form as ``PatientCreate`` fields (the API layer builds the contract model);
        for an edit, ``_changes`` keeps only what differs from the record."""
        v = self.values()
        body: dict = {
            "given_name": v["given_name"],
            "family_name": v["family_name"],
            "sex": v["sex"],
            "phone": v["phone"] or None,
            "email": v["email"] or None,
            "national_id": v["national_id"] or None,
        }
        dob = parse_date(v["date_of_birth"]) if v["date_of_birth"] else None
        if dob is not None:
            body["date_of_birth"] = dob.isoformat()
        elif v.get("age_years"):
            body["age_years"] = int(v["age_years"])
        if v["address_line"] or v["city"]:
            body["address"] = {
                "line": [v["address_line"]] if v["address_line"] else [],
                "city": v["city"] or None,
            }
        if v["kin_name"]:
            body["next_of_kin"] = [
                {
                    "name": v["kin_name"],
                    "relationship": v["kin_relationship"] or None,
                    "phone": v["kin_phone"] or None,
                }
            ]
        if v["payer"]:
            body["insurance"] = [{"payer": v["payer"], "policy_number": v["policy_number"]}]
        return body

    def _changes(self) -> dict:
        body = self.request_body()
        old = self.patient.model_dump(mode="json") if self.patient else {}
        changes = {}
        for key, value in body.items():
            before = old.get(key)
            if key in ("address", "next_of_kin", "insurance"):
                if _plain(value) != _plain(before):
                    changes[key] = value
            elif (value or None) != (before or None):
                changes[key] = value
        return changes

    # -- validation --------------------------------------------------------------------
    def show_field_errors(self, problems: dict[str, str]) -> None:
        for key, label in self.errors.items():
            message = problems.get(key)
            label.setText(message or "")
            label.setVisible(bool(message))
        first = next((k for k in self.errors if k in problems), None)
        if first in self.edits:
            self.edits[first].setFocus()
        elif first == "sex":
            self.sex_combo.setFocus()

    def validate(self) -> bool:
        problems = validate_patient(self.values())
        self.show_field_errors(problems)
        return not problems

    # -- actions -----------------------------------------------------------------------
    def submit(self) -> None:
        """Validate, then register (POST) or save changes (PATCH)."""
        if self.busy:
            return
        self.problem.clear()
        if not self.validate():
            return
        self._send(confirm_new=False)

    def register_anyway(self) -> None:
        """The clerk confirmed a new person: resend with ``confirm_new``."""
        if not self.busy and self.validate():
            self._send(confirm_new=True)

    def use_selected(self) -> None:
        item = self.duplicates_list.currentItem() or self.duplicates_list.item(0)
        if item is None:
            return
        self.sig_existing_chosen.emit(item.data(Qt.ItemDataRole.UserRole))
        self.accept()

    def reload(self) -> None:
        """Fetch the current record (after a version conflict) and show it."""
        if not self.patient:
            return
        patient_id = self.patient.id
        self._set_busy(True)
        self.tasks.run(lambda: self.api.get(patient_id), self._on_reloaded, self._on_failed)

    def _send(self, *, confirm_new: bool) -> None:
        self._set_busy(True)
        if self.editing:
            assert self.patient is not None
            patient_id, version, changes = self.patient.id, self.patient.version, self._changes()
            if not changes:
                self._set_busy(False)
                self.accept()
                return
            work = lambda: self.api.update(patient_id, version=version, changes=changes)  # noqa: E731
        else:
            body = self.request_body()
            work = lambda: self.api.register(body, confirm_new=confirm_new)  # noqa: E731
        self.tasks.run(work, self._on_saved, self._on_failed)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.save_button.setEnabled(not busy)
        self.register_anyway_button.setEnabled(not busy)
        self.reload_button.setEnabled(not busy)
        if busy:
            self.save_button.setText(self.tr("Saving…"))
        else:
            self.save_button.setText(
                self.tr("Save changes") if self.editing else self.tr("Register")
            )

    def _on_saved(self, patient: PatientRead) -> None:
        self._set_busy(False)
        self.patient = patient
        self.sig_saved.emit(patient)
        self.accept()

    def _on_reloaded(self, patient: PatientRead) -> None:
        self._set_busy(False)
        self.conflict_banner.hide()
        self._fill(patient)

    def _on_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, PossibleDuplicatesError):
            self._show_duplicates(exc)
            return
        if isinstance(exc, ApiProblem) and exc.status == 409 and exc.code == "version_conflict":
            self.conflict_banner.show()
            self.reload_button.setFocus()
            return
        if isinstance(exc, ApiProblem) and exc.status == 422:
            mapped = {"line": "address_line", "city": "city"}
            fields = {mapped.get(k, k): v for k, v in exc.field_errors().items()}
            if set(fields) & set(self.errors):
                self.show_field_errors(fields)
        self.problem.show_error(exc)

    def _show_duplicates(self, exc: PossibleDuplicatesError) -> None:
        self.duplicates_list.clear()
        for candidate in exc.candidates:
            reasons = duplicate_reasons_text(candidate.reasons)
            text = self.tr("{name} · MRN {mrn} · born {dob}").format(
                name=candidate.name, mrn=candidate.mrn, dob=candidate.dob.isoformat()
            )
            if reasons:
                text += "\n" + reasons
            item = QListWidgetItem(text, self.duplicates_list)
            item.setData(Qt.ItemDataRole.UserRole, candidate)
        self.duplicates_list.setCurrentRow(0)
        self.duplicates_label.setText(
            self.tr(
                "This may be a patient who is already registered. Check the list: open the "
                "existing record, or register a new one if none of them is this person."
            )
        )
        self.duplicates_panel.show()
        self.duplicates_list.setFocus()
