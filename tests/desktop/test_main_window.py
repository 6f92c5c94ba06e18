"""The real MainWindow: rail from /me, status bar, idle lock, reconnecting, sign out."""

from hms_desktop.qt import QKeySequence, Qt
from hms_desktop.widgets.coming_soon import ComingSoonPanel
from hms_desktop.workspaces import WORKSPACES, WorkspaceInfo, create_workspace


def rail_texts(window):
    return [window.rail.item(i).text() for i in range(window.rail.count())]


def test_rail_lists_exactly_the_workspaces_from_me_in_fixed_order(make_main_window):
    window = make_main_window("manager")
    assert window.me.workspaces == ["staff", "reports", "my_work"]
    assert window.workspace_keys() == ["staff", "reports", "my_work"]
    assert rail_texts(window) == ["Staff", "Reports", "My work"]
    assert window.current_workspace_key == "staff"


def test_every_workspace_of_the_rail_is_built(make_main_window):
    # No role meets a "coming soon" panel: each of the nine workspaces is a real one.
    assert [info.key for info in WORKSPACES if not info.built] == []
    window = make_main_window("manager")
    for key in window.workspace_keys():
        page = window.select_workspace(key)
        assert not isinstance(page, ComingSoonPanel), key


def test_a_workspace_not_built_yet_shows_what_it_will_contain(qtbot):
    # The mechanism stays for the next workspace: planned items instead of an empty pane.
    info = WorkspaceInfo("theatre", "Theatre", ("Operating lists",))
    page = create_workspace(info, context=None)  # type: ignore[arg-type]
    qtbot.addWidget(page)
    assert isinstance(page, ComingSoonPanel)
    assert page.planned == ["Operating lists"]


def test_ctrl_number_switches_workspace_and_tooltips_show_it(qtbot, make_main_window):
    window = make_main_window("admin")
    assert window.workspace_keys() == ["reports", "administration", "my_work"]
    assert window.rail.item(1).toolTip() == "Administration (Ctrl+2)"
    assert window.workspace_actions[1].shortcut() == QKeySequence("Ctrl+2")
    window.workspace_actions[1].trigger()
    assert window.current_workspace_key == "administration"
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_workspace_key == "reports"


def test_status_bar_shows_user_server_and_connection(make_main_window):
    window = make_main_window("reception")
    assert window.user_label.text() == "Rita Reception · Receptionist"
    assert window.server_label.text() == "https://hms.test"
    assert "Connected" in window.connection_label.text()


def test_idle_lock_engages_and_the_password_resumes(qtbot, make_main_window):
    window = make_main_window("reception", idle_lock_ms=150)
    qtbot.waitUntil(lambda: window.locked, timeout=15000)
    overlay = window.lock_overlay
    assert overlay.geometry() == window.centralWidget().rect()
    assert not window.workspace_actions[0].isEnabled()

    qtbot.keyClicks(overlay.password_edit, "not-my-password")
    qtbot.mouseClick(overlay.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: overlay.problem.isVisible(), timeout=15000)
    assert overlay.problem.text() == "Wrong password."
    assert window.locked

    overlay.password_edit.clear()
    qtbot.keyClicks(overlay.password_edit, "reception-pass")
    with qtbot.waitSignal(overlay.sig_unlocked, timeout=15000):
        qtbot.keyClick(overlay.password_edit, Qt.Key.Key_Return)
    assert not window.locked
    assert window.workspace_actions[0].isEnabled()
    assert window.idle_watcher.is_active()


