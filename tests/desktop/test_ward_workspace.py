"""The ward workspace against the real server and PostgreSQL: a nurse assigned to a ward
sees the bed board (status word on every tile, patients, alerts), opens a patient, records
a dose through the scan form (and is refused another patient's wristband), records vitals,
transfers by dragging a tile; printing builds real PDFs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader

from hms_desktop.api.client import ApiClient
from hms_desktop.api.wards import WardsApi
from hms_desktop.models.ward import BED_MIME
from hms_desktop.qt import QMessageBox, QMimeData, Qt
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.ward import printing_actions
from hms_desktop.workspaces.ward.workspace import WardWorkspace
from tests.conftest import TEST_PASSWORD
from tests.server.api.clinical_factories import drug_id, rx_item
from tests.server.api.test_wards_mar import FakeResolver
from tests.server.api.ward_factories import admit, new_patient, new_ward, ward_nurse


@pytest.fixture
def ward_scene(app, client, make_user, login, headers_for):
    """A ward of four beds: two patients (one allergic, with spironolactone due in ten
    minutes), one free bed, one waiting to be cleaned; a nurse on the ward."""
    ports = app.state.runtime.ports
    previous, ports.medication_codes = ports.medication_codes, FakeResolver()
    ward = new_ward(client, headers_for, beds=4)
    nurse = ward_nurse(client, make_user, login, headers_for, ward)
    doctor = headers_for("doctor")
    first, second, third = (new_patient(client, headers_for) for _ in range(3))
    one = admit(client, doctor, first["id"], ward.bed_ids[0])
    r = client.post(
        f"/api/v1/patients/{first['id']}/allergies",
        json={"substance": "Penicillin", "severity": "severe"},
        headers=doctor,
    )
    assert r.status_code == 201, r.text
    admit(client, doctor, second["id"], ward.bed_ids[1])
    moved = admit(client, doctor, third["id"], ward.bed_ids[3])
    client.post(
        f"/api/v1/admissions/{moved['id']}/cancel",
        json={"reason": "Wrong bed chosen"},
        headers=doctor,
    )
    client.post(
        f"/api/v1/beds/{ward.bed_ids[3]}/status", json={"status": "cleaning"}, headers=nurse.headers
    )
    drug = drug_id(client, doctor, "Spironolactone")
    client.post(
        "/api/v1/prescriptions",
        headers=doctor,
        json={
            "patient_id": first["id"],
            "items": [rx_item(drug, dose=25, unit="mg", frequency="once daily")],
        },
    )
    order = client.get(f"/api/v1/admissions/{one['id']}/mar", headers=doctor).json()["orders"][0]
    soon = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%H:%M")
    client.patch(
        f"/api/v1/medication-orders/{order['id']}",
        headers=doctor,
        json={"version": order["version"], "schedule_times": [soon]},
    )
    yield {
        "ward": ward,
        "nurse": nurse,
        "first": first,
        "second": second,
        "drug": drug,
        "admission": one,
    }
    ports.medication_codes = previous


@pytest.fixture
def workspace(qtbot, tasks, live_server, ward_scene):
    nurse = ward_scene["nurse"]
    api = ApiClient(live_server.url, workstation="WARD-TEST")
    api.login(nurse.username, TEST_PASSWORD)
    context = WorkspaceContext(api=api, tasks=tasks, me=api.me())
    widget = WardWorkspace(context)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitUntil(lambda: len(widget.board_model.beds) == 4, timeout=20000)
    yield widget
    context.close()
    tasks.wait_for_done(5000)
    api.close()


def test_the_board_shows_every_bed_with_its_status_and_patient(workspace, ward_scene):
    model = workspace.board_model
    by_id = {b.id: b for b in model.beds}
    ward = ward_scene["ward"]
    assert workspace.ward_id == ward.id  # the nurse's own ward comes first
    assert [by_id[b].status for b in ward.bed_ids] == ["occupied", "occupied", "free", "cleaning"]
    occupied = by_id[ward.bed_ids[0]]
    assert occupied.patient_name and occupied.alerts is not None
    assert occupied.alerts.allergy is True
    text = model.data(model.index(0), Qt.ItemDataRole.AccessibleTextRole)
    assert "Occupied" in text and occupied.patient_name in text and "Allergy" in text
    assert "1 occupied" not in workspace.summary_label.text()
    assert "2 occupied" in workspace.summary_label.text()


def test_recording_a_dose_with_the_scan_form(qtbot, workspace, ward_scene):
    workspace.select_bed(ward_scene["ward"].bed_ids[0])
    mar = workspace.patient_panel.mar
    qtbot.waitUntil(lambda: mar.model.rowCount() >= 1, timeout=20000)
    assert mar.table.currentIndex().isValid()  # the due dose is preselected
    # Another patient's wristband: refused, nothing recorded.
    mar.patient_scan.setText(ward_scene["second"]["mrn"])
    mar.medication_scan.setText(f"GTIN-{ward_scene['drug']}")
    mar.record()
    qtbot.waitUntil(
        lambda: mar.problem.isVisible() and "wrong_patient" in mar.problem.code.text(),
        timeout=20000,
    )
    assert mar.model.dose_at(0).status == "scheduled"
    mar.patient_scan.setText(ward_scene["first"]["mrn"])
    mar.record()
    qtbot.waitUntil(
        lambda: mar.model.rowCount() >= 1 and mar.model.dose_at(0).status == "given", timeout=20000
    )
    assert "Given" in mar.model.data(mar.model.index(0, 4))


def test_vitals_entry_shows_in_the_grid(qtbot, workspace, ward_scene):
    workspace.select_bed(ward_scene["ward"].bed_ids[1])
    vitals = workspace.patient_panel.vitals
    qtbot.waitUntil(lambda: vitals.admission is not None, timeout=20000)
    vitals.heart_rate.setValue(118)
    vitals.spo2.setValue(93)
    vitals.save()
    qtbot.waitUntil(lambda: vitals.model.rowCount() == 1, timeout=20000)
    row = vitals.model.rows[0]
    assert row.heart_rate_bpm == 118 and row.news2 is not None


def test_dragging_a_patient_onto_a_free_bed_transfers_them(
    qtbot, monkeypatch, workspace, ward_scene
):
    ward = ward_scene["ward"]
    model = workspace.board_model
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    source = model.index(model.row_of_bed(ward.bed_ids[1]))
    target = model.index(model.row_of_bed(ward.bed_ids[2]))
    mime: QMimeData = model.mimeData([source])
    assert mime.hasFormat(BED_MIME)
    # A drop on an occupied or dirty bed is refused by the model itself.
    assert not model.canDropMimeData(
        mime, 2, -1, -1, model.index(model.row_of_bed(ward.bed_ids[3]))
    )
    model.dropMimeData(mime, 2, -1, -1, target)
    qtbot.waitUntil(
        lambda: {b.id: b.status for b in model.beds}.get(ward.bed_ids[1]) == "cleaning",
        timeout=20000,
    )
    assert {b.id: b.patient_id for b in model.beds}[ward.bed_ids[2]] == ward_scene["second"]["id"]


def test_wristband_and_handover_pdfs(live_server, ward_scene):
    nurse = ward_scene["nurse"]
    api = ApiClient(live_server.url, workstation="WARD-TEST")
    api.login(nurse.username, TEST_PASSWORD)
    try:
        wards = WardsApi(api)
        band = PdfReader(BytesIO(printing_actions.wristband_pdf(wards, ward_scene["first"]["id"])))
        text = band.pages[0].extract_text()
        assert ward_scene["first"]["mrn"] in text and "ALLERGY: Penicillin" in text
        a4 = PdfReader(
            BytesIO(printing_actions.wristband_pdf(wards, ward_scene["first"]["id"], a4=True))
        )
        assert round(float(a4.pages[0].mediabox.width)) == 595
        pdf, report = printing_actions.handover_pdf(wards, ward_scene["ward"].id)
        handover = PdfReader(BytesIO(pdf))
        text = "".join(p.extract_text() for p in handover.pages)
        assert f"Shift handover — {report.ward_name}" in text
        assert ward_scene["first"]["mrn"] in text and "Penicillin" in text
    finally:
        api.close()


def test_the_nurses_screenshot_tour_shows_the_populated_ward(
    qapp, live_server, ward_scene, tmp_path
):
    from hms_desktop.screenshot_tour import run_screenshot_tour

    messages: list[str] = []
    code = run_screenshot_tour(
        live_server.url, ward_scene["nurse"].username, TEST_PASSWORD, tmp_path, log=messages.append
    )
    assert code == 0, messages
    shot = tmp_path / "ward.png"
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
