"""My patients today: the doctor's appointments joined with their queue entries (token,
status, waiting time), and the doctor's queue actions — call next, start, complete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hms_contract.scheduling import AppointmentRead, QueueEntryRead
from hms_desktop.api.clinical import ClinicalApi
from hms_desktop.api.errors import ApiProblem
from hms_desktop.api.scheduling import SchedulingApi
from hms_desktop.models.clinical import local_time
from hms_desktop.models.patients import PatientRef
from hms_desktop.models.queue import queue_action_allowed, queue_status_colour, queue_status_text
from hms_desktop.qt import (
    QT_TRANSLATE_NOOP,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
    translate,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext

# Appointment status words, for a patient who has no queue entry (yet).
STATUS_WORDS = {
    "booked": QT_TRANSLATE_NOOP("TodayQueue", "booked"),
    "checked_in": QT_TRANSLATE_NOOP("TodayQueue", "waiting"),
    "in_consultation": QT_TRANSLATE_NOOP("TodayQueue", "with doctor"),
    "completed": QT_TRANSLATE_NOOP("TodayQueue", "seen"),
}
EVENT_PREFIXES = ("queue.", "appointment.")
# A doctor's day (40 slots of 15 minutes plus overbooking) fits one page; a longer one is
# fetched page by page instead of being cut off, and a page stays small for the server.
TODAY_PAGE = 100
REFRESH_MS = 60_000  # waiting times grow even when nothing happens
EVENT_COALESCE_MS = 150  # one reload for a burst of events

# (action, button text, tooltip, shortcut) — the workspace binds the shortcuts.
QUEUE_ACTIONS = (
    (
        "call_next",
        QT_TRANSLATE_NOOP("TodayQueue", "Call next"),
        QT_TRANSLATE_NOOP("TodayQueue", "Call the next waiting patient in (Ctrl+Shift+N)"),
        "Ctrl+Shift+N",
    ),
    (
        "start",
        QT_TRANSLATE_NOOP("TodayQueue", "Start consultation"),
        QT_TRANSLATE_NOOP(
            "TodayQueue",
            "Start the selected patient's consultation and open their chart (Ctrl+Shift+S)",
        ),
        "Ctrl+Shift+S",
    ),
    (
        "complete",
        QT_TRANSLATE_NOOP("TodayQueue", "Complete"),
        QT_TRANSLATE_NOOP(
            "TodayQueue", "Finish the selected patient's consultation (Ctrl+Shift+D)"
        ),
        "Ctrl+Shift+D",
    ),
)


@dataclass(frozen=True)
class TodayRow:
    """One line of the doctor's day: an appointment with its queue entry once checked in,
    or a queue entry alone (a walk-in)."""

    appointment: AppointmentRead | None
    entry: QueueEntryRead | None

    @property
    def source(self) -> AppointmentRead | QueueEntryRead:
        source = self.appointment or self.entry
        assert source is not None
        return source

    @property
    def status(self) -> str | None:
        """The queue status when checked in, else ``None``."""
        return self.entry.status if self.entry is not None else None


def merge_today(
    appointments: list[AppointmentRead], entries: list[QueueEntryRead]
) -> list[TodayRow]:
    """Each appointment with its queue entry (if checked in), in appointment order, then
    queue entries without a listed appointment (walk-ins) in token order."""
    by_appointment = {e.appointment_id: e for e in entries if e.appointment_id}
    rows = [TodayRow(a, by_appointment.pop(a.id, None)) for a in appointments]
    matched = {row.entry.id for row in rows if row.entry is not None}
    rows += [
        TodayRow(None, e) for e in sorted(entries, key=lambda e: e.token) if e.id not in matched
    ]
    return rows


def row_patient(row: TodayRow) -> PatientRef:
    """The patient of a row, as the chart opens it (id, names, MRN)."""
    source = row.source
    return PatientRef.named(source.patient_id, source.patient_name, source.patient_mrn)


def row_text(row: TodayRow) -> str:
    """Two lines, so the name is never cut short however narrow the list is::

    09:30  Ben Mensah · HMS-1002
           #2 ◷ Waiting 12 min
    """
    appointment, entry, source = row.appointment, row.entry, row.source
    start = appointment.start if appointment else entry.appointment_start if entry else None
    when = local_time(start, "%H:%M") if start else translate("TodayQueue", "walk-in")
    name = source.patient_name or translate("TodayQueue", "Patient {id}").format(
        id=source.patient_id
    )
    if entry is not None:
        minutes = entry.waiting_minutes
        wait = (
            translate("TodayQueue", "{n} min")
            if entry.status == "waiting"
            else translate("TodayQueue", "(waited {n} min)")
        ).format(n=minutes)
        status = f"#{entry.token} {queue_status_text(entry.status)} {wait}"
    else:
        word = STATUS_WORDS.get(source.status)
        status = translate("TodayQueue", word) if word else source.status
    return translate("TodayQueue", "{time}  {name} · {mrn}\n{status}").format(
        time=when, name=name, mrn=source.patient_mrn or "", status=status
    )


def _clinic_entries(clinical: ClinicalApi, scheduling: SchedulingApi) -> list[QueueEntryRead]:
    """For a clinician without a clinic schedule of her own (the outpatient nurse): today's
    queue of the clinics she works (issue 12), found through ``GET /my-patients``."""
    try:
        mine = clinical.my_patients()
    except ApiProblem as problem:
        if problem.status not in (403, 404):
            raise
        return []
    departments = sorted(
        {
            p.department_id
            for p in mine
            if p.relationship == "clinic" and p.department_id is not None
        }
    )
    day = date.today()
    return [
        entry
        for department in departments
        for entry in scheduling.queue(day=day, department_id=department).items
        if entry.status != "left"
    ]


def _doctor_id_of(scheduling: SchedulingApi, user_id: int) -> int | None:
    """The signed-in user's doctor record (``None`` for a user who has no clinic, or when
    the doctor list is not open to this role)."""
    try:
        doctor = scheduling.doctor_of_user(user_id)
    except ApiProblem:
        return None
    return doctor.id if doctor is not None else None


class TodayQueuePanel(QWidget):
    """Today's patients of the signed-in doctor with their place in the queue, and the
    buttons that move them along it.

    Signals: ``sig_patient_chosen(patient)`` (a row was opened, or a consultation started),
    ``sig_loaded(count)`` after each load (-1 when it failed), ``sig_action_done(action,
    entry)`` after call next / start / complete (``entry`` is ``None`` when nobody waited).

    Threading and ownership: GUI thread only; every request runs on ``context.tasks`` and
    answers of a superseded load are dropped. Reloads on ``queue.*`` and ``appointment.*``
    events for this doctor (``context.events()``), and every minute while visible.
    """

    sig_patient_chosen = Signal(object)
    sig_loaded = Signal(int)
    sig_action_done = Signal(str, object)

    def __init__(
        self, context: WorkspaceContext, scheduling: SchedulingApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.scheduling = scheduling
        self.clinical = ClinicalApi(context.api)
        self.doctor_id: int | None = None
        self.rows: list[TodayRow] = []
        self.count: int | None = None
        self.queue_available = False
        self.busy = False
        self._generation = 0
        self._keep: tuple[str, int] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel(self.tr("My patients today"), self)
        title.setStyleSheet("font-weight: 600;")
        self.list = QListWidget(self)
        self.list.setAccessibleName(self.tr("My patients today"))
        # Names wrap rather than elide; the list scrolls vertically only.
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(1)
        self.list.setMaximumHeight(260)
        self.list.itemActivated.connect(self._on_list_item_activated)
        self.list.itemClicked.connect(self._on_list_item_activated)
        self.list.currentItemChanged.connect(self._update_actions)
        self.status = QLabel(self.tr("Loading today's list…"), self)
        self.status.setProperty("role", "subtitle")
        self.status.setWordWrap(True)
        self.status.setAccessibleName(self.tr("Today's list status"))
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, text, tip, _keys in QUEUE_ACTIONS:
            button = QPushButton(translate("TodayQueue", text), self)
            button.setAccessibleName(translate("TodayQueue", text))
            button.setToolTip(translate("TodayQueue", tip))
            button.clicked.connect(lambda _c=False, k=key: self.run_action(k))
            self.buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)
        self.problem = ProblemLabel(self)
        for widget in (title, self.list):
            layout.addWidget(widget)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.problem)

        self._reload_soon = QTimer(self)
        self._reload_soon.setSingleShot(True)
        self._reload_soon.setInterval(EVENT_COALESCE_MS)
        self._reload_soon.timeout.connect(lambda: self.reload(quiet=True))
        self._refresh = QTimer(self)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self._on_refresh_timeout)
        self._refresh.start()
        self.events = context.events()
        self.events.subscribe(EVENT_PREFIXES, self._on_server_event)
        self._update_actions()

    # -- loading -----------------------------------------------------------------------
    def reload(self, *, quiet: bool = False) -> None:
        """Load today's appointments and this doctor's queue again."""
        self._generation += 1
        generation = self._generation
        scheduling = self.scheduling
        user_id, known = self.context.me.id, self.doctor_id

        clinical = self.clinical

        def fetch() -> tuple[int | None, list[AppointmentRead], list[QueueEntryRead] | None] | None:
            doctor_id = known or _doctor_id_of(scheduling, user_id)
            if doctor_id is None:
                # No clinic schedule of one's own: the clinic one works today (a nurse).
                entries = _clinic_entries(clinical, scheduling)
                return (None, [], entries) if entries else None
            day = date.today()
            listed = scheduling.all_appointments(day=day, doctor_id=doctor_id, limit=TODAY_PAGE)
            appointments = [a for a in listed if a.status not in ("cancelled", "no_show")]
            try:
                entries: list[QueueEntryRead] | None = list(
                    scheduling.queue(day=day, doctor_id=doctor_id).items
                )
            except ApiProblem as problem:
                if problem.status not in (403, 404):
                    raise
                entries = None  # no queue for this role or server: the list still works
            return doctor_id, appointments, entries

        self.context.tasks.run(
            fetch,
            lambda result: self._on_loaded(generation, result),
            lambda exc: self._on_failed(generation, exc),
            quiet=quiet,
            owner=self,
        )

    def _on_loaded(self, generation: int, result) -> None:
        if generation != self._generation:
            return
        keep = self._keep or self._selection_key(self.selected_row())
        self._keep = None
        self.list.clear()
        if result is None:
            self.rows, self.count, self.queue_available = [], 0, False
            self.status.setText(self.tr("You have no clinic schedule. Find patients below."))
            self._update_actions()
            self.sig_loaded.emit(0)
            return
        self.doctor_id, appointments, entries = result
        self.queue_available = entries is not None
        self.rows = merge_today(appointments, entries or [])
        for row in self.rows:
            item = QListWidgetItem(row_text(row), self.list)
            item.setData(Qt.ItemDataRole.UserRole, row)
            if row.entry is not None:
                colour = queue_status_colour(row.entry.status)
                if colour is not None:
                    item.setForeground(colour)
            reason = row.appointment.reason if row.appointment else None
            item.setToolTip(reason or item.text())
            if keep is not None and self._selection_key(row) == keep:
                self.list.setCurrentItem(item)
        self.count = len(self.rows)
        waiting = sum(1 for r in self.rows if r.status == "waiting")
        if not self.rows:
            self.status.setText(self.tr("No appointments today."))
        elif self.queue_available:
            self.status.setText(
                self.tr("{n} patients today · {w} waiting").format(n=self.count, w=waiting)
            )
        else:
            self.status.setText(self.tr("{n} appointments today").format(n=self.count))
        self._update_actions()
        self.sig_loaded.emit(self.count)

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.count = 0
        if isinstance(exc, ApiProblem) and exc.status in (403, 404):
            self.status.setText(self.tr("Today's list is not available; find patients below."))
        else:
            self.problem.show_error(exc)
            self.status.setText(self.tr("Today's list could not be loaded."))
        self._update_actions()
        self.sig_loaded.emit(-1)

    # -- selection ---------------------------------------------------------------------
    def selected_row(self) -> TodayRow | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    @staticmethod
    def _selection_key(row: TodayRow | None) -> tuple[str, int] | None:
        if row is None:
            return None
        if row.entry is not None:
            return "entry", row.entry.id
        return "appointment", row.source.id

    def open_row(self, index: int) -> None:
        """Open the chart of the patient in row ``index`` (screenshot tour, keyboard)."""
        item = self.list.item(index)
        if item is not None:
            self._on_list_item_activated(item)

    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        self.sig_patient_chosen.emit(row_patient(item.data(Qt.ItemDataRole.UserRole)))

    # -- queue actions -----------------------------------------------------------------
    def can_run(self, action: str) -> bool:
        if self.busy or not self.queue_available or self.doctor_id is None:
            return False
        if action == "call_next":
            return any(r.status == "waiting" for r in self.rows)
        row = self.selected_row()
        return queue_action_allowed(action, row.entry if row else None)

    def run_action(self, action: str) -> None:
        """``call_next``, ``start`` (then opens the chart) or ``complete``; a no-op when the
        current state does not allow it (the buttons show that)."""
        if not self.can_run(action):
            return
        api, doctor_id, row = self.scheduling, self.doctor_id, self.selected_row()
        if action == "call_next":
            work = lambda: api.call_next(doctor_id, date.today())  # noqa: E731
        else:
            assert row is not None and row.entry is not None
            entry_id = row.entry.id
            work = lambda: api.queue_action(entry_id, action)  # noqa: E731
        self.busy = True
        self.problem.clear()
        self._update_actions()
        self.context.tasks.run(
            work,
            lambda entry: self._on_action_done(action, row, entry),
            self._on_action_failed,
            owner=self,
        )

    def _on_action_done(
        self, action: str, row: TodayRow | None, entry: QueueEntryRead | None
    ) -> None:
        self.busy = False
        if entry is None:
            self.context.show_status(self.tr("Nobody is waiting."))
        else:
            self._keep = ("entry", entry.id)
            texts = {
                "call_next": self.tr("Token {token} called: {name}."),
                "start": self.tr("Consultation started: {name}."),
                "complete": self.tr("Consultation completed: {name}."),
            }
            self.context.show_status(
                texts[action].format(token=entry.token, name=entry.patient_name or "")
            )
        self.reload()
        if action == "start" and row is not None:
            self.sig_patient_chosen.emit(row_patient(row))
        self.sig_action_done.emit(action, entry)

    def _on_action_failed(self, exc: BaseException) -> None:
        # Usually someone else moved this patient on meanwhile (409): say why, show the truth.
        self.busy = False
        self.problem.show_error(exc)
        self.reload()

    def _update_actions(self, *_args) -> None:
        for key, button in self.buttons.items():
            button.setEnabled(self.can_run(key))

    # -- live updates ------------------------------------------------------------------
    def _on_server_event(self, _event_type: str, data: dict) -> None:
        doctor_id = data.get("doctor_id")
        if self.doctor_id is None or doctor_id is None or doctor_id == self.doctor_id:
            self._reload_soon.start()

    def _on_refresh_timeout(self) -> None:
        if self.isVisible():
            self.reload(quiet=True)
