"""Identifying columns are never elided and the panes around them are resizable splitters
whose sizes are remembered: reception's patient list and queue board, the clinical search
list and the doctor's today list. Real widgets against the fake reception server."""

from __future__ import annotations

import pytest
from pytestqt.exceptions import TimeoutError as qt_timeout

from hms_desktop.api.client import ApiClient
from hms_desktop.api.events import EventStream
from hms_desktop.events import EventBridge
from hms_desktop.qt import QApplication, Qt
from hms_desktop.settings import DesktopSettings
from hms_desktop.widgets.record_table import column_is_whole
from hms_desktop.workspaces import WorkspaceContext
from tests.desktop.conftest import PASSWORDS
from tests.desktop.fake_reception_server import FakeReceptionServer, today_at
from tests.desktop.fake_server import BASE_URL

LONG_GIVEN = "Maria-Magdalena Konstantina"
LONG_FAMILY = "Nowak-Wiśniewska-Szczepańska"


@pytest.fixture
def reception_server() -> FakeReceptionServer:
    server = FakeReceptionServer.with_reception_data(patients=30)
    # Two namesakes that differ only in MRN, birth date and phone: the columns that tell
    # them apart must be readable in full.
    server.add_patient(LONG_GIVEN, LONG_FAMILY, "1949-11-14", "female", phone="+48 601 555 0142")
    server.add_patient(LONG_GIVEN, LONG_FAMILY, "1994-11-14", "female", phone="+48 601 555 0199")
    patient = server.add_patient("Zofia", "Nowak", "1950-02-01", "female")
    server.add_appointment(patient.id, 1, today_at(9, 0))
    return server


@pytest.fixture
def reception_api(reception_server):
    api = ApiClient(
        BASE_URL, transport=reception_server.transport(), workstation="TEST-WS", retry_backoff=0.0
    )
    api.login("reception", PASSWORDS["reception"])
    yield api
    api.close()


def build_reception(qtbot, tasks, api, settings: DesktopSettings):
    from hms_desktop.workspaces.reception import create_workspace

    context = WorkspaceContext(
        api=api,
        tasks=tasks,
        me=api.me(),
        settings=settings,
        events=EventBridge(stream=EventStream(api, min_backoff=0.05)),
    )
    widget = create_workspace(context)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: not widget.loading, timeout=15000)
    return widget, context


def fully_visible(table, column: int) -> bool:
    left = table.horizontalHeader().sectionViewportPosition(column)
    return left >= 0 and left + table.columnWidth(column) <= table.viewport().width()


def assert_whole(qtbot, table, columns) -> None:
    # Column widths and the minimum width follow the rows a moment after they arrive.
    try:
        qtbot.waitUntil(
            lambda: all(column_is_whole(table, c) and fully_visible(table, c) for c in columns),
            timeout=15000,
        )
    except (AssertionError, TimeoutError, qt_timeout):
        header = table.horizontalHeader()
        print(
            "STATE",
            [
                (
                    c,
                    table.columnWidth(c),
                    table.sizeHintForColumn(c),
                    header.sectionViewportPosition(c),
                )
                for c in columns
            ],
            table.viewport().width(),
            table.width(),
            table.minimumWidth(),
            table.parentWidget().width(),
        )
    QApplication.processEvents()
    for column in columns:
        title = table.model().headerData(column, Qt.Orientation.Horizontal)
        assert column_is_whole(table, column), f"column {title} is elided"
        assert fully_visible(table, column), f"column {title} is cut off by the pane"


def test_patient_search_columns_stay_whole_however_narrow_the_pane(qtbot, tasks, reception_api):
    widget, context = build_reception(qtbot, tasks, reception_api, DesktopSettings.in_memory())
    panel = widget.search
    panel.search_now("Szczepańska")
    qtbot.waitUntil(lambda: not panel.model.loading and panel.model.rowCount() >= 2, timeout=15000)
    titles = [
        panel.model.headerData(c, Qt.Orientation.Horizontal)
        for c in range(panel.model.columnCount())
    ]
    assert titles == ["Name", "MRN", "Born", "Sex", "Phone ends"]
    rows = [[panel.model.data(panel.model.index(r, c)) for c in range(5)] for r in range(2)]
    assert rows[0][0] == f"{LONG_FAMILY}, {LONG_GIVEN}" == rows[1][0]
    assert rows[0][1] != rows[1][1] and rows[0][4] == "0142" and rows[1][4] == "0199"
    assert rows[0][2].startswith("1949-11-14 (") and " y)" in rows[0][2]
    assert_whole(qtbot, panel.table, range(5))
    # The user drags the splitter as far left as it goes: the list keeps its columns whole.
    widget.splitter.setSizes([10, 3000])
    assert_whole(qtbot, panel.table, range(5))
    assert widget.splitter.sizes()[0] >= panel.table.minimumWidth()
    context.close()


def test_pane_sizes_are_remembered_for_the_next_session(qtbot, tasks, reception_api):
    settings = DesktopSettings.in_memory()
    first, context = build_reception(qtbot, tasks, reception_api, settings)
    total = sum(first.splitter.sizes())
    first.splitter.moveSplitter(first.splitter.sizes()[0] + 120, 1)  # as a drag does
    dragged = first.splitter.sizes()
    assert settings.layout_state("reception/panes")
    context.close()
    first.close()

    second, context = build_reception(qtbot, tasks, reception_api, settings)
    assert sum(second.splitter.sizes()) == total
    assert second.splitter.sizes() == dragged
    context.close()


def test_queue_board_shows_patient_and_mrn_whole(qtbot, tasks, reception_api, reception_server):
    widget, context = build_reception(qtbot, tasks, reception_api, DesktopSettings.in_memory())
    appointment = next(iter(reception_server.appointments.values()))
    qtbot.waitUntil(lambda: not widget.loading, timeout=15000)
    done = []
    tasks.run(lambda: widget.scheduling_api.check_in(appointment.id), done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=15000)
    widget.tabs.setCurrentWidget(widget.queue)
    widget.queue.reload()
    qtbot.waitUntil(
        lambda: widget.queue.model.rowCount() == 1 and not widget.queue.loading, timeout=15000
    )
    model = widget.queue.model
    assert model.data(model.index(0, 1)) == "Zofia Nowak"
    assert model.data(model.index(0, 2)) == appointment.patient_mrn
    assert_whole(qtbot, widget.queue.table, model.WHOLE_COLUMNS)
    context.close()
