"""HL7 ADT out, against a real receiver process (``receiver_simulator``) on a loopback port:
admissions, transfers, discharges and cancellations queue A01/A02/A03/A11 in the outbox in
their own transaction; the real dispatcher sends them over MLLP in order per patient; AR is
retried with back-off, AE is given up (dead) for an administrator.

Time is passed to the dispatcher explicitly, so back-off is checked without sleeping.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hms_server.adapters.messaging.config import MessagingSettings
from hms_server.adapters.messaging.mllp import MllpAdapter
from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.messaging import Message
from hms_server.adapters.uow import Actor
from hms_server.bootstrap import standard_events, wire_hl7_adt
from hms_server.services import admissions as adt
from hms_server.services import patients as patient_service
from hms_server.services.messaging import dispatch_due_messages
from tests.server.api.clinical_factories import new_clinician
from tests.server.api.ward_factories import new_patient, new_ward
from tests.wiring import wired_uow


class Receiver:
    def __init__(self, mode: str, log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hms_server.adapters.hl7.receiver_simulator",
                "--port",
                "0",
                "--mode",
                mode,
                "--log",
                str(log),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(self.process.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(timeout=30)
        if not line or not line[0].startswith("READY "):
            self.process.kill()
            raise RuntimeError("receiver simulator did not start")
        self.endpoint = json.loads(line[0][6:])["endpoint"]

    def received(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(x) for x in self.log.read_text().splitlines()]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def receiver_factory(tmp_path) -> Iterator:
    started: list[Receiver] = []

    def start(mode: str) -> Receiver:
        receiver = Receiver(mode, tmp_path / f"{mode}-{len(started)}.jsonl")
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def ward_context(client, make_user, login, headers_for, db):
    ward = new_ward(client, headers_for, beds=2)
    doctor = new_clinician(client, make_user, login, "doctor")
    return ward, Actor(user_id=doctor.user_id, username=doctor.username, roles=("doctor",))


def _uow_factory(db, endpoint: str, actor: Actor):
    events = standard_events()
    wire_hl7_adt(events, MessagingSettings(hl7_adt_endpoint=endpoint))
    return lambda: wired_uow(db.owner_session_factory(), actor, events=events)


def _messages(db, patient_id: int) -> list[Message]:
    with db.owner_session_factory()() as session:
        return list(
            session.scalars(
                select(Message)
                .where(Message.patient_id == patient_id, Message.channel == "hl7")
                .order_by(Message.id)
            )
        )


def _dispatch(db, actor, now=None):
    factory = lambda: wired_uow(db.owner_session_factory(), actor)  # noqa: E731
    return dispatch_due_messages(factory, {"hl7": MllpAdapter(timeout=10)}, now=now)


def test_adt_messages_go_out_in_order_and_are_acknowledged(
    client, headers_for, db, receiver_factory, ward_context
):
    receiver = receiver_factory("ack")
    ward, actor = ward_context
    uows = _uow_factory(db, receiver.endpoint, actor)
    patient = new_patient(client, headers_for)
    admission = adt.admit_patient(
        uows(), adt.AdmitInput(patient["id"], ward.bed_ids[0], "Pneumonia")
    )
    adt.transfer_patient(uows(), admission.id, bed_id=ward.bed_ids[1])
    adt.discharge_patient(uows(), admission.id, summary="Recovered.")
    queued = _messages(db, patient["id"])
    assert [m.template for m in queued] == ["adt_admitted", "adt_transferred", "adt_discharged"]
    assert all(m.recipient == receiver.endpoint and m.status == "queued" for m in queued)
    for _ in range(3):  # one message per patient per pass keeps them in order
        _dispatch(db, actor)
    assert [m.status for m in _messages(db, patient["id"])] == ["sent"] * 3
    got = [r for r in receiver.received() if patient["mrn"] in r["message"]]
    assert [r["type"] for r in got] == ["ADT^A01^ADT_A01", "ADT^A02^ADT_A02", "ADT^A03^ADT_A03"]
    assert all(r["answer"] == "AA" for r in got)
    assert f"PID|||{patient['mrn']}^^^HMS^MR" in got[0]["message"]
    assert f"|{ward.code}^R1^02^HMS|" in got[1]["message"].replace("\r", "|")


def test_a_rejected_message_is_retried_and_holds_back_the_next(
    client, headers_for, db, receiver_factory, ward_context
):
    receiver = receiver_factory("flaky")  # AR first, AA on the retry
    ward, actor = ward_context
    uows = _uow_factory(db, receiver.endpoint, actor)
    patient = new_patient(client, headers_for)
    admission = adt.admit_patient(uows(), adt.AdmitInput(patient["id"], ward.bed_ids[0], "x"))
    adt.transfer_patient(uows(), admission.id, bed_id=ward.bed_ids[1])
    _dispatch(db, actor)
    first, second = _messages(db, patient["id"])
    assert first.status == "failed" and first.last_error == "hl7 AR"
    assert second.status == "queued" and second.attempts == 0  # waits for the A01
    for minutes in (2, 3, 6):  # after each back-off: A01 again, then A02 (AR, then AA)
        _dispatch(db, actor, now=utcnow() + timedelta(minutes=minutes))
    assert [m.status for m in _messages(db, patient["id"])] == ["sent", "sent"]
    answers = [
        (r["type"], r["answer"]) for r in receiver.received() if patient["mrn"] in r["message"]
    ]
    assert answers == [
        ("ADT^A01^ADT_A01", "AR"),
        ("ADT^A01^ADT_A01", "AA"),
        ("ADT^A02^ADT_A02", "AR"),
        ("ADT^A02^ADT_A02", "AA"),
    ]


def test_an_application_error_is_final(client, headers_for, db, receiver_factory, ward_context):
    receiver = receiver_factory("error")
    ward, actor = ward_context
    uows = _uow_factory(db, receiver.endpoint, actor)
    patient = new_patient(client, headers_for)
    admission = adt.admit_patient(uows(), adt.AdmitInput(patient["id"], ward.bed_ids[0], "x"))
    adt.cancel_admission(uows(), admission.id, reason="Wrong patient")
    _dispatch(db, actor)
    first = _messages(db, patient["id"])[0]
    assert first.status == "dead" and first.last_error == "hl7 AE: 207"
    _dispatch(db, actor)  # the A11 may go now that the A01 is settled
    cancel = _messages(db, patient["id"])[1]
    assert cancel.template == "adt_cancelled" and cancel.status == "dead"
    assert [r["type"] for r in receiver.received() if patient["mrn"] in r["message"]] == [
        "ADT^A01^ADT_A01",
        "ADT^A11^ADT_A09",
    ]


def test_no_receiver_is_a_transient_failure(client, headers_for, db, ward_context):
    ward, actor = ward_context
    uows = _uow_factory(db, "127.0.0.1:9", actor)  # discard port: nothing listens
    patient = new_patient(client, headers_for)
    adt.admit_patient(uows(), adt.AdmitInput(patient["id"], ward.bed_ids[0], "x"))
    _dispatch(db, actor)
    message = _messages(db, patient["id"])[0]
    assert message.status == "failed" and message.last_error.startswith("hl7 transport")


def test_without_an_endpoint_no_adt_message_is_made(client, headers_for, db, ward_context):
    ward, actor = ward_context
    patient = new_patient(client, headers_for)
    adt.admit_patient(
        wired_uow(db.owner_session_factory(), actor),
        adt.AdmitInput(patient["id"], ward.bed_ids[0], "x"),
    )
    assert _messages(db, patient["id"]) == []


def test_correcting_an_inpatients_name_sends_an_a08_and_an_outpatients_nothing(
    client, headers_for, db, receiver_factory, ward_context
):
    receiver = receiver_factory("ack")
    ward, actor = ward_context
    uows = _uow_factory(db, receiver.endpoint, actor)
    inpatient, outpatient = new_patient(client, headers_for), new_patient(client, headers_for)
    adt.admit_patient(uows(), adt.AdmitInput(inpatient["id"], ward.bed_ids[0], "Pneumonia"))
    patient_service.update_patient(
        uows(), inpatient["id"], version=inpatient["version"], changes={"family_name": "Ó Sé"}
    )
    patient_service.update_patient(  # not identifying: no message
        uows(),
        inpatient["id"],
        version=inpatient["version"] + 1,
        changes={"phone": "+44 7700 900321"},
    )
    patient_service.update_patient(
        uows(), outpatient["id"], version=outpatient["version"], changes={"family_name": "Nobody"}
    )
    assert [m.template for m in _messages(db, inpatient["id"])] == ["adt_admitted", "adt_updated"]
    assert _messages(db, outpatient["id"]) == []
    for _ in range(2):
        _dispatch(db, actor)
    got = [r for r in receiver.received() if inpatient["mrn"] in r["message"]]
    assert [(r["type"], r["answer"]) for r in got] == [
        ("ADT^A01^ADT_A01", "AA"),
        ("ADT^A08^ADT_A01", "AA"),
    ]
    pid = next(s for s in got[1]["message"].split("\r") if s.startswith("PID|"))
    assert "|Ó Sé^" in pid
    assert f"|{ward.code}^R1^01^HMS|" in got[1]["message"].replace("\r", "|")
