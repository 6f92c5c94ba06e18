"""What the staff tabs share: a panel that loads through the task runner and shows problems
inline, money and date text, the caller's permissions, and a clash list in words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hms_desktop.api.staff import ShiftClashError, StaffApi
from hms_desktop.models.staff import shift_text
from hms_desktop.printing.billing_common import amount_text
from hms_desktop.qt import QDate, QHeaderView, QTableView, QVBoxLayout, QWidget
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext


class StaffPanel(QWidget):
    """A tab: ``run(work, done)`` runs ``work`` on the task runner and shows a failure in the
    tab's problem label; ``busy`` is true while something is in flight (tests wait on it)."""

    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.context, self.staff = context, staff
        self.busy = 0
        self.zone = ZoneInfo(context.me.hospital.timezone)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 4, 0, 0)
        self.problem = ProblemLabel(self)

    def can(self, permission: str) -> bool:
        return permission in self.context.me.permissions

    def run(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.busy += 1
        self.problem.clear()

        def finished(value: Any) -> None:
            self.busy -= 1
            if done is not None:
                done(value)

        def error(exc: BaseException) -> None:
            self.busy -= 1
            if failed is not None:
                failed(exc)
            else:
                self.show_problem(exc)

        self.context.tasks.run(work, finished, error, owner=self)

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
