"""Users tab: searchable, incrementally fetched list on the left, detail on the right."""

from __future__ import annotations

from hms_contract.auth import UserRead
from hms_desktop.api.users import UsersApi
from hms_desktop.models.users import UsersTableModel
from hms_desktop.qt import (
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QLineEdit,
    QPushButton,
    QShortcut,
    QSplitter,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import make_record_table
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.administration.user_detail import UserDetailPanel
from hms_desktop.workspaces.administration.user_dialogs import CreateUserDialog

SEARCH_DEBOUNCE_MS = 300


class UsersTab(QWidget):
    """Lists users (50 per page, more on scroll), searches on the server, edits in a panel."""

    def __init__(
        self, context: WorkspaceContext, users: UsersApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._users = users
        self.create_dialog: CreateUserDialog | None = None
        self.model = UsersTableModel(context.tasks, users, self)

        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText(self.tr("Search username or name (Ctrl+F)"))
        self.search_edit.setAccessibleName(self.tr("Search users"))
        self.search_edit.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search_edit.textChanged.connect(lambda _text: self._search_timer.start())
        self.search_edit.returnPressed.connect(self.apply_search)
        QShortcut(QKeySequence("Ctrl+F"), self, self.search_edit.setFocus)

        self.new_button = QPushButton(self.tr("New user…"), self)
        self.new_button.setAccessibleName(self.tr("New user"))
        self.new_button.setToolTip(self.tr("Create a user account (Ctrl+N)"))
        self.new_button.setShortcut(QKeySequence("Ctrl+N"))
        self.new_button.clicked.connect(self.open_create_dialog)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.refresh_button.setAccessibleName(self.tr("Refresh users"))
        self.refresh_button.setToolTip(self.tr("Reload the list (F5)"))
        self.refresh_button.setShortcut(QKeySequence("F5"))
        self.refresh_button.clicked.connect(self.model.reload)

        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.new_button)

        self.table = make_record_table(self, self.tr("Users"), self.model)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        header.resizeSection(0, 140)
        header.resizeSection(1, 220)
        header.resizeSection(3, 90)
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)

        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "subtitle")
        self.count_label.setAccessibleName(self.tr("Number of users"))
        self.problem = ProblemLabel(self)
        self.model.sig_total_changed.connect(self._update_count)
        self.model.rowsInserted.connect(self._update_count)
        self.model.sig_load_failed.connect(self.problem.show_error)
        self.model.modelReset.connect(self.problem.clear)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(top)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.problem)
        left_layout.addWidget(self.count_label)

        self.detail = UserDetailPanel(context, users, self)
        self.detail.sig_user_changed.connect(self.model.replace_item)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([680, 340])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(splitter)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.model.total is None and not self.model.loading:
            self.model.reload()

    def apply_search(self) -> None:
        self._search_timer.stop()
        text = self.search_edit.text().strip()
        if text != self.model.filters.get("q", ""):
            self.detail.set_user(None)
            self.model.set_filters(q=text)

    def _update_count(self, *_args) -> None:
        total = self.model.total
        shown = self.model.rowCount()
        if total is None:
            self.count_label.setText(self.tr("Loading…"))
        else:
            self.count_label.setText(
                self.tr("Showing {shown} of {total} users").format(shown=shown, total=total)
            )

    def _on_table_current_changed(self, current, _previous) -> None:
        if current.isValid():
            self.detail.set_user(self.model.row_item(current.row()))
        else:
            self.detail.set_user(None)

    def open_create_dialog(self) -> None:
        self.create_dialog = CreateUserDialog(self._context, self._users, self)
        self.create_dialog.sig_user_created.connect(self._on_create_dialog_user_created)
        self.create_dialog.open()

    def _on_create_dialog_user_created(self, user: UserRead) -> None:
        self._context.show_status(
            self.tr("User {username} created.").format(username=user.username)
        )
        self.model.reload()
        self.detail.set_user(user)
