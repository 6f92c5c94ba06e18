"""Reception's duplicates review and merge screen, driven through the real widgets against
the fake reception server: side-by-side comparison, a required reason, a pending merge
that can be undone, then confirmed; closing a flag as two different people."""

from __future__ import annotations

import json

import pytest

from hms_desktop.api.client import ApiClient
from hms_desktop.api.events import EventStream
from hms_desktop.events import EventBridge
from hms_desktop.qt import Qt
from hms_desktop.workspaces import WorkspaceContext
from tests.desktop.conftest import PASSWORDS
from tests.desktop.fake_reception_server import FakeReceptionServer
from tests.desktop.fake_server import BASE_URL


@pytest.fixture
def server() -> FakeReceptionServer:
    server = FakeReceptionServer.with_reception_data(patients=5)
    old = server.add_patient("Zofia", "Nowak", "1950-02-01", "female", phone="+48 601 555 0142")
    new = server.add_patient("Zofia", "Nowak", "1950-02-01", "unknown", phone="+48 22 111 2233")
    server.add_flag(new.id, old.id)
    server.old, server.new = old, new
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
    yield widget
    context.close()
    tasks.wait_for_done(5000)
    api.close()


def posts(server, path: str) -> list[dict]:
    return [json.loads(r.content) for r in server.requests_to("POST", path)]


def open_compare(qtbot, workspace):
    panel = workspace.duplicates
    workspace.tabs.setCurrentWidget(panel)
    assert panel.flags_model.rowCount() == 1
    panel.flags_table.selectRow(0)
    dialog = panel.compare_selected()
    qtbot.waitUntil(lambda: dialog.records is not None, timeout=15000)
    return panel, dialog


def test_duplicates_tab_lists_the_flag_with_a_readable_reason(workspace, server):
    panel = workspace.duplicates
    assert panel is not None  # receptionists review duplicates
    model = panel.flags_model
    row = [model.data(model.index(0, c)) for c in range(model.columnCount())]
    assert row[0] == f"Nowak, Zofia\n{server.new.mrn} · born 1950-02-01"
    assert row[1] == f"Nowak, Zofia\n{server.old.mrn} · born 1950-02-01"
    assert row[2].startswith("Same date of birth and a similar name.\n")
    assert row[2].endswith(", booked online")
    assert panel.flags_label.text() == "1 pair(s) of records to review"


def test_merge_needs_a_reason_is_pending_until_confirmed_and_can_be_undone(
    qtbot, workspace, server
):
    panel, dialog = open_compare(qtbot, workspace)
    # Side by side, differences marked; the older record is kept by default.
    labels = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert "Phone  ≠" in labels and "Sex  ≠" in labels and "Name" in labels
    phone = labels.index("Phone  ≠")
    assert {dialog.table.item(phone, 1).text(), dialog.table.item(phone, 2).text()} == {
        server.old.phone,
        server.new.phone,
    }
    assert dialog.survivor_and_duplicate()[0].id == server.old.id

    qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    assert dialog.reason_error.isVisible() and not posts(server, "/patient-merges")

    qtbot.keyClicks(dialog.reason_edit, "Same person: checked ID at the desk")
    qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.merge is not None, timeout=15000)
    [sent] = posts(server, "/patient-merges")
    assert sent == {
        "survivor_id": server.old.id,
        "duplicate_id": server.new.id,
        "reason": "Same person: checked ID at the desk",
        "survivor_version": 1,
        "duplicate_version": 1,
        "flag_id": 1,
    }
    assert dialog.banner.isVisible() and "Nothing has moved yet" in dialog.banner_label.text()
    assert dialog.confirm_button.isVisible() and dialog.undo_button.isVisible()
    assert not dialog.merge_button.isVisible()

    qtbot.mouseClick(dialog.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.merge is None, timeout=15000)
    assert "undone" in dialog.banner_label.text()
    assert server.patients[server.new.id].merged_into_id is None
    assert dialog.merge_button.isVisible() and not dialog.confirm_button.isVisible()

    qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.merge is not None, timeout=15000)
    with qtbot.waitSignal(dialog.finished, timeout=15000):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert server.patients[server.new.id].merged_into_id == server.old.id
    qtbot.waitUntil(lambda: panel.flags_model.rowCount() == 0 and not panel.loading, timeout=15000)
    assert any(f"Merged {server.new.mrn} into {server.old.mrn}." in s for s in workspace.statuses)


def test_a_pending_merge_left_open_is_confirmed_from_the_list(qtbot, workspace, server):
    panel, dialog = open_compare(qtbot, workspace)
    qtbot.keyClicks(dialog.reason_edit, "Same person, two registrations")
    qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.merge is not None, timeout=15000)
    dialog.reject()  # closed without deciding: it stays pending
    qtbot.waitUntil(lambda: panel.merges_model.rowCount() == 1 and not panel.loading, timeout=15000)
    model = panel.merges_model
    assert model.data(model.index(0, 0)) == f"Nowak, Zofia · {server.old.mrn}"
    assert model.data(model.index(0, 2)) == "Same person, two registrations"
    panel.merges_table.selectRow(0)
    qtbot.mouseClick(panel.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: server.merges[1].status == "confirmed", timeout=15000)
    qtbot.waitUntil(lambda: panel.merges_model.rowCount() == 0, timeout=15000)


def test_not_the_same_person_closes_the_flag_with_a_note(qtbot, workspace, server):
    panel = workspace.duplicates
    panel.flags_table.selectRow(0)
    dialog = panel.dismiss_selected()
    dialog.submit()
    assert dialog.error.isVisible() and dialog.isVisible()
    qtbot.keyClicks(dialog.note_edit, "Mother and daughter, both Zofia")
    dialog.submit()
    qtbot.waitUntil(lambda: server.flags[1].status == "dismissed", timeout=15000)
    assert server.flags[1].resolution_note == "Mother and daughter, both Zofia"
    qtbot.waitUntil(lambda: panel.flags_model.rowCount() == 0, timeout=15000)
