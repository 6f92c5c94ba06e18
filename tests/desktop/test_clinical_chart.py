"""The clinical workspace driven through its real widgets against the fake contract server."""

import json

import pytest

from hms_desktop.api.client import ApiClient
from hms_desktop.qt import QPoint, Qt
from hms_desktop.workspaces import WorkspaceContext
from tests.desktop.fake_clinical_server import DOCTOR_PASSWORD, FakeClinicalServer
from tests.desktop.fake_server import BASE_URL


@pytest.fixture
def clinical_server() -> FakeClinicalServer:
    return FakeClinicalServer.with_clinical_data()


@pytest.fixture
def workspace(qtbot, tasks, clinical_server):
    from hms_desktop.workspaces.clinical import create_workspace

    api = ApiClient(
        BASE_URL, transport=clinical_server.transport(), workstation="TEST-WS", retry_backoff=0.0
    )
    api.login("doctor", DOCTOR_PASSWORD)
    statuses: list[str] = []
    context = WorkspaceContext(api=api, tasks=tasks, me=api.me(), show_status=statuses.append)
    widget = create_workspace(context)
    widget.statuses = statuses
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    context.close()  # the workspace listens to live events
    tasks.wait_for_done(5000)
    api.close()


def open_chart(qtbot, workspace, pid=1):
    chart = workspace.chart
    qtbot.waitUntil(lambda: workspace.patients.model.rowCount() == 3, timeout=15000)
    row = next(r for r in range(3) if workspace.patients.model.row_item(r).id == pid)
    patient = workspace.patients.model.row_item(row)
    with qtbot.waitSignal(chart.sig_chart_opened, timeout=15000):
        workspace.patients.sig_patient_chosen.emit(patient)
    return chart


def test_chart_opens_with_the_allergy_badge_visible(qtbot, workspace):
    chart = open_chart(qtbot, workspace)
    badge = chart.header.allergy_badge
    assert badge.isVisible()
    assert chart.header.allergy_state == "allergic"
    assert badge.text() == "Allergies: penicillin (severe)"
    assert "MRN HMS-1001" in chart.header.details_label.text()
    # The badge stays in view whichever tab is open.
    for index in range(chart.tabs.count()):
        chart.tabs.setCurrentIndex(index)
        assert badge.isVisible()


def test_patient_without_allergies_says_so(qtbot, workspace):
    chart = open_chart(qtbot, workspace, pid=2)
    assert chart.header.allergy_badge.text() == "No known allergies"
    assert chart.header.allergy_state == "none"


def test_todays_list_comes_from_the_appointment_book(qtbot, workspace):
    panel = workspace.patients
    qtbot.waitUntil(lambda: panel.today_count == 1, timeout=15000)
    assert "Mensah" in panel.today_list.item(0).text()
    assert "waiting" in panel.today_list.item(0).text()


def test_timeline_lists_items_newest_first(qtbot, workspace):
    chart = open_chart(qtbot, workspace)
    model = chart.timeline_tab.model
    qtbot.waitUntil(lambda: model.total == 7, timeout=15000)
    times = [model.row_item(r).at for r in range(model.rowCount())]
    assert times == sorted(times, reverse=True)
    assert model.data(model.index(0, 1)) in ("Note", "Vitals")


def test_trend_chart_paints_every_reading(qtbot, workspace):
    chart = open_chart(qtbot, workspace)
    chart.tabs.setCurrentWidget(chart.vitals_tab)
    trend = chart.vitals_tab.chart
    qtbot.waitUntil(lambda: trend.point_count() == 12, timeout=15000)  # 6 × systolic+diastolic
    image = trend.grab().toImage()
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 5, "the chart painted nothing"
    assert "latest 158 mmHg (high)" in trend.accessibleDescription()
    # A tooltip names the reading under the pointer, with its flag in words.
    point = trend._hits[-1][0]
    hit = trend.reading_at(point)
    assert hit and "(high)" in trend.reading_text(*hit)
    # The summary shows the blood pressure trend too.
    assert chart.summary_tab.trend.point_count() == 12