def test_too_many_wrong_passwords_at_the_idle_lock_return_to_sign_in(
    qtbot, make_main_window, fake_server
):
    """Issue 8: the server ends the session after five wrong passwords; the window goes back
    to sign-in with the server's reason instead of offering the lock again."""
    window = make_main_window("reception", idle_lock_ms=150)
    qtbot.waitUntil(lambda: window.locked, timeout=15000)
    overlay = window.lock_overlay
    for n in range(1, 5):
        overlay.password_edit.clear()
        qtbot.keyClicks(overlay.password_edit, "not-my-password")
        qtbot.keyClick(overlay.password_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(
            lambda n=n: (
                len(fake_server.requests_to("POST", "/auth/reauthenticate")) == n
                and overlay.unlock_button.isEnabled()
            ),
            timeout=15000,
        )
        assert overlay.problem.text() == "Wrong password."
    overlay.password_edit.clear()
    qtbot.keyClicks(overlay.password_edit, "not-my-password")
    with qtbot.waitSignal(window.sig_signed_out, timeout=15000) as blocker:
        qtbot.keyClick(overlay.password_edit, Qt.Key.Key_Return)
    assert blocker.args[0].startswith("Too many wrong passwords")


def test_user_activity_postpones_the_idle_lock(qtbot, make_main_window):
    # Keys that change nothing on screen: moving along the rail would build workspaces on
    # the GUI thread, and on a loaded machine one build alone can outlast a short lock time
    # (the input came before the build, so the window rightly counted the build as idle).
    window = make_main_window("manager", idle_lock_ms=1000)
    for _ in range(10):
        qtbot.wait(150)
        qtbot.keyClick(window.rail, Qt.Key.Key_Shift)
    assert not window.locked  # 1.5 s passed, but never 1 s without input
    qtbot.waitUntil(lambda: window.locked, timeout=15000)


def test_ctrl_l_locks_at_once(qtbot, make_main_window):
    window = make_main_window("reception")
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.locked


def test_reconnecting_appears_while_the_server_is_unreachable_and_clears(
    qtbot, make_main_window, fake_server
):
    window = make_main_window("reception", health_interval_ms=50, health_retry_ms=50)
    fake_server.down = True
    qtbot.waitUntil(lambda: "Reconnecting…" in window.connection_label.text(), timeout=15000)
    fake_server.down = False
    qtbot.waitUntil(lambda: "Connected" in window.connection_label.text(), timeout=15000)


def test_a_failed_call_switches_to_reconnecting_at_once(qtbot, make_main_window, fake_server):
    window = make_main_window("admin", health_interval_ms=3600_000)
    fake_server.down = True
    window.select_workspace("administration")
    qtbot.waitUntil(lambda: "Reconnecting…" in window.connection_label.text(), timeout=15000)


def test_sign_out_ends_the_server_session_and_forgets_tokens(qtbot, make_main_window, fake_server):
    window = make_main_window("reception")
    api = window.api
    with qtbot.waitSignal(window.sig_signed_out, timeout=15000):
        window.sign_out_action.trigger()
    assert len(fake_server.requests_to("POST", "/auth/logout")) == 1
    assert not api.is_authenticated and api.refresh_token is None


def test_a_revoked_session_returns_to_sign_in(qtbot, make_main_window, fake_server):
    window = make_main_window("admin")
    fake_server.expire_access_tokens()
    fake_server._refresh.clear()
    with qtbot.waitSignal(window.sig_signed_out, timeout=15000) as blocker:
        window.select_workspace("administration")
    assert blocker.args == ["Your session has ended. Please sign in again."]


def test_a_clear_banner_while_disconnected_keeps_the_typing_and_clears_stale_errors(
    qtbot, make_main_window, fake_server
):
    window = make_main_window("admin", health_interval_ms=100, health_retry_ms=100)
    users = window.select_workspace("administration").users_tab
    qtbot.waitUntil(lambda: users.model.total is not None, timeout=15000)
    assert not window.offline_banner.isVisible()

    fake_server.down = True
    qtbot.keyClicks(users.search_edit, "nurse")
    users.apply_search()  # a search that cannot reach the server
    qtbot.waitUntil(window.offline_banner.isVisible, timeout=15000)
    text = window.offline_banner.findChild(type(window.offline_label)).text()
    assert "cannot be reached" in text and "saving" in text and "typed" in text
    qtbot.waitUntil(lambda: users.problem.isVisible(), timeout=15000)
    assert users.problem.code.text() == "server_unavailable"
    assert users.search_edit.text() == "nurse"  # what the user typed is still there

    fake_server.down = False
    qtbot.waitUntil(lambda: not window.offline_banner.isVisible(), timeout=15000)
    assert not users.problem.isVisible()  # the stale "cannot reach" error is gone
    assert users.search_edit.text() == "nurse"
    assert window.statusBar().currentMessage() == "Connected again."


def test_my_work_is_last_on_the_rail_and_explains_a_sign_in_without_record(qtbot, make_main_window):
    window = make_main_window("reception")
    assert window.workspace_keys()[-1] == "my_work"
    page = window.select_workspace("my_work")
    qtbot.waitUntil(lambda: page.ready, timeout=15000)
    assert page.linked is False
    assert page.pages.currentWidget() is page.not_linked_page
    assert "not linked to a staff record" in page.not_linked_label.text()
    assert not page.problem.isVisible()
