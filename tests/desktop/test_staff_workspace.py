"""The staff workspace against the real server and PostgreSQL, driven through its widgets:
the directory pages and saves a record, the roster grid shows a week and lists a refused
shift's clash, leave is approved from the list, payroll runs a month and its payslip prints
(real PDF read back with pypdf), a review is written and finalised."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader

from hms_desktop.api.client import ApiClient
from hms_desktop.qt import QMessageBox
from hms_desktop.widgets.record_table import column_is_whole
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.staff.roster_tab import monday_of
from hms_desktop.workspaces.staff.workspace import StaffWorkspace
from tests.conftest import TEST_PASSWORD
from tests.server.api.staff_factories import new_department, new_staff


@pytest.fixture
def hr_scene(client: Any, headers_for: Any, make_user: Any) -> dict[str, Any]:
    dept = new_department(client, headers_for)
    tag = uuid.uuid4().hex[:6]
    people = [
        new_staff(client, headers_for, dept, name=f"Roster {tag} {name}", hire_date="1919-01-01")
        for name in ("Ada", "Ben", "Cleo")
    ]
    username = make_user("hr_officer")[0]
    return {"dept": dept, "tag": tag, "people": people, "username": username}


@pytest.fixture
def workspace(qtbot: Any, tasks: Any, live_server: Any, hr_scene: dict[str, Any]):
    api = ApiClient(live_server.url, workstation="HR-TEST")
    api.login(hr_scene["username"], TEST_PASSWORD)
    context = WorkspaceContext(api=api, tasks=tasks, me=api.me())
    widget = StaffWorkspace(context)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitUntil(lambda: widget.ready, timeout=20000)
    yield widget
    context.close()
    tasks.wait_for_done(5000)
    api.close()


def _idle(tab: Any) -> bool:
    return tab.busy == 0


def test_directory_finds_and_saves_a_record(qtbot: Any, workspace: StaffWorkspace, hr_scene: Any):
    directory = workspace.directory
    qtbot.waitUntil(lambda: directory.model.rowCount() > 0, timeout=20000)
    directory.search.setText(f"Roster {hr_scene['tag']}")
    qtbot.waitUntil(lambda: directory.model.total == 3, timeout=20000)
    # Names and employee numbers are never elided.
    qtbot.waitUntil(lambda: column_is_whole(directory.table, 1), timeout=15000)
    assert column_is_whole(directory.table, 0)
    directory.table.selectRow(1)
    editor = directory.editor
    assert editor.full_name.text() == f"Roster {hr_scene['tag']} Ben"
    assert editor.salary.text() == "3000.00"
    editor.grade.setText("B7")
    directory.save()
    qtbot.waitUntil(lambda: _idle(directory) and editor.record.grade == "B7", timeout=20000)
    assert directory.model.row_item(1).grade == "B7"
    assert not directory.problem.isVisible()


def test_roster_grid_shows_the_week_and_lists_a_clash(
    qtbot: Any, workspace: StaffWorkspace, hr_scene: Any, client: Any, headers_for: Any
):
    ada = hr_scene["people"][0]
    monday = monday_of(datetime.now(UTC).date()) + timedelta(days=21)
    start = datetime(monday.year, monday.month, monday.day, 20, tzinfo=UTC)
    night = client.post(
        "/api/v1/shifts",
        json={
            "staff_id": ada["id"],
            "department_id": hr_scene["dept"],
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=10)).isoformat(),
            "kind": "night",
        },
        headers=headers_for("hr_officer"),
    )
    assert night.status_code == 201, night.text
    roster = workspace.show_tab("roster")
    qtbot.waitUntil(lambda: roster.unit.count() > 0, timeout=20000)
    roster.select_unit("department", hr_scene["dept"])
    roster.week.setDate(roster.week.date().fromString(monday.isoformat(), "yyyy-MM-dd"))
    qtbot.waitUntil(lambda: _idle(roster) and roster.model.rowCount() == 1, timeout=20000)
    cell = roster.model.data(roster.model.index(0, 1))
    assert cell == "Night\n20:00–06:00"
    assert roster.model.data(roster.model.index(0, 0)) == ada["full_name"]
    # An overlapping evening shift is refused and the night shift is named.
    roster.submit_shift(
        {
            "staff_id": ada["id"],
            "department_id": hr_scene["dept"],
            "starts_at": start + timedelta(hours=2),
            "ends_at": start + timedelta(hours=8),
            "kind": "evening",
        }
    )
    qtbot.waitUntil(lambda: roster.problem.isVisible(), timeout=20000)
    assert roster.problem.code.text() == "shift_overlap"
    assert "Night 20:00" in roster.problem.text()


def test_leave_is_approved_from_the_list(
    qtbot: Any, workspace: StaffWorkspace, hr_scene: Any, client: Any, headers_for: Any
):
    ben = hr_scene["people"][1]
    r = client.post(
        "/api/v1/leave-requests",
        json={
            "staff_id": ben["id"],
            "kind": "annual",
            "starts_on": "2032-08-02",
            "ends_on": "2032-08-06",
        },
        headers=headers_for("manager"),
    )
    assert r.status_code == 201, r.text
    leave = workspace.show_tab("leave")
    qtbot.waitUntil(
        lambda: _idle(leave) and leave.model.find_row(lambda x: x.id == r.json()["id"]) >= 0,
        timeout=20000,
    )
    leave.select_leave(r.json()["id"])
    leave.note.setText("Approved, enjoy")
    leave.decide("approve")
    qtbot.waitUntil(
        lambda: _idle(leave) and leave.model.find_row(lambda x: x.id == r.json()["id"]) < 0,
        timeout=20000,
    )
    done = client.get(
        "/api/v1/leave-requests", params={"staff_id": ben["id"]}, headers=headers_for("manager")
    ).json()["items"][0]
    assert done["status"] == "approved" and done["decision_note"] == "Approved, enjoy"


def test_payroll_runs_a_month_and_prints_a_payslip(
    qtbot: Any, monkeypatch: Any, workspace: StaffWorkspace, hr_scene: Any
):
    payroll = workspace.show_tab("payroll")
    qtbot.waitUntil(lambda: _idle(payroll), timeout=20000)
    # A month before 1950 (the API tests use 1960-2015): one pay run per month.
    month = date(1920 + uuid.uuid4().int % 29, 1 + uuid.uuid4().int % 12, 1)
    payroll.month.setDate(payroll.month.date().fromString(month.isoformat(), "yyyy-MM-dd"))
    payroll.run_payroll()
    # Wait for this month's run (the list may open on another test's run with payslips).
    qtbot.waitUntil(
        lambda: (
            _idle(payroll)
            and payroll.slips.rowCount() >= 3
            and payroll.selected_run() is not None
            and payroll.selected_run().period == f"{month:%Y-%m}"
        ),
        timeout=20000,
    )
    run = payroll.selected_run()
    assert run.status == "draft" and run.period == f"{month:%Y-%m}"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    payroll.finalise()
    qtbot.waitUntil(
        lambda: (
            _idle(payroll)
            and payroll.selected_run() is not None
            and payroll.selected_run().status == "final"
        ),
        timeout=20000,
    )
    qtbot.waitUntil(lambda: payroll.slips.rowCount() >= 3, timeout=20000)
    row = payroll.slips.find_row(lambda s: s.full_name == hr_scene["people"][2]["full_name"])
    payroll.slips_table.selectRow(row)
    payroll.print_selected()
    qtbot.waitUntil(lambda: payroll.preview is not None, timeout=20000)
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(payroll.preview.pdf)).pages)
    assert hr_scene["people"][2]["full_name"] in text
    assert "Net pay" in text and "Payslip" in text
    assert month.strftime("%B %Y") in text
    assert "DRAFT" not in text
    payroll.preview.reject()


def test_a_review_is_written_and_finalised(qtbot: Any, workspace: StaffWorkspace, hr_scene: Any):
    reviews = workspace.show_tab("reviews")
    qtbot.waitUntil(lambda: _idle(reviews), timeout=20000)
    cleo = hr_scene["people"][2]
    reviews.new_review()
    reviews.person.setCurrentIndex(reviews.person.findData(cleo["id"]))
    reviews.rating.setValue(5)
    reviews.strengths.setPlainText("Mentors new starters.")
    reviews.goals.setPlainText("Lead the audit of handovers.")
    reviews.save()
    qtbot.waitUntil(lambda: _idle(reviews) and reviews.review is not None, timeout=20000)
    assert reviews.review.staff_id == cleo["id"] and reviews.review.status == "draft"
    reviews.finalise()
    qtbot.waitUntil(
        lambda: _idle(reviews) and reviews.review is not None and reviews.review.status == "final",
        timeout=20000,
    )
    assert not reviews.save_button.isEnabled()


def test_hr_files_leave_for_someone_and_bad_rates_are_refused(
    qtbot: Any, workspace: StaffWorkspace, hr_scene: Any, client: Any, headers_for: Any
):
    leave = workspace.show_tab("leave")
    qtbot.waitUntil(lambda: _idle(leave), timeout=20000)
    cleo = hr_scene["people"][2]
    leave.submit_leave(
        {
            "staff_id": cleo["id"],
            "kind": "sick",
            "starts_on": date(2033, 3, 1),
            "ends_on": date(2033, 3, 2),
            "reason": "Phoned in",
        }
    )
    qtbot.waitUntil(
        lambda: _idle(leave) and leave.model.find_row(lambda x: x.staff_id == cleo["id"]) >= 0,
        timeout=20000,
    )
    row = leave.model.row_item(leave.model.find_row(lambda x: x.staff_id == cleo["id"]))
    assert (row.kind, row.days, row.status) == ("sick", 2, "pending")
    payroll = workspace.show_tab("payroll")
    qtbot.waitUntil(lambda: _idle(payroll), timeout=20000)
    before = client.get("/api/v1/payroll/settings", headers=headers_for("hr_officer")).json()
    payroll.save_rates(
        {
            "version": before["version"],
            "night_shift_allowance": before["night_shift_allowance"],
            "income_tax_percent": "150",
            "pension_percent": before["pension_percent"],
        }
    )
    qtbot.waitUntil(lambda: payroll.problem.isVisible(), timeout=20000)
    assert payroll.problem.code.text() == "validation_error"
    after = client.get("/api/v1/payroll/settings", headers=headers_for("hr_officer")).json()
    assert after == before
