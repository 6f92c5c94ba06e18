"""The master list: my patients today (from the appointment book) and patient search."""

from __future__ import annotations

from hms_desktop.api.errors import ApiProblem
from hms_desktop.models.clinical import PatientSearchModel, local_time
from hms_desktop.qt import (
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces.clinical.common import make_table

STATUS_WORDS = {"booked": "booked", "checked_in": "waiting", "in_consultation": "with doctor",
                "completed": "seen"}


class PatientListPanel(QWidget):
    """Today's appointments of the signed-in doctor above a search-as-you-type list.

    Emits ``sig_patient_chosen(patient)`` with at least ``id``, names and ``mrn``.
    Emits ``sig_today_loaded(count)`` when today's list has arrived (or failed: -1).
    """

    sig_patient_chosen = Signal(object)
    sig_today_loaded = Signal(int)

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.today_count: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        today_title = QLabel(self.tr("My patients today"), self)
        today_title.setStyleSheet("font-weight: 600;")
        self.today_list = QListWidget(self)
        self.today_list.setAccessibleName(self.tr("My patients today"))
        self.today_list.setMaximumHeight(200)
        self.today_list.itemActivated.connect(self._on_today_list_item_activated)
        self.today_list.itemClicked.connect(self._on_today_list_item_activated)
        self.today_status = QLabel(self.tr("Loading today's list…"), self)
        self.today_status.setProperty("role", "subtitle")
        self.today_status.setWordWrap(True)
        self.today_status.setAccessibleName(self.tr("Today's list status"))

        search_title = QLabel(self.tr("Find patient"), self)
        search_title.setStyleSheet("font-weight: 600;")
        self.search_edit = QLineEdit(self)
        self.search_edit.setAccessibleName(self.tr("Find patient"))
        self.search_edit.setPlaceholderText(self.tr("Name, MRN, phone or birth date (Ctrl+F)"))
        self.search_edit.setToolTip(self.tr("Find a patient (Ctrl+F); Down moves to results"))
        self.search_edit.setClearButtonEnabled(True)
        search_title.setBuddy(self.search_edit)
        self.model = PatientSearchModel(context.tasks, context.clinical, self)
        self.table = make_table(self, self.tr("Patients found"), self.model, stretch_column=0)
        self.table.activated.connect(self._on_table_activated)
        self.table.clicked.connect(self._on_table_activated)
        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "subtitle")
        self.count_label.setAccessibleName(self.tr("Number of patients found"))
        self.problem = ProblemLabel(self)
        self.model.sig_total_changed.connect(self._update_count)
        self.model.rowsInserted.connect(self._update_count)
        self.model.sig_load_failed.connect(self.problem.show_error)
        self.model.modelReset.connect(self.problem.clear)

        for widget in (today_title, self.today_list, self.today_status):
            layout.addWidget(widget)
        layout.addSpacing(8)
        layout.addWidget(search_title)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.count_label)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.apply_search)
        self.search_edit.textEdited.connect(lambda _t: self._timer.start())
        self.search_edit.returnPressed.connect(self.apply_search)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Down and self.search_edit.hasFocus():
            self.table.setFocus()
            if self.model.rowCount():
                self.table.selectRow(0)
            return
        super().keyPressEvent(event)

    # -- today -------------------------------------------------------------------------
    def load_today(self) -> None:
        api, user_id = self.context.clinical, self.context.me.get("id")

        def fetch() -> list[dict] | None:
            doctor_id = api.my_doctor_id(user_id)
            return None if doctor_id is None else api.todays_appointments(doctor_id)

        self.context.tasks.run(fetch, on_done=self._on_today_loaded,
                               on_error=self._on_today_failed, owner=self)

    def _on_today_loaded(self, appointments: list[dict] | None) -> None:
        self.today_list.clear()
        if appointments is None:
            self.today_status.setText(self.tr("You have no clinic schedule. Find patients "
                                              "below."))
            self.today_count = 0
            self.sig_today_loaded.emit(0)
            return
        for appt in appointments:
            status = self.tr(STATUS_WORDS.get(appt.get("status", ""), appt.get("status", "")))
            text = self.tr("{time}  {name} · {mrn} · {status}").format(
                time=local_time(appt.get("start"), "%H:%M"),
                name=appt.get("patient_name") or self.tr("Patient {id}").format(
                    id=appt.get("patient_id")),
                mrn=appt.get("patient_mrn") or "", status=status)
            item = QListWidgetItem(text, self.today_list)
            item.setData(Qt.ItemDataRole.UserRole, appt)
            item.setToolTip(appt.get("reason") or text)
        self.today_count = len(appointments)
        self.today_status.setText(self.tr("{n} appointments today").format(n=len(appointments))
                                  if appointments else self.tr("No appointments today."))
        self.sig_today_loaded.emit(len(appointments))

    def _on_today_failed(self, exc: BaseException) -> None:
        self.today_count = 0
        if isinstance(exc, ApiProblem) and exc.status in (403, 404):
            self.today_status.setText(self.tr("Today's list is not available; find patients "
                                              "below."))
        else:
            self.problem.show_error(exc)
            self.today_status.setText(self.tr("Today's list could not be loaded."))
        self.sig_today_loaded.emit(-1)

    def _on_today_list_item_activated(self, item: QListWidgetItem) -> None:
        appt = item.data(Qt.ItemDataRole.UserRole) or {}
        name = str(appt.get("patient_name") or "")
        given, _, family = name.partition(" ")
        self.sig_patient_chosen.emit({"id": appt.get("patient_id"), "given_name": given,
                                      "family_name": family, "mrn": appt.get("patient_mrn"),
                                      "appointment_id": appt.get("id")})

    # -- search ------------------------------------------------------------------------
    def apply_search(self) -> None:
        self._timer.stop()
        text = self.search_edit.text().strip()
        if text != self.model.filters.get("q", "") or self.model.total is None:
            self.model.set_filters(q=text)

    def _update_count(self, *_args) -> None:
        total = self.model.total
        if total is None:
            self.count_label.setText(self.tr("Searching…"))
        else:
            self.count_label.setText(self.tr("Showing {shown} of {total} patients").format(
                shown=self.model.rowCount(), total=total))

    def _on_table_activated(self, index) -> None:
        if index.isValid():
            self.sig_patient_chosen.emit(self.model.row_item(index.row()))
