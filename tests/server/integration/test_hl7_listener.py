"""The bedside-monitor listener end to end: the monitor simulator runs as its own process
and streams ORU^R01 over MLLP to the real listener; readings land in the right patients'
charts as device vitals, nothing acknowledged is lost, faulty messages are NAKed and wait in
the review list, a resent message is stored once, and ``hms-server hl7-listen`` serves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime

import hl7
import pytest
from sqlalchemy import text

from hms_server.adapters.hl7.mllp import MllpConnection
from hms_server.adapters.hl7.monitor_simulator import Bed, Vitals, oru_message
from hms_server.bootstrap import build_runtime, hl7_listener
from tests.server.api.ward_factories import admit, new_patient, new_ward, ward_nurse


@pytest.fixture
def listener(db):
    runtime = build_runtime(db.settings(), pool_size=6)
    worker = hl7_listener(runtime, "127.0.0.1", 0)
    worker.start()
    host, port = worker.address
    yield f"{host}:{port}"
    worker.stop()
    runtime.close()


@pytest.fixture
def ward_of_patients(client, headers_for):
    ward = new_ward(client, headers_for, beds=4)
    doctor = headers_for("doctor")
    patients = [new_patient(client, headers_for) for _ in range(3)]
    admissions = [
        admit(client, doctor, p["id"], bed) for p, bed in zip(patients, ward.bed_ids, strict=False)
    ]
    return ward, patients, admissions


def _simulate(endpoint: str, beds: list[str], *args: str) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hms_server.adapters.hl7.monitor_simulator",
            "--endpoint",
            endpoint,
            *[x for bed in beds for x in ("--bed", bed)],
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.stdout, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _device_vitals(db, patient_ids):
    with db.owner_engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT patient_id, device_id FROM vital_signs WHERE source = 'device' AND "
                "patient_id = ANY(:ids)"
            ),
            {"ids": list(patient_ids)},
        ).all()


def test_a_stream_from_several_monitors_is_stored_against_the_right_patients(
    db, listener, ward_of_patients
):
    ward, patients, _ = ward_of_patients
    beds = [f"{ward.code}/R1/{n + 1:02d}={p['mrn']}" for n, p in enumerate(patients)]
    summary = _simulate(listener, beds, "--count", "8", "--rate", "0")
    assert summary["errors"] == 0 and summary["codes"] == {"AA": 24}
    rows = _device_vitals(db, [p["id"] for p in patients])
    assert len(rows) == 24  # nothing acknowledged was lost
    # MON001 is at bed 01 (patients[0]), MON002 at bed 02 ...: none misattributed.
    expected = {f"MON{n + 1:03d}": p["id"] for n, p in enumerate(patients)}
    assert all(expected[device] == patient_id for patient_id, device in rows)
    with db.owner_engine.connect() as conn:
        stored = conn.scalar(
            text(
                "SELECT count(*) FROM device_messages WHERE status = "
                "'stored' AND control_id = ANY(:c)"
            ),
            {"c": summary["accepted"]},
        )
    assert stored == 24


def test_faulty_messages_are_refused_and_wait_for_review(
    db, client, make_user, login, headers_for, listener, ward_of_patients
):
    ward, patients, _ = ward_of_patients
    beds = [f"{ward.code}/R1/01={patients[0]['mrn']}"]
    # Every 2nd message is faulty: a wrong MRN check digit, an unknown unit, a truncated
    # frame, an unknown MRN (in that order).
    summary = _simulate(
        listener, beds, "--count", "8", "--rate", "0", "--faults", "2", "--seed", "2"
    )
    assert summary["errors"] == 0
    assert summary["codes"].get("AR", 0) == 2  # check digit, truncated frame
    assert summary["codes"].get("AE", 0) == 2  # unknown unit, unknown MRN
    assert len(_device_vitals(db, [patients[0]["id"]])) == summary["codes"]["AA"]
    nurse = ward_nurse(client, make_user, login, headers_for, ward)
    review = client.get(
        "/api/v1/device-messages", params={"limit": 500}, headers=nurse.headers
    ).json()["items"]
    mine = [m for m in review if m["sending_application"] == "MON001"]
    codes = {m["error_code"] for m in mine}
    assert {"check_digit", "bad_units", "frame", "unknown_mrn"} <= codes
    item = next(m for m in mine if m["error_code"] == "unknown_mrn")
    assert item["status"] == "unmatched" and item["raw"].startswith("MSH|")
    r = client.post(
        f"/api/v1/device-messages/{item['id']}/review",
        json={"note": "Monitor re-paired to the right patient"},
        headers=nurse.headers,
    )
    assert r.status_code == 200 and r.json()["reviewed_at"]


def _send(endpoint: str, message: str) -> str:
    connection = MllpConnection(endpoint, timeout=30)
    try:
        answer = connection.request(message)
    finally:
        connection.close()
    return str(hl7.parse(answer).segment("MSA").extract_field(field_num=1))


def test_a_resent_message_is_stored_once(db, listener, ward_of_patients):
    ward, patients, _ = ward_of_patients
    bed = Bed(ward.code, "R1", "01", patients[0]["mrn"])
    message = oru_message(
        "MON900",
        bed,
        Vitals(70, 97, 16, 120, 80, 36.9),
        f"RESEND-{time.time_ns()}",
        datetime.now(UTC),
        send_mrn=True,
    )
    assert [_send(listener, message) for _ in range(3)] == ["AA", "AA", "AA"]
    rows = [r for r in _device_vitals(db, [patients[0]["id"]]) if r.device_id == "MON900"]
    assert len(rows) == 1


def test_no_reading_is_stored_against_a_patient_the_message_does_not_name(
    db, listener, ward_of_patients
):
    ward, patients, _ = ward_of_patients
    vitals = Vitals(70, 97, 16, 120, 80, 36.9)
    now = datetime.now(UTC)
    empty_bed = oru_message(
        "MON901",
        Bed(ward.code, "R1", "04", None),
        vitals,
        f"EMPTY-{time.time_ns()}",
        now,
        send_mrn=False,
    )
    # The MRN of patient 0 with the bed of patient 1: which one is it? Neither.
    mismatch = oru_message(
        "MON902",
        Bed(ward.code, "R1", "02", patients[0]["mrn"]),
        vitals,
        f"MISMATCH-{time.time_ns()}",
        now,
        send_mrn=True,
    )
    assert _send(listener, empty_bed) == "AE"
    assert _send(listener, mismatch) == "AE"
    rows = _device_vitals(db, [p["id"] for p in patients])
    assert not [r for r in rows if r.device_id in ("MON901", "MON902")]
    # By bed alone, the patient in the bed gets the reading.
    by_bed = oru_message(
        "MON903",
        Bed(ward.code, "R1", "02", None),
        vitals,
        f"BED-{time.time_ns()}",
        now,
        send_mrn=False,
    )
    assert _send(listener, by_bed) == "AA"
    assert [
        r.patient_id
        for r in _device_vitals(db, [p["id"] for p in patients])
        if r.device_id == "MON903"
    ] == [patients[1]["id"]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_hms_server_hl7_listen_serves_monitors(db, ward_of_patients):
    ward, patients, _ = ward_of_patients
    port = _free_port()
    env = {**os.environ, "HMS_RUNTIME_DATABASE_URL": db.runtime_url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hms_server.cli",
            "hl7-listen",
            "--port",
            str(port),
            "--database-url",
            db.owner_url,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        bed = Bed(ward.code, "R1", "03", patients[2]["mrn"])
        message = oru_message(
            "MON904",
            bed,
            Vitals(88, 95, 18, 130, 85, 37.4),
            f"CLI-{time.time_ns()}",
            datetime.now(UTC),
            send_mrn=True,
        )
        assert _send(f"127.0.0.1:{port}", message) == "AA"
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert [
        r.patient_id for r in _device_vitals(db, [patients[2]["id"]]) if r.device_id == "MON904"
    ] == [patients[2]["id"]]
