"""The reception workspace: patient list and summary on the left, calendar and queue on the
right, the patient in context in a strip on top. Puts the pieces together and runs the
actions they request (dialogs, check-in, printing)."""

from __future__ import annotations

from typing import Literal

from hms_contract.patients import DuplicateCandidate, PatientRead, PatientSummary
from hms_contract.scheduling import AppointmentRead, DoctorRead, QueueEntryRead, SlotRead
from hms_desktop.api.duplicates import DuplicatesApi
from hms_desktop.api.errors import ApiProblem
from hms_desktop.api.patients import PatientsApi
from hms_desktop.api.scheduling import SchedulingApi, SlotTakenError
from hms_desktop.models.appointments import time_text
from hms_desktop.qt import (
    QKeySequence,
    QMessageBox,
    QShortcut,
    QSplitter,
    Qt,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.layout_memory import remember_splitter
from hms_desktop.widgets.problems import describe_error
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.reception.booking import BookingDialog, CancelDialog, RescheduleDialog
from hms_desktop.workspaces.reception.calendar_view import CalendarView
from hms_desktop.workspaces.reception.duplicates_panel import DuplicatesPanel
from hms_desktop.workspaces.reception.header_strip import PatientHeaderStrip
from hms_desktop.workspaces.reception.queue_board import QueueBoard
from hms_desktop.workspaces.reception.registration import PatientFormDialog
from hms_desktop.workspaces.reception.search_panel import PatientSearchPanel
from hms_desktop.workspaces.reception.summary_card import PatientSummaryCard
from hms_desktop.workspaces.reception.waitlist_panel import WaitlistPanel

EVENT_PREFIXES = ("appointment.", "queue.", "patient.", "schedule.", "doctor.")


class ReceptionWorkspace(QWidget):
    """Reception's whole screen. GUI thread; every request goes through ``context.tasks``.

    Builds the typed area APIs (``PatientsApi``, ``SchedulingApi``) once over
    ``context.api`` and hands them to its panels with the context. Listens to server events
    (``context.events()``) and reloads what they touch, so a booking or check-in made at
    another desk shows up here within a moment.
    """

    def __init__(self, context: WorkspaceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.tasks = context.tasks
        self.patients_api = PatientsApi(context.api)
        self.scheduling_api = SchedulingApi(context.api)
        self.last_token: int | None = None
        self.preview = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 6)
        self.header = PatientHeaderStrip(self)
        layout.addWidget(self.header)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        left = self.left_splitter = QSplitter(Qt.Orientation.Vertical, self.splitter)
        self.search = PatientSearchPanel(context, self.patients_api, left)
        self.summary = PatientSummaryCard(context, self.patients_api, self.scheduling_api, left)
        left.addWidget(self.search)
        left.addWidget(self.summary)
        left.setStretchFactor(0, 5)
        left.setStretchFactor(1, 4)
        left.setCollapsible(1, False)
        left.setSizes([380, 330])
        self.summary.setMinimumHeight(260)
        self.tabs = QTabWidget(self.splitter)
        self.tabs.setAccessibleName(self.tr("Reception sections"))
        self.calendar = CalendarView(context, self.scheduling_api, self.tabs)
        self.queue = QueueBoard(context, self.scheduling_api, self.tabs)
        self.tabs.addTab(self.calendar, self.tr("&Calendar"))
        self.tabs.addTab(self.queue, self.tr("&Queue"))
        self.tabs.setTabToolTip(0, self.tr("Appointments by doctor (Alt+C)"))
        self.tabs.setTabToolTip(1, self.tr("Today's queue and waiting times (Alt+Q)"))
        self.waitlist = WaitlistPanel(context, self.scheduling_api, self.tabs)
        index = self.tabs.addTab(self.waitlist, self.tr("&Waitlist"))
        self.tabs.setTabToolTip(
            index,
            self.tr(
                "Patients waiting for an earlier slot, and the freed slots offered to them (Alt+W)"
            ),
        )
        self.waitlist.sig_changed.connect(self.context.show_status)
        self.waitlist.sig_booked.connect(self._on_booked)
        self.duplicates: DuplicatesPanel | None = None
        if "patients.duplicates" in context.me.permissions:
            self.duplicates = DuplicatesPanel(
                context, self.patients_api, DuplicatesApi(context.api), self.tabs
            )
            index = self.tabs.addTab(self.duplicates, self.tr("&Duplicates"))
            self.tabs.setTabToolTip(
                index, self.tr("Records that may be the same person, and merges to confirm (Alt+D)")
            )
            self.duplicates.sig_changed.connect(self._on_duplicates_changed)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.tabs)
        # The patient list is as wide as its identifying columns need (they never elide);
        # the calendar takes the rest and scrolls. Sizes the user drags are remembered.
        self.splitter.setCollapsible(0, False)
        self.splitter.setCollapsible(1, False)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.tabs.setMinimumWidth(360)
        # The list starts at the width its columns need (it grows with longer names).
        self.splitter.setSizes([1, 10_000])
        remember_splitter(self.splitter, context.settings, "reception/panes")
        remember_splitter(left, context.settings, "reception/patient-panes")
        layout.addWidget(self.splitter, 1)

        self.search.sig_patient_selected.connect(self._on_search_patient_selected)
        self.search.sig_new_patient_requested.connect(self.new_patient)
        self.summary.sig_edit_requested.connect(self.edit_patient)
        self.summary.sig_print_label_requested.connect(self.print_label)
        self.summary.sig_loaded.connect(self.header.set_patient)
        self.calendar.sig_book_requested.connect(self.book)
        self.calendar.sig_action_requested.connect(self._on_calendar_action_requested)
        self.calendar.sig_move_requested.connect(self.move_appointment)
        self.queue.sig_action_done.connect(self._on_queue_action_done)

        for keys, slot in (
            ("Ctrl+F", self.search.focus_search),
            ("Ctrl+N", self.new_patient),
            ("Ctrl+P", lambda: self.print_label(self.summary.patient, "id_card")),
            ("Ctrl+E", lambda: self.edit_patient(self.summary.patient)),
            ("F5", self.reload_all),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot)

        self.events = context.events()
        self.events.subscribe(EVENT_PREFIXES, self._on_server_event)

        self.tasks.run(
            self.scheduling_api.departments,
            self.calendar.set_departments,
            lambda _exc: None,
            owner=self,
        )
        self.search.search_now("")
        self.calendar.reload()
        self.queue.reload()
        self.waitlist.reload()
        if self.duplicates is not None:
            self.duplicates.reload()

    # -- state for the screenshot tour and tests ---------------------------------------
    @property
    def loading(self) -> bool:
        return (
            self.search.model.loading
            or self.calendar.loading
            or self.queue.loading
            or self.summary.loading
            or self.waitlist.loading
            or (self.duplicates is not None and self.duplicates.loading)
        )

    def prepare_screenshot(self) -> None:
        """Screenshot tour hook: put the first listed patient in context."""
        if self.search.model.rowCount():
            self.search.table.selectRow(0)

    def screenshot_views(self) -> list[tuple[str, object]]:
        """Screenshot tour hook: the other tabs, each as it looks when opened."""
        views: list[tuple[str, object]] = [
            ("queue", lambda: self.tabs.setCurrentWidget(self.queue)),
            ("waitlist", lambda: self.tabs.setCurrentWidget(self.waitlist)),
        ]
        if self.duplicates is not None:
            views.append(("duplicates", lambda: self.tabs.setCurrentWidget(self.duplicates)))
        return views

    def reload_all(self) -> None:
        self.search.search_now()
        self.calendar.reload()
        self.queue.reload()
        self.summary.reload_appointments()

    # -- patients ----------------------------------------------------------------------
    def _on_search_patient_selected(self, summary: PatientSummary | None) -> None:
        if summary is None:
            return
        self.header.set_patient(summary)
        self.summary.set_patient(summary)
        self.waitlist.set_patient(summary)

    def show_patient(self, patient: PatientSummary) -> None:
        """Put ``patient`` in context (after registering, or picking a duplicate)."""
        self.header.set_patient(patient)
        self.summary.set_patient(patient)
        self.waitlist.set_patient(patient)

    def new_patient(self) -> PatientFormDialog:
        dialog = PatientFormDialog(self.context, self.patients_api, parent=self)
        dialog.sig_saved.connect(self._on_patient_saved)
        dialog.sig_existing_chosen.connect(self._on_duplicate_chosen)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def edit_patient(self, patient: PatientSummary | None) -> PatientFormDialog | None:
        """Edit ``patient``'s demographics. A search row (``PatientSummary``) is read in full
        first, then the form opens (and ``None`` is returned)."""
        if patient is None:
            return None
        if not isinstance(patient, PatientRead):
            api, patient_id = self.patients_api, patient.id
            self.tasks.run(
                lambda: api.get(patient_id), self.edit_patient, self._show_problem, owner=self
            )
            return None
        dialog = PatientFormDialog(self.context, self.patients_api, patient, parent=self)
        dialog.sig_saved.connect(self._on_patient_saved)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _on_patient_saved(self, patient: PatientRead) -> None:
        self.show_patient(patient)
        self.search.model.replace_item(patient)
        self.context.show_status(
            self.tr("Saved {name}, MRN {mrn}.").format(
                name=f"{patient.given_name} {patient.family_name}", mrn=patient.mrn
            )
        )

    def _on_duplicate_chosen(self, candidate: DuplicateCandidate) -> None:
        self.search.search_now(candidate.mrn)
        api, patient_id = self.patients_api, candidate.id
        self.tasks.run(
            lambda: api.get(patient_id), self.show_patient, self._show_problem, owner=self
        )

    # -- appointments ------------------------------------------------------------------
    def book(self, doctor: DoctorRead, slot: SlotRead) -> BookingDialog:
        dialog = BookingDialog(
            self.context,
            self.scheduling_api,
            self.patients_api,
            doctor,
            slot,
            self.summary.patient,
            parent=self,
        )
        dialog.sig_booked.connect(self._on_booked)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _on_booked(self, appointment: AppointmentRead) -> None:
        self.calendar.reload()
        self.summary.reload_appointments()
        self.context.show_status(self.tr("Booked."))

    def _on_calendar_action_requested(self, action: str, appointment: AppointmentRead):
        if action == "check_in":
            return self.check_in(appointment)
        if action == "reschedule":
            dialog = RescheduleDialog(self.context, self.scheduling_api, appointment, self)
            dialog.sig_rescheduled.connect(lambda _a: self._after_change())
        elif action == "cancel":
            dialog = CancelDialog(self.context, self.scheduling_api, appointment, self)
            dialog.sig_cancelled.connect(lambda _a: self._after_change())
        elif action == "no_show":
            return self.mark_no_show(appointment)
        elif action == "print_slip":
            return self.print_slip(appointment)
        else:
            return None
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def move_appointment(self, appointment: AppointmentRead, slot: SlotRead) -> QMessageBox:
        """A drag-and-drop move: confirm, then reschedule with the version the calendar
        showed. ``slot_taken`` offers the next free times; ``version_conflict`` reloads."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Move appointment"),
            self.tr("Move {patient} with {doctor} from {old} to {new}?").format(
                patient=appointment.patient_name or "",
                doctor=appointment.doctor_name or "",
                old=time_text(appointment.start),
                new=time_text(slot.start),
            ),
            QMessageBox.StandardButton.NoButton,
            self,
        )
        move = box.addButton(self.tr("Move"), QMessageBox.ButtonRole.AcceptRole)
        move.setToolTip(self.tr("Move the appointment (Enter)"))
        keep = box.addButton(self.tr("Keep"), QMessageBox.ButtonRole.RejectRole)
        keep.setToolTip(self.tr("Leave it where it is (Esc)"))
        box.setDefaultButton(move)
        box.setEscapeButton(keep)
        box.setObjectName("moveAppointmentBox")
        move.clicked.connect(lambda: self._reschedule(appointment, slot))
        box.finished.connect(box.deleteLater)
        self.move_box = box
        box.open()
        return box

    def _reschedule(self, appointment: AppointmentRead, slot: SlotRead) -> None:
        appointment_id, version, start = appointment.id, appointment.version, slot.start
        api = self.scheduling_api
        self.tasks.run(
            lambda: api.reschedule(appointment_id, start=start, version=version),
            self._on_moved,
            lambda exc: self._on_move_failed(appointment, exc),
            owner=self,
        )

    def _on_moved(self, appointment: AppointmentRead) -> None:
        self._after_change()
        self.context.show_status(
            self.tr("Moved to {when}.").format(when=time_text(appointment.start, with_date=True))
        )

    def _on_move_failed(self, appointment: AppointmentRead, exc: BaseException):
        if isinstance(exc, SlotTakenError):
            self.calendar.reload()
            dialog = RescheduleDialog(
                self.context, self.scheduling_api, appointment, self, suggestions=exc.suggestions
            )
            dialog.sig_rescheduled.connect(lambda _a: self._after_change())
            dialog.finished.connect(dialog.deleteLater)
            dialog.open()
            return dialog
        if isinstance(exc, ApiProblem) and exc.code == "version_conflict":
            self.calendar.reload(
                notice=(
                    self.tr(
                        "Someone else changed this appointment meanwhile, so it was not moved. The "
                        "calendar now shows the latest; move it again if it still needs moving."
                    ),
                    exc.code,
                )
            )
            self.queue.reload(quiet=True)
            return None
        self._show_problem(exc)
        return None

    def _on_duplicates_changed(self, status: str) -> None:
        self.context.show_status(status)
        self.search.search_now()  # a merged-away record leaves the list

    def _on_queue_action_done(self, action: str, entry: QueueEntryRead) -> None:
        texts = {
            "call": self.tr("Token {token} called: {name}."),
            "start": self.tr("Consultation started: {name}."),
            "complete": self.tr("Consultation completed: {name}."),
        }
        self.context.show_status(
            texts.get(action, "{name}").format(token=entry.token, name=entry.patient_name or "")
        )
        if action != "call":  # starting or completing changes the appointment's status
            self.calendar.reload()
            self.summary.reload_appointments()

    def check_in(self, appointment: AppointmentRead) -> None:
        appointment_id = appointment.id
        self.tasks.run(
            lambda: self.scheduling_api.check_in(appointment_id),
            lambda entry: self._on_checked_in(appointment, entry),
            self._show_problem,
        )

    def _on_checked_in(self, appointment: AppointmentRead, entry: QueueEntryRead) -> None:
        self.last_token = entry.token
        self._after_change()
        box = QMessageBox(
            QMessageBox.Icon.Information,
            self.tr("Checked in"),
            self.tr("{name} is checked in. Token number: {token}").format(
                name=appointment.patient_name or "", token=self.last_token
            ),
            QMessageBox.StandardButton.Close,
            self,
        )
        print_button = box.addButton(self.tr("Print slip…"), QMessageBox.ButtonRole.AcceptRole)
        print_button.setToolTip(self.tr("Print the slip with the token number"))
        box.setDefaultButton(print_button)
        box.setObjectName("checkInTokenBox")
        box.finished.connect(box.deleteLater)
        print_button.clicked.connect(lambda: self.print_slip(appointment, token=entry.token))
        self.token_box = box
        box.open()

    def mark_no_show(self, appointment: AppointmentRead) -> None:
        appointment_id, version = appointment.id, appointment.version
        self.tasks.run(
            lambda: self.scheduling_api.no_show(appointment_id, version),
            lambda _a: self._after_change(),
            self._show_problem,
        )

    def _after_change(self) -> None:
        self.calendar.reload()
        self.queue.reload()
        self.summary.reload_appointments()

    def _show_problem(self, exc: BaseException) -> None:
        text, code = describe_error(exc)
        self.context.show_status(f"{text} [{code}]")
        self.calendar.problem.show_error(exc)

    # -- printing ----------------------------------------------------------------------
    def print_label(
        self, patient: PatientSummary | None, kind: Literal["id_card", "wristband"] = "id_card"
    ) -> None:
        if patient is None:
            self.search.focus_search()
            return
        # reportlab and pdfium load on first print, not when the workspace opens.
        from hms_desktop.workspaces.reception.printing_actions import label_pdf, open_print_preview

        patient_id = patient.id
        title = self.tr("Patient ID card") if kind == "id_card" else self.tr("Wristband")
        api, hospital = self.patients_api, self.context.me.hospital.name

        def printed() -> None:
            self.tasks.run(lambda: api.record_print(patient_id, kind), quiet=True)

        def render() -> bytes:
            # The wristband carries the allergy flag, read fresh for this print.
            alert = api.allergy_alert(patient_id) if kind == "wristband" else None
            return label_pdf(patient, kind, hospital_name=hospital, alert=alert)

        open_print_preview(
            self,
            self.tasks,
            render,
            title=title,
            file_name=f"{kind}-{patient.mrn}.pdf",
            on_printed=printed,
            on_error=self._show_problem,
            on_open=self._on_preview_opened,
        )

    def print_slip(self, appointment: AppointmentRead, token: int | None = None) -> None:
        from hms_desktop.workspaces.reception.printing_actions import open_print_preview, slip_pdf

        department = next(
            (
                d.department
                for d in self.calendar.day_model.doctors
                if d.id == appointment.doctor_id
            ),
            "",
        )
        hospital = self.context.me.hospital.name
        open_print_preview(
            self,
            self.tasks,
            lambda: slip_pdf(
                appointment, token=token, department=department, hospital_name=hospital
            ),
            title=self.tr("Appointment slip"),
            file_name=f"slip-{appointment.id}.pdf",
            on_error=self._show_problem,
            on_open=self._on_preview_opened,
        )

    def _on_preview_opened(self, dialog) -> None:
        self.preview = dialog

    # -- live updates ------------------------------------------------------------------
    def _on_server_event(self, event_type: str, data: dict) -> None:
        if event_type.startswith(("appointment.", "schedule.", "doctor.")):
            self.calendar.reload()
            patient = self.summary.patient
            if patient and data.get("patient_id") == patient.id:
                self.summary.reload_appointments()
        if event_type.startswith("queue.") or event_type == "appointment.checked_in":
            self.queue.reload(quiet=True)
        if event_type == "patient.updated":
            patient = self.summary.patient
            if patient and data.get("patient_id") == patient.id:
                self.summary.set_patient(patient)
