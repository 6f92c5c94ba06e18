"""Roster tab: the week grid of one ward or department (people down, days across), who is on
duty there now, and adding or removing shifts. A refused shift lists the shifts it clashes
with (or says the person is on leave) under the grid."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from hms_contract.staff import RosterUnit, ShiftRead, StaffRead
from hms_desktop.api.staff import StaffApi
from hms_desktop.models.staff import SHIFT_KIND_TEXT, RosterWeekModel, shift_text
from hms_desktop.qt import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QKeySequence,
    QLabel,
    QLineEdit,
    QPushButton,
    QShortcut,
    QSpinBox,
    QTime,
    QTimeEdit,
    QWidget,
)
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.staff.common import StaffPanel, pydate, qdate

DEFAULT_STARTS = {"day": QTime(7, 0), "evening": QTime(15, 0), "night": QTime(23, 0)}
DEFAULT_HOURS = {"day": 8, "evening": 8, "night": 8, "on_call": 12}


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


class ShiftDialog(QDialog):
    """Who, which day, which kind, from when and for how long."""

    def __init__(self, people: list[StaffRead], day: date, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add shift"))
        form = QFormLayout(self)
        self.person = QComboBox(self)
        for person in people:
            self.person.addItem(f"{person.full_name} — {person.job_title}", person.id)
        self.day = QDateEdit(self)
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd dd MMM yyyy")
        self.day.setDate(qdate(day))
        self.kind = QComboBox(self)
        for key, text in SHIFT_KIND_TEXT.items():
            self.kind.addItem(self.tr(text), key)
        self.start = QTimeEdit(self)
        self.start.setDisplayFormat("HH:mm")
        self.start.setTime(DEFAULT_STARTS["day"])
        self.hours = QSpinBox(self)
        self.hours.setRange(1, 24)
        self.hours.setValue(8)
        self.hours.setSuffix(self.tr(" h"))
        self.note = QLineEdit(self)
        for label, widget in (
            (self.tr("Staff member"), self.person),
            (self.tr("Day"), self.day),
            (self.tr("Kind"), self.kind),
            (self.tr("Starts"), self.start),
            (self.tr("Length"), self.hours),
            (self.tr("Note"), self.note),
        ):
            widget.setAccessibleName(label)
            form.addRow(label, widget)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        if kind in DEFAULT_STARTS:
            self.start.setTime(DEFAULT_STARTS[kind])
        self.hours.setValue(DEFAULT_HOURS[kind])

    def values(self, zone: Any) -> dict[str, Any]:
        start = datetime.combine(
            pydate(self.day.date()),
            time(self.start.time().hour(), self.start.time().minute()),
            zone,
        )
        return {
            "staff_id": self.person.currentData(),
            "starts_at": start,
            "ends_at": start + timedelta(hours=self.hours.value()),
            "kind": self.kind.currentData(),
            "note": self.note.text().strip() or None,
        }


class RosterTab(StaffPanel):
    """The week of one place. ``sig``-free: it asks the server again after each change."""

    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None = None):
        super().__init__(context, staff, parent)
        self.units: list[RosterUnit] = []
        self.people: list[StaffRead] = []
        self.generation = 0
        top = QHBoxLayout()
        self.unit = QComboBox(self)
        self.unit.setAccessibleName(self.tr("Ward or department"))
        self.unit.setMinimumContentsLength(24)
        self.week = QDateEdit(self)
        self.week.setCalendarPopup(True)
        self.week.setDisplayFormat(self.tr("'Week of' dd MMM yyyy"))
        self.week.setAccessibleName(self.tr("Week"))
        self.week.setDate(qdate(monday_of(datetime.now(self.zone).date())))
        self.previous = QPushButton(self.tr("◀ Previous"), self)
        self.previous.setToolTip(self.tr("The week before (Alt+Left)"))
        self.next = QPushButton(self.tr("Next ▶"), self)
        self.next.setToolTip(self.tr("The week after (Alt+Right)"))
        top.addWidget(QLabel(self.tr("Place"), self))
        top.addWidget(self.unit, 1)
        top.addWidget(self.previous)
        top.addWidget(self.week)
        top.addWidget(self.next)
        self.layout_.addLayout(top)
        self.model = RosterWeekModel(self.zone, self)
        self.table = make_record_table(self, self.tr("Roster week"), self.model)
        self.table.setSelectionBehavior(self.table.SelectionBehavior.SelectItems)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setDefaultSectionSize(44)
        keep_columns_whole(self.table, (0,))
        self.layout_.addWidget(self.table, 1)
        self.on_duty = QLabel(self)
        self.on_duty.setWordWrap(True)
        self.on_duty.setAccessibleName(self.tr("On duty now"))
        self.layout_.addWidget(self.on_duty)
        self.layout_.addWidget(self.problem)
        actions = QHBoxLayout()
        self.add_button = QPushButton(self.tr("Add shift…"), self)
        self.add_button.setToolTip(self.tr("Roster someone here (Ctrl+N)"))
        self.remove_button = QPushButton(self.tr("Remove shift"), self)
        self.remove_button.setToolTip(self.tr("Remove the selected cell's shift (Delete)"))
        manage = self.can("roster.manage")
        for button in (self.add_button, self.remove_button):
            button.setVisible(manage)
            actions.addWidget(button)
        actions.addStretch(1)
        self.layout_.addLayout(actions)
        self.unit.currentIndexChanged.connect(self.reload)
        self.week.dateChanged.connect(self.reload)
        self.previous.clicked.connect(lambda: self.week.setDate(self.week.date().addDays(-7)))
        self.next.clicked.connect(lambda: self.week.setDate(self.week.date().addDays(7)))
        self.add_button.clicked.connect(self.add_shift)
        self.remove_button.clicked.connect(self.remove_shift)
        QShortcut(QKeySequence("Alt+Left"), self, activated=self.previous.click)
        QShortcut(QKeySequence("Alt+Right"), self, activated=self.next.click)
        if manage:
            QShortcut(QKeySequence("Ctrl+N"), self, activated=self.add_shift)
            QShortcut(QKeySequence("Delete"), self.table, activated=self.remove_shift)

    # -- loading ------------------------------------------------------------------------------
    def start(self, units: list[RosterUnit], people: list[StaffRead]) -> None:
        self.units, self.people = units, people
        self.unit.blockSignals(True)
        self.unit.clear()
        for unit in units:
            kind = self.tr("Ward") if unit.kind == "ward" else self.tr("Department")
            self.unit.addItem(f"{unit.name} ({kind})", f"{unit.kind}:{unit.id}")
        self.unit.blockSignals(False)
        self.reload()

    def _place(self) -> dict[str, int]:
        data = self.unit.currentData()
        if not data:
            return {}
        kind, unit_id = str(data).split(":")
        return {"ward_id": int(unit_id)} if kind == "ward" else {"department_id": int(unit_id)}

    def select_unit(self, kind: str, unit_id: int) -> None:
        index = self.unit.findData(f"{kind}:{unit_id}")
        if index >= 0:
            self.unit.setCurrentIndex(index)

    def reload(self) -> None:
        place = self._place()
        if not place:
            return
        start = pydate(self.week.date())
        # Answers to a superseded place or week (the user moved on) are dropped.
        self.generation += 1
        generation = self.generation
        self.run(
            lambda: self.staff.shifts(start, days=7, **place),
            lambda shifts: self._show_week(generation, start, shifts),
        )
        self.run(
            lambda: self.staff.on_duty(**place),
            lambda shifts: self._show_on_duty(generation, shifts),
        )

    def _show_week(self, generation: int, start: date, shifts: list[ShiftRead]) -> None:
        if generation != self.generation:
            return
        self.model.set_week(start, shifts)
        self.table.resizeRowsToContents()

    def _show_on_duty(self, generation: int, shifts: list[ShiftRead]) -> None:
        if generation != self.generation:
            return
        if not shifts:
            self.on_duty.setText(self.tr("On duty now: nobody rostered here."))
            return
        names = ", ".join(f"{s.staff_name} ({shift_text(s, self.zone)})" for s in shifts)
        self.on_duty.setText(self.tr("On duty now: {names}").format(names=names))

    # -- changes ------------------------------------------------------------------------------
    def _selected_day(self) -> date:
        index = self.table.currentIndex()
        if index.isValid() and index.column() > 0:
            return self.model.day_of(index.column())
        return pydate(self.week.date())

    def add_shift(self) -> None:
        place = self._place()
        if not place or not self.people:
            return
        dialog = ShiftDialog(self.people, self._selected_day(), self)
        index = self.table.currentIndex()
        if index.isValid():
            dialog.person.setCurrentIndex(
                max(0, dialog.person.findData(self.model.rows[index.row()].staff_id))
            )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.submit_shift({**dialog.values(self.zone), **place})

    def submit_shift(self, values: dict[str, Any]) -> None:
        self.run(lambda: self.staff.add_shift(values), lambda _shift: self._changed())

    def remove_shift(self) -> None:
        shifts = self.model.shifts_at(self.table.currentIndex())
        if not shifts:
            return
        chosen = shifts[0]
        if len(shifts) > 1:
            labels = [shift_text(s, self.zone) for s in shifts]
            label, ok = QInputDialog.getItem(
                self, self.tr("Remove shift"), self.tr("Which shift?"), labels, 0, False
            )
            if not ok:
                return
            chosen = shifts[labels.index(label)]
        self.run(lambda: self.staff.remove_shift(chosen.id), lambda _none: self._changed())

    def _changed(self) -> None:
        self.context.show_status(self.tr("Roster updated."))
        self.reload()
