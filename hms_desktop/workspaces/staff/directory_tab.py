"""Directory tab: the staff list (searchable, fetched as it scrolls) on the left, the selected
record's editor on the right. HR creates (Ctrl+N) and saves (Ctrl+S); a manager reads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from hms_contract.staff import RosterUnit, StaffRead
from hms_desktop.api.staff import StaffApi
from hms_desktop.models.staff import EMPLOYMENT_TEXT, StaffTableModel
from hms_desktop.qt import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QShortcut,
    QSplitter,
    Qt,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.staff.common import StaffPanel, pydate, qdate
from hms_desktop.workspaces.staff.link_dialog import LinkSignInDialog


class StaffEditor(QWidget):
    """The record form. ``load(record)`` shows one; ``clear_for_new()`` empties it."""

    def __init__(self, parent: QWidget, editable: bool, sees_salary: bool) -> None:
        super().__init__(parent)
        self.record: StaffRead | None = None
        form = QFormLayout(self)
        self.title = QLabel(self.tr("No one selected"), self)
        self.title.setProperty("role", "heading")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        form.addRow(self.title)
        self.employee_number = QLineEdit(self)
        self.full_name = QLineEdit(self)
        self.job_title = QLineEdit(self)
        self.department = QComboBox(self)
        self.employment_type = QComboBox(self)
        for key, text in EMPLOYMENT_TEXT.items():
            self.employment_type.addItem(self.tr(text), key)
        self.grade = QLineEdit(self)
        self.hire_date = QDateEdit(self)
        self.hire_date.setCalendarPopup(True)
        self.hire_date.setDisplayFormat("dd MMM yyyy")
        self.has_end = QCheckBox(self.tr("Has left / leaves on"), self)
        self.end_date = QDateEdit(self)
        self.end_date.setCalendarPopup(True)
        self.end_date.setDisplayFormat("dd MMM yyyy")
        self.end_date.setEnabled(False)
        self.has_end.toggled.connect(self.end_date.setEnabled)
        self.salary = QLineEdit(self)
        self.salary.setPlaceholderText("2500.00")
        self.phone = QLineEdit(self)
        self.username = QLabel(self)
        for label, widget in (
            (self.tr("Employee no."), self.employee_number),
            (self.tr("Full name"), self.full_name),
            (self.tr("Job title"), self.job_title),
            (self.tr("Department"), self.department),
            (self.tr("Employment"), self.employment_type),
            (self.tr("Grade"), self.grade),
            (self.tr("Hire date"), self.hire_date),
        ):
            widget.setAccessibleName(label)
            form.addRow(label, widget)
        end_row = QHBoxLayout()
        end_row.addWidget(self.has_end)
        end_row.addWidget(self.end_date, 1)
        self.has_end.setAccessibleName(self.tr("Has an end date"))
        self.end_date.setAccessibleName(self.tr("End date"))
        form.addRow(self.tr("End date"), end_row)
        self.salary.setAccessibleName(self.tr("Monthly salary"))
        self.salary.setVisible(sees_salary)
        if sees_salary:
            form.addRow(self.tr("Monthly salary"), self.salary)
        self.phone.setAccessibleName(self.tr("Phone"))
        form.addRow(self.tr("Phone"), self.phone)
        self.username.setAccessibleName(self.tr("Sign-in"))
        self.link_button = QPushButton(self.tr("Link sign-in…"), self)
        self.link_button.setToolTip(
            self.tr("Link this record to the person's sign-in, for their My work (Ctrl+L)")
        )
        self.unlink_button = QPushButton(self.tr("Unlink"), self)
        self.unlink_button.setToolTip(self.tr("Remove the sign-in from this record"))
        sign_in_row = QHBoxLayout()
        sign_in_row.addWidget(self.username, 1)
        sign_in_row.addWidget(self.link_button)
        sign_in_row.addWidget(self.unlink_button)
        form.addRow(self.tr("Sign-in"), sign_in_row)
        self.editable = editable
        for widget in (
            self.full_name,
            self.job_title,
            self.grade,
            self.salary,
            self.phone,
        ):
            widget.setReadOnly(not editable)
        for widget in (self.department, self.employment_type, self.has_end, self.end_date):
            widget.setEnabled(editable)
        self.employee_number.setReadOnly(True)
        self.hire_date.setEnabled(False)
        self._show_link_buttons()

    def _show_link_buttons(self) -> None:
        """Link/unlink act on a saved record (HR only); the pair shows what can be done."""
        saved = self.editable and self.record is not None
        linked = saved and self.record is not None and self.record.user_id is not None
        self.link_button.setVisible(saved)
        self.link_button.setText(self.tr("Change…") if linked else self.tr("Link sign-in…"))
        self.unlink_button.setVisible(bool(linked))

    def set_departments(self, units: list[RosterUnit]) -> None:
        current = self.department.currentData()
        self.department.clear()
        for unit in units:
            if unit.kind == "department":
                self.department.addItem(unit.name, unit.id)
        if current is not None:
            self.department.setCurrentIndex(max(0, self.department.findData(current)))

    def load(self, record: StaffRead) -> None:
        self.record = record
        self.title.setText(f"{record.full_name} · {record.employee_number}")
        self.employee_number.setText(record.employee_number)
        self.employee_number.setReadOnly(True)
        self.full_name.setText(record.full_name)
        self.job_title.setText(record.job_title)
        index = self.department.findData(record.department_id)
        if index < 0:
            self.department.addItem(record.department_name, record.department_id)
            index = self.department.count() - 1
        self.department.setCurrentIndex(index)
        self.employment_type.setCurrentIndex(self.employment_type.findData(record.employment_type))
        self.grade.setText(record.grade or "")
        self.hire_date.setDate(qdate(record.hire_date))
        self.hire_date.setEnabled(False)
        self.has_end.setChecked(record.end_date is not None)
        self.end_date.setDate(qdate(record.end_date or date.today()))
        self.salary.setText(
            "" if record.base_monthly_salary is None else format(record.base_monthly_salary, "f")
        )
        self.phone.setText(record.phone or "")
        self.username.setText(record.username or self.tr("not linked"))
        self._show_link_buttons()

    def clear_for_new(self) -> None:
        self.record = None
        self.title.setText(self.tr("New staff member"))
        for widget in (
            self.employee_number,
            self.full_name,
            self.job_title,
            self.grade,
            self.salary,
            self.phone,
        ):
            widget.clear()
        self.employee_number.setReadOnly(False)
        self.hire_date.setEnabled(True)
        self.hire_date.setDate(qdate(date.today()))
        self.has_end.setChecked(False)
        self.username.setText(self.tr("not linked"))
        self._show_link_buttons()
        self.employee_number.setFocus()

    def values(self) -> dict[str, Any]:
        """The form as request values; a salary that is not a number is sent as text so
        the contract refuses it with the field named."""
        raw = self.salary.text().strip().replace(",", "")
        salary: Any
        try:
            salary = str(Decimal(raw)) if raw else None
        except InvalidOperation:
            salary = raw
        values: dict[str, Any] = {
            "full_name": self.full_name.text(),
            "job_title": self.job_title.text(),
            "department_id": self.department.currentData(),
            "employment_type": self.employment_type.currentData(),
            "grade": self.grade.text().strip() or None,
            "end_date": pydate(self.end_date.date()) if self.has_end.isChecked() else None,
            "phone": self.phone.text().strip() or None,
        }
        if salary is not None:
            values["base_monthly_salary"] = salary
        if self.record is None:
            values["employee_number"] = self.employee_number.text().strip()
            values["hire_date"] = pydate(self.hire_date.date())
            values = {k: v for k, v in values.items() if v is not None}
        else:
            values["version"] = self.record.version
        return values


class DirectoryTab(StaffPanel):
    """Search on top, the list left, the editor right."""

    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None = None):
        super().__init__(context, staff, parent)
        top = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(self.tr("Name, employee number or job title"))
        self.search.setAccessibleName(self.tr("Find staff"))
        self.search.setToolTip(self.tr("Find staff (Ctrl+F)"))
        self.active_only = QCheckBox(self.tr("Employed today only"), self)
        self.active_only.setAccessibleName(self.tr("Employed today only"))
        self.count = QLabel(self)
        top.addWidget(self.search, 1)
        top.addWidget(self.active_only)
        top.addWidget(self.count)
        self.layout_.addLayout(top)
        self.model = StaffTableModel(
            context.tasks,
            lambda f, _sort, limit, offset: staff.staff(
                f.get("q"), active=bool(f.get("active")), limit=limit, offset=offset
            ),
            self,
        )
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.table = make_record_table(splitter, self.tr("Staff directory"), self.model)
        keep_columns_whole(self.table)
        right = QWidget(splitter)
        column = QVBoxLayout(right)
        self.editor = StaffEditor(
            right, editable=self.can("staff.manage"), sees_salary=self.can("staff.salary")
        )
        column.addWidget(self.editor)
        buttons = QHBoxLayout()
        self.new_button = QPushButton(self.tr("New staff member"), right)
        self.new_button.setToolTip(self.tr("Add a staff record (Ctrl+N)"))
        self.save_button = QPushButton(self.tr("Save"), right)
        self.save_button.setToolTip(self.tr("Save the record (Ctrl+S)"))
        self.save_button.setEnabled(False)
        for button in (self.new_button, self.save_button):
            button.setVisible(self.can("staff.manage"))
            buttons.addWidget(button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        column.addWidget(self.problem)
        column.addStretch(1)
        splitter.addWidget(self.table)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.layout_.addWidget(splitter, 1)
        self.search.textChanged.connect(self._reload)
        self.active_only.toggled.connect(self._reload)
        self.model.sig_total_changed.connect(
            lambda total: self.count.setText(self.tr("{n} staff").format(n=total))
        )
        self.model.sig_load_failed.connect(self.show_problem)
        self.table.selectionModel().currentRowChanged.connect(self._on_row)
        self.new_button.clicked.connect(self.new_record)
        self.save_button.clicked.connect(self.save)
        self.link_dialog: LinkSignInDialog | None = None
        self.editor.link_button.clicked.connect(self.link_sign_in)
        self.editor.unlink_button.clicked.connect(self.unlink_sign_in)
        if self.can("staff.manage"):
            QShortcut(QKeySequence("Ctrl+N"), self, activated=self.new_record)
            QShortcut(QKeySequence("Ctrl+S"), self, activated=self.save)
            QShortcut(QKeySequence("Ctrl+L"), self, activated=self.link_sign_in)
        QShortcut(QKeySequence("Ctrl+F"), self, activated=self.search.setFocus)

    def start(self, units: list[RosterUnit]) -> None:
        self.editor.set_departments(units)
        self.model.set_filters(q=None)

    def _reload(self) -> None:
        self.model.set_filters(
            q=self.search.text().strip() or None, active=self.active_only.isChecked() or None
        )

    def _on_row(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            self.editor.load(self.model.row_item(current.row()))
            self.save_button.setEnabled(True)

    def select_staff(self, staff_id: int) -> None:
        row = self.model.find_row(staff_id)
        if row >= 0:
            self.table.selectRow(row)

    def new_record(self) -> None:
        self.table.clearSelection()
        self.editor.clear_for_new()
        self.save_button.setEnabled(True)
        self.problem.clear()

    def save(self) -> None:
        values = self.editor.values()
        record = self.editor.record
        if record is None:
            work = lambda: self.staff.create_staff(values)  # noqa: E731
        else:
            work = lambda: self.staff.update_staff(record.id, values)  # noqa: E731
        self.run(work, self._saved)

    def _saved(self, record: StaffRead) -> None:
        self.editor.load(record)
        if self.model.find_row(record.id) >= 0:
            self.model.replace_item(record)
        else:
            self.model.reload()
        self.context.show_status(self.tr("Saved {name}.").format(name=record.full_name))

    # -- the record's sign-in (HR) -----------------------------------------------------------
    def link_sign_in(self) -> LinkSignInDialog | None:
        """Pick a sign-in in a short dialog; on OK the record is saved with it."""
        record = self.editor.record
        if record is None or not self.can("staff.manage"):
            return None
        dialog = LinkSignInDialog(self.context.tasks, self.staff, record, self)
        dialog.finished.connect(lambda result: self._on_link_dialog(dialog, record, result))
        self.link_dialog = dialog
        dialog.open()
        return dialog

    def _on_link_dialog(self, dialog: LinkSignInDialog, record: StaffRead, result: int) -> None:
        accepted = result == LinkSignInDialog.DialogCode.Accepted.value
        chosen = dialog.chosen() if accepted else None
        dialog.deleteLater()
        self.link_dialog = None
        if chosen is not None:
            self.set_sign_in(record, chosen.user_id)

    def unlink_sign_in(self) -> None:
        record = self.editor.record
        if record is None or record.user_id is None:
            return
        answer = QMessageBox.question(
            self,
            self.tr("Unlink sign-in"),
            self.tr(
                "Unlink {user} from {name}? They will no longer see their shifts, leave and "
                "payslips under My work until a sign-in is linked again."
            ).format(user=record.username, name=record.full_name),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.set_sign_in(record, None)

    def set_sign_in(self, record: StaffRead, user_id: int | None) -> None:
        """Save only the link (the server audits it) and show the record as saved."""
        values = {"version": record.version, "user_id": user_id}
        self.run(lambda: self.staff.update_staff(record.id, values), self._saved)
