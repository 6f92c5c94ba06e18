"""My work against the real server and PostgreSQL, driven through its widgets: a linked
nurse sees her record (no one else's), her next four weeks of shifts by week in the
hospital's zone, asks for leave (the dialog names her rostered shifts, refuses a last day
before the first, and shows the server's overlapping-leave refusal), reads her final payslip
and prints it (real PDF read back with pypdf), and reads her finalised review; a sign-in with
no staff record gets the friendly explanation. HR links and unlinks a sign-in from the
Staff workspace's directory."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from hms_desktop.api.client import ApiClient
from hms_desktop.qt import QMessageBox, qt_object_alive
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.my_work.shifts_panel import monday_of
from hms_desktop.workspaces.my_work.workspace import MyWorkWorkspace
from hms_desktop.workspaces.staff.workspace import StaffWorkspace
from tests.conftest import TEST_PASSWORD
from tests.server.api.staff_factories import new_department, new_staff

# Pay runs are one per month in the shared test database: the API tests pay 1960-2015, the
# staff workspace test 1920-1948; these tests pay a month of the 1950s.
_USED_MONTHS: set[date] = set()


def _free_month() -> date:
    while True:
        pick = date(1950 + uuid.uuid4().int % 10, 1 + uuid.uuid4().int % 12, 1)
        if pick not in _USED_MONTHS:
            _USED_MONTHS.add(pick)
            return pick


def _signed_in(live_server: Any, username: str) -> ApiClient:
    api = ApiClient(live_server.url, workstation="SELF-TEST")
    api.login(username, TEST_PASSWORD)
    return api


@pytest.fixture
def nurse_scene(client: Any, headers_for: Any, make_user: Any, live_server: Any) -> dict[str, Any]:
    """A nurse whose sign-in is linked to her record, two shifts ahead, a finalised payslip
    and a finalised review; a colleague with a payslip in the same run."""
    hr, manager = headers_for("hr_officer"), headers_for("manager")
    dept = new_department(client, headers_for)
    tag = uuid.uuid4().hex[:6]
    username = make_user("nurse", username=f"self_{tag}")[0]
    api = _signed_in(live_server, username)
    me = api.me()
    nurse = new_staff(
        client, headers_for, dept, name=f"Nora {tag}", hire_date="1949-01-01", user_id=me.id
    )
    colleague = new_staff(client, headers_for, dept, name=f"Colin {tag}", hire_date="1949-01-01")
    zone = ZoneInfo(me.hospital.timezone)
    today = datetime.now(zone).date()
    day_start = datetime.combine(today + timedelta(days=2), time(7), zone)
    night_start = datetime.combine(today + timedelta(days=9), time(20), zone)
    shifts = []
    for start, hours, kind in ((day_start, 8, "day"), (night_start, 10, "night")):
        r = client.post(
            "/api/v1/shifts",
            json={
                "staff_id": nurse["id"],
                "department_id": dept,
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=hours)).isoformat(),
                "kind": kind,
            },
            headers=hr,
        )
        assert r.status_code == 201, r.text
        shifts.append(r.json())
    month = _free_month()
    run = client.post("/api/v1/pay-runs", json={"period": f"{month:%Y-%m}"}, headers=hr)
    assert run.status_code == 201, run.text
    final = client.post(
        f"/api/v1/pay-runs/{run.json()['id']}/finalise",
        json={"version": run.json()["version"]},
        headers=hr,
    )
    assert final.status_code == 200, final.text
    review = client.post(
        "/api/v1/reviews",
        json={
            "staff_id": nurse["id"],
            "period_start": "1950-01-01",
            "period_end": "1950-12-31",
            "rating": 4,
            "strengths": "Calm on nights.",
            "goals": "Lead the sepsis audit.",
        },
        headers=manager,
    ).json()
    done = client.post(
        f"/api/v1/reviews/{review['id']}/finalise",
        json={"version": review["version"]},
        headers=manager,
    )
    assert done.status_code == 200, done.text
    return {
        "api": api,
        "zone": zone,
        "today": today,
        "nurse": nurse,
        "colleague": colleague,
        "shifts": shifts,
        "month": month,
        "username": username,
    }


def _workspace(qtbot: Any, tasks: Any, api: ApiClient) -> MyWorkWorkspace:
    context = WorkspaceContext(api=api, tasks=tasks, me=api.me())
    widget = MyWorkWorkspace(context)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitUntil(lambda: widget.ready, timeout=20000)
    return widget


@pytest.fixture
def my_work(qtbot: Any, tasks: Any, nurse_scene: dict[str, Any]):
    widget = _workspace(qtbot, tasks, nurse_scene["api"])
    yield widget
    tasks.wait_for_done(5000)
    nurse_scene["api"].close()


def test_the_record_and_the_next_four_weeks_of_shifts_by_week(
    my_work: MyWorkWorkspace, nurse_scene: dict[str, Any]
):
    assert my_work.linked is True
    assert my_work.pages.currentWidget() is my_work.linked_page
    nurse = nurse_scene["nurse"]
    strip = my_work.strip.values
    assert strip["full_name"].text() == nurse["full_name"]
    assert strip["employee_number"].text() == nurse["employee_number"]
    assert strip["job_title"].text() == "Staff Nurse · B5"
    assert strip["department_name"].text() == nurse["department_name"]
    # The server returns the salary to its owner only, so it is shown here.
    assert "3,000.00" in strip["salary"].text()
    zone, today = nurse_scene["zone"], nurse_scene["today"]
    day = today + timedelta(days=2)
    night = today + timedelta(days=9)
    weeks = dict(my_work.shifts.week_rows())
    day_week = f"Week of {monday_of(day):%a %d %b %Y}"
    night_week = f"Week of {monday_of(night):%a %d %b %Y}"
    assert day_week != night_week and set(weeks) == {day_week, night_week}
    assert weeks[day_week] == [
        (f"{day:%a %d %b %Y}", "Day", "07:00–15:00", nurse["department_name"], "")
    ]
    # Ten hours from 20:00 (06:00, or an hour off on a night the clocks change).
    night_end = (datetime.combine(night, time(20), zone) + timedelta(hours=10)).astimezone(zone)
    assert weeks[night_week] == [
        (
            f"{night:%a %d %b %Y}",
            "Night",
            f"20:00–{night_end:%H:%M} (+1 day)",
            nurse["department_name"],
            "",
        )
    ]
    assert my_work.shifts.tree.topLevelItem(0).text(1) == "1 shift(s)"
    tree = my_work.shifts.tree
    assert all(tree.columnWidth(c) >= tree.sizeHintForColumn(c) for c in range(4))
    assert str(zone.key) in my_work.shifts.range_label.text()
    assert not my_work.shifts.empty.isVisible()


def test_leave_dialog_names_shifts_checks_dates_and_shows_the_overlap_refusal(
    qtbot: Any, my_work: MyWorkWorkspace, nurse_scene: dict[str, Any]
):
    leave = my_work.show_tab("leave")
    assert leave.model.rowCount() == 0 and leave.empty.isVisible()
    today = nurse_scene["today"]
    dialog = leave.request_leave()
    qdate = dialog.starts.date()
    # A last day before the first is caught before anything is sent.
    dialog.ends.setDate(qdate.addDays(-1))
    assert dialog.dates_error.isVisible() and not dialog.ok_button.isEnabled()
    # Days that hold a rostered shift: the dialog says which; the request may still go.
    first = today + timedelta(days=1)
    dialog.starts.setDate(dialog.starts.date().fromString(first.isoformat(), "yyyy-MM-dd"))
    last = today + timedelta(days=3)
    dialog.ends.setDate(dialog.ends.date().fromString(last.isoformat(), "yyyy-MM-dd"))
    assert dialog.ok_button.isEnabled()
    assert "rostered for 1 shift(s)" in dialog.on_shift.text()
    assert "Day 07:00–15:00" in dialog.on_shift.text()
    dialog.kind.setCurrentIndex(dialog.kind.findData("annual"))
    dialog.reason.setPlainText("Family visit")
    dialog.submit()
    qtbot.waitUntil(lambda: leave.busy == 0 and leave.model.rowCount() == 1, timeout=20000)
    assert not qt_object_alive(dialog) or not dialog.isVisible()  # closed on success
    row = leave.model.row_item(0)
    assert (row.kind, row.starts_on, row.ends_on, row.status) == ("annual", first, last, "pending")
    assert leave.model.data(leave.model.index(0, 4)) == "○ Pending"
    # The same days again: the server refuses and the dialog, still open, says why.
    again = leave.request_leave()
    again.starts.setDate(again.starts.date().fromString(last.isoformat(), "yyyy-MM-dd"))
    again.ends.setDate(again.ends.date().fromString(last.isoformat(), "yyyy-MM-dd"))
    again.kind.setCurrentIndex(again.kind.findData("study"))
    again.submit()
    qtbot.waitUntil(lambda: leave.busy == 0 and again.problem.isVisible(), timeout=20000)
    assert again.isVisible()
    assert again.problem.code.text() == "leave_overlap"
    assert "You already have leave in those days" in again.problem.text()
    assert f"Annual leave {first:%a %d %b %Y} – {last:%a %d %b %Y} (pending)" in (
        again.problem.text()
    )
    assert again.ok_button.isEnabled()
    again.reject()
    assert leave.model.rowCount() == 1


def test_my_final_payslip_prints_and_no_one_elses_is_listed(
    qtbot: Any, my_work: MyWorkWorkspace, nurse_scene: dict[str, Any]
):
    payslips = my_work.show_tab("payslips")
    month = nurse_scene["month"]
    row = payslips.model.find_row(lambda s: s.period == f"{month:%Y-%m}")
    assert row >= 0
    assert {s.staff_id for s in payslips.model.rows} == {nurse_scene["nurse"]["id"]}
    payslips.table.selectRow(row)
    assert payslips.figures["period"].text() == month.strftime("%B %Y")
    assert payslips.figures["net"].text() != ""
    payslips.print_selected()
    qtbot.waitUntil(lambda: payslips.preview is not None, timeout=20000)
    pdf = payslips.preview.pdf
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    assert nurse_scene["nurse"]["full_name"] in text
    assert nurse_scene["colleague"]["full_name"] not in text
    assert "Payslip" in text and "Net pay" in text and month.strftime("%B %Y") in text
    assert "DRAFT" not in text
    payslips.preview.reject()


def test_my_finalised_review_reads_in_full(my_work: MyWorkWorkspace):
    reviews = my_work.show_tab("reviews")
    assert reviews.model.rowCount() == 1
    assert reviews.model.data(reviews.model.index(0, 1)) == "★★★★☆ 4/5"
    text = reviews.text.toPlainText()
    assert "Calm on nights." in text and "Lead the sepsis audit." in text


def test_a_sign_in_without_a_staff_record_is_told_to_ask_hr(
    qtbot: Any, tasks: Any, live_server: Any, make_user: Any
):
    api = _signed_in(live_server, make_user("pharmacist")[0])
    try:
        widget = _workspace(qtbot, tasks, api)
        assert widget.linked is False
        assert widget.pages.currentWidget() is widget.not_linked_page
        assert "ask" in widget.not_linked_label.text().lower()
        assert "HR" in widget.not_linked_label.text()
        assert not widget.problem.isVisible()
        assert widget.screenshot_views() == []
    finally:
        tasks.wait_for_done(5000)
        api.close()


def test_hr_links_and_unlinks_a_sign_in_from_the_directory(
    qtbot: Any,
    monkeypatch: Any,
    tasks: Any,
    live_server: Any,
    client: Any,
    headers_for: Any,
    make_user: Any,
):
    dept = new_department(client, headers_for)
    tag = uuid.uuid4().hex[:6]
    person = new_staff(client, headers_for, dept, name=f"Linkme {tag}")
    username = make_user("doctor", username=f"lnk_{tag}")[0]
    api = _signed_in(live_server, make_user("hr_officer")[0])
    context = WorkspaceContext(api=api, tasks=tasks, me=api.me())
    staff = StaffWorkspace(context)
    qtbot.addWidget(staff)
    staff.resize(1280, 800)
    staff.show()
    try:
        qtbot.waitUntil(lambda: staff.ready, timeout=20000)
        directory = staff.directory
        directory.search.setText(f"Linkme {tag}")
        qtbot.waitUntil(lambda: directory.model.total == 1, timeout=20000)
        directory.table.selectRow(0)
        editor = directory.editor
        assert editor.username.text() == "not linked"
        assert editor.link_button.isVisible() and not editor.unlink_button.isVisible()
        dialog = directory.link_sign_in()
        dialog.search.setText(username)
        dialog.reload()
        qtbot.waitUntil(lambda: dialog.busy == 0 and dialog.model.rowCount() == 1, timeout=20000)
        assert dialog.select_username(username) and dialog.ok_button.isEnabled()
        dialog.accept()
        qtbot.waitUntil(
            lambda: directory.busy == 0 and editor.username.text() == username, timeout=20000
        )
        assert editor.unlink_button.isVisible() and editor.link_button.text() == "Change…"
        linked = client.get(f"/api/v1/staff/{person['id']}", headers=headers_for("hr_officer"))
        assert linked.json()["username"] == username
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
        directory.unlink_sign_in()
        qtbot.waitUntil(
            lambda: directory.busy == 0 and editor.username.text() == "not linked", timeout=20000
        )
        after = client.get(f"/api/v1/staff/{person['id']}", headers=headers_for("hr_officer"))
        assert after.json()["user_id"] is None
    finally:
        context.close()
        tasks.wait_for_done(5000)
        api.close()
