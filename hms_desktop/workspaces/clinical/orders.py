"""Order a lab test, enter its result, attach a document (read off the GUI thread)."""

from __future__ import annotations

from pathlib import Path

from hms_contract.clinical import DocumentRead, LabOrderRead, LabTestRead
from hms_desktop.api.clinical import ClinicalApi
from hms_desktop.qt import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.clinical.common import field_error_label, set_error
from hms_desktop.workspaces.clinical.dialogs import self_tr
from hms_desktop.workspaces.clinical.form_dialog import FormDialog

PRIORITIES = ("routine", "urgent", "stat")


def _number(value: object) -> str | None:
    """A reference limit as people write it (``3.5``, not ``3.5000``)."""
    return None if value is None else f"{float(value):g}"


MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


class LabOrderDialog(FormDialog):
    """Choose a test from the catalogue (loaded when the dialog opens) and a priority."""

    def __init__(
        self,
        context: WorkspaceContext,
        clinical: ClinicalApi,
        patient_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            context, clinical, self_tr("Order lab test"), self_tr("Order test"), parent
        )
        self.patient_id = patient_id
        self.test_combo = QComboBox(self.body)
        self.test_combo.setAccessibleName(self.tr("Test"))
        self.test_combo.addItem(self.tr("Loading tests…"), None)
        self.test_error = field_error_label(self.body, self.tr("Test problem"))
        self.priority_combo = QComboBox(self.body)
        self.priority_combo.setAccessibleName(self.tr("Priority"))
        for value in PRIORITIES:
            self.priority_combo.addItem(
                self.tr(value.upper() if value == "stat" else value.capitalize()), value
            )
        self.notes_edit = QLineEdit(self.body)
        self.notes_edit.setAccessibleName(self.tr("Clinical notes"))
        self.notes_edit.setMaxLength(500)
        self.form.addRow(self.tr("&Test:"), self.test_combo)
        self.form.addRow("", self.test_error)
        self.form.addRow(self.tr("&Priority:"), self.priority_combo)
        self.form.addRow(self.tr("&Notes:"), self.notes_edit)
        context.tasks.run(
            clinical.lab_catalogue,
            on_done=self._on_catalogue_loaded,
            on_error=self.problem.show_error,
            owner=self,
        )

    def _on_catalogue_loaded(self, tests: list[LabTestRead]) -> None:
        self.test_combo.clear()
        self.test_combo.addItem(self.tr("Choose a test…"), None)
        for test in tests:
            unit = f" ({test.unit})" if test.unit else ""
            self.test_combo.addItem(f"{test.name or test.code}{unit}", test)

    def validate(self) -> bool:
        problem = None if self.test_combo.currentData() else self.tr("Choose a test.")
        set_error(self.test_error, problem)
        return problem is None

    def send(self) -> None:
        api, pid = self.clinical, self.patient_id
        test_id = self.test_combo.currentData().id
        priority, notes = self.priority_combo.currentData(), self.notes_edit.text().strip()
        self.run(lambda: api.order_lab(pid, test_id=test_id, priority=priority, notes=notes))


