"""The pharmacy workspace against the real server (uvicorn + PostgreSQL): the live queue,
the dispensing dialog's checks and scan verdicts, label printing with preview, stock
look-up with a batch action, alerts, and the pharmacist's screenshot tour."""

from __future__ import annotations

import uuid

import pytest

from hms_desktop.api.client import ApiClient
from hms_desktop.api.pharmacy import DispensingConflictError, PharmacyApi, dispense_request
from hms_desktop.qt import QApplication, Qt
from hms_desktop.screenshot_tour import run_screenshot_tour
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.print_preview import PrintPreviewDialog
from hms_desktop.widgets.record_table import column_is_whole
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.pharmacy.dispense_dialog import COL_PICKS, COL_SCAN
from hms_desktop.workspaces.pharmacy.workspace import PharmacyWorkspace
from tests.server.api.pharmacy_factories import (
    Pharmacy,
    drug_id,
    gs1,
    gtin13,
    new_clinician,
    patient_with_doctor,
    prescribe,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def setup(client, make_user, login):
    """A pharmacist (credentials for the desktop), a private pharmacy with two lots of a
    paracetamol item carrying a GTIN, and a doctor."""
    username, password = make_user("pharmacist")[:2]
    headers = login(username, password)
    code = "DP" + uuid.uuid4().hex[:8].upper()
    location = client.post(
        "/api/v1/locations",
        headers=headers,
        json={
            "code": code,
            "name": f"Desk pharmacy {code}",
            "kind": "pharmacy",
            "dispensing": True,
        },
    ).json()
    pharmacy = Pharmacy(client, headers, location["id"])
    doctor = new_clinician(client, make_user, login)
    para = drug_id(client, doctor.headers, "paracetamol")
    gtin = gtin13()
    item = pharmacy.item(para, packs=[{"name": "box", "base_quantity": 20, "gtin": gtin}])
    pharmacy.receive(item["id"], 30, lot="SOON" + code[-4:], expiry_days=60)
    pharmacy.receive(item["id"], 30, lot="LATE" + code[-4:], expiry_days=500)
    return {
        "username": username,
        "password": password,
        "pharmacy": pharmacy,
        "doctor": doctor,
        "drug": para,
        "item": item,
        "gtin": gtin,
        "code": code,
    }


@pytest.fixture
def workspace(qtbot, live_server, setup):
    api = ApiClient(live_server.url, workstation="PHARMACY-TEST")
    api.login(setup["username"], setup["password"])
    tasks = TaskRunner()
    context = WorkspaceContext(api=api, tasks=tasks, me=api.me())
    widget = PharmacyWorkspace(context)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    yield widget
    context.close()
    tasks.wait_for_done(5000)
    api.close()


def _choose_location(tab, location_id: int) -> None:
    index = tab.location_combo.findData(location_id)
    assert index >= 0
    tab.location_combo.setCurrentIndex(index)


def test_dispensing_with_scan_checks_and_label_preview(
    qtbot, client, headers_for, setup, workspace
):
    doctor = setup["doctor"]
    rx = prescribe(
        client, doctor, patient_with_doctor(client, headers_for, doctor), setup["drug"], quantity=10
    )
    tab = workspace.dispensing
    qtbot.waitUntil(lambda: tab.location_combo.count() > 0, timeout=10000)
    tab.search_edit.setText(rx["number"])
    qtbot.waitUntil(
        lambda: tab.model.rowCount() == 1 and tab.model.row_item(0).prescription_id == rx["id"],
        timeout=10000,
    )
    tab.table.selectRow(0)
    assert tab.items_model.row_item(0).owed == 10
    _choose_location(tab, setup["pharmacy"].location_id)

    dialog = tab.open_dispense()
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10000)
    assert dialog.table.item(0, COL_PICKS).text().startswith("SOON")
    assert dialog.dispense_button.isEnabled()
    # The late lot is not the picked batch: refused, and dispensing is blocked.
    dialog.scan_edit.setText(gs1(setup["gtin"], "LATE" + setup["code"][-4:]))
    dialog.scan_edit.returnPressed.emit()
    qtbot.waitUntil(lambda: dialog.table.item(0, COL_SCAN).text().startswith("✗"), timeout=10000)
    assert "SOON" in dialog.table.item(0, COL_SCAN).text()
    assert not dialog.dispense_button.isEnabled()
    dialog.table.selectRow(0)
    dialog.scan_edit.setText(gs1(setup["gtin"], "SOON" + setup["code"][-4:]))
    dialog.scan_edit.returnPressed.emit()
    qtbot.waitUntil(lambda: dialog.table.item(0, COL_SCAN).text().startswith("✓"), timeout=10000)
    qtbot.waitUntil(dialog.dispense_button.isEnabled, timeout=15000)
    dialog.dispense()
    qtbot.waitUntil(lambda: tab.history_model.rowCount() == 1, timeout=10000)
    _dispense, line = tab.history_model.row_item(0)
    assert line.lot.startswith("SOON") and line.quantity == 10
    # Printing always goes through the preview, with one 70 x 36 mm label.
    qtbot.waitUntil(
        lambda: any(
            isinstance(w, PrintPreviewDialog) and w.page_count == 1
            for w in QApplication.topLevelWidgets()
        ),
        timeout=15000,
    )
    preview = next(w for w in QApplication.topLevelWidgets() if isinstance(w, PrintPreviewDialog))
    assert preview.file_name == "dispensing-labels.pdf"
    preview.reject()
    # Dispensed in full: it leaves the queue.
    qtbot.waitUntil(lambda: tab.model.rowCount() == 0, timeout=10000)


