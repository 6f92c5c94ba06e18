"""My shifts: the next four weeks of one's own duty roster, grouped by week (Monday first),
each shift's day, kind in words on the kind's pale colour, hours and place in the hospital's
time zone. Read-only: the roster is planned by HR and the manager."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hms_contract.staff import ShiftRead
from hms_desktop.api.staff import StaffApi
from hms_desktop.models.staff import SHIFT_KIND_COLOUR, SHIFT_KIND_TEXT
from hms_desktop.qt import (
    QAbstractItemView,
    QBrush,
    QColor,
    QHBoxLayout,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
    Signal,
)
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.my_work.common import MyPanel, day_text

DAYS_AHEAD = 28


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def hours_of(shift: ShiftRead) -> float:
    return (shift.ends_at - shift.starts_at).total_seconds() / 3600


class ShiftsPanel(MyPanel):
    """The tree: one top-level row per week with its count and hours, the shifts under it."""

    COLUMNS = ("Day", "Shift", "Hours", "Where", "Note")
    sig_loaded = Signal(list)  # the shifts shown (the leave dialog names those it covers)

    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None = None):
        super().__init__(context, staff, parent)
        self.shifts: list[ShiftRead] = []
        self.first_day = datetime.now(self.zone).date()
        top = QHBoxLayout()
        self.range_label = QLabel(self)
        self.range_label.setAccessibleName(self.tr("Shown period"))
        top.addWidget(self.range_label)
        top.addStretch(1)
        self.layout_.addLayout(top)
        self.tree = QTreeWidget(self)
        self.tree.setAccessibleName(self.tr("My shifts by week"))
        self.tree.setHeaderLabels([self.tr(c) for c in self.COLUMNS])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setRootIsDecorated(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        for column, width in enumerate((260, 110, 110, 200)):
            self.tree.setColumnWidth(column, width)
        self.empty = self.empty_note(
            self.tr(
                "No shifts are rostered for you in the next four weeks. The roster is planned "
                "by HR and your manager; ask them if you expected shifts here."
            )
        )
        self.layout_.addWidget(self.tree, 1)
        self.layout_.addWidget(self.empty, 1)
        self.layout_.addWidget(self.problem)

    def reload(self) -> None:
        """Today and the 27 days after it, in the hospital's zone."""
        self.first_day = datetime.now(self.zone).date()
        first = self.first_day
        self.run(lambda: self.staff.my_shifts(first, days=DAYS_AHEAD), self._show)

    def _show(self, shifts: list[ShiftRead]) -> None:
        self.shifts = sorted(shifts, key=lambda s: s.starts_at)
        last = self.first_day + timedelta(days=DAYS_AHEAD - 1)
        self.range_label.setText(
            self.tr("Shifts from {first} to {last} (hospital time, {zone})").format(
                first=day_text(self.first_day), last=day_text(last), zone=self.zone.key
            )
        )
        self.tree.clear()
        weeks: dict[date, list[ShiftRead]] = {}
        for shift in self.shifts:
            start = shift.starts_at.astimezone(self.zone).date()
            weeks.setdefault(monday_of(start), []).append(shift)
        for monday, shifts in weeks.items():
            hours = sum(hours_of(s) for s in shifts)
            week = QTreeWidgetItem(
                [
                    self.tr("Week of {monday}").format(monday=day_text(monday)),
                    self.tr("%n shift(s)", "", len(shifts)),
                    self.tr("{hours:g} h").format(hours=round(hours, 1)),
                ]
            )
            font = week.font(0)
            font.setBold(True)
            for column in range(3):
                week.setFont(column, font)
            self.tree.addTopLevelItem(week)
            for shift in shifts:
                week.addChild(self._shift_item(shift))
            week.setExpanded(True)
        for column in range(4):  # day, kind, hours and place are never cut short
            self.tree.resizeColumnToContents(column)
            self.tree.setColumnWidth(column, max(self.tree.columnWidth(column) + 16, 110))
        self.show_empty(self.tree, self.empty, not self.shifts)
        self.sig_loaded.emit(self.shifts)

    def _shift_item(self, shift: ShiftRead) -> QTreeWidgetItem:
        start = shift.starts_at.astimezone(self.zone)
        end = shift.ends_at.astimezone(self.zone)
        ends_next_day = end.date() != start.date()
        hours = f"{start:%H:%M}–{end:%H:%M}" + (self.tr(" (+1 day)") if ends_next_day else "")
        item = QTreeWidgetItem(
            [
                day_text(start.date()),
                self.tr(SHIFT_KIND_TEXT[shift.kind]),
                hours,
                shift.unit_name,
                shift.note or "",
            ]
        )
        item.setBackground(1, QBrush(QColor(SHIFT_KIND_COLOUR[shift.kind])))
        item.setForeground(1, QBrush(QColor("#1d1d1d")))
        item.setToolTip(2, self.tr("{hours:g} hours").format(hours=round(hours_of(shift), 1)))
        return item

    def week_rows(self) -> list[tuple[str, list[tuple[str, ...]]]]:
        """What the tree shows, as text (tests and the screenshot check read it)."""
        rows = []
        for i in range(self.tree.topLevelItemCount()):
            week = self.tree.topLevelItem(i)
            children = [
                tuple(week.child(j).text(c) for c in range(len(self.COLUMNS)))
                for j in range(week.childCount())
            ]
            rows.append((week.text(0), children))
        return rows
