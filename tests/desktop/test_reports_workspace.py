"""The reports workspace against the real server and PostgreSQL: a manager picks a report
and a period, sees the headline figures, the chart and the tables, saves the server's CSV
and prints the report (a real PDF, read back)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from hms_desktop.api.client import ApiClient
from hms_desktop.api.hospital import HospitalApi
from hms_desktop.printing.billing_common import Letterhead
from hms_desktop.printing.reports import render_report
from hms_desktop.qt import QFileDialog, QKeySequence, Qt
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.reports.bucket_chart import BucketChart
from hms_desktop.workspaces.reports.periods import period_problem, preset_period
from hms_desktop.workspaces.reports.workspace import ReportsWorkspace
from hms_server.adapters.orm.scheduling import Appointment
from tests.server.scheduling_factories import make_doctor, make_patient

MONDAY = date(2018, 4, 2)


@pytest.fixture
def clinic_week(db, settings):
    """A doctor's week in April 2018: three appointments kept, one missed, one cancelled."""
    owner = db.owner_session_factory()
    doctor = make_doctor(owner, settings)
    patients = [make_patient(owner, settings) for _ in range(5)]
    zone = ZoneInfo(settings.hospital_timezone)
    outcomes = ["completed", "completed", "completed", "no_show", "cancelled"]
    with owner() as session:
        for n, (patient, status) in enumerate(zip(patients, outcomes, strict=True)):
            starts = datetime.combine(MONDAY + timedelta(days=n % 3), time(9 + n), zone)
            session.add(
                Appointment(
                    patient_id=patient,
                    doctor_id=doctor.id,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=15),
                    overbook_slot=0,
                    status=status,
                    type_code="new",
                    source="staff",
                    booking_reference=uuid.uuid4().hex[:12].upper(),
                )
            )
        session.commit()
    return doctor


@pytest.fixture
def workspace(qtbot, tasks, live_server, make_user):
    username, password = make_user("manager")[:2]
    api = ApiClient(live_server.url, workstation="REPORTS-TEST")
    api.login(username, password)
    statuses: list[str] = []
    context = WorkspaceContext(api=api, tasks=tasks, me=api.me(), show_status=statuses.append)
    widget = ReportsWorkspace(context)
    widget.statuses = statuses
    qtbot.addWidget(widget)
    widget.resize(1360, 860)
    widget.show()
    qtbot.waitUntil(lambda: widget.report is not None and not widget.loading, timeout=20000)
    yield widget
    if widget.preview is not None:
        widget.preview.reject()
    tasks.wait_for_done(5000)
    api.close()


def _show(qtbot, widget: ReportsWorkspace, key: str, start: date, end: date, grouping="day"):
    widget.select_report(key)
    with qtbot.waitSignal(widget.sig_report_shown, timeout=20000):
        widget.set_period(start, end, grouping)
    qtbot.waitUntil(lambda: not widget.loading, timeout=20000)


def test_activity_shows_kpis_chart_and_doctor_table(qtbot, workspace, clinic_week):
    _show(qtbot, workspace, "activity", MONDAY, MONDAY + timedelta(days=6))

    kpis = workspace.kpis.values()
    assert kpis["Appointments"] == "5"
    assert kpis["Completed"] == "3"
    assert kpis["Cancelled"] == "1"
    assert kpis["No-show rate"] == "25.0 %"  # 1 missed of 4 kept or missed
    assert workspace.chart.has_data()
    assert workspace.period_label.text() == "02 Apr – 08 Apr 2018"
    by_doctor = workspace.tables.models[0]
    [row] = [
        r for r in range(by_doctor.rowCount()) if by_doctor.rows[r].doctor_id == clinic_week.id
    ]
    assert by_doctor.text(row, 2) == "5"  # booked
    assert by_doctor.text(row, 6) == "25.0 %"
    series = workspace.tables.models[2]
    assert [series.text(r, 0) for r in range(series.rowCount())][:2] == [
        "Mon 02 Apr 2018",
        "Tue 03 Apr 2018",
    ]
    assert workspace.tables.tabText(0) == "By doctor"


def test_switching_reports_by_shortcut_replaces_the_figures(qtbot, workspace, clinic_week):
    _show(qtbot, workspace, "inpatient", MONDAY, MONDAY + timedelta(days=6))
    assert workspace.title_label.text() == "Inpatients"
    assert "Bed occupancy" in workspace.kpis.values()
    # Alt+4 opens the revenue report; its KPIs replace the inpatient ones.
    with qtbot.waitSignal(workspace.sig_report_shown, timeout=20000) as shown:
        qtbot.keyClick(workspace, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    assert shown.args == ["revenue"]
    currency = workspace.context.me.hospital.currency
    assert set(workspace.kpis.values()) == {
        f"{name} ({currency})" for name in ("Invoiced", "Collected", "Outstanding", "Over 90 days")
    }


def test_a_period_ending_before_it_starts_is_refused_without_asking_the_server(qtbot, workspace):
    before = workspace.report
    workspace.set_period(MONDAY, MONDAY - timedelta(days=1))
    assert workspace.problem.isVisible()
    assert workspace.problem.text() == "The period ends before it starts."
    assert not workspace.loading
    assert workspace.report is before


def test_csv_export_saves_the_servers_table_of_the_tab_on_screen(
    qtbot, monkeypatch, workspace, clinic_week, tmp_path
):
    _show(qtbot, workspace, "activity", MONDAY, MONDAY + timedelta(days=6))
    workspace.tables.setCurrentIndex(1)  # by department
    target = tmp_path / "activity.csv"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV files (*.csv)")
    )
    with qtbot.waitSignal(workspace.sig_exported, timeout=20000):
        qtbot.keyClick(workspace, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:3] == ["department_id", "department", "booked"]
    [row] = [r for r in rows[1:] if r[0] == str(clinic_week.department_id)]
    assert row[2:] == ["5", "3", "1", "1", "25.0"]
    assert workspace.statuses[-1] == f"Saved {target}"


