"""The sign-in dialog: server address, username, password, TOTP when asked, remember me."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hms_desktop.api.errors import ApiProblem, ServerUnavailableError
from hms_desktop.api.session_store import SessionStore
from hms_desktop.qt import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRegularExpressionValidator,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.settings import DesktopSettings
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.problems import ProblemLabel, format_wait

if TYPE_CHECKING:
    from hms_contract.auth import MeRead
    from hms_desktop.api.client import ApiClient

ApiFactory = Callable[[str], "ApiClient"]
StoreFactory = Callable[[str], SessionStore]


def _preload() -> None:
    """Import the HTTP stack while the user types, so "Sign in" answers at once."""
    import hms_desktop.api.client  # noqa: F401


class LoginDialog(QDialog):
    """Signs a user in and leaves ``api`` (with tokens) and ``me`` (``GET /me``) behind.

    Network work runs on ``tasks``; the dialog only reacts to results. Errors are shown
    inline as the server's ``detail`` with the stable ``code`` in small print. The server
    address and last username are remembered in ``settings``; the refresh token goes to
    the keyring only when "Remember me" is ticked and a keyring backend exists.
    """

    sig_signed_in = Signal(object)

    def __init__(
        self,
        tasks: TaskRunner,
        api_factory: ApiFactory,
        settings: DesktopSettings,
        *,
        store_factory: StoreFactory = SessionStore,
        server: str | None = None,
        message: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self._api_factory = api_factory
        self._store_factory = store_factory
        self.settings = settings
        self.api: ApiClient | None = None
        self.me: MeRead | None = None
        self.remembered = False
        self._busy = False
        self._wait_left = 0
        self._wait_timer = QTimer(self)
        self._wait_timer.setInterval(1000)
        self._wait_timer.timeout.connect(self._on_wait_tick)

        self.setWindowTitle(self.tr("Sign in — HMS"))
        self.setMinimumWidth(460)
        self._build(message)
        self.server_edit.setText(server or settings.server_address)
        self.username_edit.setText(settings.last_username)
        if self.server_edit.text() and self.username_edit.text():
            self.password_edit.setFocus()
        elif self.server_edit.text():
            self.username_edit.setFocus()
        # After the first paint, so the import does not compete with showing the window.
        QTimer.singleShot(250, self, lambda: self.tasks.run(_preload, quiet=True))

    # -- layout ------------------------------------------------------------------------
    def _build(self, message: str) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 24, 28, 20)
        outer.setSpacing(10)
        title = QLabel(self.tr("HMS"), self)
        title.setProperty("role", "title")
        subtitle = QLabel(self.tr("Hospital Management System — sign in to continue"), self)
        subtitle.setProperty("role", "subtitle")
        outer.addWidget(title)
        outer.addWidget(subtitle)
        outer.addSpacing(6)

        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.server_edit = QLineEdit(self)
        self.server_edit.setPlaceholderText(self.tr("e.g. https://hms.hospital.lan:8443"))
        self.server_edit.setAccessibleName(self.tr("Server address"))
        self.username_edit = QLineEdit(self)
        self.username_edit.setAccessibleName(self.tr("Username"))
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName(self.tr("Password"))
        self.totp_edit = QLineEdit(self)
        self.totp_edit.setAccessibleName(self.tr("Authenticator code"))
        self.totp_edit.setPlaceholderText(self.tr("6-digit code"))
        self.totp_edit.setMaxLength(8)
        self.totp_edit.setValidator(QRegularExpressionValidator(r"[0-9 ]{0,8}", self.totp_edit))
        self.totp_edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
        self.form.addRow(self.tr("&Server:"), self.server_edit)
        self.form.addRow(self.tr("&Username:"), self.username_edit)
        self.form.addRow(self.tr("&Password:"), self.password_edit)
        self.form.addRow(self.tr("&Code:"), self.totp_edit)
        self._totp_row = 3
        self.form.setRowVisible(self._totp_row, False)
        outer.addLayout(self.form)

        self.remember_check = QCheckBox(self.tr("&Remember me on this computer"), self)
        self.remember_check.setAccessibleName(self.tr("Remember me"))
        self.remember_check.setToolTip(
            self.tr(
                "Keeps you signed in between runs. Only a session token is stored, "
                "in the system keyring; never your password."
            )
        )
        self.remember_check.toggled.connect(self._on_remember_toggled)
        self.keyring_notice = QLabel(self)
        self.keyring_notice.setProperty("role", "notice")
        self.keyring_notice.setWordWrap(True)
        self.keyring_notice.setAccessibleName(self.tr("Keyring notice"))
        self.keyring_notice.hide()
        outer.addWidget(self.remember_check)
        outer.addWidget(self.keyring_notice)

        self.status_label = QLabel(self)
        self.status_label.setProperty("role", "subtitle")
        self.status_label.setAccessibleName(self.tr("Sign-in status"))
        self.status_label.setVisible(bool(message))
        self.status_label.setText(message)
        self.status_label.setWordWrap(True)
        self.problem = ProblemLabel(self)
        outer.addWidget(self.status_label)
        outer.addWidget(self.problem)
        outer.addStretch(1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(self.tr("Quit"), self)
        self.cancel_button.setAccessibleName(self.tr("Quit"))
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.sign_in_button = QPushButton(self.tr("Sign in"), self)
        self.sign_in_button.setAccessibleName(self.tr("Sign in"))
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setToolTip(self.tr("Sign in (Enter)"))
        self.sign_in_button.clicked.connect(self.submit)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.sign_in_button)
        outer.addLayout(buttons)

    @property
    def totp_visible(self) -> bool:
        return self.form.isRowVisible(self._totp_row)

    # -- helpers -----------------------------------------------------------------------
    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        for widget in (
            self.server_edit,
            self.username_edit,
            self.password_edit,
            self.totp_edit,
            self.remember_check,
        ):
            widget.setEnabled(not busy)
        self.sign_in_button.setEnabled(not busy and self._wait_left == 0)
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

    def _api_for(self, address: str) -> ApiClient:
        from hms_desktop.api.client import normalize_server_url

        url = normalize_server_url(address)
        if self.api is None or self.api.server != url:
            if self.api is not None:
                self.api.close()
            self.api = self._api_factory(url)
        return self.api

    # -- remember me -------------------------------------------------------------------
    def _on_remember_toggled(self, checked: bool) -> None:
        if not checked:
            self.keyring_notice.hide()
            return
        address = self.server_edit.text().strip() or "local"
        store_factory = self._store_factory
        self.tasks.run(
            lambda: store_factory(address).is_available(),
            on_done=self._on_keyring_checked,
            quiet=True,
        )

    def _on_keyring_checked(self, available: bool) -> None:
        if available or not self.remember_check.isChecked():
            self.keyring_notice.hide()
            return
        self.keyring_notice.setText(
            self.tr(
                "No system keyring is available on this computer, so your session "
                "will be kept in memory only and you will sign in again next time."
            )
        )
        self.keyring_notice.show()

    # -- sign in -----------------------------------------------------------------------
    def submit(self) -> None:
        """Validate the form inline, then sign in on a worker thread."""
        if self._busy or self._wait_left:
            return
        self.problem.clear()
        address = self.server_edit.text().strip()
        username = self.username_edit.text().strip()
        password = self.password_edit.text()
        totp = self.totp_edit.text().replace(" ", "")
        missing = None
        if not address:
            missing, field = self.tr("Enter the server address."), self.server_edit
        elif not username:
            missing, field = self.tr("Enter your username."), self.username_edit
        elif not password:
            missing, field = self.tr("Enter your password."), self.password_edit
        elif self.totp_visible and len(totp) < 6:
            missing, field = (
                self.tr("Enter the 6-digit code from your authenticator app."),
                self.totp_edit,
            )
        if missing:
            self.problem.show_text(missing)
            field.setFocus()
            return
        try:
            api = self._api_for(address)
        except ValueError:
            self.problem.show_text(
                self.tr("That is not a server address. Example: https://hms.hospital.lan:8443")
            )
            self.server_edit.setFocus()
            return
        remember = self.remember_check.isChecked()
        store = self._store_factory(api.server)

        def sign_in() -> tuple[MeRead, bool]:
            api.login(username, password, totp or None)
            me = api.me()
            remembered = False
            if remember:
                remembered = store.save(username, api.refresh_token)
                if remembered:
                    api.on_refresh_token_changed = lambda token: store.save(username, token)
            else:
                store.clear(username)
            return me, remembered

        self._set_busy(True, self.tr("Signing in…"))
        self.tasks.run(sign_in, on_done=self._on_signed_in, on_error=self._on_sign_in_failed)

    def start_resume(self) -> None:
        """Try the remembered session for the last server and user, if there is one."""
        address, username = self.settings.server_address, self.settings.last_username
        if not address or not username:
            return
        try:
            api = self._api_for(address)
        except ValueError:
            return
        store = self._store_factory(api.server)

        def resume() -> tuple[MeRead, bool] | None:
            token = store.load(username)
            if not token:
                return None
            api.on_refresh_token_changed = lambda new: store.save(username, new)
            try:
                return api.resume(token), True
            except ApiProblem:
                api.on_refresh_token_changed = None
                store.clear(username)
                raise

        self._set_busy(True, self.tr("Restoring your saved session…"))
        self.tasks.run(resume, on_done=self._on_resumed, on_error=self._on_resume_failed)

    def _on_resumed(self, result: tuple[MeRead, bool] | None) -> None:
        self._set_busy(False)
        if result is None:
            return
        self.remember_check.setChecked(True)
        self._on_signed_in(result)

    def _on_resume_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, ServerUnavailableError):
            self.problem.show_error(exc)
        else:
            self.status_label.setText(self.tr("Your saved session has ended. Please sign in."))
            self.status_label.show()
        self.password_edit.setFocus()

    def _on_signed_in(self, result: tuple[MeRead, bool]) -> None:
        me, remembered = result
        self._set_busy(False)
        self.me = me
        self.remembered = remembered
        if self.api is not None:
            # Remember the address as the user would type it again.
            self.settings.server_address = self.api.server
        self.settings.last_username = self.username_edit.text().strip() or me.username
        self.password_edit.clear()
        self.totp_edit.clear()
        self.sig_signed_in.emit(me)
        self.accept()

    def _on_sign_in_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, ApiProblem) and exc.code in ("totp_required", "invalid_totp"):
            first_time = not self.totp_visible
            self.form.setRowVisible(self._totp_row, True)
            if first_time and exc.code == "totp_required":
                self.problem.show_text(
                    self.tr("Enter the 6-digit code from your authenticator app."), exc.code
                )
            else:
                self.problem.show_error(exc)
            self.totp_edit.clear()
            self.totp_edit.setFocus()
            return
        self.problem.show_error(exc)
        if isinstance(exc, ApiProblem):
            if exc.retry_after and exc.status in (423, 429):
                self._start_wait(exc.retry_after)
            if exc.code == "invalid_credentials":
                self.password_edit.selectAll()
                self.password_edit.setFocus()
        elif isinstance(exc, ServerUnavailableError):
            self.server_edit.setFocus()

    # -- Retry-After countdown ---------------------------------------------------------
    def _start_wait(self, seconds: int) -> None:
        self._wait_left = seconds
        self._on_wait_tick(initial=True)
        self._wait_timer.start()

    def _on_wait_tick(self, initial: bool = False) -> None:
        if not initial:
            self._wait_left = max(0, self._wait_left - 1)
        if self._wait_left == 0:
            self._wait_timer.stop()
            self.sign_in_button.setText(self.tr("Sign in"))
            self.sign_in_button.setEnabled(not self._busy)
            return
        self.sign_in_button.setEnabled(False)
        self.sign_in_button.setText(
            self.tr("Sign in (wait {wait})").format(wait=format_wait(self._wait_left))
        )

    def wait_seconds_left(self) -> int:
        return self._wait_left
