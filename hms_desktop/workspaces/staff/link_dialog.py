""" "Link sign-in": HR finds the sign-in (user account) of the person whose staff record is
open and links it, so that person's My work workspace shows their own shifts, leave and
payslips. Lists sign-ins by username or name (``GET /staff/sign-ins``), by default only those
not linked to any record yet; a sign-in linked elsewhere says to whom. Searching runs on the
task runner; the dialog only picks, the directory tab saves."""

from __future__ import annotations

from hms_contract.common import Page
from hms_contract.staff import StaffRead, StaffSignIn
from hms_desktop.api.staff import StaffApi
from hms_desktop.models.staff import Col, RowsModel
from hms_desktop.qt import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table

SEARCH_DELAY_MS = 250
PAGE = 50


class LinkSignInDialog(QDialog):
    """Pick one sign-in for ``record``. ``chosen()`` is the pick once accepted. GUI thread;
    ``busy`` counts searches in flight (tests wait on it)."""

    def __init__(
        self, tasks: TaskRunner, staff: StaffApi, record: StaffRead, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.tasks, self.staff, self.record = tasks, staff, record
        self.busy = 0
        self.setWindowTitle(self.tr("Link sign-in — {name}").format(name=record.full_name))
        self.resize(620, 420)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                self.tr(
                    "Choose the sign-in {name} uses. They then see their own shifts, leave, "
                    "payslips and reviews under My work."
                ).format(name=record.full_name),
                self,
            )
        )
        top = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(self.tr("Username or name"))
        self.search.setAccessibleName(self.tr("Find sign-in"))
        self.unlinked_only = QCheckBox(self.tr("Not linked yet only"), self)
        self.unlinked_only.setChecked(True)
        self.unlinked_only.setAccessibleName(self.tr("Not linked yet only"))
        self.count = QLabel(self)
        top.addWidget(self.search, 1)
        top.addWidget(self.unlinked_only)
        top.addWidget(self.count)
        layout.addLayout(top)
        self.model = RowsModel(
            [
                Col(self.tr("Username"), lambda s: s.username),
                Col(self.tr("Name"), lambda s: s.full_name),
                Col(
                    self.tr("Linked to"),
                    lambda s: s.staff_name or self.tr("— not linked —"),
                ),
                Col(
                    self.tr("Account"),
                    lambda s: self.tr("Active") if s.active else self.tr("Disabled"),
                ),
            ],
            self,
        )
        self.table = make_record_table(self, self.tr("Sign-ins"), self.model)
        keep_columns_whole(self.table, (0, 1))
        layout.addWidget(self.table, 1)
        self.empty = QLabel(
            self.tr(
                "No sign-in matches. Untick “Not linked yet only” to see sign-ins linked to "
                "other records; an account that does not exist yet is created by the "
                "administrator (Administration → Users)."
            ),
            self,
        )
        self.empty.setWordWrap(True)
        self.empty.setProperty("role", "hint")
        self.empty.hide()
        layout.addWidget(self.empty)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("Link"))
        self.ok_button.setEnabled(False)
        self.buttons.accepted.connect(self._accept_if_free)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.reload)
        self.search.textChanged.connect(self._timer.start)
        self.unlinked_only.toggled.connect(self.reload)
        self.table.selectionModel().currentRowChanged.connect(self._on_row)
        self.table.doubleClicked.connect(lambda _index: self._accept_if_free())
        self.reload()

    def reload(self) -> None:
        q = self.search.text().strip() or None
        unlinked = self.unlinked_only.isChecked()
        self.busy += 1
        self.problem.clear()
        self.tasks.run(
            lambda: self.staff.sign_ins(q, unlinked=unlinked, limit=PAGE),
            self._show,
            self._failed,
            owner=self,
        )

    def _show(self, page: Page[StaffSignIn]) -> None:
        self.busy -= 1
        self.model.set_rows(page.items)
        shown = len(page.items)
        self.count.setText(
            self.tr("{n} sign-ins").format(n=page.total)
            if shown == page.total
            else self.tr("first {shown} of {n}; type to narrow").format(shown=shown, n=page.total)
        )
        self.ok_button.setEnabled(False)
        self.empty.setVisible(not page.items)
        if page.items:
            self.table.selectRow(0)

    def _failed(self, exc: BaseException) -> None:
        self.busy -= 1
        self.problem.show_error(exc)

    def chosen(self) -> StaffSignIn | None:
        index = self.table.currentIndex()
        return self.model.row_item(index.row()) if index.isValid() else None

    def select_username(self, username: str) -> bool:
        row = self.model.find_row(lambda s: s.username == username)
        if row >= 0:
            self.table.selectRow(row)
        return row >= 0

    def _on_row(self, _current: object, _previous: object) -> None:
        chosen = self.chosen()
        free = chosen is not None and chosen.staff_id in (None, self.record.id)
        self.ok_button.setEnabled(free)
        if chosen is not None and not free:
            self.problem.show_text(
                self.tr("{user} is already linked to {name}; unlink it there first.").format(
                    user=chosen.username, name=chosen.staff_name
                )
            )
        else:
            self.problem.clear()

    def _accept_if_free(self) -> None:
        if self.ok_button.isEnabled():
            self.accept()
