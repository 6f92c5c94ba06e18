"""The one main window: navigation rail of workspaces, status bar, lock, sign out."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from hms_desktop.api.errors import ApiProblem, ServerUnavailableError
from hms_desktop.connection import ConnectionMonitor, ConnectionState
from hms_desktop.idle_lock import IdleWatcher, LockOverlay
from hms_desktop.qt import (
    QAction,
    QApplication,
    QFrame,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSize,
    QStackedWidget,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.roles import roles_text
from hms_desktop.settings import DesktopSettings
from hms_desktop.tasks import TaskRunner
from hms_desktop.theme import STATUS_COLOURS
from hms_desktop.widgets.problems import ProblemLabel, describe_error
from hms_desktop.workspaces import (
    WorkspaceContext,
    WorkspaceInfo,
    create_workspace,
    workspaces_for,
)

if TYPE_CHECKING:
    from hms_contract.auth import MeRead
    from hms_desktop.api.client import ApiClient

BUSY_INDICATOR_DELAY_MS = 200
#: Error codes that only describe the lost connection (cleared when it is back).
STALE_WHEN_CONNECTED = frozenset({"server_unavailable", "service_unavailable"})


class MainWindow(QMainWindow):
    """Shows the workspaces ``GET /me`` allows, in the fixed rail order.

    Workspaces are built on first visit. Owns the idle lock, the connection monitor and
    the busy indicator. Emits ``sig_signed_out(message)`` after sign out (or when the
    session ends on the server); the application then shows the sign-in dialog again.
    """

    sig_signed_out = Signal(str)

    def __init__(
        self,
        api: ApiClient,
        me: MeRead,
        tasks: TaskRunner,
        *,
        session_store=None,
        settings: DesktopSettings | None = None,
        idle_lock_ms: int = 10 * 60_000,
        health_interval_ms: int = 5000,
        health_retry_ms: int = 2000,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.api = api
        self.me = me
        self.tasks = tasks
        self._session_store = session_store
        self._signing_out = False
        self.setWindowTitle(self.tr("HMS — Hospital Management System"))
        self.resize(1200, 760)

        self.infos: list[WorkspaceInfo] = workspaces_for(me.workspaces)
        self._pages: dict[str, QWidget] = {}
        self._context = WorkspaceContext(
            api=api, tasks=tasks, me=me, show_status=self._show_status, settings=settings
        )

        self._build_central()
        self._build_status_bar()
        self._build_actions()

        self.lock_overlay = LockOverlay(api, tasks, me.full_name or me.username, self._content)
        self.lock_overlay.sig_unlocked.connect(self._on_lock_overlay_unlocked)
        self.lock_overlay.sig_sign_out_requested.connect(self.sign_out)
        self.lock_overlay.sig_session_ended.connect(self._end_session)
        self.idle_watcher = IdleWatcher(idle_lock_ms, self)
        self.idle_watcher.sig_idle.connect(self.lock)

        self.connection = ConnectionMonitor(
            api,
            tasks,
            interval_ms=health_interval_ms,
            retry_interval_ms=health_retry_ms,
            parent=self,
        )
        self.connection.sig_state_changed.connect(self._on_connection_state_changed)
        self.connection.start()

        tasks.sig_busy_changed.connect(self._on_tasks_busy_changed)
        tasks.sig_task_failed.connect(self._on_tasks_task_failed)
        tasks.sig_task_succeeded.connect(self.connection.report_reachable)

        if self.infos:
            self.rail.setCurrentRow(0)
        else:
            self.stack.addWidget(
                QLabel(
                    self.tr(
                        "Your account has no workspaces yet. Ask an administrator to assign a role."
                    ),
                    self.stack,
                )
            )
        # Counted from here: building the first workspace (above) is not the user's idle
        # time, and on a slow workstation it could otherwise use up a short lock time.
        self.idle_watcher.start()

    # -- layout ------------------------------------------------------------------------
    def _build_central(self) -> None:
        self._content = QWidget(self)
        layout = QHBoxLayout(self._content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.rail = QListWidget(self._content)
        self.rail.setObjectName("navRail")
        self.rail.setAccessibleName(self.tr("Workspaces"))
        self.rail.setFixedWidth(176)
        self.rail.setIconSize(QSize(0, 0))
        self.rail.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for number, info in enumerate(self.infos, start=1):
            item = QListWidgetItem(info.display_title(), self.rail)
            item.setData(Qt.ItemDataRole.UserRole, info.key)
            if number <= 9:
                item.setToolTip(
                    self.tr("{name} (Ctrl+{n})").format(name=info.display_title(), n=number)
                )
        self.rail.currentRowChanged.connect(self._on_rail_current_row_changed)
        self.stack = QStackedWidget(self._content)
        layout.addWidget(self.rail)
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        right.addWidget(self._build_offline_banner())
        right.addWidget(self.stack, 1)
        layout.addLayout(right, 1)
        self.setCentralWidget(self._content)

    def _build_offline_banner(self) -> QFrame:
        """A clear strip across the top while the server cannot be reached (or its database
        is down): what is happening, what does not work meanwhile, and that typing is safe."""
        self.offline_banner = QFrame(self._content)
        self.offline_banner.setObjectName("offlineBanner")
        self.offline_banner.setStyleSheet(
            "QFrame#offlineBanner { background: #fdecea; border-bottom: 2px solid #c62828; }"
            " QFrame#offlineBanner QLabel { color: #7f1d1d; }"
        )
        self.offline_banner.setAccessibleName(self.tr("Connection problem"))
        row = QHBoxLayout(self.offline_banner)
        row.setContentsMargins(16, 8, 16, 8)
        self.offline_label = QLabel(self.offline_banner)
        self.offline_label.setWordWrap(True)
        self.offline_label.setAccessibleName(self.tr("Connection problem"))
        self.retry_now_button = QPushButton(self.tr("Try again now"), self.offline_banner)
        self.retry_now_button.setAccessibleName(self.tr("Try to reach the server again now"))
        self.retry_now_button.setToolTip(
            self.tr("Check the connection now instead of waiting for the next attempt")
        )
        self.retry_now_button.clicked.connect(lambda: self.connection.check_now())
        row.addWidget(self.offline_label, 1)
        row.addWidget(self.retry_now_button)
        self.offline_banner.hide()
        return self.offline_banner

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.busy_bar = QProgressBar(bar)
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setAccessibleName(self.tr("Working"))
        self.busy_bar.hide()
        self._busy_delay = QTimer(self)
        self._busy_delay.setSingleShot(True)
        self._busy_delay.timeout.connect(self.busy_bar.show)
        bar.addWidget(self.busy_bar)

        name = self.me.full_name or self.me.username
        self.user_label = QLabel(f"{name} · {roles_text(self.me.roles)}", bar)
        self.user_label.setAccessibleName(self.tr("Signed-in user"))
        self.server_label = QLabel(self.api.server, bar)
        self.server_label.setAccessibleName(self.tr("Server address"))
        self.connection_label = QLabel(bar)
        self.connection_label.setAccessibleName(self.tr("Connection state"))
        for label in (self.user_label, self.server_label, self.connection_label):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)
        self._on_connection_state_changed(ConnectionState.CONNECTED)

    def _build_actions(self) -> None:
        session_menu = self.menuBar().addMenu(self.tr("&Session"))
        self.lock_action = QAction(self.tr("&Lock screen"), self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.setToolTip(self.tr("Lock the screen now (Ctrl+L)"))
        self.lock_action.triggered.connect(self.lock)
        self.sign_out_action = QAction(self.tr("Sign &out"), self)
        self.sign_out_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.sign_out_action.setToolTip(self.tr("Sign out (Ctrl+Shift+L)"))
        self.sign_out_action.triggered.connect(self.sign_out)
        self.quit_action = QAction(self.tr("&Quit"), self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setToolTip(self.tr("Quit HMS (Ctrl+Q)"))
        self.quit_action.triggered.connect(QApplication.quit)
        for action in (self.lock_action, self.sign_out_action, self.quit_action):
            session_menu.addAction(action)
            # Shortcuts of actions only in a (hidden) menu would not fire: add them here too.
            self.addAction(action)

        go_menu = self.menuBar().addMenu(self.tr("&Go"))
        self.workspace_actions: list[QAction] = []
        for number, info in enumerate(self.infos, start=1):
            action = QAction(info.display_title(), self)
            if number <= 9:
                action.setShortcut(QKeySequence(f"Ctrl+{number}"))
                action.setToolTip(
                    self.tr("{name} (Ctrl+{n})").format(name=info.display_title(), n=number)
                )
            action.triggered.connect(
                lambda _checked=False, row=number - 1: self.rail.setCurrentRow(row)
            )
            go_menu.addAction(action)
            self.addAction(action)
            self.workspace_actions.append(action)

    # -- workspaces --------------------------------------------------------------------
    def workspace_keys(self) -> list[str]:
        return [info.key for info in self.infos]

    @property
    def current_workspace_key(self) -> str | None:
        row = self.rail.currentRow()
        return self.infos[row].key if 0 <= row < len(self.infos) else None

    def select_workspace(self, key: str) -> QWidget:
        """Switch to workspace ``key`` (building it on first visit) and return its widget."""
        self.rail.setCurrentRow(self.workspace_keys().index(key))
        return self._pages[key]

    def workspace_widget(self, key: str) -> QWidget | None:
        return self._pages.get(key)

    def _on_rail_current_row_changed(self, row: int) -> None:
        if not 0 <= row < len(self.infos):
            return
        info = self.infos[row]
        page = self._pages.get(info.key)
        if page is None:
            page = create_workspace(info, self._context)
            page.setAccessibleName(info.display_title())
            self._pages[info.key] = page
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        self.setWindowTitle(self.tr("{workspace} — HMS").format(workspace=info.display_title()))

    # -- status ------------------------------------------------------------------------
    def _show_status(self, text: str, timeout_ms: int = 5000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def _on_tasks_busy_changed(self, busy: bool) -> None:
        if busy:
            self._busy_delay.start(BUSY_INDICATOR_DELAY_MS)
        else:
            self._busy_delay.stop()
            self.busy_bar.hide()

    def _on_tasks_task_failed(self, exc: BaseException, handled: bool) -> None:
        if isinstance(exc, ServerUnavailableError):
            self.connection.report_unreachable()
        if (
            isinstance(exc, ApiProblem)
            and exc.status == 401
            and exc.code == "not_authenticated"
            and not self._signing_out
        ):
            self._end_session(self.tr("Your session has ended. Please sign in again."))
            return
        if not handled:
            text, code = describe_error(exc)
            self._show_status(f"{text} [{code}]", 10_000)

    def connection_text(self) -> str:
        return {
            ConnectionState.CONNECTED: self.tr("Connected"),
            ConnectionState.RECONNECTING: self.tr("Reconnecting…"),
            ConnectionState.DEGRADED: self.tr("Server degraded (database unavailable)"),
        }[self.connection.state if hasattr(self, "connection") else ConnectionState.CONNECTED]

    def _on_connection_state_changed(self, state: ConnectionState) -> None:
        self._show_offline_banner(state)
        colour = {
            ConnectionState.CONNECTED: STATUS_COLOURS["ok"],
            ConnectionState.RECONNECTING: STATUS_COLOURS["waiting"],
            ConnectionState.DEGRADED: STATUS_COLOURS["critical"],
        }[state]
        text = self.connection_text()
        self.connection_label.setText(f"<span style='color:{colour}'>●</span> {html.escape(text)}")
        self.connection_label.setToolTip(
            self.tr("Connection to {server}: {state}").format(server=self.api.server, state=text)
        )

    def _show_offline_banner(self, state: ConnectionState) -> None:
        if not hasattr(self, "offline_banner"):
            return
        if state is ConnectionState.CONNECTED:
            was_offline = self.offline_banner.isVisible()
            self.offline_banner.hide()
            if was_offline:
                self._clear_stale_errors()
            return
        if state is ConnectionState.RECONNECTING:
            text = self.tr(
                "<b>The server cannot be reached.</b> Reconnecting… Until it is back, "
                "searching, saving, booking and printing do not work. What you have typed "
                "stays where it is: send it again once the connection returns."
            )
        else:
            text = self.tr(
                "<b>The server is up but its database is not.</b> Nothing can be loaded or "
                "saved until it recovers. What you have typed stays where it is."
            )
        self.offline_label.setText(text)
        self.offline_banner.show()

    def _clear_stale_errors(self) -> None:
        """Back online: the "cannot reach the server" messages no longer hold."""
        self.statusBar().clearMessage()
        for label in self.findChildren(ProblemLabel):
            if label.code.text() in STALE_WHEN_CONNECTED:
                label.clear()
        self._show_status(self.tr("Connected again."))

    # -- lock and session --------------------------------------------------------------
    @property
    def locked(self) -> bool:
        return self.lock_overlay.locked

    def lock(self) -> None:
        """Hide the content behind the lock overlay until the password is confirmed."""
        if self.locked or self._signing_out:
            return
        self.idle_watcher.stop()
        for action in [*self.workspace_actions, self.lock_action]:
            action.setEnabled(False)
        self.lock_overlay.lock()

    def _on_lock_overlay_unlocked(self) -> None:
        for action in [*self.workspace_actions, self.lock_action]:
            action.setEnabled(True)
        self.idle_watcher.start()

    def sign_out(self) -> None:
        """End the session on the server, forget the tokens and the remembered one."""
        self._end_session("")

    def _end_session(self, message: str) -> None:
        if self._signing_out:
            return
        self._signing_out = True
        self.idle_watcher.uninstall()
        self.connection.stop()
        api, store = self.api, self._session_store
        username = self.me.username

        def sign_out() -> None:
            try:
                api.logout()
            finally:
                if store is not None:
                    store.clear(username)

        def finished(_result: object = None) -> None:
            self.sig_signed_out.emit(message)

        self.tasks.run(sign_out, on_done=finished, on_error=finished, quiet=True, owner=self)

    def shutdown(self) -> None:
        """Stop timers and the activity filter (window closing or test teardown)."""
        self.idle_watcher.uninstall()
        self.connection.stop()
        self._context.close()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
