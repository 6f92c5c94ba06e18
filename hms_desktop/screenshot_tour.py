"""Screenshot tour: sign in, grab the login dialog and every permitted workspace as PNGs.

Used for documentation and as a smoke test of a real server. Works headless
(``QT_QPA_PLATFORM=offscreen``). Nothing is persisted: settings live in memory and the
keyring is not touched.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from hms_desktop.api.session_store import SessionStore
from hms_desktop.app import create_application, default_api_factory
from hms_desktop.login import LoginDialog
from hms_desktop.qt import (
    QApplication,
    QEventLoop,
    QGuiApplication,
    QTimer,
    QWidget,
    qInstallMessageHandler,
)
from hms_desktop.settings import DesktopSettings
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.problems import describe_error

WINDOW_SIZE = (1280, 800)


class _NoKeyring(SessionStore):
    """The tour never reads or writes the keyring."""

    def is_available(self) -> bool:
        return False


def _quiet_offscreen_warnings() -> None:
    """The offscreen platform warns about window size hints on every dialog; not useful here."""

    def handler(_mode, _context, message: str) -> None:
        if "propagateSizeHints" not in message:
            sys.stderr.write(message + "\n")

    qInstallMessageHandler(handler)


def _pump(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _wait(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        _pump(20)
    return True


def _grab(widget: QWidget, path: Path) -> None:
    _pump(50)  # let layouts and pending paints settle
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}")


def run_screenshot_tour(
    server: str,
    username: str,
    password: str,
    out_dir: str | Path,
    *,
    totp: str | None = None,
    ca_file: str | None = None,
    api_factory: Callable[[str], object] | None = None,
    timeout_s: float = 30.0,
    log: Callable[[str], None] | None = None,
) -> int:
    """Run the tour; returns 0 on success, 2 when sign-in fails, 3 on a timeout."""

    def say(text: str) -> None:
        (log or (lambda t: print(t, file=sys.stderr)))(text)

    create_application()
    if QGuiApplication.platformName() == "offscreen":
        _quiet_offscreen_warnings()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tasks = TaskRunner()
    settings = DesktopSettings.in_memory(server_address=server, last_username=username)
    dialog = LoginDialog(
        tasks, api_factory or default_api_factory(ca_file), settings, store_factory=_NoKeyring
    )
    window = None
    try:
        dialog.password_edit.setText(password)
        if totp:
            dialog.form.setRowVisible(dialog._totp_row, True)
            dialog.totp_edit.setText(totp)
        dialog.show()
        dialog.password_edit.deselect()
        _grab(dialog, out / "login.png")
        say(f"saved {out / 'login.png'}")

        dialog.submit()
        finished = _wait(
            lambda: dialog.me is not None or (not dialog._busy and dialog.problem.isVisible()),
            timeout_s,
        )
        if not finished:
            say("Sign-in failed: no answer from the server in time.")
            return 3
        if dialog.me is None:
            say(f"Sign-in failed: {dialog.problem.text()} [{dialog.problem.code.text()}]")
            return 2

        from hms_desktop.main_window import MainWindow

        api = dialog.api
        window = MainWindow(
            api, dialog.me, tasks, idle_lock_ms=24 * 3600_000, health_interval_ms=60_000
        )
        window.resize(*WINDOW_SIZE)
        window.show()
        for key in window.workspace_keys():
            page = window.select_workspace(key)
            # A load may start another (the view asks for more rows): wait until quiet twice.
            idle = _wait(lambda: not tasks.busy, timeout_s)
            _pump(100)
            idle = idle and _wait(lambda: not tasks.busy, timeout_s)
            # A workspace may stage a representative view (e.g. open the first chart).
            if idle and hasattr(page, "prepare_screenshot"):
                page.prepare_screenshot()
                _pump(100)
                idle = _wait(lambda: not tasks.busy, timeout_s)
                _pump(100)
                idle = idle and _wait(lambda: not tasks.busy, timeout_s)
            if not idle:
                say(f"Timed out waiting for the {key} workspace to load.")
                return 3
            path = out / f"{key}.png"
            _grab(window, path)
            say(f"saved {path}")
            # A workspace may offer more views (tabs, a dialog): one PNG each.
            for name, show in getattr(page, "screenshot_views", lambda: [])():
                shown = show()
                _pump(100)
                if not _wait(lambda: not tasks.busy, timeout_s):
                    say(f"Timed out waiting for the {key} {name} view to load.")
                    return 3
                _pump(150)
                path = out / f"{key}-{name}.png"
                target = shown if isinstance(shown, QWidget) else window
                _grab(target, path)
                say(f"saved {path}")
                if shown is not None and shown is not window and hasattr(shown, "reject"):
                    shown.reject()
        try:
            api.logout()
        except Exception as exc:
            say(f"Sign-out failed: {describe_error(exc)[0]}")
        return 0
    finally:
        if window is not None:
            window.shutdown()
            window.close()
            window.deleteLater()
        dialog.close()
        dialog.deleteLater()
        tasks.wait_for_done(5000)
        QApplication.processEvents()
