"""The whole cycle through DesktopApp: sign in → main window → sign out → sign in again."""

from hms_desktop.app import DesktopApp
from hms_desktop.qt import Qt
from tests.desktop.fake_server import BASE_URL


def test_sign_in_opens_the_main_window_and_sign_out_returns_to_login(
    qtbot, qapp, api_factory, desktop_settings, fake_server
):
    desktop = DesktopApp(
        qapp,
        server=BASE_URL,
        settings=desktop_settings,
        api_factory=api_factory,
        idle_lock_ms=3600_000,
    )
    desktop.start()
    dialog = desktop.login_dialog
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.username_edit, "reception")
    qtbot.keyClicks(dialog.password_edit, "reception-pass")
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desktop.main_window is not None, timeout=15000)
    window = desktop.main_window
    qtbot.waitExposed(window)
    assert window.workspace_keys() == ["reception", "my_work"]

    window.sign_out()
    qtbot.waitUntil(lambda: desktop.login_dialog is not None, timeout=15000)
    assert desktop.main_window is None
    assert desktop.login_dialog.username_edit.text() == "reception"
    assert desktop.login_dialog.password_edit.text() == ""
    assert len(fake_server.requests_to("POST", "/auth/logout")) == 1
    desktop.login_dialog.close()
    desktop.shutdown()
    desktop.deleteLater()