def test_printout_carries_letterhead_kpis_and_tables(qtbot, workspace, clinic_week, tmp_path):
    _show(qtbot, workspace, "activity", MONDAY, MONDAY + timedelta(days=6))
    document = workspace.print_document()
    hospital_api = HospitalApi(workspace.context.api)
    pdf = render_report(document, Letterhead.from_hospital(hospital_api.get(), hospital_api.logo()))
    (tmp_path / "activity.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert workspace.context.me.hospital.name in text
    assert "Activity" in text and "02 Apr – 08 Apr 2018" in text
    assert "No-show rate" in text and "25.0 %" in text
    assert "By doctor" in text and "Over time" in text
    assert "Mon 02 Apr 2018" in text
    # The print button renders on a worker and opens the preview.
    qtbot.keyClick(workspace, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: workspace.preview is not None, timeout=20000)
    qtbot.waitUntil(lambda: workspace.preview.page_count >= 1, timeout=20000)


def test_shortcuts_are_named_in_tooltips(workspace):
    assert "(F5)" in workspace.run_button.toolTip()
    assert "(Ctrl+E)" in workspace.csv_button.toolTip()
    assert "(Ctrl+P)" in workspace.print_button.toolTip()
    assert QKeySequence("Alt+1").toString() in workspace.report_list.toolTip()
    for kpi in workspace.kpis.cards:
        if not kpi.isHidden():
            assert kpi.accessibleName()


def test_presets_follow_the_hospital_calendar():
    today = date(2026, 3, 18)  # a Wednesday
    assert preset_period("today", today) == (today, today)
    assert preset_period("this_week", today) == (date(2026, 3, 16), date(2026, 3, 22))
    assert preset_period("last_30_days", today) == (date(2026, 2, 17), today)
    assert preset_period("this_month", today) == (date(2026, 3, 1), date(2026, 3, 31))
    assert preset_period("last_month", today) == (date(2026, 2, 1), date(2026, 2, 28))
    assert preset_period("this_year", today) == (date(2026, 1, 1), date(2026, 12, 31))
    assert preset_period("last_month", date(2026, 1, 5)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert period_problem(date(2024, 1, 1), date(2025, 12, 31)) is None
    assert period_problem(date(2024, 1, 1), date(2026, 1, 2)) is not None


def test_bucket_chart_draws_few_buckets_as_bars_and_names_every_value(qtbot):
    chart = BucketChart()
    qtbot.addWidget(chart)
    chart.resize(640, 260)
    days = [MONDAY + timedelta(days=n) for n in range(3)]
    chart.set_data(
        "Appointments",
        "",
        days,
        [("Booked", [(d, 10.0 + n) for n, d in enumerate(days)]), ("No-show", [(days[0], 2.0)])],
        "day",
    )
    chart.show()
    chart.grab()  # paints, which lays out the bucket slots
    assert chart.as_bars()
    assert chart.bucket_text(days[0]) == "Mon 02 Apr\nBooked: 10\nNo-show: 2"
    assert chart.bucket_text(days[2]) == "Wed 04 Apr\nBooked: 12\nNo-show: –"
    left, right, _bucket = chart._slots[1]
    assert chart.bucket_at((left + right) / 2) == days[1]
    assert "Booked: 33 in total" in chart.accessibleDescription()
    many = [MONDAY + timedelta(days=n) for n in range(40)]
    chart.set_data("Trend", "%", many, [("Occupancy", [(d, 50.0) for d in many])], "day")
    assert not chart.as_bars()


def test_changing_the_grouping_runs_the_report_again_by_week(qtbot, workspace, clinic_week):
    _show(qtbot, workspace, "activity", MONDAY, MONDAY + timedelta(days=13))
    assert workspace.tables.models[2].rowCount() == 14
    with qtbot.waitSignal(workspace.sig_report_shown, timeout=20000):
        workspace.grouping.setCurrentIndex(1)  # week
    series = workspace.tables.models[2]
    assert [series.text(r, 0) for r in range(series.rowCount())] == [
        "w/c 02 Apr 2018",
        "w/c 09 Apr 2018",
    ]
    assert workspace.preset.currentData() == "custom"


def test_an_answer_to_an_earlier_request_is_dropped(qtbot, workspace, clinic_week):
    _show(qtbot, workspace, "activity", MONDAY, MONDAY + timedelta(days=6))
    shown, kpis = workspace.report, workspace.kpis.values()
    stale = workspace.reports.report("activity", MONDAY, MONDAY, "day")
    workspace._busy += 1  # as if that request were still on its way
    workspace._on_report_loaded(
        workspace._request - 1, workspace.view, stale, (MONDAY, MONDAY, "day")
    )
    assert workspace.report is shown
    assert workspace.kpis.values() == kpis
    assert workspace.shown_period == (MONDAY, MONDAY + timedelta(days=6), "day")
    assert not workspace.loading


def test_the_managers_screenshot_tour_shows_every_report_and_the_printout(
    qapp, live_server, make_user, tmp_path
):
    from hms_desktop.screenshot_tour import run_screenshot_tour

    username, password = make_user("manager")[:2]
    messages: list[str] = []
    code = run_screenshot_tour(live_server.url, username, password, tmp_path, log=messages.append)
    assert code == 0, messages
    for name in ("", "-clinic-flow", "-inpatient", "-revenue", "-pharmacy", "-print"):
        shot = tmp_path / f"reports{name}.png"
        assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000, name