def test_queue_and_detail_show_medicine_names_whole_at_1280x800(
    qtbot, client, headers_for, setup, workspace
):
    """The demo showed "Atorvastatin …" in the queue and the detail, and a horizontal
    scroll bar under the queue; every column now fits its text at the default window."""
    doctor = setup["doctor"]
    pid = patient_with_doctor(client, headers_for, doctor)
    atorvastatin = drug_id(client, doctor.headers, "atorvastatin")
    levothyroxine = drug_id(client, doctor.headers, "levothyroxine")
    rx = prescribe(client, doctor, pid, atorvastatin, levothyroxine, quantity=180)
    tab = workspace.dispensing
    tab.search_edit.setText(rx["number"])
    qtbot.waitUntil(
        lambda: [e.prescription_id for e in tab.model.rows] == [rx["id"]], timeout=10000
    )
    row = 0
    owed = tab.model.index(row, 4)
    # Two medicines owed: the first whole and how many more; every one in the tooltip.
    assert tab.model.data(owed) == "Atorvastatin 180 +1 more"
    assert tab.model.data(owed, Qt.ItemDataRole.ToolTipRole).splitlines() == [
        "Atorvastatin 180",
        "Levothyroxine 180",
    ]
    tab.table.selectRow(row)
    qtbot.waitUntil(lambda: tab.items_model.rowCount() == 2, timeout=15000)
    medicine = tab.items_model.data(tab.items_model.index(0, 0))
    assert medicine.startswith("Atorvastatin")

    def whole(table) -> bool:
        header = table.horizontalHeader()
        return all(
            column_is_whole(table, c)
            and header.sectionViewportPosition(c) + table.columnWidth(c) <= table.viewport().width()
            for c in range(header.count())
        )

    # The workspace's share of the default 1280 × 800 window (the navigation rail takes the
    # rest); a top-level widget is never made smaller than its minimum size.
    workspace.resize(1090, 740)
    # Widths follow the rows a moment after they arrive (coalesced on the event loop).
    qtbot.waitUntil(
        lambda: workspace.width() <= 1090 and whole(tab.table) and whole(tab.items_table),
        timeout=15000,
    )
    assert not tab.table.horizontalScrollBar().isVisible()
    assert not tab.items_table.horizontalScrollBar().isVisible()


def test_new_prescriptions_appear_without_refresh(qtbot, client, headers_for, setup, workspace):
    tab = workspace.dispensing
    qtbot.waitUntil(lambda: tab.count_label.text() != "", timeout=10000)
    before = {e.prescription_id for e in tab.model.rows}
    doctor = setup["doctor"]
    rx = prescribe(
        client, doctor, patient_with_doctor(client, headers_for, doctor), setup["drug"], quantity=4
    )
    assert rx["id"] not in before
    qtbot.waitUntil(lambda: rx["id"] in {e.prescription_id for e in tab.model.rows}, timeout=20000)


