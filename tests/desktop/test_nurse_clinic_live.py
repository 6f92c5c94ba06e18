"""The outpatient nurse's clinical workspace against the real server (issue 12): assigned to
a clinic, her today list shows that clinic's checked-in patients, and their charts open."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hms_desktop.api.client import ApiClient
from hms_desktop.workspaces import WorkspaceContext
from hms_server.adapters.uow import Actor
from hms_server.services import appointments, queue
from tests.server.api.clinical_factories import give_clinic, new_clinician, new_patient
from tests.wiring import wired_uow


def test_nurse_today_list_shows_her_clinics_checked_in_patients(
    qtbot, tasks, live_server, client, db, settings, make_user, login, headers_for
):
    from hms_desktop.workspaces.clinical import create_workspace

    doctor = new_clinician(client, make_user, login)
    give_clinic(client, headers_for, doctor)
    patient = new_patient(client, headers_for)
    tz = ZoneInfo(settings.hospital_timezone)
    morning = datetime.combine(datetime.now(tz).date(), time(0, 0), tzinfo=tz)
    factory = db.owner_session_factory()
    booked = appointments.book_appointment(
        wired_uow(factory, Actor.system("tests")),
        patient_id=patient["id"],
        doctor_id=doctor.doctor_id,
        start=morning + timedelta(minutes=30),
        now=morning,
    )
    queue.check_in(wired_uow(factory, Actor.system("tests")), booked.id, now=morning)
    nurse_name, nurse_password = make_user("nurse")
    nurse_id = client.get("/api/v1/me", headers=login(nurse_name, nurse_password)).json()["id"]
    assert (
        client.post(
            "/api/v1/clinic-assignments",
            headers=headers_for("admin"),
            json={"user_id": nurse_id, "department_id": doctor.department_id},
        ).status_code
        == 201
    )

    api = ApiClient(live_server.url, workstation="NURSE-LIVE-TEST")
    api.login(nurse_name, nurse_password)
    context = WorkspaceContext(api=api, tasks=tasks, me=api.me())
    widget = create_workspace(context)
    qtbot.addWidget(widget)
    try:
        today = widget.patients.today
        with qtbot.waitSignal(today.sig_loaded, timeout=10000) as loaded:
            widget.show()
        assert loaded.args == [1]
        text = today.list.item(0).text()
        assert patient["family_name"] in text and patient["mrn"] in text and "#1" in text
        assert not any(button.isEnabled() for button in today.buttons.values())
        with qtbot.waitSignal(widget.chart.sig_chart_opened, timeout=10000):
            today.open_row(0)
        assert widget.chart.patient.id == patient["id"]
    finally:
        context.close()
        tasks.wait_for_done(5000)
        api.close()
