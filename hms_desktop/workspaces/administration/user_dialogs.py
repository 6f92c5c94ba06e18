"""Short, focused dialogs: create a user, reset a password."""

from __future__ import annotations

from hms_contract.auth import UserRead
from hms_contract.users import UserCreated
from hms_desktop.api.errors import ApiProblem
from hms_desktop.api.users import UsersApi
from hms_desktop.qt import (
    QApplication,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.administration.role_picker import RolePicker
from hms_desktop.workspaces.administration.validation import (
    full_name_problem,
    password_problem,
    roles_problem,
    username_problem,
)


def _field_error_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setProperty("role", "error")
    label.setWordWrap(True)
    label.setAccessibleName(name)
    label.hide()
    return label


def _set_error(label: QLabel, text: str | None) -> None:
    label.setText(text or "")
    label.setVisible(bool(text))


class CreateUserDialog(QDialog):
    """Creates a user. Validates inline before sending; shows a TOTP setup link once.

    Emits ``sig_user_created(user)`` as soon as the server has created the user.
    """

    sig_user_created = Signal(object)

    def __init__(
        self, context: WorkspaceContext, users: UsersApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._api = users
        self._tasks = context.tasks
        self._busy = False
        self._touched: set[str] = set()
        self.created_user: UserCreated | None = None
        self.setWindowTitle(self.tr("New user"))
        self.setMinimumWidth(480)

        self.pages = QStackedWidget(self)
        outer = QVBoxLayout(self)
        outer.addWidget(self.pages)
        self.pages.addWidget(self._build_form_page())
        self.pages.addWidget(self._build_done_page())
        self._validate()

    # -- pages -------------------------------------------------------------------------
    def _build_form_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        form = QFormLayout()
        self.username_edit = QLineEdit(page)
        self.username_edit.setAccessibleName(self.tr("Username"))
        self.username_edit.setMaxLength(64)
        self.username_error = _field_error_label(page, self.tr("Username problem"))
        self.full_name_edit = QLineEdit(page)
        self.full_name_edit.setAccessibleName(self.tr("Full name"))
        self.full_name_edit.setMaxLength(200)
        self.full_name_error = _field_error_label(page, self.tr("Full name problem"))
        self.role_picker = RolePicker(page)
        self.role_picker.setAccessibleName(self.tr("Roles"))
        self.roles_error = _field_error_label(page, self.tr("Roles problem"))
        self.password_edit = QLineEdit(page)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName(self.tr("Initial password"))
        self.password_edit.setToolTip(self.tr("8 to 128 characters. The user should change it."))
        self.password_error = _field_error_label(page, self.tr("Password problem"))

        form.addRow(self.tr("&Username:"), self.username_edit)
        form.addRow("", self.username_error)
        form.addRow(self.tr("&Full name:"), self.full_name_edit)
        form.addRow("", self.full_name_error)
        form.addRow(self.tr("Roles:"), self.role_picker)
        form.addRow("", self.roles_error)
        form.addRow(self.tr("&Password:"), self.password_edit)
        form.addRow("", self.password_error)
        layout.addLayout(form)
        self.problem = ProblemLabel(page)
        layout.addWidget(self.problem)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(self.tr("Cancel"), page)
        self.cancel_button.setAccessibleName(self.tr("Cancel"))
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.create_button = QPushButton(self.tr("Create user"), page)
        self.create_button.setAccessibleName(self.tr("Create user"))
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.submit)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.create_button)
        layout.addLayout(buttons)

        for name, edit in (
            ("username", self.username_edit),
            ("full_name", self.full_name_edit),
            ("password", self.password_edit),
        ):
            edit.textEdited.connect(lambda _text, n=name: self._on_field_edited(n))
        self.role_picker.sig_changed.connect(lambda: self._on_field_edited("roles"))
        return page

    def _build_done_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        title = QLabel(self.tr("User created"), page)
        title.setProperty("role", "title")
        self.done_text = QLabel(page)
        self.done_text.setWordWrap(True)
        notice = QLabel(
            self.tr(
                "This account must use an authenticator app. Give the person this setup "
                "link (or add it to their app) in private. It is shown only once."
            ),
            page,
        )
        notice.setWordWrap(True)
        notice.setProperty("role", "notice")
        row = QHBoxLayout()
        self.totp_uri_edit = QLineEdit(page)
        self.totp_uri_edit.setReadOnly(True)
        self.totp_uri_edit.setAccessibleName(self.tr("Authenticator setup link"))
        self.copy_button = QPushButton(self.tr("Copy"), page)
        self.copy_button.setAccessibleName(self.tr("Copy setup link"))
        self.copy_button.clicked.connect(self._copy_uri)
        row.addWidget(self.totp_uri_edit, 1)
        row.addWidget(self.copy_button)
        self.done_button = QPushButton(self.tr("Done"), page)
        self.done_button.setAccessibleName(self.tr("Done"))
        self.done_button.clicked.connect(self._finish)
        layout.addWidget(title)
        layout.addWidget(self.done_text)
        layout.addWidget(notice)
        layout.addLayout(row)
        layout.addStretch(1)
        layout.addWidget(self.done_button)
        return page

    # -- validation --------------------------------------------------------------------
    def _problems(self) -> dict[str, str | None]:
        return {
            "username": username_problem(self.username_edit.text()),
            "full_name": full_name_problem(self.full_name_edit.text()),
            "roles": roles_problem(self.role_picker.roles()),
            "password": password_problem(self.password_edit.text()),
        }

    def _labels(self) -> dict[str, QLabel]:
        return {
            "username": self.username_error,
            "full_name": self.full_name_error,
            "roles": self.roles_error,
            "password": self.password_error,
        }

    def _on_field_edited(self, name: str) -> None:
        self._touched.add(name)
        self._validate()

    def _validate(self) -> bool:
        problems = self._problems()
        labels = self._labels()
        for name, problem in problems.items():
            _set_error(labels[name], problem if name in self._touched else None)
        valid = not any(problems.values())
        self.create_button.setEnabled(valid and not self._busy)
        return valid

    def submit(self) -> None:
        self._touched.update(self._labels())
        if self._busy or not self._validate():
            return
        self.problem.clear()
        api = self._api
        fields = {
            "username": self.username_edit.text().strip(),
            "full_name": self.full_name_edit.text().strip(),
            "roles": self.role_picker.roles(),
            "password": self.password_edit.text(),
        }
        self._busy = True
        self.create_button.setEnabled(False)
        self._tasks.run(
            lambda: api.create_user(**fields), on_done=self._on_created, on_error=self._on_failed
        )

    def _on_created(self, user: UserCreated) -> None:
        self._busy = False
        self.password_edit.clear()
        self.created_user = user
        self.sig_user_created.emit(user)
        uri = user.totp_provisioning_uri
        if not uri:
            self.accept()
            return
        self.done_text.setText(
            self.tr("{name} ({username}) can now sign in.").format(
                name=user.full_name, username=user.username
            )
        )
        self.totp_uri_edit.setText(uri)
        self.totp_uri_edit.setCursorPosition(0)
        self.pages.setCurrentIndex(1)
        self.done_button.setDefault(True)

    def _on_failed(self, exc: BaseException) -> None:
        self._busy = False
        self._validate()
        if isinstance(exc, ApiProblem):
            labels = self._labels()
            shown = False
            for name, message in exc.field_errors().items():
                if name in labels:
                    _set_error(labels[name], message)
                    shown = True
            if exc.code == "weak_password":
                _set_error(self.password_error, exc.detail)
                self.password_edit.setFocus()
                return
            if exc.code == "conflict":
                _set_error(self.username_error, exc.detail)
                self.username_edit.setFocus()
                return
            if shown:
                return
        self.problem.show_error(exc)

    def _copy_uri(self) -> None:
        QApplication.clipboard().setText(self.totp_uri_edit.text())
        self.copy_button.setText(self.tr("Copied"))

    def _finish(self) -> None:
        # The link is a secret: do not leave it on the clipboard or in the widget.
        clipboard = QApplication.clipboard()
        if clipboard.text() == self.totp_uri_edit.text():
            clipboard.clear()
        self.totp_uri_edit.clear()
        self.accept()


