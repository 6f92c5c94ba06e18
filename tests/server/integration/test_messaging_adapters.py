"""Messaging against real simulator processes: the SMTP relay (aiosmtpd) and the HTTP SMS
gateway are started with ``python -m ...`` on free loopback ports, and messages go through
the real adapters and the real outbox dispatcher on a private database.

Time is passed to the dispatcher explicitly, so back-off is checked without sleeping.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from hms_server.adapters.messaging.base import OutgoingMessage, PermanentSendError
from hms_server.adapters.messaging.sms_http import HttpSmsAdapter
from hms_server.adapters.messaging.smtp import SmtpAdapter
from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.messaging import Message
from hms_server.adapters.uow import Actor
from hms_server.services import messaging
from hms_server.services.users import create_user
from tests.conftest import TEST_PASSWORD, totp_now
from tests.wiring import wired_uow

API_KEY = "sim-key-" + "k" * 16


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Simulator:
    process: subprocess.Popen[str]
    info: dict[str, object]
    control: str  # base URL of the control API

    def received(self) -> list[dict[str, object]]:
        return httpx.get(self.control + "/_sim/messages", timeout=5).json()["messages"]

    def fail_next(self, count: int, status: int = 503) -> None:
        httpx.post(
            self.control + "/_sim/fail-next", json={"count": count, "status": status}, timeout=5
        ).raise_for_status()

    def reset(self) -> None:
        httpx.post(self.control + "/_sim/reset", timeout=5).raise_for_status()


def _start(module: str, *args: str) -> Simulator:
    process = subprocess.Popen(
        [sys.executable, "-m", f"hms_server.adapters.messaging.{module}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line: list[str] = []
    reader = threading.Thread(
        target=lambda: line.append(process.stdout.readline()),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    reader.join(timeout=20)
    if not line or not line[0].startswith("READY "):
        process.kill()
        stderr = process.stderr.read() if process.stderr else ""
        raise RuntimeError(f"{module} did not start: {stderr}")
    info = json.loads(line[0][len("READY ") :])
    port = info.get("control_port", info["port"])
    return Simulator(process, info, f"http://127.0.0.1:{port}")


def _stop(sim: Simulator) -> None:
    sim.process.terminate()
    try:
        sim.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        sim.process.kill()


@pytest.fixture(scope="module")
def sms_gateway() -> Iterator[Simulator]:
    sim = _start("sms_simulator", "--port", "0", "--api-key", API_KEY)
    yield sim
    _stop(sim)


def _need_aiosmtpd() -> None:
    pytest.importorskip(
        "aiosmtpd", reason="the SMTP simulator needs aiosmtpd (pip install aiosmtpd==1.4.6)"
    )


@pytest.fixture(scope="module")
def smtp_relay() -> Iterator[Simulator]:
    _need_aiosmtpd()
    sim = _start("smtp_simulator", "--port", str(_free_port()))
    yield sim
    _stop(sim)


@pytest.fixture
def sms(sms_gateway: Simulator) -> HttpSmsAdapter:
    sms_gateway.reset()
    return HttpSmsAdapter(url=str(sms_gateway.info["url"]), api_key=API_KEY, sender="HMS")


@pytest.fixture
def email(smtp_relay: Simulator) -> SmtpAdapter:
    smtp_relay.reset()
    return SmtpAdapter(
        host="127.0.0.1",
        port=int(smtp_relay.info["port"]),  # type: ignore[call-overload]
        sender="HMS Test <no-reply@hms.test>",
    )


def _message(
    id_: int = 1,
    channel: str = "sms",
    recipient: str = "+447700900123",
    body: str = "Your appointment is booked. Ref ABCD-EFGH.",
) -> OutgoingMessage:
    return OutgoingMessage(
        id_, channel, recipient, "Appointment" if channel == "email" else None, body
    )


# --- the adapters on their own ------------------------------------------------------------------


def test_sms_adapter_delivers_to_the_gateway_with_key_and_idempotency_reference(sms, sms_gateway):
    result = sms.send(_message(41, recipient="+44 (0)7700-900123".replace("(0)", "")))
    assert result.provider_message_id == "sim-1"
    [got] = sms_gateway.received()
    assert got["to"] == "+447700900123"
    assert got["text"] == "Your appointment is booked. Ref ABCD-EFGH."
    assert got["reference"] == "hms-41" and got["idempotency_key"] == "hms-message-41"


def test_sms_adapter_classifies_gateway_answers(sms, sms_gateway):
    from hms_server.adapters.messaging.base import TransientSendError

    sms_gateway.fail_next(1, 503)
    with pytest.raises(TransientSendError) as transient:
        sms.send(_message())
    assert transient.value.retry_after == 1.0
    sms_gateway.fail_next(1, 429)
    with pytest.raises(TransientSendError):
        sms.send(_message())
    sms_gateway.fail_next(1, 400)
    with pytest.raises(PermanentSendError, match="HTTP 400"):
        sms.send(_message())
    wrong_key = HttpSmsAdapter(url=sms.url, api_key="wrong")
    with pytest.raises(PermanentSendError, match="HTTP 401"):
        wrong_key.send(_message())
    unreachable = HttpSmsAdapter(url=f"http://127.0.0.1:{_free_port()}/v1/messages", timeout=2)
    with pytest.raises(TransientSendError, match="unreachable"):
        unreachable.send(_message())
    assert sms_gateway.received() == []


def test_smtp_adapter_delivers_a_plain_text_mail(email, smtp_relay):
    result = email.send(_message(7, "email", "patient@example.org", "See you on Monday."))
    assert result.provider_message_id and "hms-7" in result.provider_message_id
    [got] = smtp_relay.received()
    assert got["rcpt_tos"] == ["patient@example.org"]
    assert got["mail_from"] == "no-reply@hms.test"
    assert got["subject"] == "Appointment"
    assert str(got["body"]).strip() == "See you on Monday."


def test_smtp_adapter_classifies_relay_answers(email, smtp_relay):
    from hms_server.adapters.messaging.base import TransientSendError

    smtp_relay.fail_next(1, 451)
    with pytest.raises(TransientSendError, match="SMTP 451"):
        email.send(_message(channel="email", recipient="a@example.org"))
    with pytest.raises(PermanentSendError, match="SMTP 550"):
        email.send(_message(channel="email", recipient="nobody@reject.invalid"))
    closed = SmtpAdapter(host="127.0.0.1", port=_free_port(), timeout=2)
    with pytest.raises(TransientSendError, match="connection"):
        closed.send(_message(channel="email", recipient="a@example.org"))
    assert smtp_relay.received() == []


def _self_signed(tmp: Path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "relay.pem", tmp / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_smtp_adapter_uses_starttls_and_login_when_configured(tmp_path):
    _need_aiosmtpd()
    cert, key = _self_signed(tmp_path)
    port = _free_port()
    sim = _start(
        "smtp_simulator",
        "--port",
        str(port),
        "--tls-cert",
        cert,
        "--tls-key",
        key,
        "--auth",
        "hms:relay-secret",
    )
    try:
        secure = SmtpAdapter(
            host="localhost",
            port=port,
            starttls=True,
            ca_file=cert,
            username="hms",
            password="relay-secret",
        )
        secure.send(_message(9, "email", "patient@example.org", "Over TLS."))
        [got] = sim.received()
        assert got["tls"] is True and got["authenticated"] is True
        bad_login = SmtpAdapter(
            host="localhost",
            port=port,
            starttls=True,
            ca_file=cert,
            username="hms",
            password="wrong",
        )
        with pytest.raises(PermanentSendError, match="authentication"):
            bad_login.send(_message(10, "email", "patient@example.org", "x"))
        untrusted = SmtpAdapter(host="localhost", port=port, starttls=True)
        with pytest.raises(PermanentSendError, match="TLS"):
            untrusted.send(_message(11, "email", "patient@example.org", "x"))
    finally:
        _stop(sim)


# --- the outbox dispatcher ----------------------------------------------------------------------


def _queue(
    factory,
    *,
    channel: str,
    recipient: str,
    at: dt.datetime,  # type: ignore[no-untyped-def]
    body: str = "Reminder: appointment tomorrow at 09:30. Ref ABCD-EFGH.",
) -> int:
    uow = wired_uow(factory, Actor.system("tests"))
    with uow:
        message = Message(
            channel=channel,
            recipient=recipient,
            template="appointment_reminder",
            subject="Appointment reminder" if channel == "email" else None,
            body=body,
            status="queued",
            attempts=0,
            next_attempt_at=at,
            created_at=at,
        )
        uow.session.add(message)
        uow.commit()
        return message.id


def _get(factory, message_id: int) -> Message:  # type: ignore[no-untyped-def]
    with factory() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


def test_transient_failures_are_retried_with_back_off_until_sent(fresh_db, sms, sms_gateway):
    factory = fresh_db.owner_session_factory()
    uows = lambda: wired_uow(factory, Actor.system("messaging"))  # noqa: E731
    t0 = utcnow()
    message_id = _queue(factory, channel="sms", recipient="+447700900777", at=t0)
    sms_gateway.fail_next(3, 503)
    adapters = {"sms": sms}

    report = messaging.dispatch_due_messages(uows, adapters, t0)
    assert (report.claimed, report.retrying) == (1, 1)
    first = _get(factory, message_id)
    assert (first.status, first.attempts) == ("failed", 1)
    assert first.next_attempt_at == t0 + dt.timedelta(minutes=1)
    assert first.last_error == "SMS gateway HTTP 503"

    # Not due yet: nothing is claimed, nothing is sent.
    early = t0 + dt.timedelta(seconds=59)
    assert messaging.dispatch_due_messages(uows, adapters, early).claimed == 0

    t1 = t0 + dt.timedelta(minutes=1)
    messaging.dispatch_due_messages(uows, adapters, t1)
    assert _get(factory, message_id).next_attempt_at == t1 + dt.timedelta(minutes=5)
    t2 = t1 + dt.timedelta(minutes=5)
    messaging.dispatch_due_messages(uows, adapters, t2)
    assert _get(factory, message_id).next_attempt_at == t2 + dt.timedelta(minutes=15)

    report = messaging.dispatch_due_messages(uows, adapters, t2 + dt.timedelta(minutes=15))
    assert report.sent == 1
    sent = _get(factory, message_id)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 4, None)
    assert sent.provider_message_id == "sim-1" and sent.sent_at is not None
    assert [m["to"] for m in sms_gateway.received()] == ["+447700900777"]


def test_a_message_that_keeps_failing_transiently_goes_dead_after_five_attempts(
    fresh_db, sms, sms_gateway
):
    factory = fresh_db.owner_session_factory()
    uows = lambda: wired_uow(factory, Actor.system("messaging"))  # noqa: E731
    now = utcnow()
    message_id = _queue(factory, channel="sms", recipient="+447700900778", at=now)
    sms_gateway.fail_next(10, 503)
    for _ in range(messaging.MAX_ATTEMPTS):
        messaging.dispatch_due_messages(uows, {"sms": sms}, now)
        now = _get(factory, message_id).next_attempt_at
    dead = _get(factory, message_id)
    assert (dead.status, dead.attempts) == ("dead", 5)
    assert (
        messaging.dispatch_due_messages(uows, {"sms": sms}, now + dt.timedelta(days=1)).claimed == 0
    )


def test_parallel_dispatchers_never_send_one_message_twice(fresh_db, email, smtp_relay):
    factory = fresh_db.owner_session_factory()
    now = utcnow()
    ids = [
        _queue(factory, channel="email", recipient=f"p{i}@example.org", at=now) for i in range(12)
    ]
    reports: list[messaging.DispatchReport] = []

    def run() -> None:
        reports.append(
            messaging.dispatch_due_messages(
                lambda: wired_uow(factory, Actor.system("messaging")),
                {"email": email},
                now,
                batch_size=4,
            )
        )

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    while messaging.dispatch_due_messages(
        lambda: wired_uow(factory, Actor.system("messaging")), {"email": email}, now
    ).claimed:
        pass
    received = [m["rcpt_tos"][0] for m in smtp_relay.received()]  # type: ignore[index]
    assert sorted(received) == sorted(f"p{i}@example.org" for i in range(12))
    assert all(_get(factory, i).status == "sent" for i in ids)


def test_unconfigured_channels_wait_and_stale_messages_expire(fresh_db, sms):
    factory = fresh_db.owner_session_factory()
    uows = lambda: wired_uow(factory, Actor.system("messaging"))  # noqa: E731
    now = utcnow()
    email_id = _queue(factory, channel="email", recipient="x@example.org", at=now)
    assert messaging.dispatch_due_messages(uows, {"sms": sms}, now).claimed == 0
    assert _get(factory, email_id).status == "queued"
    with factory.begin() as session:
        session.get(Message, email_id).expires_at = now  # type: ignore[union-attr]
    report = messaging.dispatch_due_messages(uows, {"sms": sms}, now)
    assert report.expired == 1 and _get(factory, email_id).status == "expired"


def test_permanent_failure_is_dead_at_once_and_admins_see_and_retry_it(fresh_db, sms, sms_gateway):
    from fastapi.testclient import TestClient

    from hms_server.app import create_app

    factory = fresh_db.owner_session_factory()
    uows = lambda: wired_uow(factory, Actor.system("messaging"))  # noqa: E731
    now = utcnow()
    bad = _queue(factory, channel="sms", recipient="not a phone", at=now)
    rejected = _queue(factory, channel="sms", recipient="+447700900779", at=now)
    good = _queue(factory, channel="sms", recipient="+447700900780", at=now)
    sms_gateway.fail_next(1, 400)  # the gateway refuses the first one it is sent
    report = messaging.dispatch_due_messages(uows, {"sms": sms}, now)
    assert (report.claimed, report.dead, report.sent) == (3, 2, 1)
    assert _get(factory, bad).last_error == "recipient is not a valid phone number"
    assert _get(factory, rejected).last_error == "SMS gateway HTTP 400"
    assert _get(factory, good).status == "sent"

    settings = fresh_db.settings()
    admin = create_user(
        wired_uow(factory, Actor.system("tests")),
        settings,
        username="msgadmin",
        full_name="Messaging Admin",
        roles=["admin"],
        password=TEST_PASSWORD,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        login = client.post(
            "/api/v1/auth/login",
            json={
                "username": "msgadmin",
                "password": TEST_PASSWORD,
                "totp": totp_now(admin.user.totp_secret),
            },
        )  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        listed = client.get("/api/v1/messages", params={"status": "dead"}, headers=headers)
        assert listed.status_code == 200
        body = listed.json()
        assert body["total"] == 2
        assert {m["id"] for m in body["items"]} == {bad, rejected}
        item = next(m for m in body["items"] if m["id"] == rejected)
        assert item["recipient"] == "+44••••••0779"  # masked
        assert item["last_error"] == "SMS gateway HTTP 400" and "body" not in item
        assert (
            client.get("/api/v1/messages", params={"status": "bogus"}, headers=headers).status_code
            == 422
        )

        retried = client.post(f"/api/v1/messages/{rejected}/retry", headers=headers)
        assert retried.status_code == 200 and retried.json()["status"] == "queued"
        assert client.post(f"/api/v1/messages/{good}/retry", headers=headers).status_code == 409
        assert client.post("/api/v1/messages/999999/retry", headers=headers).status_code == 404
        settings_now = client.get("/api/v1/messages/settings", headers=headers).json()
        assert settings_now["reminder_hours"] == [24]
        changed = client.put(
            "/api/v1/messages/settings",
            headers=headers,
            json={
                "reminder_hours": [2, 48],
                "send_confirmations": True,
                "version": settings_now["version"],
            },
        )
        assert changed.status_code == 200 and changed.json()["reminder_hours"] == [48, 2]
        stale = client.put(
            "/api/v1/messages/settings",
            headers=headers,
            json={
                "reminder_hours": [24],
                "send_confirmations": True,
                "version": settings_now["version"],
            },
        )
        assert stale.status_code == 409

    report = messaging.dispatch_due_messages(uows, {"sms": sms}, utcnow())
    assert report.sent == 1 and _get(factory, rejected).status == "sent"


def test_background_dispatcher_sends_queued_messages(fresh_db, sms, sms_gateway):
    factory = fresh_db.owner_session_factory()
    message_id = _queue(factory, channel="sms", recipient="+447700900781", at=utcnow())
    dispatcher = messaging.MessageDispatcher(
        lambda: wired_uow(factory, Actor.system("messaging")), {"sms": sms}, interval=0.1
    )
    dispatcher.start()
    try:
        deadline = utcnow() + dt.timedelta(seconds=15)
        while _get(factory, message_id).status != "sent" and utcnow() < deadline:
            threading.Event().wait(0.1)
    finally:
        dispatcher.stop()
    assert _get(factory, message_id).status == "sent"
    assert [m["to"] for m in sms_gateway.received()] == ["+447700900781"]


def test_the_dispatcher_starts_with_the_app_only_when_a_gateway_is_configured(
    fresh_db, sms_gateway
):
    from fastapi.testclient import TestClient

    from hms_server.adapters.messaging.config import MessagingSettings
    from hms_server.app import create_app

    sms_gateway.reset()
    factory = fresh_db.owner_session_factory()
    app = create_app(fresh_db.settings())
    with TestClient(app):
        assert not _dispatchers(app)
    app = create_app(
        fresh_db.settings(),
        messaging_settings=MessagingSettings(
            sms_gateway_url=str(sms_gateway.info["url"]),
            sms_api_key=API_KEY,
            messaging_dispatch_interval_seconds=0.1,
        ),
    )
    message_id = _queue(factory, channel="sms", recipient="+447700900782", at=utcnow())
    with TestClient(app):
        assert len(_dispatchers(app)) == 1
        deadline = utcnow() + dt.timedelta(seconds=15)
        while _get(factory, message_id).status != "sent" and utcnow() < deadline:
            threading.Event().wait(0.1)
    assert _get(factory, message_id).status == "sent"
    with factory() as session:
        assert session.scalars(select(Message.status)).all() == ["sent"]


# --- what appointment events queue ---------------------------------------------------------------


def test_booking_rescheduling_and_cancelling_queue_and_cancel_the_right_messages(fresh_db):
    from hms_server.services import appointments
    from hms_server.services.patients import register_patient
    from tests.server.scheduling_factories import make_doctor, tomorrow_at

    factory = fresh_db.owner_session_factory()
    settings = fresh_db.settings()
    uow = lambda: wired_uow(factory, Actor.system("tests"))  # noqa: E731
    doctor = make_doctor(factory, settings)
    patient = register_patient(
        uow(),
        mrn_prefix="HMS",
        given_name="Rita",
        family_name="Remind",
        sex="female",
        date_of_birth=dt.date(1980, 1, 1),
        phone="07700 900456",
        email="rita@example.org",
        confirm_new=True,
    )
    silent = register_patient(
        uow(),
        mrn_prefix="HMS",
        given_name="Nora",
        family_name="Nocontact",
        sex="female",
        date_of_birth=dt.date(1981, 1, 1),
        confirm_new=True,
    )

    def rows(appointment_id: int) -> list[tuple[str, str, str, dt.datetime]]:
        with factory() as session:
            return sorted(
                (m.template, m.channel, m.status, m.next_attempt_at)
                for m in session.scalars(
                    select(Message).where(Message.appointment_id == appointment_id)
                )
            )

    start = tomorrow_at(settings, 10, days=3)
    booked = appointments.book_appointment(
        uow(), patient_id=patient.id, doctor_id=doctor.id, start=start
    )
    queued = rows(booked.id)
    assert [(t, c, s) for t, c, s, _ in queued] == [
        ("appointment_confirmation", "email", "queued"),
        ("appointment_confirmation", "sms", "queued"),
        ("appointment_reminder", "email", "queued"),
        ("appointment_reminder", "sms", "queued"),
    ]
    assert {due for t, _, _, due in queued if t == "appointment_reminder"} == {
        start - dt.timedelta(hours=24)
    }

    moved_to = start + dt.timedelta(days=1)
    appointments.reschedule_appointment(uow(), booked.id, start=moved_to, version=booked.version)
    after_move = rows(booked.id)
    assert (
        "appointment_reminder",
        "sms",
        "cancelled",
        start - dt.timedelta(hours=24),
    ) in after_move
    assert (
        "appointment_reminder",
        "sms",
        "queued",
        moved_to - dt.timedelta(hours=24),
    ) in after_move
    assert any(t == "appointment_rescheduled" and s == "queued" for t, _, s, _ in after_move)

    appointments.cancel_appointment(uow(), booked.id, reason="patient asked")
    after_cancel = rows(booked.id)
    assert not any(t == "appointment_reminder" and s == "queued" for t, _, s, _ in after_cancel)
    assert sum(t == "appointment_cancelled" for t, _, _, _ in after_cancel) == 2

    # Booked inside the reminder window: a confirmation only. No contact details: nothing.
    from hms_server.services import scheduling

    [free] = scheduling.next_available(
        uow(), doctor_id=doctor.id, after=utcnow() + dt.timedelta(hours=1), limit=1
    )
    assert free.start - utcnow() < dt.timedelta(hours=24)  # the doctor works 08-18 daily
    soon = appointments.book_appointment(
        uow(), patient_id=patient.id, doctor_id=doctor.id, start=free.start
    )
    assert {t for t, _, _, _ in rows(soon.id)} == {"appointment_confirmation"}
    quiet = appointments.book_appointment(
        uow(), patient_id=silent.id, doctor_id=doctor.id, start=start
    )
    assert rows(quiet.id) == []


def _dispatchers(app) -> list[object]:  # type: ignore[no-untyped-def]
    return [w for w in app.state.runtime.workers if isinstance(w, messaging.MessageDispatcher)]
