# ruff: noqa: F811 - pytest fixtures shared with test_reception_patients are imported by name
"""Reception: the staff's queue actions on the board, and moving an appointment by dragging
it onto a free slot (confirm → reschedule with the version; slot_taken; version_conflict)."""

from __future__ import annotations

import json

import pytest

from hms_desktop.qt import (
    QApplication,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QMessageBox,
    QPointF,
    Qt,
)
from hms_desktop.workspaces.reception.booking import RescheduleDialog
from tests.desktop.fake_queue_servers import FakeReceptionQueueServer, queue_entry
from tests.desktop.fake_reception_server import today_at
from tests.desktop.test_reception_patients import (  # noqa: F401 - fixtures
    reception_api,
    workspace,
)
from tests.desktop.test_reception_scheduling import cell_index, reload_calendar


@pytest.fixture
def reception_server() -> FakeReceptionQueueServer:
    return FakeReceptionQueueServer.with_reception_data(patients=120)


@pytest.fixture
def booked(reception_server):
    """Patient 5 with doctor 1 at 09:30 today, already edited twice (version 3)."""
    appointment = reception_server.add_appointment(5, 1, today_at(9, 30))
    appointment.version = 3
    return appointment


# -- queue board ----------------------------------------------------------------------------
def test_staff_call_start_and_complete_from_the_queue_board(qtbot, workspace, reception_server):
    appointment = reception_server.add_appointment(8, 2, today_at(10))
    appointment.status = "checked_in"
    reception_server.queue[1] = queue_entry(
        1, 1, appointment, doctor_id=2, patient=reception_server.patients[8]
    )
    board = workspace.queue
    workspace.tabs.setCurrentWidget(board)
    with qtbot.waitSignal(board.sig_loaded, timeout=15000):
        board.reload()
    buttons = board.action_buttons
    assert not any(b.isEnabled() for b in buttons.values())  # nothing selected
    board.table.selectRow(0)
    assert buttons["call"].isEnabled() and buttons["start"].isEnabled()
    assert not buttons["complete"].isEnabled()
    assert "Ctrl+Shift+C" in buttons["call"].toolTip()

    # The server's queue.updated event may reload the board before the action's own answer
    # is in (a race under load), so wait for the action and then the load that follows it.
    with qtbot.waitSignals(
        [board.sig_action_done, board.sig_loaded], order="simple", timeout=15000
    ):
        qtbot.mouseClick(buttons["call"], Qt.MouseButton.LeftButton)
    assert len(reception_server.requests_to("POST", "/queue/1/call")) == 1
    assert "Called" in board.model.data(board.model.index(0, 5))
    assert board.selected_entry().id == 1  # the same patient stays selected
    assert "Token 1 called: Given007 Family007." in workspace.statuses

    with (
        qtbot.waitSignal(workspace.calendar.sig_loaded, timeout=15000),
        qtbot.waitSignals([board.sig_action_done, board.sig_loaded], order="simple", timeout=15000),
    ):
        qtbot.mouseClick(buttons["start"], Qt.MouseButton.LeftButton)
    assert "In consultation" in board.model.data(board.model.index(0, 5))
    assert "In consultation" in workspace.calendar.day_model.data(
        cell_index(workspace.calendar, "10:00", 1)
    )
    assert buttons["complete"].isEnabled() and not buttons["call"].isEnabled()

    workspace.activateWindow()
    qtbot.waitUntil(workspace.isActiveWindow, timeout=15000)
    board.table.setFocus()
    with qtbot.waitSignal(board.sig_loaded, timeout=15000):
        qtbot.keyClick(
            board.table,
            Qt.Key.Key_D,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    assert len(reception_server.requests_to("POST", "/queue/1/complete")) == 1
    assert "Done" in board.model.data(board.model.index(0, 5))
    assert not any(b.isEnabled() for b in buttons.values())


def test_a_refused_queue_action_shows_the_code_and_the_current_state(
    qtbot, workspace, reception_server
):
    appointment = reception_server.add_appointment(9, 1, today_at(11))
    reception_server.queue[1] = queue_entry(
        1, 1, appointment, doctor_id=1, patient=reception_server.patients[9]
    )
    board = workspace.queue
    workspace.tabs.setCurrentWidget(board)
    with qtbot.waitSignal(board.sig_loaded, timeout=15000):
        board.reload()
    board.table.selectRow(0)
    reception_server.queue[1].status = "done"  # the doctor finished meanwhile
    with qtbot.waitSignal(board.sig_loaded, timeout=15000):
        board.run_action("start")
    assert board.problem.isVisible() and board.problem.code.text() == "invalid_status"
    assert "Done" in board.model.data(board.model.index(0, 5))


# -- drag and drop --------------------------------------------------------------------------
def drag(
    calendar, source_hhmm: str, source_column: int, target_hhmm: str, target_column: int
) -> tuple[bool, QDropEvent]:
    """Drag the appointment cell onto the target cell the way Qt delivers it to the view:
    enter, move, drop on the viewport. Returns (move accepted, drop event)."""
    table, model = calendar.day_table, calendar.day_model
    mime = model.mimeData([cell_index(calendar, source_hhmm, source_column)])
    assert mime is not None
    target = cell_index(calendar, target_hhmm, target_column)
    table.scrollTo(target)  # a drop lands on a visible cell
    pos = QPointF(table.visualRect(target).center())
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    action = Qt.DropAction.MoveAction
    viewport = table.viewport()
    QApplication.sendEvent(viewport, QDragEnterEvent(pos, action, mime, buttons, mods))
    move = QDragMoveEvent(pos, action, mime, buttons, mods)
    QApplication.sendEvent(viewport, move)
    drop = QDropEvent(pos, action, mime, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    return move.isAccepted(), drop


def confirm_move(qtbot, workspace) -> QMessageBox:
    qtbot.waitUntil(
        lambda: getattr(workspace, "move_box", None) is not None and workspace.move_box.isVisible(),
        timeout=15000,
    )
    box = workspace.move_box
    move = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
    qtbot.mouseClick(move, Qt.MouseButton.LeftButton)
    return box


def test_dragging_to_a_free_slot_confirms_and_sends_the_version(
    qtbot, workspace, reception_server, booked
):
    reload_calendar(qtbot, workspace)
    calendar = workspace.calendar
    accepted, _ = drag(calendar, "09:30", 0, "10:30", 0)
    assert accepted
    qtbot.waitUntil(lambda: getattr(workspace, "move_box", None) is not None, timeout=15000)
    assert "from 09:30 to 10:30" in workspace.move_box.text()
    assert not reception_server.requests_to("POST", f"/appointments/{booked.id}/reschedule")
    with qtbot.waitSignal(calendar.sig_loaded, timeout=15000):
        confirm_move(qtbot, workspace)
    sent = reception_server.requests_to("POST", f"/appointments/{booked.id}/reschedule")
    assert [json.loads(r.content) for r in sent] == [{"start": today_at(10, 30), "version": 3}]
    assert "Family004" in calendar.day_model.data(cell_index(calendar, "10:30", 0))
    assert calendar.day_model.data(cell_index(calendar, "09:30", 0)) == "+ Free"
    assert any(s.startswith("Moved to") for s in workspace.statuses)


def test_keeping_the_appointment_sends_nothing(qtbot, workspace, reception_server, booked):
    reload_calendar(qtbot, workspace)
    drag(workspace.calendar, "09:30", 0, "11:00", 0)
    qtbot.waitUntil(lambda: getattr(workspace, "move_box", None) is not None, timeout=15000)
    workspace.move_box.reject()
    qtbot.wait(50)
    assert not reception_server.requests_to("POST", f"/appointments/{booked.id}/reschedule")


def test_dropping_on_another_doctor_or_a_taken_slot_is_refused(
    qtbot, workspace, reception_server, booked
):
    reception_server.add_appointment(6, 1, today_at(10))
    reload_calendar(qtbot, workspace)
    calendar = workspace.calendar
    # The reschedule API keeps the doctor, so another doctor's column takes no drop.
    accepted, drop = drag(calendar, "09:30", 0, "10:30", 1)
    assert not accepted and not drop.isAccepted()
    accepted, drop = drag(calendar, "09:30", 0, "10:00", 0)  # not free
    assert not accepted and not drop.isAccepted()
    qtbot.wait(50)
    assert getattr(workspace, "move_box", None) is None
    # Only booked appointments can be dragged at all.
    checked_in = calendar.day_model.flags(cell_index(calendar, "10:00", 0))
    assert checked_in & Qt.ItemFlag.ItemIsDragEnabled
    reception_server.appointments[booked.id].status = "checked_in"
    reload_calendar(qtbot, workspace)
    assert (
        not calendar.day_model.flags(cell_index(calendar, "09:30", 0))
        & Qt.ItemFlag.ItemIsDragEnabled
    )


def test_slot_taken_on_a_drop_offers_the_next_free_times(
    qtbot, workspace, reception_server, booked
):
    reload_calendar(qtbot, workspace)
    reception_server.steal_slots.add((1, today_at(10, 30)))  # another desk is faster
    drag(workspace.calendar, "09:30", 0, "10:30", 0)
    confirm_move(qtbot, workspace)
    qtbot.waitUntil(
        lambda: any(d.isVisible() for d in workspace.findChildren(RescheduleDialog)), timeout=15000
    )
    dialog = next(d for d in workspace.findChildren(RescheduleDialog) if d.isVisible())
    assert "just booked" in dialog.notice.text()
    offered = [
        dialog.slot_list.item(i).data(Qt.ItemDataRole.UserRole).start.isoformat()
        for i in range(dialog.slot_list.count())
    ]
    assert offered and today_at(10, 30) not in offered
    dialog.slot_list.setCurrentRow(len(offered) - 1)
    with qtbot.waitSignal(dialog.sig_rescheduled, timeout=15000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    sent = [
        json.loads(r.content)
        for r in reception_server.requests_to("POST", f"/appointments/{booked.id}/reschedule")
    ]
    assert sent == [{"start": today_at(10, 30), "version": 3}, {"start": offered[-1], "version": 3}]


def test_version_conflict_on_a_drop_reloads_and_says_so(qtbot, workspace, reception_server, booked):
    reload_calendar(qtbot, workspace)
    calendar = workspace.calendar
    reception_server.appointments[booked.id].version = 4  # edited at another desk
    drag(calendar, "09:30", 0, "11:30", 0)
    with qtbot.waitSignal(calendar.sig_loaded, timeout=15000):
        confirm_move(qtbot, workspace)
    assert calendar.problem.isVisible() and calendar.problem.code.text() == "version_conflict"
    assert "Someone else changed this appointment" in calendar.problem.text()
    assert not workspace.findChildren(RescheduleDialog)
    # The reloaded calendar carries the new version, so the next drag sends it.
    assert calendar.day_model.appointment_by_id(booked.id).version == 4
