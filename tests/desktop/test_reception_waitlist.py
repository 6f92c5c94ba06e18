"""Reception's waitlist screen, through the real widgets against the fake reception server:
who waits and who was offered a freed slot, adding the patient in context, booking an
offered slot, taking someone off the list."""

from __future__ import annotations

import json

import pytest

from hms_desktop.api.client import ApiClient
from hms_desktop.api.events import EventStream
from hms_desktop.events import EventBridge
from hms_desktop.qt import Qt
from hms_desktop.workspaces import WorkspaceContext
from tests.desktop.conftest import PASSWORDS
from tests.desktop.fake_reception_server import FakeReceptionServer, tomorrow
from tests.desktop.fake_server import BASE_URL, CREATED_AT


@pytest.fixture
def server() -> FakeReceptionServer:
    server = FakeReceptionServer.with_reception_data(patients=6)
    server.add_waitlist_entry(2, 1)
    server.add_waitlist_entry(3, 2, offered=f"{tomorrow().isoformat()}T10:30:00+01:00")
    return server


@pytest.fixture
def workspace(qtbot, tasks, server):
    from hms_desktop.workspaces.reception import create_workspace

    api = ApiClient(
        BASE_URL, transport=server.transport(), workstation="TEST-WS", retry_backoff=0.0
    )
    api.login("reception", PASSWORDS["reception"])
    statuses: list[str] = []
    context = WorkspaceContext(
        api=api,
        tasks=tasks,
        me=api.me(),
        show_status=statuses.append,
        events=EventBridge(stream=EventStream(api, min_backoff=0.05)),
    )
    widget = create_workspace(context)
    widget.statuses = statuses
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitUntil(lambda: not widget.loading, timeout=15000)
    widget.tabs.setCurrentWidget(widget.waitlist)
    yield widget
    context.close()
    tasks.wait_for_done(5000)
    api.close()


def cells(model, row: int) -> list[str]:
    return [model.data(model.index(row, c)) for c in range(model.columnCount())]


def test_the_waitlist_shows_who_waits_and_who_was_offered_a_slot(workspace):
    panel = workspace.waitlist
    assert panel.model.rowCount() == 2
    waiting, offered = cells(panel.model, 0), cells(panel.model, 1)
    assert waiting[0] == "Family001, Given001\nMRN000002"
    assert waiting[1].startswith("Dr Carla Heart\n")
    since = CREATED_AT.astimezone().strftime("%Y-%m-%d")
    assert waiting[2] == f"Waiting\nsince {since}"
    assert waiting[3] == "wants an earlier date"
    assert offered[0] == "Family002, Given002\nMRN000003"
    assert offered[2].startswith("Offered ") and "10:30" in offered[2]
    assert "\n(held until 09:30)" in offered[2]
    assert panel.summary_label.text() == "1 waiting · 1 offered a freed slot"
    panel.table.selectRow(0)
    assert not panel.book_button.isEnabled() and panel.remove_button.isEnabled()
    panel.table.selectRow(1)
    assert panel.book_button.isEnabled()


def test_adding_the_patient_in_context_and_booking_an_offer(qtbot, workspace, server):
    panel = workspace.waitlist
    assert not panel.add_button.isEnabled()  # nobody in context yet
    workspace.search.search_now("family004")
    qtbot.waitUntil(lambda: workspace.search.model.rowCount() == 1, timeout=15000)
    workspace.search.table.selectRow(0)
    assert panel.add_button.isEnabled() and "Family004" in panel.add_button.toolTip()
    dialog = panel.add_patient()
    dialog.target_combo.setCurrentIndex(1)  # Dr Gene Ward
    dialog.reason_edit.setText("prefers mornings")
    with qtbot.waitSignal(panel.sig_loaded, timeout=15000):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    [sent] = [json.loads(r.content) for r in server.requests_to("POST", "/waitlist")]
    assert sent["patient_id"] == 5 and sent["doctor_id"] == 2
    assert sent["reason"] == "prefers mornings"
    assert panel.model.rowCount() == 3

    panel.table.selectRow(1)  # the offered one
    with qtbot.waitSignal(panel.sig_booked, timeout=15000) as booked:
        qtbot.mouseClick(panel.book_button, Qt.MouseButton.LeftButton)
    assert booked.args[0].patient_id == 3
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=15000)
    assert any(s.startswith("Booked the offered slot") for s in workspace.statuses)

    panel.table.selectRow(0)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=15000)
    assert server.waitlist[1].status == "cancelled"