def test_safety_conflict_needs_an_override_reason(qtbot, client, headers_for, setup, workspace):
    doctor = setup["doctor"]
    pid = patient_with_doctor(client, headers_for, doctor)
    rx = prescribe(client, doctor, pid, setup["drug"], quantity=2)
    prescribe(
        client,
        doctor,
        pid,
        setup["drug"],
        quantity=2,
        override_reason="Second script on purpose (test)",
    )
    tab = workspace.dispensing
    tab.search_edit.setText(rx["number"])
    qtbot.waitUntil(
        lambda: (
            tab.model.rowCount() == 1
            and tab.location_combo.count() > 0
            and tab.model.row_item(0).prescription_id == rx["id"]
        ),
        timeout=10000,
    )
    tab.table.selectRow(0)
    _choose_location(tab, setup["pharmacy"].location_id)
    dialog = tab.open_dispense()
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10000)
    assert [c.type for c in dialog.preview.conflicts] == ["duplicate_therapy"]
    assert "duplicate therapy" in dialog.safety.text()
    assert dialog.override_edit.isVisible() and not dialog.dispense_button.isEnabled()
    dialog.override_edit.setPlainText("Prescriber confirmed by phone: cancel the other")
    assert dialog.dispense_button.isEnabled()
    dialog.print_check.setChecked(False)
    dialog.dispense()
    qtbot.waitUntil(lambda: tab.history_model.rowCount() == 1, timeout=10000)


def test_stock_lookup_and_quarantine(qtbot, setup, workspace):
    workspace.tabs.setCurrentWidget(workspace.stock)
    tab = workspace.stock
    qtbot.waitUntil(lambda: tab.location_combo.count() > 0, timeout=10000)
    _choose_location(tab, setup["pharmacy"].location_id)
    tab.search_edit.setText(setup["item"]["name"])
    tab.apply_search()
    qtbot.waitUntil(lambda: tab.summary.rowCount() == 1, timeout=10000)
    assert tab.summary.row_item(0).available == 60
    tab.summary_table.selectRow(0)
    qtbot.waitUntil(
        lambda: tab.batches.rowCount() == 2 and tab.chart.point_count() == 26, timeout=10000
    )
    tab.batch_table.selectRow(0)
    dialog = tab.batch_action("quarantine")
    dialog.reason_edit.setPlainText("Carton arrived wet")
    dialog.submit()
    qtbot.waitUntil(
        lambda: tab.batches.rowCount() == 2 and tab.batches.row_item(0).status == "quarantined",
        timeout=10000,
    )
    assert not tab.buttons["quarantine"].isEnabled() or tab.selected_batch() is None


def test_typed_api_raises_typed_problems(live_server, client, headers_for, setup):
    api = ApiClient(live_server.url, workstation="PHARMACY-TEST")
    api.login(setup["username"], setup["password"])
    try:
        pharmacy = PharmacyApi(api)
        doctor = setup["doctor"]
        pid = patient_with_doctor(client, headers_for, doctor)
        client.post(
            f"/api/v1/patients/{pid}/allergies",
            headers=doctor.headers,
            json={"substance": "paracetamol", "severity": "moderate"},
        )
        rx = prescribe(
            client,
            doctor,
            pid,
            setup["drug"],
            quantity=1,
            override_reason="Test: known reaction is mild",
        )
        with pytest.raises(DispensingConflictError) as conflict:
            pharmacy.dispense(
                dispense_request(
                    rx["id"], setup["pharmacy"].location_id, [(rx["items"][0]["id"], 1, None)]
                )
            )
        assert conflict.value.code == "allergy_conflict"
        assert conflict.value.conflicts[0]["type"] == "allergy_conflict"
        locations = pharmacy.locations()
        assert setup["pharmacy"].location_id in [loc.id for loc in locations]
        page = pharmacy.stock(item_id=setup["item"]["id"])
        assert page.total == 2 and page.items[0].lot.startswith("SOON")
    finally:
        api.close()


def test_the_pharmacists_screenshot_tour_shows_the_workspace(qapp, live_server, setup, tmp_path):
    messages: list[str] = []
    code = run_screenshot_tour(
        live_server.url, setup["username"], setup["password"], tmp_path, log=messages.append
    )
    assert code == 0, messages
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "login.png",
        "my_work.png",
        "pharmacy.png",
    ]
    assert (tmp_path / "pharmacy.png").stat().st_size > 30_000