def test_vitals_dialog_validates_inline_and_sends(qtbot, workspace, clinical_server):
    chart = open_chart(qtbot, workspace)
    chart.do_action("record_vitals")
    dialog = chart.dialog
    qtbot.keyClicks(dialog.edits["systolic_mmhg"], "400")
    assert dialog.hints["systolic_mmhg"].text() == "Must be between 40 and 300 mmHg."
    qtbot.keyClick(dialog.edits["systolic_mmhg"], Qt.Key.Key_Return)
    assert dialog.form_error.isVisible()
    assert not clinical_server.requests_to("POST", "/patients/1/vitals")

    dialog.edits["systolic_mmhg"].clear()
    qtbot.keyClicks(dialog.edits["systolic_mmhg"], "150")
    assert dialog.hints["systolic_mmhg"].text().startswith("High")
    qtbot.keyClicks(dialog.edits["diastolic_mmhg"], "95")
    qtbot.keyClicks(dialog.edits["temperature_c"], "37.26")
    with qtbot.waitSignal(dialog.sig_saved, timeout=15000):
        qtbot.keyClick(dialog.edits["diastolic_mmhg"], Qt.Key.Key_Return)
    sent = json.loads(clinical_server.requests_to("POST", "/patients/1/vitals")[0].content)
    # Decimals travel as the contract writes them: decimal strings, never floats.
    assert sent == {"systolic_mmhg": 150, "diastolic_mmhg": 95, "temperature_c": "37.3"}
    qtbot.waitUntil(lambda: chart.vitals_tab.model.rowCount() == 7, timeout=15000)


def test_note_amend_keeps_both_versions_visible(qtbot, workspace, clinical_server):
    chart = open_chart(qtbot, workspace)
    notes = chart.notes_tab
    chart.tabs.setCurrentWidget(notes)
    qtbot.waitUntil(
        lambda: notes.model.rowCount() == 1 and bool(notes.selected_note()), timeout=15000
    )
    chart.do_action("amend_note")
    dialog = chart.dialog
    dialog.edits["subjective"].setPlainText("Cough 5 days, now productive")
    dialog.submit()
    assert dialog.reason_error.isVisible()  # a reason is required
    qtbot.keyClicks(dialog.reason_edit, "Duration corrected by patient")
    with qtbot.waitSignal(dialog.sig_saved, timeout=15000):
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    sent = json.loads(clinical_server.requests_to("POST", "/patients/1/notes/1/amend")[0].content)
    assert sent["version"] == 1 and sent["reason"] == "Duration corrected by patient"
    qtbot.waitUntil(lambda: "Version 2" in notes.viewer.toPlainText(), timeout=15000)
    text = notes.viewer.toPlainText()
    assert "Cough 5 days, now productive" in text
    assert "Version 1 — superseded" in text and "Cough 3 days" in text
    assert notes.model.data(notes.model.index(0, 3)) == "Signed, v2"


