"""Administration workspace: users list, create/edit users, audit log."""

import json

import pytest

from hms_desktop.qt import QPoint, Qt


def click_box(qtbot, box):
    """Click the check box's indicator (a click far right of its label would miss)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(6, box.height() // 2))


@pytest.fixture
def admin(qtbot, make_main_window):
    window = make_main_window("admin")
    workspace = window.select_workspace("administration")
    users = workspace.users_tab
    qtbot.waitUntil(lambda: users.model.total is not None, timeout=15000)
    return window, workspace


def test_user_list_loads_a_page_and_fetches_more_on_scroll(qtbot, admin, fake_server):
    _window, workspace = admin
    users = workspace.users_tab
    qtbot.waitUntil(lambda: not users.model.loading, timeout=15000)
    assert users.model.total == 120
    assert users.model.rowCount() == 50
    first = users.model.index(0, 0)
    assert users.model.data(first) == "admin"
    assert users.model.data(users.model.index(0, 2)) == "Administrator"
    assert users.model.data(users.model.index(0, 3)) == "Active"
    assert users.count_label.text() == "Showing 50 of 120 users"

    users.table.scrollToBottom()
    qtbot.waitUntil(lambda: users.model.rowCount() == 100, timeout=15000)
    users.table.scrollToBottom()
    qtbot.waitUntil(lambda: users.model.rowCount() == 120, timeout=15000)
    offsets = [r.url.params["offset"] for r in fake_server.requests_to("GET", "/users")]
    assert offsets == ["0", "50", "100"]
    assert not users.model.canFetchMore()


def test_search_asks_the_server(qtbot, admin, fake_server):
    _window, workspace = admin
    users = workspace.users_tab
    qtbot.keyClicks(users.search_edit, "rita")
    qtbot.keyClick(users.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: users.model.total == 1, timeout=15000)
    assert users.model.data(users.model.index(0, 0)) == "reception"
    assert fake_server.requests_to("GET", "/users")[-1].url.params["q"] == "rita"


def test_sorting_by_a_column_header_asks_the_server(qtbot, admin, fake_server):
    _window, workspace = admin
    users = workspace.users_tab
    users.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(
        lambda: users.model.sort_param == "-full_name" and users.model.rowCount() == 50,
        timeout=15000,
    )
    assert fake_server.requests_to("GET", "/users")[-1].url.params["sort"] == "-full_name"
    assert users.model.data(users.model.index(0, 1)) == "Staff Member 116"


def test_create_user_dialog_validates_inline_and_creates(qtbot, admin, fake_server):
    _window, workspace = admin
    users = workspace.users_tab
    qtbot.mouseClick(users.new_button, Qt.MouseButton.LeftButton)
    dialog = users.create_dialog
    qtbot.waitExposed(dialog)
    assert not dialog.create_button.isEnabled()

    qtbot.keyClicks(dialog.username_edit, "nina")
    qtbot.keyClicks(dialog.full_name_edit, "Nina Nurse")
    click_box(qtbot, dialog.role_picker.boxes["nurse"])
    qtbot.keyClicks(dialog.password_edit, "short")
    assert dialog.password_error.isVisible()
    assert dialog.password_error.text() == "Use at least 12 characters (7 more)."  # issue 8
    assert not dialog.create_button.isEnabled()

    qtbot.keyClicks(dialog.password_edit, "-but-now-long")
    assert not dialog.password_error.isVisible()
    assert dialog.create_button.isEnabled()
    assert fake_server.requests_to("POST", "/users") == []

    with qtbot.waitSignal(dialog.sig_user_created, timeout=15000):
        qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert any(u.username == "nina" for u in fake_server.users.values())
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=15000)
    assert users.detail.user.username == "nina"


def test_too_long_password_and_missing_role_are_explained(qtbot, admin):
    _window, workspace = admin
    users = workspace.users_tab
    users.open_create_dialog()
    dialog = users.create_dialog
    qtbot.keyClicks(dialog.password_edit, "x" * 129)
    assert dialog.password_error.text() == "Use at most 128 characters."
    click_box(qtbot, dialog.role_picker.boxes["nurse"])
    click_box(qtbot, dialog.role_picker.boxes["nurse"])
    assert dialog.roles_error.text() == "Choose at least one role."


def test_server_side_weak_password_is_shown_next_to_the_field(qtbot, admin):
    _window, workspace = admin
    users = workspace.users_tab
    users.open_create_dialog()
    dialog = users.create_dialog
    qtbot.keyClicks(dialog.username_edit, "weak")
    qtbot.keyClicks(dialog.full_name_edit, "Weak Password")
    click_box(qtbot, dialog.role_picker.boxes["nurse"])
    qtbot.keyClicks(dialog.password_edit, "password1234")  # long enough to be sent (12+)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.password_error.text() == "This password is too common.", timeout=15000
    )
    assert dialog.isVisible()


def test_new_admin_shows_the_totp_link_once_in_a_copyable_field(qtbot, admin):
    _window, workspace = admin
    users = workspace.users_tab
    users.open_create_dialog()
    dialog = users.create_dialog
    qtbot.keyClicks(dialog.username_edit, "second-admin")
    qtbot.keyClicks(dialog.full_name_edit, "Second Admin")
    click_box(qtbot, dialog.role_picker.boxes["admin"])
    qtbot.keyClicks(dialog.password_edit, "a-long-admin-password")
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 1, timeout=15000)
    assert dialog.totp_uri_edit.text().startswith("otpauth://totp/HMS:second-admin")
    assert dialog.totp_uri_edit.isReadOnly()
    qtbot.mouseClick(dialog.done_button, Qt.MouseButton.LeftButton)
    assert dialog.totp_uri_edit.text() == ""
    assert not dialog.isVisible()


def select_user(qtbot, users, username):
    row = next(
        r for r in range(users.model.rowCount()) if users.model.row_item(r).username == username
    )
    users.table.selectRow(row)
    qtbot.waitUntil(
        lambda: users.detail.user and users.detail.user.username == username, timeout=15000
    )


def test_editing_roles_sends_the_version(qtbot, admin, fake_server):
    _window, workspace = admin
    users = workspace.users_tab
    select_user(qtbot, users, "reception")
    detail = users.detail
    assert not detail.save_button.isEnabled()
    click_box(qtbot, detail.role_picker.boxes["billing_clerk"])
    assert detail.save_button.isEnabled()
    with qtbot.waitSignal(detail.sig_user_changed, timeout=15000):
        qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    patch = fake_server.requests_to("PATCH", f"/users/{detail.user.id}")[0]
    # The roles travel as the contract's UserUpdate writes them (a sorted set).
    assert json.loads(patch.content) == {"version": 1, "roles": ["billing_clerk", "receptionist"]}
    assert sorted(fake_server.users[detail.user.id].roles) == ["billing_clerk", "receptionist"]
    row = users.model.find_row(detail.user.id)
    assert users.model.data(users.model.index(row, 2)) == "Receptionist, Billing clerk"


def test_version_conflict_offers_a_reload(qtbot, admin, fake_server):
    _window, workspace = admin
    users = workspace.users_tab
    select_user(qtbot, users, "reception")
    detail = users.detail
    other = next(u for u in fake_server.users.values() if u.username == "reception")
    other.full_name, other.version = "Rita Changed Elsewhere", 2  # someone else saved

    detail.full_name_edit.clear()
    qtbot.keyClicks(detail.full_name_edit, "Rita R.")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: detail.conflict_banner.isVisible(), timeout=15000)

    qtbot.mouseClick(detail.reload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not detail.conflict_banner.isVisible(), timeout=15000)
    assert detail.full_name_edit.text() == "Rita Changed Elsewhere"
    assert detail.user.version == 2


def test_enable_a_disabled_user(qtbot, admin, fake_server):
    _window, workspace = admin
    users = workspace.users_tab
    target = next(u for u in fake_server.users.values() if u.username == "manager")
    target.active = False
    users.model.reload()
    qtbot.waitUntil(lambda: users.model.rowCount() == 50, timeout=15000)
    select_user(qtbot, users, "manager")
    assert users.detail.toggle_active_button.text() == "Enable account"
    with qtbot.waitSignal(users.detail.sig_user_changed, timeout=15000):
        qtbot.mouseClick(users.detail.toggle_active_button, Qt.MouseButton.LeftButton)
    assert target.active
    assert users.detail.toggle_active_button.text() == "Disable account"


def test_audit_log_loads_newest_first_and_sorts_on_the_server(qtbot, admin, fake_server):
    _window, workspace = admin
    workspace.tabs.setCurrentWidget(workspace.audit_tab)
    audit = workspace.audit_tab
    audit.clear_filters()  # the demo entries are older than the default last-7-days window
    qtbot.waitUntil(lambda: audit.model.total == 130, timeout=15000)
    assert all(r.url.params["sort"] == "-at" for r in fake_server.requests_to("GET", "/audit"))
    assert audit.model.row_item(0).id == 130
    # The Patient column names the patient (MRN and name), not a database id.
    column = [c.key for c in audit.model.columns].index("patient_id")
    row = next(
        r for r in range(audit.model.rowCount()) if audit.model.row_item(r).patient_id is not None
    )
    entry = audit.model.row_item(row)
    assert audit.model.data(audit.model.index(row, column)) == (
        f"{entry.patient_mrn} · {entry.patient_name}"
    )

    audit.table.horizontalHeader().sectionClicked.emit(1)  # what a header click does
    audit.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(
        lambda: any(
            r.url.params["sort"] == "username" for r in fake_server.requests_to("GET", "/audit")
        ),
        timeout=15000,
    )


def filtered(fake_server):
    return [
        r
        for r in fake_server.requests_to("GET", "/audit")
        if r.url.params.get("user") == "reception"
    ]


def test_audit_filters_become_query_parameters(qtbot, admin, fake_server):
    _window, workspace = admin
    workspace.tabs.setCurrentWidget(workspace.audit_tab)
    audit = workspace.audit_tab
    audit.clear_filters()
    qtbot.keyClicks(audit.user_edit, "reception")
    audit.outcome_combo.setCurrentIndex(audit.outcome_combo.findData("failure"))
    qtbot.keyClick(audit.user_edit, Qt.Key.Key_Return)
    # Earlier loads may still be in flight on other workers, so look for the request.
    qtbot.waitUntil(lambda: bool(filtered(fake_server)), timeout=15000)
    assert filtered(fake_server)[0].url.params["outcome"] == "failure"
    qtbot.waitUntil(
        lambda: audit.model.total is not None and not audit.model.loading, timeout=15000
    )
    assert all(
        audit.model.row_item(r).username == "reception"
        and audit.model.row_item(r).outcome == "failure"
        for r in range(audit.model.rowCount())
    )


def test_default_audit_window_is_the_last_seven_days(admin):
    _window, workspace = admin
    filters = workspace.audit_tab.filters()
    assert set(filters) == {"since"}
    assert filters["since"].endswith("Z")


@pytest.mark.parametrize(
    ("username", "ok"),
    [
        ("nina", True),
        ("n.okafor-2", True),
        ("x", False),
        ("-nina", False),
        ("ni na", False),
        ("n" * 65, False),
    ],
)
def test_username_rule_matches_the_server(username, ok):
    from hms_desktop.workspaces.administration.validation import username_problem

    assert (username_problem(username) is None) is ok


def test_emergency_accesses_are_listed_for_review_and_marked_reviewed(qtbot, admin, fake_server):
    import json

    _window, workspace = admin
    tab = workspace.break_glass_tab
    assert tab is not None  # administrators review break-the-glass
    workspace.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.model.total == 2 and not tab.model.loading, timeout=15000)
    assert tab.count_label.text() == "2 emergency access(es) to review"
    model = tab.model
    row = [model.data(model.index(0, c)) for c in range(model.columnCount())]
    # Who, whom (MRN and name), why, how often, from where, not yet reviewed.
    assert row[1] == "Dr Nina Night"
    assert row[2] == "HMS000002002 · Emergency2, Patient"
    assert row[3] == "Collapsed in the waiting room, unconscious"
    assert row[4] == "5" and row[5] == "WS-ED-2" and row[6] == "◷ Not reviewed"

    tab.table.selectRow(0)
    dialog = tab.review_selected()
    dialog.note_edit.setPlainText("Confirmed with the ED rota: on duty, genuine emergency")
    with qtbot.waitSignal(tab.model.sig_total_changed, timeout=15000):
        dialog.accept()
    [sent] = [
        json.loads(r.content) for r in fake_server.requests_to("POST", "/break-glass/3/review")
    ]
    assert sent == {"note": "Confirmed with the ED rota: on duty, genuine emergency"}
    assert tab.model.total == 1
    tab.unreviewed_check.setChecked(False)
    qtbot.waitUntil(lambda: tab.model.total == 3 and not tab.model.loading, timeout=15000)
    reviewed = [tab.model.data(tab.model.index(r, 6)) for r in range(3)]
    assert sum(text.startswith("✓ ") for text in reviewed) == 2
    assert any("genuine emergency" in text for text in reviewed)


def test_the_outbox_shows_messages_by_status_and_retries_a_failed_one(qtbot, admin, fake_server):
    _window, workspace = admin
    tab = workspace.outbox_tab
    assert tab is not None
    workspace.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.model.total == 5 and not tab.model.loading, timeout=15000)
    statuses = [tab.model.data(tab.model.index(r, 4)) for r in range(5)]
    assert "✓ Sent" in statuses and "↻ Failed, will retry" in statuses
    assert "✗ Failed for good" in statuses and "◷ Queued" in statuses
    tab.status_combo.setCurrentIndex(tab.status_combo.findData("dead"))
    qtbot.waitUntil(lambda: tab.model.total == 1 and not tab.model.loading, timeout=15000)
    assert tab.model.data(tab.model.index(0, 8)) == "gateway_timeout"
    tab.table.selectRow(0)
    assert tab.retry_button.isEnabled()
    with qtbot.waitSignal(tab.model.sig_total_changed, timeout=15000):
        qtbot.mouseClick(tab.retry_button, Qt.MouseButton.LeftButton)
    assert fake_server.requests_to("POST", "/messages/4/retry")
    assert tab.model.total == 0  # nothing is dead any more: it is queued again
