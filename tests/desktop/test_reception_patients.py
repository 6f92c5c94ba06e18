"""Reception: finding, registering and editing patients, driven through the real widgets."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from hms_contract.patients import PatientRead
from hms_desktop.api.client import ApiClient
from hms_desktop.api.events import EventStream
from hms_desktop.events import EventBridge
from hms_desktop.qt import Qt
from hms_desktop.workspaces import WorkspaceContext
from tests.desktop.conftest import PASSWORDS
from tests.desktop.fake_reception_server import FakeReceptionServer
from tests.desktop.fake_server import BASE_URL


@pytest.fixture
def reception_server() -> FakeReceptionServer:
    return FakeReceptionServer.with_reception_data(patients=120)


@pytest.fixture
def reception_api(reception_server):
    api = ApiClient(
        BASE_URL, transport=reception_server.transport(), workstation="TEST-WS", retry_backoff=0.0
    )
    api.login("reception", PASSWORDS["reception"])
    yield api
    api.close()


@pytest.fixture
def workspace(qtbot, tasks, reception_api):
    from hms_desktop.workspaces.reception import create_workspace

    statuses: list[str] = []
    context = WorkspaceContext(
        api=reception_api,
        tasks=tasks,
        me=reception_api.me(),
        show_status=statuses.append,
        events=EventBridge(stream=EventStream(reception_api, min_backoff=0.05)),
    )
    widget = create_workspace(context)
    widget.statuses = statuses
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: not widget.loading, timeout=15000)
    yield widget
    context.close()
    tasks.wait_for_done(5000)


def patient_requests(server) -> list[dict]:
    return [dict(r.url.params) for r in server.requests_to("GET", "/patients")]


def test_search_as_you_type_is_debounced_and_pages_incrementally(
    qtbot, workspace, reception_server
):
    panel = workspace.search
    assert panel.model.rowCount() == 50  # first page only
    assert panel.model.total == 120
    before = len(patient_requests(reception_server))
    panel.search_edit.setFocus()
    qtbot.keyClicks(panel.search_edit, "family0")  # 7 keystrokes, one request
    qtbot.waitUntil(
        lambda: panel.model.filters.get("q") == "family0" and not panel.model.loading, timeout=15000
    )
    sent = patient_requests(reception_server)[before:]
    assert [r.get("q") for r in sent] == ["family0"]
    assert panel.model.total == 100 and panel.model.rowCount() == 50
    panel.table.scrollToBottom()  # the view asks for the next page
    qtbot.waitUntil(lambda: panel.model.rowCount() == 100, timeout=15000)
    assert patient_requests(reception_server)[-1]["offset"] == "50"


def test_answers_of_an_outdated_query_are_discarded(qtbot, workspace, reception_server):
    panel = workspace.search
    reception_server.search_delays["family00"] = 0.6
    panel.search_now("family00")  # slow answer …
    panel.search_now("family119")  # … overtaken by the next query
    # The GUI thread never waited for the network: the slow answer is still on its way.
    # (How long the GUI thread may be busy is measured in bench/desktop_responsiveness.py.)
    assert "family00" not in reception_server.searches_answered
    qtbot.waitUntil(lambda: panel.model.total == 1, timeout=15000)
    qtbot.wait(800)  # the slow, stale answer arrives meanwhile and must be dropped
    assert panel.model.rowCount() == 1
    assert panel.model.row_item(0).family_name == "Family119"


def test_selecting_a_patient_fills_the_header_strip_and_summary(qtbot, workspace):
    panel = workspace.search
    panel.search_now("family007")
    qtbot.waitUntil(lambda: panel.model.total == 1, timeout=15000)
    panel.table.selectRow(0)
    qtbot.waitUntil(
        lambda: workspace.summary.patient is not None and not workspace.summary.loading,
        timeout=15000,
    )
    assert "Given007 Family007" in workspace.header.text()
    assert "MRN000008" in workspace.header.text()
    assert workspace.summary.fields["phone"].text() == "+44 20 7946 0007"


def open_new_patient(qtbot, workspace):
    qtbot.keyClick(workspace, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    from hms_desktop.workspaces.reception.registration import PatientFormDialog

    dialogs = [d for d in workspace.findChildren(PatientFormDialog) if d.isVisible()]
    assert dialogs, "Ctrl+N opens the registration form"
    return dialogs[-1]


def fill(qtbot, dialog, **values):
    for key, value in values.items():
        if key == "sex":
            dialog.sex_combo.setCurrentIndex(dialog.sex_combo.findData(value))
        else:
            dialog.edits[key].clear()
            qtbot.keyClicks(dialog.edits[key], value)


def test_registration_form_checks_fields_before_sending(qtbot, workspace, reception_server):
    dialog = open_new_patient(qtbot, workspace)
    future = (date.today() + timedelta(days=3)).isoformat()
    fill(qtbot, dialog, given_name="Ana", date_of_birth=future, phone="12ab")
    qtbot.keyClick(dialog.edits["phone"], Qt.Key.Key_Return)  # Enter submits
    assert dialog.errors["family_name"].text() == "Required."
    assert "future" in dialog.errors["date_of_birth"].text()
    assert "phone number" in dialog.errors["phone"].text()
    assert dialog.errors["sex"].isVisible()
    assert not reception_server.requests_to("POST", "/patients")  # nothing was sent

    fill(
        qtbot,
        dialog,
        family_name="Lopez",
        date_of_birth="1990-05-17",
        phone="+34 600 123 456",
        sex="female",
    )
    with qtbot.waitSignal(dialog.sig_saved, timeout=15000) as saved:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    sent = json.loads(reception_server.requests_to("POST", "/patients")[-1].content)
    assert sent["given_name"] == "Ana" and sent["date_of_birth"] == "1990-05-17"
    assert "confirm_new" not in sent
    assert saved.args[0].mrn
    qtbot.waitUntil(lambda: "Ana Lopez" in workspace.header.text(), timeout=15000)


def test_duplicate_prompt_and_register_anyway_resends_with_confirm_new(
    qtbot, workspace, reception_server
):
    dialog = open_new_patient(qtbot, workspace)
    fill(
        qtbot,
        dialog,
        given_name="Gina",
        family_name="Family003",
        date_of_birth="1980-01-01",
        sex="female",
    )
    dialog.submit()
    qtbot.waitUntil(dialog.duplicates_panel.isVisible, timeout=15000)
    assert dialog.duplicates_list.count() == 1
    assert "MRN000004" in dialog.duplicates_list.item(0).text()
    # The reason reads as a sentence, not as a code ("same same birth date similar name").
    assert (
        dialog.duplicates_list.item(0).text().endswith("\nSame date of birth and a similar name.")
    )
    with qtbot.waitSignal(dialog.sig_saved, timeout=15000):
        qtbot.mouseClick(dialog.register_anyway_button, Qt.MouseButton.LeftButton)
    posts = reception_server.requests_to("POST", "/patients")
    assert len(posts) == 2
    assert json.loads(posts[-1].content)["confirm_new"] is True


def test_picking_the_existing_patient_from_the_duplicate_prompt(qtbot, workspace):
    dialog = open_new_patient(qtbot, workspace)
    fill(
        qtbot,
        dialog,
        given_name="G",
        family_name="Family004",
        date_of_birth="1980-01-01",
        sex="female",
    )
    dialog.submit()
    qtbot.waitUntil(dialog.duplicates_panel.isVisible, timeout=15000)
    with qtbot.waitSignal(dialog.sig_existing_chosen, timeout=15000):
        qtbot.mouseClick(dialog.use_existing_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "MRN000005" in workspace.header.text(), timeout=15000)


def test_stale_edit_offers_reload(qtbot, workspace, reception_server):
    panel = workspace.search
    panel.search_now("family010")
    qtbot.waitUntil(lambda: panel.model.total == 1, timeout=15000)
    panel.table.selectRow(0)
    qtbot.waitUntil(lambda: isinstance(workspace.summary.patient, PatientRead), timeout=15000)
    dialog = workspace.edit_patient(workspace.summary.patient)
    reception_server.patients[11].phone = "+1 555 0100 999"  # another desk saved meanwhile
    reception_server.patients[11].version += 1
    fill(qtbot, dialog, phone="+1 555 0100 123")
    dialog.submit()
    qtbot.waitUntil(dialog.conflict_banner.isVisible, timeout=15000)
    assert dialog.isVisible()
    qtbot.mouseClick(dialog.reload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.conflict_banner.isVisible(), timeout=15000)
    assert dialog.edits["phone"].text() == "+1 555 0100 999"
    fill(qtbot, dialog, phone="+1 555 0100 123")
    with qtbot.waitSignal(dialog.sig_saved, timeout=15000):
        dialog.submit()
    assert reception_server.patients[11].phone == "+1 555 0100 123"


def test_interactive_widgets_have_accessible_names(workspace):
    from hms_desktop.qt import QComboBox, QLineEdit, QPushButton, QTableView

    unnamed = [
        w
        for kind in (QLineEdit, QPushButton, QComboBox, QTableView)
        for w in workspace.findChildren(kind)
        if w.isVisibleTo(workspace)
        and not w.accessibleName()
        and w.parent().metaObject().className() not in ("QDateEdit", "QComboBox")
    ]
    assert not unnamed, [w.metaObject().className() + ":" + w.objectName() for w in unnamed]
