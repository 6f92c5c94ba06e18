"""The doctor's queue in the clinical workspace: today's list with tokens, status and waiting
times; call next, start (opens the chart) and complete; live refresh on queue events."""

from __future__ import annotations

import threading

import pytest

from hms_desktop.api.client import ApiClient
from hms_desktop.events import EventBridge
from hms_desktop.qt import Qt
from hms_desktop.workspaces import WorkspaceContext
from tests.desktop.fake_clinical_server import DOCTOR_PASSWORD
from tests.desktop.fake_queue_servers import FakeClinicalQueueServer, queue_entry
from tests.desktop.fake_server import BASE_URL


class QuietStream:
    """An event stream that never connects: the test emits the bridge's events itself."""

    def __init__(self) -> None:
        self._stop = threading.Event()

    def run(self, on_event, on_state=None) -> None:
        self._stop.wait()

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture
def queue_server() -> FakeClinicalQueueServer:
    return FakeClinicalQueueServer.with_queue()


@pytest.fixture
def workspace(qtbot, tasks, queue_server):
    from hms_desktop.workspaces.clinical import create_workspace

    api = ApiClient(
        BASE_URL, transport=queue_server.transport(), workstation="TEST-WS", retry_backoff=0.0
    )
    api.login("doctor", DOCTOR_PASSWORD)
    statuses: list[str] = []
    context = WorkspaceContext(
        api=api,
        tasks=tasks,
        me=api.me(),
        show_status=statuses.append,
        events=EventBridge(stream=QuietStream()),
    )
    widget = create_workspace(context)
    widget.statuses = statuses
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    with qtbot.waitSignal(widget.patients.sig_today_loaded, timeout=15000):
        widget.show()
    yield widget
    context.close()
    tasks.wait_for_done(5000)
    api.close()


def texts(today) -> list[str]:
    return [today.list.item(i).text() for i in range(today.list.count())]


def select_entry(today, entry_id: int) -> None:
    row = next(i for i, r in enumerate(today.rows) if r.entry and r.entry.id == entry_id)
    today.list.setCurrentRow(row)


def posted(server, path: str) -> int:
    return len(server.requests_to("POST", path))


def test_todays_list_shows_token_status_and_waiting_time(workspace):
    today = workspace.patients.today
    rows = texts(today)
    assert len(rows) == 4  # three appointments and one walk-in
    assert "Amina Okafor" in rows[0] and "#1 ◷ Waiting 15 min" in rows[0]
    assert "Ben Mensah" in rows[1] and "#2 ◷ Waiting 10 min" in rows[1]
    assert "Chloe Novak" in rows[2] and rows[2].endswith("booked")  # not arrived yet
    assert rows[3].startswith("walk-in") and "#3" in rows[3]
    assert today.status.text() == "4 patients today · 3 waiting"
    # Buttons follow the state, and their tooltips name the shortcut.
    assert today.buttons["call_next"].isEnabled()
    today.list.setCurrentRow(2)  # booked, not arrived: nothing to start or complete
    assert not today.buttons["start"].isEnabled() and not today.buttons["complete"].isEnabled()
    today.list.setCurrentRow(0)
    assert today.buttons["start"].isEnabled() and not today.buttons["complete"].isEnabled()
    for key, keys in (
        ("call_next", "Ctrl+Shift+N"),
        ("start", "Ctrl+Shift+S"),
        ("complete", "Ctrl+Shift+D"),
    ):
        assert keys in today.buttons[key].toolTip()
        assert today.buttons[key].accessibleName()


def test_call_next_calls_the_lowest_waiting_token_and_refreshes(qtbot, workspace, queue_server):
    today = workspace.patients.today
    with qtbot.waitSignal(today.sig_loaded, timeout=15000):
        qtbot.mouseClick(today.buttons["call_next"], Qt.MouseButton.LeftButton)
    assert posted(queue_server, "/queue/1/call") == 1
    assert "#1 ➔ Called" in texts(today)[0]
    assert today.selected_row().entry.id == 1  # ready for "Start consultation"
    assert today.buttons["start"].isEnabled()
    assert "Token 1 called: Amina Okafor." in workspace.statuses
    # The next call takes the next token, not the one already called.
    with qtbot.waitSignal(today.sig_loaded, timeout=15000):
        today.run_action("call_next")
    assert posted(queue_server, "/queue/2/call") == 1


