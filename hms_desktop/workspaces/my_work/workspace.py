"""The My work workspace: a strip with one's staff record in short (name, employee number,
job title, department, grade, hire date; the monthly salary only when the server returns it
to its owner), and the tabs My shifts, My leave, My payslips and My reviews. A sign-in with
no staff record gets one friendly page that says who can link it, never an error.

Loads the record first; only a linked employee's tabs load, each on the task runner. Refresh
(F5) reloads everything (another desk's roster or leave decision shows then)."""

from __future__ import annotations

from typing import Any

from hms_contract.staff import StaffRead
from hms_desktop.api.errors import ApiProblem
from hms_desktop.api.staff import StaffApi
from hms_desktop.models.staff import EMPLOYMENT_TEXT
from hms_desktop.printing.billing_common import Letterhead, money_text
from hms_desktop.qt import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QPushButton,
    QShortcut,
    QStackedWidget,
    Qt,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.my_work.common import day_text
from hms_desktop.workspaces.my_work.leave_panel import LeavePanel
from hms_desktop.workspaces.my_work.payslips_panel import PayslipsPanel
from hms_desktop.workspaces.my_work.reviews_panel import ReviewsPanel
from hms_desktop.workspaces.my_work.shifts_panel import ShiftsPanel

NOT_LINKED = "no_staff_record"


