"""Day and week calendar with one column per doctor; book from a free slot, act on an
appointment (check in, reschedule, cancel, no-show, print slip), or drag a booked
appointment onto a free slot of the same doctor to move it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from hms_contract.scheduling import DepartmentRead
from hms_desktop.api.scheduling import SchedulingApi
from hms_desktop.models.calendar import DayCalendarModel, WeekCalendarModel, load_day, load_week
from hms_desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QDate,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QMenu,
    QModelIndex,
    QProgressBar,
    QPushButton,
    QShortcut,
    QStackedWidget,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext

# (action key, button text, tooltip, shortcut)
_APPOINTMENT_ACTIONS = (
    ("check_in", "Check in", "The patient has arrived: give a token (Ctrl+K)", "Ctrl+K"),
    ("reschedule", "Reschedule…", "Move to another free slot (Ctrl+R)", "Ctrl+R"),
    ("cancel", "Cancel…", "Cancel with a reason (Ctrl+Del)", "Ctrl+Del"),
    ("no_show", "No-show", "The patient did not come", ""),
    ("print_slip", "Print slip", "Print the appointment slip (Ctrl+Shift+P)", "Ctrl+Shift+P"),
)


class CalendarView(QWidget):
    """Shows a day (slot rows) or a week (day rows), one column per doctor.

    Loads on the task runner (a generation counter drops answers of a superseded date).
    Signals: ``sig_book_requested(doctor, slot)`` from a free slot (Enter/double-click),
    ``sig_action_requested(action, appointment)`` from the action buttons or context menu,
    ``sig_move_requested(appointment, slot)`` when an appointment is dropped on a free slot
    of its doctor, ``sig_loaded()`` after each load. GUI thread only.
    """

    sig_book_requested = Signal(object, object)
    sig_action_requested = Signal(str, object)
    sig_move_requested = Signal(object, object)
    sig_loaded = Signal()

    def __init__(
        self, context: WorkspaceContext, scheduling: SchedulingApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.tasks = context.tasks
        self.api = scheduling
        self.loading = False
        self._generation = 0
        self._notice: tuple[str, str] | None = None
        #: The wall clock (tests set it); today's calendar opens scrolled to this time.
        self.now: Callable[[], datetime] = datetime.now
        self._scrolled_day: date | None = None
        self.day_model = DayCalendarModel(self)
        self.day_model.sig_move_requested.connect(self.sig_move_requested)
        self.week_model = WeekCalendarModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_navigation())

        self.views = QStackedWidget(self)
        self.day_table = self._make_table(self.day_model, self.tr("Day calendar"))
        self.day_table.doubleClicked.connect(self._on_day_table_activated)
        self.day_table.activated.connect(self._on_day_table_activated)
        self.day_table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.day_table.customContextMenuRequested.connect(self._on_day_table_menu)
        self.day_table.selectionModel().currentChanged.connect(self._update_actions)
        # Drag a booked appointment onto a free slot; the model decides what may drop where.
        self.day_table.setDragEnabled(True)
        self.day_table.setAcceptDrops(True)
        self.day_table.setDropIndicatorShown(True)
        self.day_table.setDragDropOverwriteMode(True)
        self.day_table.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.day_table.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.week_table = self._make_table(self.week_model, self.tr("Week calendar"))
        self.week_table.verticalHeader().setDefaultSectionSize(64)
        self.week_table.doubleClicked.connect(self._on_week_table_activated)
        self.week_table.activated.connect(self._on_week_table_activated)
        self.views.addWidget(self.day_table)
        self.views.addWidget(self.week_table)
        layout.addWidget(self.views, 1)

        self.action_buttons: dict[str, QPushButton] = {}
        # Two short rows rather than one long one: the calendar pane may be narrow (the
        # patient list beside it never shortens what identifies a patient).
        actions = QHBoxLayout()
        more_actions = QHBoxLayout()
        self.book_button = QPushButton(self.tr("Book…"), self)
        self.book_button.setAccessibleName(self.tr("Book the selected free slot"))
        self.book_button.setToolTip(self.tr("Book the selected free slot (Enter)"))
        self.book_button.clicked.connect(self.book_selected)
        actions.addWidget(self.book_button)
        for key, text, tip, keys in _APPOINTMENT_ACTIONS:
            button = QPushButton(self.tr(text), self)
            button.setAccessibleName(self.tr(text).rstrip("…"))
            button.setToolTip(self.tr(tip))
            button.clicked.connect(lambda _c=False, k=key: self._request(k))
            if keys:
                QShortcut(
                    QKeySequence(keys),
                    self,
                    activated=lambda k=key: self._request(k),
                    context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
                )
            self.action_buttons[key] = button
            (more_actions if key in ("no_show", "print_slip") else actions).addWidget(button)
        actions.addStretch(1)
        more_actions.addStretch(1)
        layout.addLayout(actions)
        layout.addLayout(more_actions)
        self.legend = QLabel(
            self.tr(
                "● booked  ✔ checked in  ▶ in consultation  ✓ done  ✗ no-show  ⊘ cancelled"
                "  ·  drag a booked appointment to a free time of the same doctor to move "
                "it"
            ),
            self,
        )
        self.legend.setProperty("role", "subtitle")
        self.legend.setAccessibleName(self.tr("Status legend"))
        self.legend.setWordWrap(True)
        layout.addWidget(self.legend)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self._update_actions()

    # -- building ----------------------------------------------------------------------
    def _build_navigation(self) -> QVBoxLayout:
        rows = QVBoxLayout()
        row = QHBoxLayout()
        filters = QHBoxLayout()
        self.prev_button = QPushButton("◀", self)
        self.prev_button.setAccessibleName(self.tr("Previous day or week"))
        self.prev_button.setToolTip(self.tr("Previous (Alt+Left)"))
        self.prev_button.setShortcut(QKeySequence("Alt+Left"))
        self.prev_button.setMaximumWidth(36)
        self.prev_button.clicked.connect(lambda: self._step(-1))
        self.today_button = QPushButton(self.tr("Today"), self)
        self.today_button.setAccessibleName(self.tr("Go to today"))
        self.today_button.setToolTip(self.tr("Go to today (Alt+Home)"))
        self.today_button.setShortcut(QKeySequence("Alt+Home"))
        self.today_button.clicked.connect(lambda: self.set_date(date.today()))
        self.next_button = QPushButton("▶", self)
        self.next_button.setAccessibleName(self.tr("Next day or week"))
        self.next_button.setToolTip(self.tr("Next (Alt+Right)"))
        self.next_button.setShortcut(QKeySequence("Alt+Right"))
        self.next_button.setMaximumWidth(36)
        self.next_button.clicked.connect(lambda: self._step(1))
        self.date_edit = QDateEdit(self)
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        self.date_edit.setDate(QDate.currentDate())
        self.date_edit.setAccessibleName(self.tr("Calendar date"))
        self.date_edit.setToolTip(self.tr("Show this date"))
        self.date_edit.dateChanged.connect(lambda _d: self.reload())
        self.mode_combo = QComboBox(self)
        self.mode_combo.addItem(self.tr("Day"), "day")
        self.mode_combo.addItem(self.tr("Week"), "week")
        self.mode_combo.setAccessibleName(self.tr("Calendar view"))
        self.mode_combo.setToolTip(self.tr("Day or week view"))
        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        self.department_combo = QComboBox(self)
        self.department_combo.addItem(self.tr("All departments"), None)
        self.department_combo.setAccessibleName(self.tr("Department"))
        self.department_combo.setToolTip(self.tr("Show the doctors of one department"))
        self.department_combo.setMinimumContentsLength(10)
        self.department_combo.currentIndexChanged.connect(lambda _i: self.reload())
        # Every doctor is reachable: the columns scroll sideways, or pick one doctor here.
        self.doctor_combo = QComboBox(self)
        self.doctor_combo.addItem(self.tr("All doctors"), None)
        self.doctor_combo.setAccessibleName(self.tr("Doctor"))
        self.doctor_combo.setToolTip(
            self.tr("Show one doctor's column, or all of them (scroll sideways)")
        )
        self.doctor_combo.setMinimumContentsLength(10)
        self.doctor_combo.currentIndexChanged.connect(lambda _i: self._show_doctor_columns())
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(80)
        self.progress.setMaximumHeight(12)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(self.tr("Loading calendar"))
        self.progress.hide()
        for widget in (
            self.prev_button,
            self.today_button,
            self.next_button,
            self.date_edit,
            self.mode_combo,
        ):
            row.addWidget(widget)
        row.addWidget(self.progress)
        row.addStretch(1)
        filters.addWidget(self.department_combo, 1)
        filters.addWidget(self.doctor_combo, 1)
        rows.addLayout(row)
        rows.addLayout(filters)
        return rows

    def _make_table(self, model, name: str) -> QTableView:
        table = QTableView(self)
        table.setModel(model)
        table.setAccessibleName(name)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setWordWrap(True)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        table.horizontalHeader().setMinimumSectionSize(140)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        table.verticalHeader().setDefaultSectionSize(28)
        return table

    # -- public ------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    def current_date(self) -> date:
        return self.date_edit.date().toPython()

    def set_date(self, day: date) -> None:
        if day == self.current_date():
            self.reload()
        else:
            self.date_edit.setDate(QDate(day.year, day.month, day.day))

    def set_departments(self, departments: list[DepartmentRead]) -> None:
        self.department_combo.blockSignals(True)
        for department in departments:
            self.department_combo.addItem(department.name, department.id)
        self.department_combo.blockSignals(False)

    def reload(self, notice: tuple[str, str] | None = None) -> None:
        """Load the shown day or week again (after a change here or an event elsewhere).

        ``notice`` (text, code) is shown under the calendar once the new data is in, e.g.
        why it was reloaded (a pending notice survives a reload that an event starts)."""
        if notice is not None:
            self._notice = notice
        self._generation += 1
        generation = self._generation
        api, department = self.api, self.department_combo.currentData()
        day = self.current_date()
        self.loading = True
        self.progress.show()
        self.problem.clear()
        if self.mode == "week":
            start = day - timedelta(days=day.weekday())
            work = lambda: load_week(api, start, department)  # noqa: E731
        else:
            work = lambda: load_day(api, day, department)  # noqa: E731
        self.tasks.run(
            work,
            lambda data: self._on_loaded(generation, data),
            lambda exc: self._on_load_failed(generation, exc),
            owner=self,
        )

    def selected(self) -> tuple[str | None, object]:
        index = self.day_table.currentIndex()
        if self.mode != "day" or not index.isValid():
            return None, None
        return self.day_model.cell(index.row(), index.column())

    def select_appointment(self, appointment_id: int) -> bool:
        index = self.day_model.find_appointment(appointment_id)
        if index.isValid():
            self.day_table.setCurrentIndex(index)
        return index.isValid()

    def book_selected(self) -> None:
        kind, slot = self.selected()
        if kind == "free":
            index = self.day_table.currentIndex()
            self.sig_book_requested.emit(self.day_model.doctors[index.column()], slot)

    # -- slots -------------------------------------------------------------------------
    def _on_loaded(self, generation: int, data) -> None:
        if generation != self._generation:
            return
        self.loading = False
        self.progress.hide()
        if self.mode == "week":
            self.week_model.set_week(data)
        else:
            self.day_model.set_day(data)
            self.day_table.resizeRowsToContents()
        self._fill_doctor_combo()
        self._show_doctor_columns()
        if self.mode == "day":
            self._scroll_to_now_once()
        self._update_actions()
        if self._notice is not None:
            self.problem.show_text(*self._notice)
            self._notice = None
        self.sig_loaded.emit()

    def _fill_doctor_combo(self) -> None:
        doctors = self.day_model.doctors if self.mode == "day" else self.week_model.doctors
        keep = self.doctor_combo.currentData()
        self.doctor_combo.blockSignals(True)
        self.doctor_combo.clear()
        self.doctor_combo.addItem(self.tr("All doctors ({n})").format(n=len(doctors)), None)
        for doctor in doctors:
            self.doctor_combo.addItem(doctor.full_name, doctor.id)
        found = self.doctor_combo.findData(keep) if keep is not None else 0
        self.doctor_combo.setCurrentIndex(max(found, 0))
        self.doctor_combo.blockSignals(False)

    def _show_doctor_columns(self) -> None:
        """Hide every other doctor's column when one doctor is chosen."""
        chosen = self.doctor_combo.currentData()
        for table, doctors in (
            (self.day_table, self.day_model.doctors),
            (self.week_table, self.week_model.doctors),
        ):
            for column, doctor in enumerate(doctors):
                table.setColumnHidden(column, chosen is not None and doctor.id != chosen)

    def _scroll_to_now_once(self) -> None:
        """Today opens at the current time, not at the first (long past) slot; the user's
        own scrolling is left alone after that."""
        day = self.current_date()
        if self._scrolled_day == day or not self.day_model.rowCount():
            return
        self._scrolled_day = day
        now = self.now()
        if day != now.date():
            return
        earliest = (now - timedelta(minutes=30)).strftime("%H:%M")
        rows = self.day_model.rowCount()
        row = next((r for r in range(rows) if self.day_model.time_at(r) >= earliest), rows - 1)
        self.day_table.scrollTo(
            self.day_model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop
        )

    def _on_load_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.loading = False
        self.progress.hide()
        self.problem.show_error(exc)

    def _on_mode_changed(self, _index: int) -> None:
        self.views.setCurrentWidget(self.week_table if self.mode == "week" else self.day_table)
        self.reload()

    def _step(self, direction: int) -> None:
        days = 7 if self.mode == "week" else 1
        self.set_date(self.current_date() + timedelta(days=days * direction))

    def _on_day_table_activated(self, index: QModelIndex) -> None:
        kind, item = self.day_model.cell(index.row(), index.column())
        if kind == "free":
            self.book_selected()
        elif kind == "appointment" and item.status == "booked":
            self._request("check_in")

    def _on_week_table_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            day = self.week_model.day_at(index.row())
            self.mode_combo.setCurrentIndex(0)
            self.set_date(day)

    def _on_day_table_menu(self, pos) -> None:
        index = self.day_table.indexAt(pos)
        if not index.isValid():
            return
        self.day_table.setCurrentIndex(index)
        menu = QMenu(self)
        if self.book_button.isEnabled():
            menu.addAction(self.book_button.text(), self.book_selected)
        for key, button in self.action_buttons.items():
            if button.isEnabled():
                menu.addAction(button.text(), lambda k=key: self._request(k))
        if not menu.isEmpty():
            menu.popup(self.day_table.viewport().mapToGlobal(pos))

    def _request(self, action: str) -> None:
        kind, item = self.selected()
        button = self.action_buttons.get(action)
        if kind == "appointment" and button is not None and button.isEnabled():
            self.sig_action_requested.emit(action, item)

    def _update_actions(self, *_args) -> None:
        kind, item = self.selected()
        status = item.status if kind == "appointment" else None
        self.book_button.setEnabled(kind == "free")
        allowed = {
            "check_in": status == "booked",
            "reschedule": status == "booked",
            "cancel": status in ("booked", "checked_in"),
            "no_show": status == "booked",
            "print_slip": status in ("booked", "checked_in", "in_consultation"),
        }
        for key, button in self.action_buttons.items():
            button.setEnabled(bool(allowed.get(key)))