def test_start_opens_the_chart_and_complete_closes_the_consultation(qtbot, workspace, queue_server):
    today = workspace.patients.today
    select_entry(today, 2)
    assert today.buttons["start"].isEnabled() and not today.buttons["complete"].isEnabled()
    workspace.activateWindow()
    qtbot.waitUntil(workspace.isActiveWindow, timeout=15000)
    with (
        qtbot.waitSignal(workspace.chart.sig_chart_opened, timeout=15000) as opened,
        qtbot.waitSignal(today.sig_loaded, timeout=15000),
    ):
        qtbot.keyClick(
            today.list,
            Qt.Key.Key_S,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    assert opened.args == [2]
    assert posted(queue_server, "/queue/2/start") == 1
    assert "▶ In consultation" in texts(today)[1]
    assert today.buttons["complete"].isEnabled() and not today.buttons["start"].isEnabled()
    with qtbot.waitSignal(today.sig_loaded, timeout=15000):
        qtbot.mouseClick(today.buttons["complete"], Qt.MouseButton.LeftButton)
    assert posted(queue_server, "/queue/2/complete") == 1
    assert "✓ Done" in texts(today)[1]
    assert not today.buttons["complete"].isEnabled()


def test_queue_updated_event_refreshes_the_list(qtbot, workspace, queue_server):
    today = workspace.patients.today
    assert texts(today)[2].endswith("booked")
    # Reception checks Novak in at the front desk.
    novak = queue_server.day_appointments[53]
    novak.status = "checked_in"
    queue_server.queue[4] = queue_entry(
        4, 4, novak, patient=queue_server.patients[3], doctor_id=7, wait=0
    )
    before = len(queue_server.requests_to("GET", "/queue"))
    with qtbot.waitSignal(today.sig_loaded, timeout=15000):
        workspace.patients.today.events.sig_event_received.emit(
            "queue.updated", {"doctor_id": 7, "queue_entry_id": 4, "status": "waiting"}
        )
    assert len(queue_server.requests_to("GET", "/queue")) == before + 1
    assert "#4 ◷ Waiting" in texts(today)[2]


def test_a_refused_action_says_why_and_shows_the_current_state(qtbot, workspace, queue_server):
    today = workspace.patients.today
    select_entry(today, 1)
    queue_server.queue[1].status = "in_consultation"  # started from another room
    with qtbot.waitSignal(today.sig_loaded, timeout=15000):
        today.run_action("start")
    assert today.problem.isVisible() and today.problem.code.text() == "invalid_status"
    assert "▶ In consultation" in texts(today)[0]
    assert today.buttons["complete"].isEnabled()


def test_call_next_is_off_when_nobody_waits(qtbot, workspace, queue_server):
    for entry in queue_server.queue.values():
        entry.status = "done"
    today = workspace.patients.today
    with qtbot.waitSignal(today.sig_loaded, timeout=15000):
        today.reload()
    assert not today.buttons["call_next"].isEnabled()
    today.run_action("call_next")  # the shortcut does nothing either
    assert not any("/call" in r.url.path for r in queue_server.requests)


def test_todays_names_wrap_instead_of_being_cut_and_search_columns_stay_whole(qtbot, workspace):
    from hms_desktop.qt import QApplication
    from hms_desktop.widgets.record_table import column_is_whole

    today = workspace.patients.today
    # Each row names the patient and MRN on its own line; a narrow list wraps, never elides.
    first_line = texts(today)[0].split("\n")[0]
    assert "Amina Okafor · " in first_line and "\n#1 ◷ Waiting" in texts(today)[0]
    assert today.list.textElideMode() == Qt.TextElideMode.ElideNone
    assert today.list.wordWrap()
    workspace.splitter.setSizes([10, 3000])  # dragged as far left as it goes
    panel = workspace.patients
    qtbot.waitUntil(lambda: panel.model.rowCount() > 0 and not panel.model.loading, timeout=15000)
    qtbot.waitUntil(
        lambda: all(column_is_whole(panel.table, c) for c in range(panel.model.columnCount())),
        timeout=15000,
    )
    QApplication.processEvents()
    assert workspace.splitter.sizes()[0] >= panel.table.minimumWidth()


def test_a_long_day_is_fetched_page_by_page_not_cut_off(qtbot, tasks):
    """Lists that can grow page: 130 more appointments today arrive in pages of 100 and all
    of them are listed (the list used to ask for one page of 200 and drop the rest)."""
    from hms_desktop.workspaces.clinical import create_workspace
    from hms_desktop.workspaces.clinical.today_queue import TODAY_PAGE
    from tests.desktop.fake_reception_server import today_at, when

    server = FakeClinicalQueueServer.with_queue()
    for i in range(130):
        aid = 1000 + i
        start = when(today_at(11 + i * 5 // 60, i * 5 % 60))
        server.day_appointments[aid] = server.appointment(aid, 1 + i % 3, start, "booked")
    api = ApiClient(
        BASE_URL, transport=server.transport(), workstation="TEST-WS", retry_backoff=0.0
    )
    api.login("doctor", DOCTOR_PASSWORD)
    context = WorkspaceContext(
        api=api,
        tasks=tasks,
        me=api.me(),
        show_status=lambda _: None,
        events=EventBridge(stream=QuietStream()),
    )
    widget = create_workspace(context)
    qtbot.addWidget(widget)
    try:
        with qtbot.waitSignal(widget.patients.sig_today_loaded, timeout=15000):
            widget.show()
        today = widget.patients.today
        assert today.count == 133 + 1  # three of the fixture, 130 more and the walk-in
        listed = {r.appointment.id for r in today.rows if r.appointment is not None}
        assert set(range(1000, 1130)) <= listed
        asked = server.requests_to("GET", "/appointments")
        assert [int(r.url.params["limit"]) for r in asked] == [TODAY_PAGE, TODAY_PAGE]
        assert [int(r.url.params["offset"]) for r in asked] == [0, TODAY_PAGE]
    finally:
        context.close()
        tasks.wait_for_done(5000)
        api.close()