class ResetPasswordDialog(QDialog):
    """Sets a new password for another user (ends all their sessions)."""

    sig_password_reset = Signal()

    def __init__(
        self,
        context: WorkspaceContext,
        users: UsersApi,
        user: UserRead,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._api = users
        self._tasks = context.tasks
        self._user_id = user.id
        self._busy = False
        self.setWindowTitle(self.tr("Reset password"))
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "Set a new password for {name} ({username}). All of their sessions will end."
            ).format(name=user.full_name, username=user.username),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName(self.tr("New password"))
        self.password_error = _field_error_label(self, self.tr("Password problem"))
        form.addRow(self.tr("&New password:"), self.password_edit)
        form.addRow("", self.password_error)
        layout.addLayout(form)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton(self.tr("Cancel"), self)
        cancel.setAccessibleName(self.tr("Cancel"))
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        self.reset_button = QPushButton(self.tr("Reset password"), self)
        self.reset_button.setAccessibleName(self.tr("Reset password"))
        self.reset_button.setDefault(True)
        self.reset_button.setEnabled(False)
        self.reset_button.clicked.connect(self.submit)
        buttons.addWidget(cancel)
        buttons.addWidget(self.reset_button)
        layout.addLayout(buttons)
        self.password_edit.textEdited.connect(self._validate)

    def _validate(self) -> bool:
        problem = password_problem(self.password_edit.text())
        _set_error(self.password_error, problem)
        self.reset_button.setEnabled(problem is None and not self._busy)
        return problem is None

    def submit(self) -> None:
        if self._busy or not self._validate():
            return
        api, user_id, password = self._api, self._user_id, self.password_edit.text()
        self._busy = True
        self.reset_button.setEnabled(False)
        self._tasks.run(
            lambda: api.reset_password(user_id, password),
            on_done=self._on_done,
            on_error=self._on_failed,
        )

    def _on_done(self, _result: object) -> None:
        self._busy = False
        self.password_edit.clear()
        self.sig_password_reset.emit()
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self._busy = False
        self._validate()
        if isinstance(exc, ApiProblem) and exc.code in ("weak_password", "validation_error"):
            _set_error(self.password_error, exc.field_errors().get("new_password") or exc.detail)
            return
        self.problem.show_error(exc)
