"""What the staff tabs share: a panel that loads through the task runner and shows problems
inline, money and date text, the caller's permissions, and a clash list in words."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from hms_desktop.api.staff import ShiftClashError, StaffApi
from hms_desktop.models.staff import shift_text
from hms_desktop.printing.billing_common import amount_text
from hms_desktop.qt import QDate, QHeaderView, QTableView, QWidget
from hms_desktop.widgets.task_panel import TaskPanel
from hms_desktop.workspaces import WorkspaceContext


class StaffPanel(TaskPanel):
    """A tab of the staff workspace (``run``/``busy``/``problem`` from ``TaskPanel``); a
    shift clash is shown with the clashing shifts in words."""

    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None) -> None:
        super().__init__(context.tasks, parent)
        self.context, self.staff = context, staff
        self.zone = ZoneInfo(context.me.hospital.timezone)

    def can(self, permission: str) -> bool:
        return permission in self.context.me.permissions

    def show_problem(self, exc: BaseException) -> None:
        if isinstance(exc, ShiftClashError) and exc.clashes:
            lines = [
                f"• {shift_text(c, self.zone)} ({c.starts_at.astimezone(self.zone):%a %d %b})"
                f" · {c.unit_name}"
                for c in exc.clashes
            ]
            self.problem.show_text(exc.detail + "\n" + "\n".join(lines), exc.code)
        else:
            self.problem.show_error(exc)


def money(amount: Decimal | None, minor_unit: int) -> str:
    return amount_text(amount, minor_unit) if amount is not None else "—"


def qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def size_columns(table: QTableView, widths: tuple[int, ...]) -> None:
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)
