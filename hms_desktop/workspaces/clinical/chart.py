"""The patient chart: header strip (always visible) over the tabs, and the access gate.

Opening a patient loads the chart summary first. A 403 ``care_relationship_required``
shows the break-the-glass offer instead of the tabs; anything else shows inline.
"""

from __future__ import annotations

from dataclasses import replace

from hms_contract.clinical import ChartRead
from hms_contract.patients import PatientSummary
from hms_contract.prescribing import PrescriptionRead
from hms_desktop.api.clinical import CARE_RELATIONSHIP_REQUIRED, ClinicalApi
from hms_desktop.api.errors import ApiProblem
from hms_desktop.api.hospital import HospitalApi
from hms_desktop.api.patients import PatientsApi
from hms_desktop.models.clinical import flag_word, local_time
from hms_desktop.models.patients import PatientRef
from hms_desktop.qt import (
    QLabel,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.patient_header import PatientHeader
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.clinical.chart_tabs import (
    ListTab,
    NotesTab,
    SummaryTab,
    TimelineTab,
    VitalsTab,
    may_do,
    medication_text,
    reference_text,
    result_text,
)
from hms_desktop.workspaces.clinical.dialogs import (
    AllergyDialog,
    BreakGlassDialog,
    ProblemDialog,
    VitalsDialog,
)
from hms_desktop.workspaces.clinical.note_dialog import NoteDialog
from hms_desktop.workspaces.clinical.orders import (
    LabOrderDialog,
    LabResultDialog,
    UploadDocumentDialog,
)
from hms_desktop.workspaces.clinical.prescribe import PrescribeDialog


def _size(n: int | None) -> str:
    if not n:
        return ""
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


class ChartView(QWidget):
    """One patient's chart. GUI thread only; every load goes through the task runner.

    Emits ``sig_chart_opened(patient_id)`` once the summary arrived (the tour waits on it).
    Dialogs it opens are kept as attributes (``self.dialog``) so tests can drive them.
    """

    sig_chart_opened = Signal(int)

    def __init__(
        self, context: WorkspaceContext, clinical: ClinicalApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.clinical = clinical
        # Printing a prescription also reads the patient's address and the letterhead logo.
        self.patients_api = PatientsApi(context.api)
        self.hospital_api = HospitalApi(context.api)
        self.patient: PatientRef | None = None
        self.chart: ChartRead | None = None
        self.dialog = None
        self.last_prescription: PrescriptionRead | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.header = PatientHeader(self)
        layout.addWidget(self.header)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self.pages = QStackedWidget(self)
        layout.addWidget(self.pages, 1)

        self.placeholder = QLabel(
            self.tr("Choose a patient from today's list, or find one with Ctrl+F."), self
        )
        self.placeholder.setProperty("role", "subtitle")
        self.placeholder.setWordWrap(True)
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(self._build_access_page())
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Chart sections"))
        self.pages.addWidget(self.tabs)
        self._build_tabs()

    # -- building ----------------------------------------------------------------------
    def _build_access_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 24, 8, 8)
        self.access_label = QLabel(page)
        self.access_label.setWordWrap(True)
        self.access_label.setAccessibleName(self.tr("Access to this chart"))
        self.break_glass_button = QPushButton(self.tr("Emergency access (break the glass)…"), page)
        self.break_glass_button.setAccessibleName(self.tr("Emergency access"))
        self.break_glass_button.setToolTip(
            self.tr("Open this chart in an emergency; your reason is recorded and reviewed")
        )
        self.break_glass_button.clicked.connect(self.request_break_glass)
        layout.addWidget(self.access_label)
        layout.addWidget(self.break_glass_button, 0)
        layout.addStretch(1)
        return page

    def _build_tabs(self) -> None:
        ctx, api = self.context, self.clinical
        self.summary_tab = SummaryTab(ctx, api, self.tabs)
        self.timeline_tab = TimelineTab(ctx, api, self.tabs)
        self.notes_tab = NotesTab(ctx, api, self.tabs)
        self.vitals_tab = VitalsTab(ctx, api, self.tabs)
        self.allergies_tab = ListTab(
            ctx,
            api,
            self.tr("Allergies"),
            [
                (self.tr("Substance"), lambda a: a.substance),
                (self.tr("Severity"), lambda a: self.tr(a.severity)),
                (self.tr("Reaction"), lambda a: a.reaction or ""),
                (self.tr("Category"), lambda a: a.category or ""),
                (self.tr("Recorded"), lambda a: local_time(a.recorded_at, "%d %b %Y")),
            ],
            lambda api, pid: api.list_allergies(pid),
            flag_of=lambda a: "HH" if a.severity == "severe" else None,
            parent=self.tabs,
        )
        self.allergies_tab.add_action(
            self.tr("&Add allergy…"), self.tr("Record an allergy"), "add_allergy"
        )
        self.problems_tab = ListTab(
            ctx,
            api,
            self.tr("Problems"),
            [
                (self.tr("ICD-10"), lambda p: p.icd10_code),
                (self.tr("Problem"), lambda p: p.description),
                (self.tr("Status"), lambda p: self.tr(p.status)),
                (self.tr("Onset"), lambda p: p.onset_date.isoformat() if p.onset_date else ""),
            ],
            lambda api, pid: api.list_problems(pid),
            parent=self.tabs,
        )
        self.problems_tab.add_action(
            self.tr("&Add problem…"), self.tr("Add a diagnosis (ICD-10)"), "add_problem"
        )
        self.meds_tab = ListTab(
            ctx,
            api,
            self.tr("Medications"),
            [
                (self.tr("Medicine"), medication_text),
                (self.tr("Route"), lambda m: m.route),
                (self.tr("Days"), lambda m: str(m.duration_days or "")),
                (self.tr("Prescribed"), lambda m: local_time(m.prescribed_at, "%d %b %Y")),
                (self.tr("Prescription"), lambda m: m.prescription_number),
            ],
            lambda api, pid: api.list_medications(pid),
            parent=self.tabs,
        )
        self.meds_tab.add_action(
            self.tr("Pre&scribe…"), self.tr("Write a prescription"), "prescribe"
        )
        self.print_button = self.meds_tab.add_action(
            self.tr("&Print prescription…"),
            self.tr("Preview and print the selected or latest prescription (Ctrl+P)"),
            "print",
        )
        self.results_tab = ListTab(
            ctx,
            api,
            self.tr("Results"),
            [
                (self.tr("Ordered"), lambda o: local_time(o.ordered_at, "%d %b %Y %H:%M")),
                (self.tr("Test"), lambda o: o.test.name),
                (self.tr("Priority"), lambda o: self.tr(o.priority)),
                (
                    self.tr("Result"),
                    lambda o: result_text(o.result) if o.result else self.tr("awaiting result"),
                ),
                (self.tr("Reference"), lambda o: reference_text(o.result or o.test)),
            ],
            lambda api, pid: api.list_lab_orders(pid),
            flag_of=lambda o: o.result.flag if o.result else None,
            parent=self.tabs,
        )
        self.results_tab.add_action(
            self.tr("&Order test…"), self.tr("Order a lab test"), "order_lab"
        )
        self.results_tab.add_action(
            self.tr("&Enter result…"),
            self.tr("Enter the result of the selected order"),
            "enter_result",
        )
        self.documents_tab = ListTab(
            ctx,
            api,
            self.tr("Documents"),
            [
                (self.tr("Uploaded"), lambda d: local_time(d.uploaded_at, "%d %b %Y")),
                (self.tr("Title"), lambda d: d.title),
                (self.tr("Type"), lambda d: d.content_type),
                (self.tr("Size"), lambda d: _size(d.size_bytes)),
            ],
            lambda api, pid: api.list_documents(pid),
            parent=self.tabs,
        )
        self.documents_tab.add_action(
            self.tr("&Attach document…"), self.tr("Upload a PDF or image"), "upload_document"
        )
        for tab in (
            self.allergies_tab,
            self.problems_tab,
            self.meds_tab,
            self.results_tab,
            self.documents_tab,
        ):
            tab.finish_layout()
        self.all_tabs = [
            (self.summary_tab, self.tr("S&ummary")),
            (self.timeline_tab, self.tr("&Timeline")),
            (self.notes_tab, self.tr("N&otes")),
            (self.vitals_tab, self.tr("&Vitals")),
            (self.allergies_tab, self.tr("A&llergies")),
            (self.problems_tab, self.tr("&Problems")),
            (self.meds_tab, self.tr("&Medications")),
            (self.results_tab, self.tr("&Results")),
            (self.documents_tab, self.tr("&Documents")),
        ]
        for tab, title in self.all_tabs:
            self.tabs.addTab(tab, title)
            tab.sig_action.connect(self.do_action)
        self.vitals_tab.sig_vitals_changed.connect(self.summary_tab.show_vitals)

    # -- opening -----------------------------------------------------------------------
    def open_patient(self, patient: PatientRef | PatientSummary) -> None:
        """Show ``patient`` (a search row or a today-list row) and load their chart."""
        self.patient = PatientRef.of(patient)
        self.chart = None
        self.header.set_patient(self.patient)
        self.header.set_allergies(None)
        self.problem.clear()
        self.pages.setCurrentWidget(self.placeholder)
        self.placeholder.setText(self.tr("Opening the chart…"))
        self.load_chart()

    def load_chart(self) -> None:
        api, pid = self.clinical, self.patient.id
        self.context.tasks.run(
            lambda: api.get_chart(pid),
            on_done=lambda chart: self._on_chart_loaded(pid, chart),
            on_error=lambda exc: self._on_chart_failed(pid, exc),
            owner=self,
        )

    def _current(self, pid: int) -> bool:
        return self.patient is not None and self.patient.id == pid

    def _on_chart_loaded(self, pid: int, chart: ChartRead) -> None:
        if not self._current(pid):
            return
        assert self.patient is not None
        self.chart = chart
        # The chart's header is the authority; an estimated birth date is only on the row.
        self.patient = replace(
            PatientRef.of(chart.patient), birth_date_estimated=self.patient.birth_date_estimated
        )
        self.header.set_patient(self.patient)
        self.header.set_allergies(chart.allergies)
        self.summary_tab.show_chart(chart)
        self.pages.setCurrentWidget(self.tabs)
        for tab, _title in self.all_tabs:
            if tab is not self.summary_tab:
                tab.set_patient(pid)
        if chart.access == "break_glass":
            self.context.show_status(
                self.tr("Emergency access in use: this chart view is recorded with your reason.")
            )
        self.sig_chart_opened.emit(pid)

    def _on_chart_failed(self, pid: int, exc: BaseException) -> None:
        if not self._current(pid):
            return
        if isinstance(exc, ApiProblem) and exc.code == CARE_RELATIONSHIP_REQUIRED:
            self.access_label.setText(
                self.tr(
                    "You are not in this patient's care team, so their chart is closed to you. "
                    "If this is an emergency, you can open it with a recorded reason."
                )
            )
            self.header.set_allergies_restricted()
            self.pages.setCurrentWidget(self.access_label.parentWidget())
            self.break_glass_button.setFocus()
            return
        self.placeholder.setText(self.tr("The chart could not be opened."))
        self.header.set_allergies_unavailable()
        self.problem.show_error(exc)

    def refresh(self, *tabs) -> None:
        """Reload the summary (header allergies) and the given tabs after a change."""
        if not self.patient:
            return
        self.load_chart_summary_only()
        for tab in tabs:
            tab.set_patient(self.patient.id)

    def load_chart_summary_only(self) -> None:
        api, pid = self.clinical, self.patient.id

        def done(chart: ChartRead) -> None:
            if self._current(pid):
                self.chart = chart
                self.header.set_allergies(chart.allergies)
                self.summary_tab.show_chart(chart)

        self.context.tasks.run(
            lambda: api.get_chart(pid), on_done=done, on_error=self.problem.show_error, owner=self
        )

    # -- actions -----------------------------------------------------------------------
    def _open(self, dialog, on_saved) -> None:
        self.dialog = dialog
        dialog.sig_saved.connect(on_saved)
        dialog.open()

    def do_action(self, action: str) -> None:
        if (not self.patient or self.chart is None) and action != "break_glass":
            return
        ctx, api, pid = self.context, self.clinical, self.patient.id
        if action == "new_note":
            self._open(
                NoteDialog(ctx, api, pid, parent=self),
                lambda _r: self.refresh(self.notes_tab, self.timeline_tab),
            )
        elif action == "amend_note":
            note = self.notes_tab.selected_note()
            if note:
                self._open(
                    NoteDialog(ctx, api, pid, note, parent=self),
                    lambda _r: self.refresh(self.notes_tab, self.timeline_tab),
                )
        elif action == "record_vitals":
            self._open(
                VitalsDialog(ctx, api, pid, parent=self),
                lambda _r: self.refresh(self.vitals_tab, self.timeline_tab),
            )
        elif action == "add_allergy":
            self._open(
                AllergyDialog(ctx, api, pid, parent=self),
                lambda _r: self.refresh(self.allergies_tab, self.timeline_tab),
            )
        elif action == "add_problem":
            self._open(
                ProblemDialog(ctx, api, pid, parent=self),
                lambda _r: self.refresh(self.problems_tab, self.timeline_tab),
            )
        elif action == "prescribe":
            if may_do(ctx, action):
                self._open(PrescribeDialog(ctx, api, pid, parent=self), self._on_prescribed)
        elif action == "print":
            self.print_prescription()
        elif action == "order_lab":
            self._open(
                LabOrderDialog(ctx, api, pid, parent=self),
                lambda _r: self.refresh(self.results_tab, self.timeline_tab),
            )
        elif action == "enter_result":
            order = self.results_tab.selected()
            if order and not order.result:
                self._open(
                    LabResultDialog(ctx, api, order, parent=self),
                    lambda _r: self.refresh(self.results_tab, self.timeline_tab),
                )
            else:
                self.results_tab.problem.show_text(
                    self.tr("Select an order that is still awaiting its result.")
                )
        elif action == "upload_document":
            self._open(
                UploadDocumentDialog(ctx, api, pid, parent=self),
                lambda _r: self.refresh(self.documents_tab, self.timeline_tab),
            )

    def _on_prescribed(self, result: PrescriptionRead) -> None:
        self.last_prescription = result
        self.context.show_status(
            self.tr("Prescription {number} saved.").format(number=result.number)
        )
        self.tabs.setCurrentWidget(self.meds_tab)
        self.refresh(self.meds_tab, self.timeline_tab)

    def request_break_glass(self) -> None:
        if not self.patient:
            return
        label = f"{self.patient.family_name}, {self.patient.given_name}"
        self._open(
            BreakGlassDialog(self.context, self.clinical, self.patient.id, label, parent=self),
            lambda _r: self.load_chart(),
        )

    # -- printing ----------------------------------------------------------------------
    def print_prescription(self) -> None:
        """Preview the chosen (or just written) prescription; the PDF is built off-thread."""
        selected = self.meds_tab.selected()
        rx_id = (selected.prescription_id if selected else None) or (
            self.last_prescription.id if self.last_prescription else None
        )
        if rx_id is None:
            rows = self.meds_tab.model.rows()
            rx_id = rows[0].prescription_id if rows else None
        if rx_id is None:
            self.meds_tab.problem.show_text(self.tr("There is no prescription to print yet."))
            return
        from hms_desktop.widgets.print_preview import PrintPreviewDialog
        from hms_desktop.workspaces.clinical.print_rx import build_prescription_pdf

        api, hospital = self.clinical, self.context.me.hospital
        patients, hospital_api = self.patients_api, self.hospital_api

        def build() -> bytes:
            return build_prescription_pdf(api, patients, hospital_api, rx_id, hospital)

        def show(pdf: bytes) -> None:
            self.dialog = PrintPreviewDialog(
                self.context.tasks,
                pdf,
                title=self.tr("Prescription"),
                file_name=f"prescription-{rx_id}.pdf",
                parent=self,
            )
            self.dialog.open()

        self.context.tasks.run(
            build, on_done=show, on_error=self.meds_tab.problem.show_error, owner=self
        )


__all__ = ["ChartView", "flag_word"]
