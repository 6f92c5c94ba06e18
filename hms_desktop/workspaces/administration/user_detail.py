"""Detail panel for the selected user: edit name and roles, disable/enable, reset password."""

from __future__ import annotations

from hms_contract.auth import UserRead
from hms_desktop.api.errors import ApiProblem
from hms_desktop.api.users import UsersApi
from hms_desktop.models.audit import local_time_text
from hms_desktop.qt import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.administration.role_picker import RolePicker
from hms_desktop.workspaces.administration.user_dialogs import ResetPasswordDialog
from hms_desktop.workspaces.administration.validation import full_name_problem, roles_problem


class UserDetailPanel(QWidget):
    """Shows one user; writes send the record's ``version`` so stale edits get a 409.

    On ``version_conflict`` a banner offers to reload the user instead of overwriting.
    Emits ``sig_user_changed(user)`` after every successful change.
    """

    sig_user_changed = Signal(object)

    def __init__(
        self, context: WorkspaceContext, users: UsersApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._api = users
        self._tasks = context.tasks
        self.user: UserRead | None = None
        self._busy = False
        self.reset_dialog: ResetPasswordDialog | None = None

        self.pages = QStackedWidget(self)
        empty = QLabel(self.tr("Select a user to see and change their account."), self)
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty.setWordWrap(True)
        empty.setProperty("role", "subtitle")
        self.pages.addWidget(empty)
        self.pages.addWidget(self._build_detail())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 8, 0)
        layout.addWidget(self.pages)

    def _build_detail(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel(page)
        self.heading.setProperty("role", "title")
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QLabel(page)
        self.status_label.setAccessibleName(self.tr("Account status"))
        layout.addWidget(self.heading)
        layout.addWidget(self.status_label)

        self.conflict_banner = QFrame(page)
        self.conflict_banner.setProperty("role", "banner")
        banner_layout = QHBoxLayout(self.conflict_banner)
        banner_text = QLabel(
            self.tr(
                "Someone else changed this user after you opened it. Reload to see the "
                "current version; your unsaved changes will be discarded."
            ),
            self.conflict_banner,
        )
        banner_text.setWordWrap(True)
        self.reload_button = QPushButton(self.tr("Reload"), self.conflict_banner)
        self.reload_button.setAccessibleName(self.tr("Reload user"))
        self.reload_button.clicked.connect(self.reload)
        banner_layout.addWidget(banner_text, 1)
        banner_layout.addWidget(self.reload_button)
        self.conflict_banner.hide()
        layout.addWidget(self.conflict_banner)

        form = QFormLayout()
        self.full_name_edit = QLineEdit(page)
        self.full_name_edit.setAccessibleName(self.tr("Full name"))
        self.full_name_edit.textEdited.connect(self._update_buttons)
        self.role_picker = RolePicker(page)
        self.role_picker.setAccessibleName(self.tr("Roles"))
        self.role_picker.sig_changed.connect(self._update_buttons)
        self.validation_label = QLabel(page)
        self.validation_label.setProperty("role", "error")
        self.validation_label.setAccessibleName(self.tr("Validation message"))
        self.totp_label = QLabel(page)
        self.created_label = QLabel(page)
        form.addRow(self.tr("&Full name:"), self.full_name_edit)
        form.addRow(self.tr("Roles:"), self.role_picker)
        form.addRow("", self.validation_label)
        form.addRow(self.tr("Authenticator:"), self.totp_label)
        form.addRow(self.tr("Created:"), self.created_label)
        layout.addLayout(form)
        self.problem = ProblemLabel(page)
        layout.addWidget(self.problem)

        buttons = QHBoxLayout()
        self.save_button = QPushButton(self.tr("Save changes"), page)
        self.save_button.setAccessibleName(self.tr("Save changes"))
        self.save_button.setToolTip(self.tr("Save changes (Ctrl+S)"))
        self.save_button.setShortcut("Ctrl+S")
        self.save_button.clicked.connect(self.save)
        self.toggle_active_button = QPushButton(page)
        self.toggle_active_button.setAccessibleName(self.tr("Disable or enable account"))
        self.toggle_active_button.clicked.connect(self._on_toggle_active_clicked)
        self.reset_password_button = QPushButton(self.tr("Reset password…"), page)
        self.reset_password_button.setAccessibleName(self.tr("Reset password"))
        self.reset_password_button.clicked.connect(self._on_reset_password_clicked)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reset_password_button)
        buttons.addWidget(self.toggle_active_button)
        layout.addLayout(buttons)
        layout.addStretch(1)
        return page

    # -- showing -----------------------------------------------------------------------
    def set_user(self, user: UserRead | None) -> None:
        self.user = user
        self.problem.clear()
        self.conflict_banner.hide()
        if user is None:
            self.pages.setCurrentIndex(0)
            return
        self.pages.setCurrentIndex(1)
        self.heading.setText(user.full_name)
        active = user.active
        state = (
            self.tr("account active") if active else self.tr("account disabled — cannot sign in")
        )
        self.status_label.setText(f"{user.username} · {state}")
        self.full_name_edit.setText(user.full_name)
        self.role_picker.set_roles(list(user.roles))
        self.totp_label.setText(self.tr("Set up") if user.totp_enabled else self.tr("Not set up"))
        self.created_label.setText(local_time_text(user.created_at))
        self.toggle_active_button.setText(
            self.tr("Disable account") if active else self.tr("Enable account")
        )
        self._update_buttons()

    def _changes(self) -> dict:
        if self.user is None:
            return {}
        changes: dict = {}
        full_name = self.full_name_edit.text().strip()
        if full_name != self.user.full_name:
            changes["full_name"] = full_name
        roles = self.role_picker.roles()
        if sorted(roles) != sorted(self.user.roles):
            changes["roles"] = roles
        return changes

    def _update_buttons(self) -> None:
        problem = full_name_problem(self.full_name_edit.text()) or roles_problem(
            self.role_picker.roles()
        )
        self.validation_label.setText(problem or "")
        self.validation_label.setVisible(bool(problem))
        has_user = self.user is not None
        self.save_button.setEnabled(
            has_user and not self._busy and not problem and bool(self._changes())
        )
        self.toggle_active_button.setEnabled(has_user and not self._busy)
        self.reset_password_button.setEnabled(has_user and not self._busy)

    # -- actions -----------------------------------------------------------------------
    def _run(self, fn, on_done=None) -> None:
        self._busy = True
        self.problem.clear()
        self._update_buttons()
        self._tasks.run(fn, on_done=on_done or self._on_user_returned, on_error=self._on_failed)

    def save(self) -> None:
        changes = self._changes()
        if self.user is None or not changes or self._busy:
            return
        api, user_id, version = self._api, self.user.id, self.user.version
        self._run(lambda: api.update_user(user_id, version=version, **changes))

    def reload(self) -> None:
        if self.user is None:
            return
        api, user_id = self._api, self.user.id
        self._run(lambda: api.get_user(user_id))

    def _on_toggle_active_clicked(self) -> None:
        if self.user is None:
            return
        api, user_id = self._api, self.user.id
        if self.user.active:
            answer = QMessageBox.question(
                self,
                self.tr("Disable account"),
                self.tr(
                    "Disable {username}? They are signed out everywhere and cannot sign "
                    "in until enabled again."
                ).format(username=self.user.username),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            self._run(lambda: api.disable_user(user_id))
        else:
            self._run(lambda: api.enable_user(user_id))

    def _on_reset_password_clicked(self) -> None:
        if self.user is None:
            return
        self.reset_dialog = ResetPasswordDialog(self._context, self._api, self.user, self)
        self.reset_dialog.sig_password_reset.connect(
            lambda: self._context.show_status(self.tr("Password reset; their sessions ended."))
        )
        self.reset_dialog.open()

    def _on_user_returned(self, user: UserRead) -> None:
        self._busy = False
        self.set_user(user)
        self.sig_user_changed.emit(user)

    def _on_failed(self, exc: BaseException) -> None:
        self._busy = False
        self._update_buttons()
        if isinstance(exc, ApiProblem) and exc.code == "version_conflict":
            self.conflict_banner.show()
            return
        self.problem.show_error(exc)
