"""Short, focused dialogs for the calendar: book a free slot, reschedule, cancel."""

from __future__ import annotations

from datetime import date, datetime

from hms_contract.patients import PatientPage, PatientSummary
from hms_contract.scheduling import AppointmentRead, DoctorRead, FreeSlotRead, SlotRead
from hms_desktop.api.patients import PatientsApi
from hms_desktop.api.scheduling import SchedulingApi, SlotTakenError
from hms_desktop.models.patients import full_name
from hms_desktop.qt import (
    QComboBox,
    QDate,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext

APPOINTMENT_TYPES = (("new", "New visit"), ("follow_up", "Follow-up"), ("procedure", "Procedure"))


def slot_text(start: datetime, end: datetime | None = None) -> str:
    """``Tue 01 Dec 2026, 09:30–09:45`` in the hospital's time (the offset the server sent)."""
    text = start.strftime("%a %d %b %Y, %H:%M")
    return f"{text}–{end.strftime('%H:%M')}" if end else text


def _buttons(dialog: QDialog, ok_text: str, ok_tip: str) -> tuple[QHBoxLayout, QPushButton]:
    row = QHBoxLayout()
    row.addStretch(1)
    cancel = QPushButton(dialog.tr("Close"), dialog)
    cancel.setAccessibleName(dialog.tr("Close"))
    cancel.setToolTip(dialog.tr("Close without changes (Esc)"))
    cancel.clicked.connect(dialog.reject)
    ok = QPushButton(ok_text, dialog)
    ok.setAccessibleName(ok_text.rstrip("…"))
    ok.setToolTip(ok_tip)
    ok.setDefault(True)
    row.addWidget(cancel)
    row.addWidget(ok)
    return row, ok


class BookingDialog(QDialog):
    """Book ``slot`` with ``doctor`` for ``patient`` (or a patient found inline here).

    On 409 ``slot_taken`` the next free times are listed; picking one and pressing Book
    books that one. Emits ``sig_booked(appointment)``. GUI thread; requests via ``tasks``.
    """

    sig_booked = Signal(object)

    def __init__(
        self,
        context: WorkspaceContext,
        scheduling: SchedulingApi,
        patients: PatientsApi,
        doctor: DoctorRead,
        slot: SlotRead,
        patient: PatientSummary | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks, self.api, self.patients_api = context.tasks, scheduling, patients
        self.doctor, self.slot = doctor, slot
        self.patient: PatientSummary | None = patient
        self.start: datetime = slot.start
        self.busy = False
        self.setWindowTitle(self.tr("Book appointment"))
        self.setAccessibleName(self.windowTitle())
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.when_label = QLabel(slot_text(slot.start, slot.end), self)
        self.when_label.setAccessibleName(self.tr("Time"))
        form.addRow(self.tr("Time"), self.when_label)
        doctor_label = QLabel(f"{doctor.full_name} — {doctor.department}", self)
        doctor_label.setAccessibleName(self.tr("Doctor"))
        form.addRow(self.tr("Doctor"), doctor_label)

        self.patient_edit = QLineEdit(self)
        self.patient_edit.setAccessibleName(self.tr("Patient"))
        self.patient_edit.setPlaceholderText(self.tr("Type a name, MRN or phone to find"))
        self.patient_edit.setToolTip(self.tr("Find the patient to book for"))
        self.patient_list = QListWidget(self)
        self.patient_list.setAccessibleName(self.tr("Matching patients"))
        self.patient_list.setMaximumHeight(110)
        self.patient_list.hide()
        self.patient_list.currentItemChanged.connect(self._on_patient_list_current_changed)
        self.patient_error = QLabel(self)
        self.patient_error.setProperty("role", "error")
        self.patient_error.hide()
        box = QVBoxLayout()
        box.addWidget(self.patient_edit)
        box.addWidget(self.patient_list)
        box.addWidget(self.patient_error)
        form.addRow(self.tr("Patient"), box)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self._search_patients)
        self._search_generation = 0
        self.patient_edit.textEdited.connect(lambda _t: self._search_timer.start())
        if patient:
            self.patient_edit.setText(f"{full_name(patient)} · {patient.mrn}")

        self.type_combo = QComboBox(self)
        self.type_combo.setAccessibleName(self.tr("Appointment type"))
        for code, text in APPOINTMENT_TYPES:
            self.type_combo.addItem(self.tr(text), code)
        form.addRow(self.tr("Type"), self.type_combo)
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setAccessibleName(self.tr("Reason for visit"))
        self.reason_edit.setPlaceholderText(self.tr("optional"))
        self.reason_edit.setMaxLength(500)
        form.addRow(self.tr("Reason"), self.reason_edit)
        layout.addLayout(form)

        self.suggestions_label = QLabel(self)
        self.suggestions_label.setWordWrap(True)
        self.suggestions_label.setProperty("role", "notice")
        self.suggestions = QListWidget(self)
        self.suggestions.setAccessibleName(self.tr("Suggested free times"))
        self.suggestions.currentItemChanged.connect(self._on_suggestion_changed)
        self.suggestions.itemDoubleClicked.connect(lambda _i: self.submit())
        self.suggestions_label.hide()
        self.suggestions.hide()
        layout.addWidget(self.suggestions_label)
        layout.addWidget(self.suggestions)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        row, self.book_button = _buttons(
            self, self.tr("Book"), self.tr("Book this time for the patient (Enter)")
        )
        self.book_button.clicked.connect(self.submit)
        layout.addLayout(row)
        (self.type_combo if patient else self.patient_edit).setFocus()

    # -- patient search ----------------------------------------------------------------
    def _search_patients(self) -> None:
        text = self.patient_edit.text().strip()
        self.patient = None
        self._search_generation += 1
        generation = self._search_generation
        if len(text) < 2:
            self.patient_list.hide()
            return
        api = self.patients_api
        self.tasks.run(
            lambda: api.search(text, limit=8),
            lambda page: self._on_patients_found(generation, page),
            self.problem.show_error,
            owner=self,
        )

    def _on_patients_found(self, generation: int, page: PatientPage) -> None:
        if generation != self._search_generation:
            return
        self.patient_list.clear()
        for item in page.items:
            entry = QListWidgetItem(
                f"{full_name(item)} · {item.mrn} · {item.date_of_birth.isoformat()}",
                self.patient_list,
            )
            entry.setData(Qt.ItemDataRole.UserRole, item)
        self.patient_list.setVisible(self.patient_list.count() > 0)

    def _on_patient_list_current_changed(self, current, _previous) -> None:
        if current is not None:
            self.patient = current.data(Qt.ItemDataRole.UserRole)
            self.patient_error.hide()

    def _on_suggestion_changed(self, current, _previous) -> None:
        if current is not None:
            suggestion: FreeSlotRead = current.data(Qt.ItemDataRole.UserRole)
            self.start = suggestion.start
            self.when_label.setText(slot_text(suggestion.start, suggestion.end))

    # -- booking -----------------------------------------------------------------------
    def submit(self) -> None:
        if self.busy:
            return
        if not self.patient:
            self.patient_error.setText(self.tr("Choose the patient first."))
            self.patient_error.show()
            self.patient_edit.setFocus()
            return
        self.busy = True
        self.book_button.setEnabled(False)
        self.problem.clear()
        args = dict(
            patient_id=self.patient.id,
            doctor_id=self.doctor.id,
            start=self.start,
            type=self.type_combo.currentData(),
            reason=self.reason_edit.text().strip() or None,
        )
        self.tasks.run(lambda: self.api.book(**args), self._on_booked, self._on_failed)

    def _on_booked(self, appointment: AppointmentRead) -> None:
        self.busy = False
        self.book_button.setEnabled(True)
        self.sig_booked.emit(appointment)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.busy = False
        self.book_button.setEnabled(True)
        if isinstance(exc, SlotTakenError):
            self.show_suggestions(exc)
            return
        self.problem.show_error(exc)

    def show_suggestions(self, exc: SlotTakenError) -> None:
        self.suggestions.clear()
        for suggestion in exc.suggestions:
            item = QListWidgetItem(slot_text(suggestion.start, suggestion.end), self.suggestions)
            item.setData(Qt.ItemDataRole.UserRole, suggestion)
        if exc.suggestions:
            self.suggestions_label.setText(
                self.tr(
                    "Someone else has just booked that time. Pick one of the next free times and "
                    "press Book."
                )
            )
            self.suggestions.setCurrentRow(0)
            self.suggestions.show()
            self.suggestions.setFocus()
        else:
            self.suggestions_label.setText(
                self.tr(
                    "Someone else has just booked that time, and this doctor has no free time soon."
                )
            )
            self.suggestions.hide()
        self.suggestions_label.show()


class RescheduleDialog(QDialog):
    """Move ``appointment`` to another free slot of the same doctor (``version`` checked).

    With ``suggestions`` (the ``slot_taken`` answer to a drag-and-drop move) it lists those
    next free times first; changing the date lists that day's free slots as usual.
    """

    sig_rescheduled = Signal(object)

    def __init__(
        self,
        context: WorkspaceContext,
        scheduling: SchedulingApi,
        appointment: AppointmentRead,
        parent: QWidget | None = None,
        *,
        suggestions: list[FreeSlotRead] | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks, self.api, self.appointment = context.tasks, scheduling, appointment
        self.setWindowTitle(self.tr("Reschedule appointment"))
        self.setAccessibleName(self.windowTitle())
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        current = QLabel(
            self.tr("{patient} with {doctor}, now {when}").format(
                patient=appointment.patient_name or "",
                doctor=appointment.doctor_name or "",
                when=slot_text(appointment.start),
            ),
            self,
        )
        current.setWordWrap(True)
        layout.addWidget(current)
        self.notice = QLabel(self)
        self.notice.setWordWrap(True)
        self.notice.setProperty("role", "notice")
        self.notice.setAccessibleName(self.tr("Why this dialog opened"))
        self.notice.hide()
        layout.addWidget(self.notice)
        self.date_edit = QDateEdit(self)
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        start = appointment.start.date()
        self.date_edit.setDate(QDate(start.year, start.month, start.day))
        self.date_edit.setMinimumDate(QDate.currentDate())
        self.date_edit.setAccessibleName(self.tr("New date"))
        self.date_edit.dateChanged.connect(lambda _d: self.load_slots())
        layout.addWidget(self.date_edit)
        self.slot_list = QListWidget(self)
        self.slot_list.setAccessibleName(self.tr("Free times"))
        self.slot_list.itemDoubleClicked.connect(lambda _i: self.submit())
        layout.addWidget(self.slot_list, 1)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        row, self.ok_button = _buttons(
            self, self.tr("Move here"), self.tr("Move the appointment to the selected time")
        )
        self.ok_button.clicked.connect(self.submit)
        layout.addLayout(row)
        if suggestions:
            self.notice.setText(
                self.tr(
                    "Someone else has just booked that time. Pick one of "
                    "the next free times and press Move here."
                )
            )
            self.notice.show()
            self._on_slots(
                [
                    SlotRead(start=s.start, end=s.end, available=True, location=s.location)
                    for s in suggestions
                ]
            )
            self.slot_list.setFocus()
        else:
            if suggestions is not None:
                self.notice.setText(
                    self.tr(
                        "Someone else has just booked that time, and this "
                        "doctor has no free time soon. Try another date."
                    )
                )
                self.notice.show()
            self.load_slots()

    def load_slots(self) -> None:
        day: date = self.date_edit.date().toPython()
        doctor_id, api = self.appointment.doctor_id, self.api
        self.slot_list.clear()
        self.tasks.run(lambda: api.slots(doctor_id, day), self._on_slots, self.problem.show_error)

    def _on_slots(self, slots: list[SlotRead]) -> None:
        self.slot_list.clear()
        for slot in slots:
            if slot.available:
                item = QListWidgetItem(slot_text(slot.start, slot.end), self.slot_list)
                item.setData(Qt.ItemDataRole.UserRole, slot)
        if not self.slot_list.count():
            self.problem.show_text(self.tr("No free time on this day. Try another date."))
        else:
            self.problem.clear()
            self.slot_list.setCurrentRow(0)

    def submit(self) -> None:
        item = self.slot_list.currentItem()
        if item is None:
            return
        slot: SlotRead = item.data(Qt.ItemDataRole.UserRole)
        appointment_id, version = self.appointment.id, self.appointment.version
        self.ok_button.setEnabled(False)
        self.tasks.run(
            lambda: self.api.reschedule(appointment_id, start=slot.start, version=version),
            self._on_done,
            self._on_failed,
        )

    def _on_done(self, appointment: AppointmentRead) -> None:
        self.sig_rescheduled.emit(appointment)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        self.problem.show_error(exc)


class CancelDialog(QDialog):
    """Ask for the reason (required) and cancel ``appointment``."""

    sig_cancelled = Signal(object)
    REASONS = ("Patient request", "Doctor unavailable", "Booked in error", "Patient unwell")

    def __init__(
        self,
        context: WorkspaceContext,
        scheduling: SchedulingApi,
        appointment: AppointmentRead,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks, self.api, self.appointment = context.tasks, scheduling, appointment
        self.setWindowTitle(self.tr("Cancel appointment"))
        self.setAccessibleName(self.windowTitle())
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                self.tr("{patient}, {when}").format(
                    patient=appointment.patient_name or "", when=slot_text(appointment.start)
                ),
                self,
            )
        )
        self.reason_combo = QComboBox(self)
        self.reason_combo.setEditable(True)
        self.reason_combo.setAccessibleName(self.tr("Reason for cancelling"))
        self.reason_combo.addItem("")
        for reason in self.REASONS:
            self.reason_combo.addItem(self.tr(reason))
        self.reason_combo.lineEdit().setPlaceholderText(self.tr("Why is it cancelled?"))
        layout.addWidget(QLabel(self.tr("Reason *"), self))
        layout.addWidget(self.reason_combo)
        self.reason_error = QLabel(self)
        self.reason_error.setProperty("role", "error")
        self.reason_error.hide()
        layout.addWidget(self.reason_error)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        row, self.ok_button = _buttons(
            self, self.tr("Cancel appointment"), self.tr("Cancel the appointment (Enter)")
        )
        self.ok_button.clicked.connect(self.submit)
        layout.addLayout(row)
        self.reason_combo.setFocus()

    def submit(self) -> None:
        reason = self.reason_combo.currentText().strip()
        if not reason:
            self.reason_error.setText(self.tr("Give a reason."))
            self.reason_error.show()
            return
        appointment_id, version = self.appointment.id, self.appointment.version
        self.ok_button.setEnabled(False)
        self.tasks.run(
            lambda: self.api.cancel(appointment_id, reason, version), self._on_done, self._on_failed
        )

    def _on_done(self, appointment: AppointmentRead) -> None:
        self.sig_cancelled.emit(appointment)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        self.problem.show_error(exc)
