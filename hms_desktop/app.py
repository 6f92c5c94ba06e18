"""Application set-up and the sign-in → main window → sign-out cycle."""

from __future__ import annotations

from collections.abc import Callable

from hms_desktop.api.session_store import SessionStore
from hms_desktop.login import LoginDialog
from hms_desktop.qt import QApplication, QObject, QTimer
from hms_desktop.settings import DesktopSettings
from hms_desktop.tasks import TaskRunner
from hms_desktop.theme import apply_theme


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with names, Fusion style and palette (reuses an existing one)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or ["hms-desktop"])
    app.setOrganizationName("HMS")
    app.setApplicationName("hms-desktop")
    app.setApplicationDisplayName("HMS")
    apply_theme(app)
    return app


def default_api_factory(ca_file: str | None) -> Callable[[str], object]:
    def factory(url: str):
        from hms_desktop.api.client import ApiClient

        return ApiClient(url, ca_file=ca_file)

    return factory


class DesktopApp(QObject):
    """Drives the windows: sign-in dialog, then the main window, and back after sign-out.

    Owns the task runner and the API client of the current session. On quit the session
    ends on the server unless "Remember me" kept it; tokens only ever lived in memory
    (and, when remembered, the refresh token in the keyring).
    """

    def __init__(
        self,
        app: QApplication,
        *,
        server: str | None = None,
        ca_file: str | None = None,
        settings: DesktopSettings | None = None,
        api_factory: Callable[[str], object] | None = None,
        store_factory: Callable[[str], SessionStore] = SessionStore,
        idle_lock_ms: int | None = None,
        on_login_shown: Callable[[LoginDialog], None] | None = None,
    ) -> None:
        super().__init__(app)
        self.app = app
        self.tasks = TaskRunner(self)
        self.settings = settings or DesktopSettings()
        self._server = server
        self._api_factory = api_factory or default_api_factory(ca_file)
        self._store_factory = store_factory
        self._idle_lock_ms = idle_lock_ms
        self._on_login_shown = on_login_shown
        self.login_dialog: LoginDialog | None = None
        self.main_window = None
        self.api = None
        self.remembered = False

    def start(self) -> None:
        self._show_login()

    def _show_login(self, message: str = "") -> None:
        dialog = LoginDialog(
            self.tasks,
            self._api_factory,
            self.settings,
            store_factory=self._store_factory,
            server=self._server,
            message=message,
        )
        dialog.accepted.connect(self._on_login_accepted)
        dialog.rejected.connect(self._on_login_rejected)
        self.login_dialog = dialog
        dialog.show()
        if self._on_login_shown is not None:
            self._on_login_shown(dialog)
        resumable = not message and (
            not self._server or self._server.rstrip("/") == self.settings.server_address
        )
        if resumable:
            QTimer.singleShot(0, dialog.start_resume)

    def _on_login_rejected(self) -> None:
        if self.main_window is None:
            self.app.quit()

    def _on_login_accepted(self) -> None:
        from hms_desktop.main_window import MainWindow

        dialog = self.login_dialog
        assert dialog is not None and dialog.api is not None and dialog.me is not None
        self.api, self.remembered = dialog.api, dialog.remembered
        idle_ms = self._idle_lock_ms or int(self.settings.idle_lock_minutes() * 60_000)
        window = MainWindow(
            dialog.api,
            dialog.me,
            self.tasks,
            session_store=self._store_factory(dialog.api.server),
            settings=self.settings,
            idle_lock_ms=idle_ms,
        )
        window.sig_signed_out.connect(self._on_main_window_signed_out)
        self.main_window = window
        self.login_dialog = None
        dialog.deleteLater()
        window.show()

    def _on_main_window_signed_out(self, message: str) -> None:
        window = self.main_window
        self.main_window = None
        self.api = None
        self.remembered = False
        self._show_login(message)
        if window is not None:
            window.shutdown()
            window.close()
            window.deleteLater()

    def shutdown(self) -> None:
        """Called after the event loop ends: end an unremembered session, drop tokens."""
        api = self.api
        if api is not None:
            remembered = self.remembered
            if not remembered:
                self.tasks.run(api.logout, quiet=True)
            self.tasks.wait_for_done(3000)
            api.close()
        self.tasks.wait_for_done(3000)