def test_new_note_with_ctrl_n_is_signed(qtbot, workspace, clinical_server):
    chart = open_chart(qtbot, workspace)
    qtbot.keyClick(workspace, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = chart.dialog
    assert dialog.windowTitle() == "New note"
    dialog.edits["assessment"].setPlainText("Viral URTI")
    with qtbot.waitSignal(dialog.sig_saved, timeout=15000):
        qtbot.keyClick(
            dialog.edits["assessment"], Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
        )
    sent = json.loads(clinical_server.requests_to("POST", "/patients/1/notes")[0].content)
    assert sent["sign"] is True and sent["assessment"] == "Viral URTI"


def test_add_allergy_updates_the_header(qtbot, workspace, clinical_server):
    chart = open_chart(qtbot, workspace, pid=2)
    chart.do_action("add_allergy")
    dialog = chart.dialog
    dialog.submit()
    assert dialog.substance_error.isVisible()
    qtbot.keyClicks(dialog.substance_edit, "latex")
    dialog.severity_combo.setCurrentIndex(0)
    with qtbot.waitSignal(dialog.sig_saved, timeout=15000):
        qtbot.keyClick(dialog.substance_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: chart.header.allergy_badge.text() == "Allergies: latex (mild)", timeout=15000
    )
    assert chart.header.allergy_state == "allergic"


def test_add_problem_searches_icd10_as_you_type(qtbot, workspace, clinical_server):
    chart = open_chart(qtbot, workspace)
    chart.do_action("add_problem")
    dialog = chart.dialog
    qtbot.keyClicks(dialog.search_edit, "asth")
    qtbot.waitUntil(lambda: dialog.results.count() == 1, timeout=15000)
    assert dialog.selected.code == "J45.909"
    with qtbot.waitSignal(dialog.sig_saved, timeout=15000):
        dialog.submit()
    sent = json.loads(clinical_server.requests_to("POST", "/patients/1/problems")[0].content)
    assert sent["icd10_code"] == "J45.909"
    qtbot.waitUntil(lambda: chart.problems_tab.model.rowCount() == 1, timeout=15000)


def test_break_the_glass_needs_a_reason_then_opens_the_chart(qtbot, workspace, clinical_server):
    chart = workspace.chart
    qtbot.waitUntil(lambda: workspace.patients.model.rowCount() == 3, timeout=15000)
    patient = next(
        workspace.patients.model.row_item(r)
        for r in range(3)
        if workspace.patients.model.row_item(r).id == 3
    )
    workspace.patients.sig_patient_chosen.emit(patient)
    qtbot.waitUntil(lambda: chart.break_glass_button.isVisible(), timeout=15000)
    assert "care team" in chart.access_label.text()
    assert chart.header.isVisible() and "NOVAK" in chart.header.name_label.text()
    # The badge says why the allergies are not shown, not "loading" forever.
    assert chart.header.allergy_state == "restricted"
    assert chart.header.allergy_badge.text() == ("Allergies: restricted — break the glass to view")
    qtbot.mouseClick(chart.break_glass_button, Qt.MouseButton.LeftButton)
    dialog = chart.dialog
    qtbot.keyClicks(dialog.reason_edit, "urgent")
    dialog.submit()
    assert dialog.reason_error.text() == "Give the reason in at least 10 characters."
    assert not clinical_server.break_glass_reasons
    qtbot.keyClicks(dialog.reason_edit, " - collapsed in waiting room")
    with qtbot.waitSignal(chart.sig_chart_opened, timeout=15000):
        dialog.submit()
    assert clinical_server.break_glass_reasons == ["urgent - collapsed in waiting room"]
    assert chart.pages.currentWidget() is chart.tabs
    assert chart.header.allergy_state in ("allergic", "none")
    assert any("Emergency access" in s for s in workspace.statuses)


def test_ctrl_f_focuses_patient_search(qtbot, workspace):
    workspace.activateWindow()
    qtbot.waitUntil(workspace.isActiveWindow, timeout=15000)
    workspace.chart.setFocus()
    qtbot.keyClick(workspace, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert workspace.patients.search_edit.hasFocus()


def test_every_interactive_widget_has_an_accessible_name(qtbot, workspace):
    from hms_desktop.qt import QComboBox, QLineEdit, QPushButton, QTableView

    open_chart(qtbot, workspace)
    for cls in (QLineEdit, QPushButton, QComboBox, QTableView):
        for widget in workspace.findChildren(cls):
            if widget.isVisibleTo(workspace) and not widget.parent().inherits("QComboBox"):
                assert widget.accessibleName(), f"{cls.__name__} without a name: {widget}"


def test_point_inside_chart_has_no_reading(qtbot, workspace):
    chart = open_chart(qtbot, workspace)
    assert chart.summary_tab.trend.reading_at(QPoint(1, 1)) is None


def test_prescribing_is_offered_only_to_prescribers(qtbot, tasks, clinical_server, workspace):
    """A triage nurse charts vitals and allergies; she is not offered a prescription the
    server would refuse (403)."""
    from hms_desktop.workspaces.clinical import create_workspace

    chart = open_chart(qtbot, workspace)
    doctor_buttons = [
        b for b in chart.findChildren(type(chart.print_button)) if b.accessibleName() == "Prescribe"
    ]
    assert len(doctor_buttons) == 2 and not any(b.isHidden() for b in doctor_buttons)

    api = workspace.context.api
    me = api.me()
    nurse_me = me.model_copy(
        update={
            "roles": ["nurse"],
            "permissions": [p for p in me.permissions if p != "prescriptions.write"],
        }
    )
    context = WorkspaceContext(api=api, tasks=tasks, me=nurse_me, show_status=lambda _m: None)
    nurse_view = create_workspace(context)
    qtbot.addWidget(nurse_view)
    nurse_chart = nurse_view.chart
    nurse_buttons = [
        b
        for b in nurse_chart.findChildren(type(chart.print_button))
        if b.accessibleName() == "Prescribe"
    ]
    assert len(nurse_buttons) == 2 and all(b.isHidden() for b in nurse_buttons)
    nurse_chart.patient, nurse_chart.chart = chart.patient, chart.chart
    nurse_chart.do_action("prescribe")  # e.g. a shortcut: nothing opens
    assert nurse_chart.dialog is None
    context.close()


def test_normal_range_note_never_overlaps_the_legend(qtbot, workspace):
    chart = open_chart(qtbot, workspace)
    trend = chart.summary_tab.trend
    qtbot.waitUntil(lambda: trend.point_count() == 12, timeout=15000)
    fm = trend.fontMetrics()
    assert trend._band_text().startswith("Normal range")
    trend.resize(1200, 300)
    assert not trend._band_on_own_line(fm, 1100)  # wide: on the title line
    trend.resize(480, 300)  # the summary pane at 1280 px: its own line, below the legend
    assert trend._band_on_own_line(fm, 400)
    narrow_top = trend._plot_rect(fm, [60.0, 180.0]).top()
    trend.resize(1200, 300)
    assert trend._plot_rect(fm, [60.0, 180.0]).top() < narrow_top
    assert not trend.grab().isNull()
