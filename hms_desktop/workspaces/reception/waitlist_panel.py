"""Reception's waitlist: who waits for which doctor or department, which of them have been
offered a freed slot (the patient was told by SMS/e-mail), and the desk's actions — put the
patient in context on the list, book an offered slot, take someone off the list."""

from __future__ import annotations

from datetime import date, timedelta

from hms_contract.patients import PatientSummary
from hms_contract.scheduling import DepartmentRead, DoctorRead, WaitlistRead
from hms_desktop.api.scheduling import SchedulingApi, SlotTakenError
from hms_desktop.models.clinical import RowsTableModel
from hms_desktop.models.patients import full_name
from hms_desktop.qt import (
    QComboBox,
    QDate,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    Signal,
    translate,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext

_C = "WaitlistPanel"


def _when(value) -> str:
    """In the hospital's time, as the server sent it (the calendar shows the same)."""
    return value.strftime("%a %d %b %H:%M") if value else ""


def status_text(entry: WaitlistRead) -> str:
    """``Offered Tue 02 Dec 10:30`` + ``(held until 12:00)`` / ``Waiting`` + ``since …``."""
    if entry.status == "offered":
        until = entry.offer_expires_at.strftime("%H:%M") if entry.offer_expires_at else ""
        text = translate(_C, "Offered {when}").format(when=_when(entry.offered_start))
        return text + (translate(_C, "\n(held until {until})").format(until=until) if until else "")
    since = entry.created_at.astimezone().strftime("%Y-%m-%d")
    return (
        translate(_C, entry.status.capitalize())
        + "\n"
        + translate(_C, "since {day}").format(day=since)
    )


def waitlist_columns() -> list[tuple[str, object]]:
    # Two lines per cell, so a narrow pane cuts nothing short.
    return [
        (
            translate(_C, "Patient"),
            lambda e: f"{e.patient_name or f'#{e.patient_id}'}\n{e.patient_mrn or ''}".strip(),
        ),
        (
            translate(_C, "Waiting for"),
            lambda e: (
                f"{e.doctor_name or e.department_name or ''}\n"
                f"{e.earliest_date:%d %b} – {e.latest_date:%d %b %Y}"
            ),
        ),
        (translate(_C, "Status"), status_text),
        # Last, so it takes the remaining width and wraps rather than being cut.
        (translate(_C, "Reason"), lambda e: e.reason or ""),
    ]


class AddToWaitlistDialog(QDialog):
    """Put ``patient`` on the waitlist for a doctor (or anyone in a department)."""

    sig_added = Signal(object)

    def __init__(
        self,
        context: WorkspaceContext,
        scheduling: SchedulingApi,
        patient: PatientSummary,
        doctors: list[DoctorRead],
        departments: list[DepartmentRead],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks, self.api, self.patient = context.tasks, scheduling, patient
        self.setWindowTitle(self.tr("Add to the waitlist"))
        self.setAccessibleName(self.windowTitle())
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        who = QLabel(
            self.tr("{name}, MRN {mrn}").format(name=full_name(patient), mrn=patient.mrn), self
        )
        who.setStyleSheet("font-weight: 600;")
        form.addRow(self.tr("Patient:"), who)
        self.target_combo = QComboBox(self)
        self.target_combo.setAccessibleName(self.tr("Doctor or department"))
        for doctor in doctors:
            self.target_combo.addItem(doctor.full_name, ("doctor", doctor.id))
        for department in departments:
            self.target_combo.addItem(
                self.tr("Anyone in {department}").format(department=department.name),
                ("department", department.id),
            )
        form.addRow(self.tr("Waiting for:"), self.target_combo)
        self.earliest_edit = QDateEdit(QDate.currentDate(), self)
        self.earliest_edit.setCalendarPopup(True)
        self.earliest_edit.setAccessibleName(self.tr("Earliest date"))
        later = date.today() + timedelta(days=28)
        self.latest_edit = QDateEdit(QDate(later.year, later.month, later.day), self)
        self.latest_edit.setCalendarPopup(True)
        self.latest_edit.setAccessibleName(self.tr("Latest date"))
        form.addRow(self.tr("From:"), self.earliest_edit)
        form.addRow(self.tr("Until:"), self.latest_edit)
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setAccessibleName(self.tr("Reason"))
        self.reason_edit.setPlaceholderText(self.tr("e.g. wants an earlier appointment"))
        self.reason_edit.setMaxLength(500)
        form.addRow(self.tr("Reason:"), self.reason_edit)
        layout.addLayout(form)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        row = QHBoxLayout()
        row.addStretch(1)
        cancel = QPushButton(self.tr("Cancel"), self)
        cancel.clicked.connect(self.reject)
        self.add_button = QPushButton(self.tr("Add to waitlist"), self)
        self.add_button.setDefault(True)
        self.add_button.setToolTip(self.tr("Put the patient on the waitlist (Enter)"))
        self.add_button.clicked.connect(self.submit)
        for button in (cancel, self.add_button):
            button.setAccessibleName(button.text())
            row.addWidget(button)
        layout.addLayout(row)

    def submit(self) -> None:
        earliest = self.earliest_edit.date().toPython()
        latest = self.latest_edit.date().toPython()
        if latest < earliest:
            self.problem.show_text(self.tr("The last date must not be before the first."))
            return
        kind, target = self.target_combo.currentData() or (None, None)
        if target is None:
            self.problem.show_text(self.tr("Choose a doctor or a department."))
            return
        api, pid, reason = self.api, self.patient.id, self.reason_edit.text().strip()
        self.add_button.setEnabled(False)
        self.tasks.run(
            lambda: api.add_to_waitlist(
                patient_id=pid,
                doctor_id=target if kind == "doctor" else None,
                department_id=target if kind == "department" else None,
                earliest=earliest,
                latest=latest,
                reason=reason or None,
            ),
            self._on_added,
            self._on_failed,
            owner=self,
        )

    def _on_added(self, entry: WaitlistRead) -> None:
        self.sig_added.emit(entry)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.add_button.setEnabled(True)
        self.problem.show_error(exc)


class WaitlistPanel(QWidget):
    """The waitlist (waiting and offered entries), reloaded on ``waitlist.*`` events.

    Signals: ``sig_loaded()``, ``sig_changed(str)`` after an action (a status line),
    ``sig_booked(appointment)`` when an offered slot was booked. GUI thread; requests
    through ``context.tasks``.
    """

    sig_loaded = Signal()
    sig_changed = Signal(str)
    sig_booked = Signal(object)

    def __init__(
        self, context: WorkspaceContext, scheduling: SchedulingApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context, self.tasks, self.api = context, context.tasks, scheduling
        self.loading = False
        self.dialog: QDialog | None = None
        self.patient: PatientSummary | None = None
        self._generation = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary_label = QLabel(self)
        self.summary_label.setProperty("role", "subtitle")
        self.summary_label.setAccessibleName(self.tr("Waitlist summary"))
        layout.addWidget(self.summary_label)
        self.model = RowsTableModel(waitlist_columns(), parent=self)
        self.table = make_record_table(self, self.tr("Waitlist"), self.model)
        keep_columns_whole(self.table, (0, 1, 2))
        self.table.setWordWrap(True)
        # Rows follow their wrapped text when the pane is resized.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._update_actions)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.add_button = QPushButton(self.tr("Add patient to waitlist…"), self)
        self.add_button.setToolTip(self.tr("Put the patient in context on the waitlist"))
        self.add_button.clicked.connect(self.add_patient)
        self.book_button = QPushButton(self.tr("Book offered slot"), self)
        self.book_button.setToolTip(self.tr("The patient takes the offered place: book it"))
        self.book_button.clicked.connect(self.book_offer)
        self.remove_button = QPushButton(self.tr("Remove from waitlist"), self)
        self.remove_button.setToolTip(self.tr("The patient no longer waits"))
        self.remove_button.clicked.connect(self.remove_selected)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.refresh_button.clicked.connect(self.reload)
        for button in (self.add_button, self.book_button, self.remove_button):
            button.setAccessibleName(button.text().rstrip("…"))
            row.addWidget(button)
        row.addStretch(1)
        self.refresh_button.setAccessibleName(self.tr("Refresh the waitlist"))
        row.addWidget(self.refresh_button)
        layout.addLayout(row)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self.doctors: list[DoctorRead] = []
        self.departments: list[DepartmentRead] = []
        context.events().subscribe(("waitlist.",), lambda _t, _d: self.reload())
        self._update_actions()

    # -- loading -----------------------------------------------------------------------
    def reload(self) -> None:
        self._generation += 1
        generation, api = self._generation, self.api
        self.loading = True

        def fetch():
            entries = [
                e for e in api.waitlist(limit=200).items if e.status in ("waiting", "offered")
            ]
            if not self.doctors:
                return entries, api.doctors(), api.departments()
            return entries, None, None

        self.tasks.run(
            fetch,
            lambda result: self._on_loaded(generation, result),
            lambda exc: self._on_failed(generation, exc),
            owner=self,
        )

    def _on_loaded(self, generation: int, result) -> None:
        if generation != self._generation:
            return
        self.loading = False
        entries, doctors, departments = result
        if doctors is not None:
            self.doctors, self.departments = doctors, departments
        self.model.set_rows(entries)
        self.table.resizeRowsToContents()
        offered = sum(1 for e in entries if e.status == "offered")
        self.summary_label.setText(
            self.tr("{n} waiting · {o} offered a freed slot").format(
                n=len(entries) - offered, o=offered
            )
        )
        self.problem.clear()
        self._update_actions()
        self.sig_loaded.emit()

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.loading = False
        self.problem.show_error(exc)
        self.sig_loaded.emit()

    # -- actions -----------------------------------------------------------------------
    def set_patient(self, patient: PatientSummary | None) -> None:
        self.patient = patient
        self._update_actions()

    def selected(self) -> WaitlistRead | None:
        index = self.table.currentIndex()
        return self.model.row_item(index.row()) if index.isValid() else None

    def _update_actions(self, *_args) -> None:
        entry = self.selected()
        self.add_button.setEnabled(self.patient is not None)
        self.add_button.setToolTip(
            self.tr("Put {name} on the waitlist").format(name=full_name(self.patient))
            if self.patient
            else self.tr("Select a patient first (Ctrl+F)")
        )
        self.book_button.setEnabled(entry is not None and entry.status == "offered")
        self.remove_button.setEnabled(entry is not None)

    def add_patient(self) -> AddToWaitlistDialog | None:
        if self.patient is None:
            return None
        dialog = AddToWaitlistDialog(
            self.context, self.api, self.patient, self.doctors, self.departments, self
        )
        dialog.sig_added.connect(lambda _e: self._after(self.tr("Added to the waitlist.")))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def book_offer(self) -> None:
        entry = self.selected()
        if entry is None or entry.status != "offered":
            return
        api, entry_id = self.api, entry.id
        self.tasks.run(
            lambda: api.accept_waitlist_offer(entry_id),
            self._on_booked,
            self._on_book_failed,
            owner=self,
        )

    def _on_booked(self, appointment) -> None:
        self.sig_booked.emit(appointment)
        self._after(
            self.tr("Booked the offered slot: {when}.").format(when=_when(appointment.start))
        )

    def _on_book_failed(self, exc: BaseException) -> None:
        if isinstance(exc, SlotTakenError):
            self.problem.show_text(
                self.tr("Someone else took that slot first. The patient stays on the waitlist."),
                exc.code,
            )
            self.reload()
            return
        self.problem.show_error(exc)

    def remove_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        api, entry_id = self.api, entry.id
        self.tasks.run(
            lambda: api.remove_from_waitlist(entry_id),
            lambda _e: self._after(self.tr("Removed from the waitlist.")),
            self.problem.show_error,
            owner=self,
        )

    def _after(self, status: str) -> None:
        self.sig_changed.emit(status)
        self.reload()
