"""The real LoginDialog, driven by keyboard and mouse against the fake server."""

import pytest

from hms_desktop.login import LoginDialog
from hms_desktop.qt import Qt
from tests.desktop.fake_server import ADMIN_TOTP, BASE_URL


@pytest.fixture
def dialog(qtbot, tasks, api_factory, desktop_settings):
    dlg = LoginDialog(tasks, api_factory, desktop_settings)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def fill(qtbot, dlg, username, password, server=BASE_URL):
    qtbot.keyClicks(dlg.server_edit, server)
    qtbot.keyClicks(dlg.username_edit, username)
    qtbot.keyClicks(dlg.password_edit, password)


def test_successful_sign_in_accepts_and_remembers_address_and_username(
    qtbot, dialog, desktop_settings
):
    fill(qtbot, dialog, "reception", "reception-pass")
    with qtbot.waitSignal(dialog.accepted, timeout=15000):
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert dialog.me.username == "reception"
    assert dialog.api.is_authenticated
    assert desktop_settings.server_address == BASE_URL
    assert desktop_settings.last_username == "reception"
    assert dialog.password_edit.text() == ""


def test_enter_in_the_password_field_submits(qtbot, dialog):
    fill(qtbot, dialog, "reception", "reception-pass")
    with qtbot.waitSignal(dialog.accepted, timeout=15000):
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)


def test_wrong_password_shows_the_problem_detail_and_code(qtbot, dialog):
    fill(qtbot, dialog, "reception", "wrong-password")
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=15000)
    assert dialog.problem.text() == "Wrong username or password."
    assert dialog.problem.code.text() == "invalid_credentials"
    assert "Traceback" not in dialog.problem.text()
    assert dialog.isVisible() and dialog.me is None
    assert dialog.sign_in_button.isEnabled()


def test_totp_field_appears_when_the_server_asks_for_it(qtbot, dialog):
    assert not dialog.totp_visible
    fill(qtbot, dialog, "admin", "admin-pass-123")
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.totp_visible, timeout=15000)
    assert dialog.totp_edit.isVisible()
    assert dialog.problem.code.text() == "totp_required"

    qtbot.keyClicks(dialog.totp_edit, ADMIN_TOTP)
    with qtbot.waitSignal(dialog.accepted, timeout=15000):
        qtbot.keyClick(dialog.totp_edit, Qt.Key.Key_Return)
    assert dialog.me.roles == ["admin"]


def test_wrong_totp_is_explained(qtbot, dialog):
    fill(qtbot, dialog, "admin", "admin-pass-123")
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.totp_visible, timeout=15000)
    qtbot.keyClicks(dialog.totp_edit, "000000")
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.problem.code.text() == "invalid_totp", timeout=15000)
    assert dialog.problem.text() == "That authenticator code is not valid."


def test_locked_account_shows_the_retry_after_wait(qtbot, dialog, fake_server):
    fake_server.lock_after_failures = 0
    fill(qtbot, dialog, "reception", "reception-pass")
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=15000)
    assert "Try again in 30 second" in dialog.problem.text()
    assert dialog.problem.code.text() == "account_locked"
    assert not dialog.sign_in_button.isEnabled()
    assert "30" in dialog.sign_in_button.text()


def test_missing_fields_are_reported_inline_without_a_request(qtbot, dialog, fake_server):
    qtbot.keyClicks(dialog.server_edit, BASE_URL)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert dialog.problem.text() == "Enter your username."
    assert fake_server.requests == []


def test_unreachable_server_is_explained(qtbot, dialog, fake_server):
    fake_server.down = True
    fill(qtbot, dialog, "reception", "reception-pass")
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=15000)
    assert dialog.problem.text().startswith(f"Cannot reach the server at {BASE_URL}")
    assert dialog.problem.code.text() == "server_unavailable"


def test_remember_me_without_keyring_says_memory_only(qtbot, dialog):
    qtbot.keyClicks(dialog.server_edit, BASE_URL)
    qtbot.mouseClick(dialog.remember_check, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.keyring_notice.isVisible(), timeout=15000)
    assert "memory only" in dialog.keyring_notice.text()
    qtbot.mouseClick(dialog.remember_check, Qt.MouseButton.LeftButton)
    assert not dialog.keyring_notice.isVisible()


def test_every_input_has_an_accessible_name(dialog):
    for widget in (
        dialog.server_edit,
        dialog.username_edit,
        dialog.password_edit,
        dialog.totp_edit,
        dialog.remember_check,
        dialog.sign_in_button,
        dialog.cancel_button,
    ):
        assert widget.accessibleName()