class RecordStrip(QFrame):
    """One's staff record in two rows of label–value pairs. GUI thread only."""

    FIELDS = (
        ("full_name", "Name"),
        ("employee_number", "Employee no."),
        ("job_title", "Job title"),
        ("department_name", "Department"),
        ("employment", "Employment"),
        ("hire_date", "Employed since"),
        ("salary", "Monthly salary"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(self.tr("My staff record"))
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(18)
        self.values: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        for index, (key, title) in enumerate(self.FIELDS):
            caption = QLabel(self.tr(title), self)
            caption.setProperty("role", "hint")
            value = QLabel(self)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setAccessibleName(self.tr(title))
            row, column = divmod(index, 4)
            grid.addWidget(caption, row * 2, column)
            grid.addWidget(value, row * 2 + 1, column)
            self.values[key], self.captions[key] = value, caption
        bold = self.values["full_name"].font()
        bold.setBold(True)
        bold.setPointSizeF(bold.pointSizeF() * 1.15)
        self.values["full_name"].setFont(bold)

    def show_record(self, record: StaffRead, head: Letterhead) -> None:
        texts = {
            "full_name": record.full_name,
            "employee_number": record.employee_number,
            "job_title": record.job_title + (f" · {record.grade}" if record.grade else ""),
            "department_name": record.department_name,
            "employment": self.tr(EMPLOYMENT_TEXT[record.employment_type]),
            "hire_date": day_text(record.hire_date),
            "salary": money_text(record.base_monthly_salary, head)
            if record.base_monthly_salary is not None
            else "",
        }
        for key, text in texts.items():
            self.values[key].setText(text)
        shown = record.base_monthly_salary is not None
        self.values["salary"].setVisible(shown)
        self.captions["salary"].setVisible(shown)


class MyWorkWorkspace(QWidget):
    """Every employee's own workspace. GUI thread only; owns its panels. ``linked`` is
    ``None`` while the record loads, then ``True``/``False``; ``ready`` once it is known."""

    def __init__(self, context: WorkspaceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.staff = StaffApi(context.api)
        self.head = Letterhead.from_hospital(context.me.hospital)
        self.record: StaffRead | None = None
        self.linked: bool | None = None
        self.loading = 0
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        title = QLabel(self.tr("My work"), self)
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        title.setFont(font)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.refresh_button.setToolTip(self.tr("Load my shifts, leave and payslips again (F5)"))
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self.pages = QStackedWidget(self)
        self.loading_page = QLabel(self.tr("Loading your staff record…"), self)
        self.loading_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.not_linked_page = self._not_linked_page()
        self.linked_page = QWidget(self)
        column = QVBoxLayout(self.linked_page)
        column.setContentsMargins(0, 0, 0, 0)
        self.strip = RecordStrip(self.linked_page)
        self.tabs = QTabWidget(self.linked_page)
        self.tabs.setAccessibleName(self.tr("My work sections"))
        self.shifts = ShiftsPanel(context, self.staff, self.tabs)
        self.leave = LeavePanel(context, self.staff, self.tabs)
        self.payslips = PayslipsPanel(context, self.staff, self.tabs)
        self.reviews = ReviewsPanel(context, self.staff, self.tabs)
        for widget, name, tip in (
            (self.shifts, self.tr("My shifts"), self.tr("Your shifts for the next four weeks")),
            (self.leave, self.tr("My leave"), self.tr("Your leave requests; ask for leave")),
            (self.payslips, self.tr("My payslips"), self.tr("Your payslips; print or save PDF")),
            (self.reviews, self.tr("My reviews"), self.tr("Your finalised performance reviews")),
        ):
            index = self.tabs.addTab(widget, name)
            self.tabs.setTabToolTip(index, tip)
        column.addWidget(self.strip)
        column.addWidget(self.tabs, 1)
        for page in (self.loading_page, self.not_linked_page, self.linked_page):
            self.pages.addWidget(page)
        layout.addWidget(self.pages, 1)
        self.shifts.sig_loaded.connect(self.leave.set_shifts)
        self.refresh_button.clicked.connect(self.reload)
        QShortcut(QKeySequence("F5"), self, activated=self.reload)
        self.reload()

    def _not_linked_page(self) -> QWidget:
        page = QWidget(self)
        column = QVBoxLayout(page)
        column.addStretch(1)
        self.not_linked_label = QLabel(
            self.tr(
                "<h3>Your sign-in is not linked to a staff record</h3>"
                "<p>My work shows your shifts, leave, payslips and reviews once HR has linked "
                "your sign-in (<b>{username}</b>) to your staff record.</p>"
                "<p>Ask the HR office to link it: in the Staff workspace, they open your "
                "record and choose “Link sign-in…”. Then press Refresh (F5).</p>"
            ).format(username=_html(self.context.me.username)),
            page,
        )
        self.not_linked_label.setWordWrap(True)
        self.not_linked_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.not_linked_label.setAccessibleName(self.tr("Not linked to a staff record"))
        self.not_linked_label.setMaximumWidth(640)
        column.addWidget(self.not_linked_label, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addStretch(2)
        return page

    @property
    def ready(self) -> bool:
        """The record is known and nothing is loading (tests and the tour wait on this)."""
        panels = (self.shifts, self.leave, self.payslips, self.reviews)
        return self.linked is not None and self.loading == 0 and all(p.busy == 0 for p in panels)

    def reload(self) -> None:
        self.loading += 1
        self.problem.clear()
        self.context.tasks.run(self.staff.my_record, self._on_record, self._on_failed, owner=self)

    def _on_record(self, record: StaffRead) -> None:
        self.loading -= 1
        self.record, self.linked = record, True
        self.strip.show_record(record, self.head)
        self.pages.setCurrentWidget(self.linked_page)
        self.shifts.reload()
        self.leave.reload()
        self.payslips.reload()
        self.reviews.reload()

    def _on_failed(self, exc: BaseException) -> None:
        self.loading -= 1
        if isinstance(exc, ApiProblem) and exc.code == NOT_LINKED:
            self.record, self.linked = None, False
            self.pages.setCurrentWidget(self.not_linked_page)
            return
        if self.linked is None:
            self.pages.setCurrentWidget(self.loading_page)
            self.loading_page.setText(self.tr("Your staff record could not be loaded."))
        self.problem.show_error(exc)

    def show_tab(self, name: str) -> QWidget:
        """Bring a tab forward by attribute name (``"payslips"``); the screenshot tour uses it."""
        widget: QWidget = getattr(self, name)
        self.tabs.setCurrentWidget(widget)
        return widget

    def screenshot_views(self) -> list[tuple[str, Any]]:
        """Screenshot tour hook: each other tab, a payslip in print preview, and the leave
        dialog (nothing more when the sign-in is not linked)."""
        if not self.linked:
            return []
        return [
            ("leave", lambda: self._show_only("leave")),
            ("request-leave", self._leave_dialog),
            ("payslips", lambda: self._show_only("payslips")),
            ("payslip", self._payslip_preview),
            ("reviews", lambda: self._show_only("reviews")),
        ]

    def _show_only(self, name: str) -> None:
        self.show_tab(name)  # returns nothing, so the tour grabs the whole window

    def _leave_dialog(self) -> QWidget:
        self.show_tab("leave")
        return self.leave.request_leave()

    def _payslip_preview(self) -> QWidget | None:
        # The tour grabs the widget a hook returns, so this one hook renders the (~10 ms)
        # PDF on the GUI thread; the Print button never does.
        self.show_tab("payslips")
        return self.payslips.open_preview_now()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