class LabResultDialog(FormDialog):
    """Enter the result of one order; the server flags it against the reference range."""

    def __init__(
        self,
        context: WorkspaceContext,
        clinical: ClinicalApi,
        order: LabOrderRead,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(context, clinical, self_tr("Enter result"), self_tr("Save result"), parent)
        self.order = order
        test = order.test
        name, unit = test.name, test.unit or ""
        low = _number(test.ref_low)
        high = _number(test.ref_high)
        about = QLabel(name, self.body)
        about.setStyleSheet("font-weight: 600;")
        self.value_edit = QLineEdit(self.body)
        self.value_edit.setAccessibleName(self.tr("Result value"))
        self.value_edit.setMaxLength(500)
        unit_label = QLabel(unit, self.body)
        row = QWidget(self.body)
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.value_edit, 1)
        row_layout.addWidget(unit_label)
        self.value_error = field_error_label(self.body, self.tr("Result problem"))
        self.comment_edit = QLineEdit(self.body)
        self.comment_edit.setAccessibleName(self.tr("Comment"))
        self.comment_edit.setMaxLength(500)
        self.form.addRow(self.tr("Test:"), about)
        self.form.addRow(self.tr("&Value:"), row)
        if low is not None or high is not None:
            ref = QLabel(
                self.tr("Reference range {low}–{high} {unit}").format(
                    low=low if low is not None else "…",
                    high=high if high is not None else "…",
                    unit=unit,
                ),
                self.body,
            )
            ref.setProperty("role", "subtitle")
            self.form.addRow("", ref)
        self.form.addRow("", self.value_error)
        self.form.addRow(self.tr("&Comment:"), self.comment_edit)

    def validate(self) -> bool:
        problem = None if self.value_edit.text().strip() else self.tr("Enter the result.")
        set_error(self.value_error, problem)
        return problem is None

    def send(self) -> None:
        api, order_id = self.clinical, self.order.id
        pid = self.order.patient_id
        value, comment = self.value_edit.text().strip(), self.comment_edit.text().strip()
        self.run(lambda: api.enter_result(pid, order_id, value=value, comment=comment))


class UploadDocumentDialog(FormDialog):
    """Attach a PDF or image. The file is read on a worker thread, never the GUI thread;
    the server decides the type from its bytes and enforces the size limit again."""

    def __init__(
        self,
        context: WorkspaceContext,
        clinical: ClinicalApi,
        patient_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(context, clinical, self_tr("Attach document"), self_tr("Upload"), parent)
        self.patient_id = patient_id
        self.path_edit = QLineEdit(self.body)
        self.path_edit.setAccessibleName(self.tr("File"))
        self.path_edit.setPlaceholderText(self.tr("PDF, PNG or JPEG, up to 10 MB"))
        browse = QPushButton(self.tr("&Browse…"), self.body)
        browse.setAccessibleName(self.tr("Browse for a file"))
        browse.setAutoDefault(False)
        browse.clicked.connect(self.browse)
        row = QWidget(self.body)
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.path_edit, 1)
        row_layout.addWidget(browse)
        self.path_error = field_error_label(self.body, self.tr("File problem"))
        self.title_edit = QLineEdit(self.body)
        self.title_edit.setAccessibleName(self.tr("Document title"))
        self.title_edit.setMaxLength(200)
        self.title_error = field_error_label(self.body, self.tr("Title problem"))
        self.form.addRow(self.tr("&File:"), row)
        self.form.addRow("", self.path_error)
        self.form.addRow(self.tr("&Title:"), self.title_edit)
        self.form.addRow("", self.title_error)

    def browse(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, self.tr("Attach document"), "", self.tr("Documents (*.pdf *.png *.jpg *.jpeg)")
        )
        if path:
            self.path_edit.setText(path)
            if not self.title_edit.text():
                self.title_edit.setText(Path(path).stem)

    def validate(self) -> bool:
        path_problem = None if self.path_edit.text().strip() else self.tr("Choose a file.")
        title_problem = None if self.title_edit.text().strip() else self.tr("Give it a title.")
        set_error(self.path_error, path_problem)
        set_error(self.title_error, title_problem)
        return path_problem is None and title_problem is None

    def send(self) -> None:
        api, pid = self.clinical, self.patient_id
        path, title = Path(self.path_edit.text().strip()), self.title_edit.text().strip()
        too_big = self.tr("The file is larger than 10 MB.")

        def upload() -> DocumentRead:
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                raise ValueError(too_big)
            return api.upload_document(
                pid, title=title, filename=path.name, content=path.read_bytes()
            )

        self.run(upload)

    def on_failure(self, exc: BaseException) -> None:
        if isinstance(exc, OSError | ValueError):
            set_error(
                self.path_error,
                str(exc)
                if isinstance(exc, ValueError)
                else self.tr("Cannot read the file: {e}").format(e=exc.strerror or exc),
            )
            return
        super().on_failure(exc)
