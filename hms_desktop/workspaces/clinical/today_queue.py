"""My patients today: the doctor's appointments joined with their queue entries (token,
status, waiting time), and the doctor's queue actions — call next, start, complete."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hms_desktop.api.errors import ApiProblem
from hms_desktop.api.scheduling import SchedulingApi
from hms_desktop.models.clinical import local_time
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

# Appointment status words, for a patient who has no queue entry (yet).
STATUS_WORDS = {"booked": QT_TRANSLATE_NOOP("TodayQueue", "booked"),
                "checked_in": QT_TRANSLATE_NOOP("TodayQueue", "waiting"),
                "in_consultation": QT_TRANSLATE_NOOP("TodayQueue", "with doctor"),
                "completed": QT_TRANSLATE_NOOP("TodayQueue", "seen")}
EVENT_PREFIXES = ("queue.", "appointment.")
REFRESH_MS = 60_000  # waiting times grow even when nothing happens
EVENT_COALESCE_MS = 150  # one reload for a burst of events

# (action, button text, tooltip, shortcut) — the workspace binds the shortcuts.
QUEUE_ACTIONS = (
    ("call_next", QT_TRANSLATE_NOOP("TodayQueue", "Call next"),
     QT_TRANSLATE_NOOP("TodayQueue", "Call the next waiting patient in (Ctrl+Shift+N)"),
     "Ctrl+Shift+N"),
    ("start", QT_TRANSLATE_NOOP("TodayQueue", "Start consultation"),
     QT_TRANSLATE_NOOP("TodayQueue", "Start the selected patient's consultation and open "
                                     "their chart (Ctrl+Shift+S)"), "Ctrl+Shift+S"),
    ("complete", QT_TRANSLATE_NOOP("TodayQueue", "Complete"),
     QT_TRANSLATE_NOOP("TodayQueue", "Finish the selected patient's consultation "
                                     "(Ctrl+Shift+D)"), "Ctrl+Shift+D"),
)


def merge_today(appointments: list[dict], entries: list[dict]) -> list[dict]:
    """Rows ``{appointment, entry}``: each appointment with its queue entry (if checked in),
    in appointment order, then queue entries without a listed appointment (walk-ins) in
    token order."""
    by_appointment = {e.get("appointment_id"): e for e in entries if e.get("appointment_id")}
    rows = [{"appointment": a, "entry": by_appointment.pop(a.get("id"), None)}
            for a in appointments]
    matched = {row["entry"].get("id") for row in rows if row["entry"] is not None}
    rows += [{"appointment": None, "entry": e}
             for e in sorted(entries, key=lambda e: e.get("token", 0))
             if e.get("id") not in matched]
    return rows


def clinic_rows(my_patients: list[dict], now: datetime | None = None) -> list[dict]:
    """Rows for a clinician without a clinic schedule of their own (the outpatient nurse):
    today's checked-in patients of the clinic she works, as queue entries in check-in order."""
    now = now or datetime.now(UTC)
    rows = []
    for p in my_patients:
        if p.get("relationship") not in ("clinic", "queue") or not p.get("queue_entry_id"):
            continue
        arrived = p.get("checked_in_at")
        waited = 0
        if arrived:
            waited = max(0, int((now - datetime.fromisoformat(arrived)).total_seconds() // 60))
        rows.append({"appointment": None, "entry": {
            "id": p["queue_entry_id"], "patient_id": p["id"], "token": p.get("token"),
            "status": p.get("queue_status"), "waiting_minutes": waited,
            "patient_name": f"{p.get('given_name', '')} {p.get('family_name', '')}".strip(),
            "patient_mrn": p.get("mrn"), "doctor_name": p.get("doctor_name"),
            "appointment_start": arrived}})
    return rows


def row_patient(row: dict) -> dict:
    """The patient of a row in the shape the chart opens (id, names, MRN)."""
    source = row["appointment"] or row["entry"] or {}
    name = str(source.get("patient_name") or "")
    given, _, family = name.partition(" ")
    return {"id": source.get("patient_id"), "given_name": given, "family_name": family,
            "mrn": source.get("patient_mrn"),
            "appointment_id": (row["appointment"] or {}).get("id")}


def row_text(row: dict) -> str:
    """``09:30  Ben Mensah · HMS-1002 · #2 ◷ Waiting 12 min`` (short: the list is narrow)."""
    appointment, entry = row["appointment"], row["entry"]
    source = appointment or entry or {}
    start = (appointment or {}).get("start") or (entry or {}).get("appointment_start")
    when = local_time(start, "%H:%M") if start else translate("TodayQueue", "walk-in")
    name = source.get("patient_name") or translate("TodayQueue", "Patient {id}").format(
        id=source.get("patient_id"))
    if entry is not None:
        minutes = entry.get("waiting_minutes", 0)
        wait = (translate("TodayQueue", "{n} min") if entry.get("status") == "waiting"
                else translate("TodayQueue", "(waited {n} min)")).format(n=minutes)
        status = f"#{entry.get('token')} {queue_status_text(entry.get('status'))} {wait}"
    else:
        word = STATUS_WORDS.get(source.get("status", ""))
        status = translate("TodayQueue", word) if word else str(source.get("status", ""))
    return translate("TodayQueue", "{time}  {name} · {mrn} · {status}").format(
        time=when, name=name, mrn=source.get("patient_mrn") or "", status=status)


class TodayQueuePanel(QWidget):
    """Today's patients of the signed-in doctor with their place in the queue, and the
    buttons that move them along it.

    Signals: ``sig_patient_chosen(patient)`` (a row was opened, or a consultation started),
    ``sig_loaded(count)`` after each load (-1 when it failed), ``sig_action_done(action,
    entry)`` after call next / start / complete (``entry`` is ``None`` when nobody waited).

    Threading and ownership: GUI thread only; every request runs on ``context.tasks`` and
    answers of a superseded load are dropped. Reloads on ``queue.*`` and ``appointment.*``
    events for this doctor (``context.events``), and every minute while visible.
    """

    sig_patient_chosen = Signal(object)
    sig_loaded = Signal(int)
    sig_action_done = Signal(str, object)

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.scheduling = SchedulingApi(context.api)
        self.doctor_id: int | None = None
        self.rows: list[dict] = []
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
        self.list.setMaximumHeight(220)
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
        events = getattr(context, "events", None)
        self.events = events() if callable(events) else None
        if self.events is not None:
            self.events.subscribe(EVENT_PREFIXES, self._on_server_event)
        self._update_actions()

    # -- loading -----------------------------------------------------------------------
    def reload(self, *, quiet: bool = False) -> None:
        """Load today's appointments and this doctor's queue again."""
        self._generation += 1
        generation = self._generation
        clinical, scheduling = self.context.clinical, self.scheduling
        user_id, known = self.context.me.get("id"), self.doctor_id

        def fetch() -> tuple[int | None, list[dict], list[dict] | None] | None:
            doctor_id = known or clinical.my_doctor_id(user_id)
            if doctor_id is None:
                # No clinic schedule of one's own: the clinic one works today (a nurse).
                clinic = clinic_rows(clinical.my_patients())
                return (None, [], [r["entry"] for r in clinic]) if clinic else None
            day = date.today()
            appointments = clinical.todays_appointments(doctor_id, day)
            try:
                entries = scheduling.queue(day=day, doctor_id=doctor_id).get("items", [])
            except ApiProblem as problem:
                if problem.status not in (403, 404):
                    raise
                entries = None  # no queue for this role or server: the list still works
            return doctor_id, appointments, entries

        self.context.tasks.run(fetch, lambda result: self._on_loaded(generation, result),
                               lambda exc: self._on_failed(generation, exc), quiet=quiet,
                               owner=self)

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
            entry = row["entry"]
            if entry is not None:
                colour = queue_status_colour(entry.get("status"))
                if colour is not None:
                    item.setForeground(colour)
            reason = (row["appointment"] or {}).get("reason")
            item.setToolTip(reason or item.text())
            if keep is not None and self._selection_key(row) == keep:
                self.list.setCurrentItem(item)
        self.count = len(self.rows)
        waiting = sum(1 for r in self.rows if (r["entry"] or {}).get("status") == "waiting")
        if not self.rows:
            self.status.setText(self.tr("No appointments today."))
        elif self.queue_available:
            self.status.setText(self.tr("{n} patients today · {w} waiting").format(
                n=self.count, w=waiting))
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
    def selected_row(self) -> dict | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    @staticmethod
    def _selection_key(row: dict | None) -> tuple[str, int] | None:
        if not row:
            return None
        if row["entry"] is not None:
            return "entry", row["entry"].get("id")
        return "appointment", (row["appointment"] or {}).get("id")

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
            return any((r["entry"] or {}).get("status") == "waiting" for r in self.rows)
        return queue_action_allowed(action, (self.selected_row() or {}).get("entry"))

    def run_action(self, action: str) -> None:
        """``call_next``, ``start`` (then opens the chart) or ``complete``; a no-op when the
        current state does not allow it (the buttons show that)."""
        if not self.can_run(action):
            return
        api, doctor_id, row = self.scheduling, self.doctor_id, self.selected_row()
        if action == "call_next":
            work = lambda: api.call_next(doctor_id, date.today())  # noqa: E731
        else:
            assert row is not None and row["entry"] is not None
            entry_id = row["entry"]["id"]
            work = lambda: api.queue_action(entry_id, action)  # noqa: E731
        self.busy = True
        self.problem.clear()
        self._update_actions()
        self.context.tasks.run(work, lambda entry: self._on_action_done(action, row, entry),
                               self._on_action_failed, owner=self)

    def _on_action_done(self, action: str, row: dict | None, entry: dict | None) -> None:
        self.busy = False
        if entry is None:
            self.context.show_status(self.tr("Nobody is waiting."))
        else:
            self._keep = ("entry", entry.get("id"))
            texts = {"call_next": self.tr("Token {token} called: {name}."),
                     "start": self.tr("Consultation started: {name}."),
                     "complete": self.tr("Consultation completed: {name}.")}
            self.context.show_status(texts[action].format(
                token=entry.get("token"), name=entry.get("patient_name") or ""))
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
