"""The public self-booking API (``/book``): the page, booking and cancelling as a patient,
MRN non-disclosure, CSRF protection, rate limits, audit, and bad input.

Each test talks from its own client address, so the per-address rate limits of one test
never affect another.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hms_server.adapters.orm.infra import AuditEntry
from hms_server.adapters.orm.messaging import Message
from hms_server.adapters.orm.scheduling import Appointment
from hms_server.adapters.uow import Actor
from hms_server.services.patients import register_patient
from hms_server.services.self_booking import DEFAULT_LIMITS
from tests.server.scheduling_factories import make_doctor
from tests.wiring import wired_uow

DOB = date(1975, 3, 14)
GENERIC = "We could not verify those details"


@pytest.fixture(scope="module")
def factory(db):  # type: ignore[no-untyped-def]
    return db.owner_session_factory()


@pytest.fixture(scope="module")
def doctor(factory, settings):  # type: ignore[no-untyped-def]
    return make_doctor(factory, settings, specialty="Cardiology")


def _browser(app, address: str | None = None) -> TestClient:  # type: ignore[no-untyped-def]
    if address is None:
        b = uuid.uuid4().bytes
        address = f"10.{b[0]}.{b[1]}.{b[2]}"
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


def _open_page(c: TestClient) -> str:
    page = c.get("/book")
    assert page.status_code == 200
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert match
    return match.group(1)


def _post(c: TestClient, path: str, body: dict, token: str | None, **headers: str):  # type: ignore[no-untyped-def]
    sent = {"Origin": str(c.base_url).rstrip("/"), "Sec-Fetch-Site": "same-origin", **headers}
    if token is not None:
        sent["X-CSRF-Token"] = token
    return c.post(path, json=body, headers=sent)


def _patient(
    factory,
    settings,
    *,
    phone: str | None = "+44 7700 900123",  # type: ignore[no-untyped-def]
    email: str | None = None,
):
    given = "".join(chr(97 + int(ch, 16) % 26) for ch in uuid.uuid4().hex[:8]).title()
    return register_patient(
        wired_uow(factory, Actor.system("tests")),
        mrn_prefix=settings.mrn_prefix,
        given_name=given,
        family_name="Selfbooker",
        sex="female",
        date_of_birth=DOB,
        phone=phone,
        email=email,
        confirm_new=True,
    )


def _free_slot(c: TestClient, doctor_id: int, days_ahead: int = 3, index: int = 0) -> str:
    day = (date.today() + timedelta(days=days_ahead)).isoformat()
    response = c.get("/book/api/slots", params={"doctor_id": doctor_id, "date": day})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items, "the test doctor works every day"
    return items[index]["start"]


def _existing(mrn: str, dob: date = DOB) -> dict:
    return {"kind": "existing", "mrn": mrn, "date_of_birth": dob.isoformat()}


def test_book_page_is_html_with_strict_csp_and_a_strict_csrf_cookie(app):
    c = _browser(app)
    response = c.get("/book")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["cache-control"] == "no-store"
    cookie = response.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie and "httponly" in cookie and "path=/book" in cookie
    # No external resources: every src/href is same-origin.
    assert not re.search(r'(src|href)="(https?:)?//', response.text)
    for asset in ("/book/assets/booking.js", "/book/assets/booking.css"):
        assert c.get(asset).status_code == 200
    assert c.get("/book/assets/evil.js").status_code == 404


def test_departments_and_free_slots_are_public_and_list_the_doctor(app, doctor):
    c = _browser(app)
    departments = c.get("/book/api/departments").json()["items"]
    mine = next(d for d in departments if d["id"] == doctor.department_id)
    assert [x["id"] for x in mine["doctors"]] == [doctor.id]
    assert set(mine["doctors"][0]) == {"id", "name", "specialty"}
    start = _free_slot(c, doctor.id)
    assert "T" in start and ("+" in start or start.endswith("Z"))


def test_existing_patient_books_with_mrn_and_dob_marked_self_and_audited(
    app, doctor, factory, settings
):
    patient = _patient(factory, settings)
    address = "10.77.0.1"
    c = _browser(app, address)
    token = _open_page(c)
    start = _free_slot(c, doctor.id, days_ahead=4)
    response = _post(
        c,
        "/book/api/bookings",
        {"doctor_id": doctor.id, "start": start, "patient": _existing(patient.mrn)},
        token,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", body["reference"])
    assert body["mrn"] is None  # an existing patient is not told their MRN back
    with factory() as session:
        appointment = session.scalars(
            select(Appointment).where(Appointment.booking_reference == body["reference"])
        ).one()
        assert appointment.source == "self"
        assert appointment.patient_id == patient.id
        assert appointment.created_by_user_id is None
        audit = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "appointment.self_book", AuditEntry.patient_id == patient.id
            )
        ).one()
        assert audit.username == "self-booking" and audit.user_id is None
        assert audit.address == address
        assert audit.detail["appointment_id"] == appointment.id
        # Confirmation and 24-hour reminder were queued in the same transaction.
        messages = session.scalars(
            select(Message).where(Message.appointment_id == appointment.id)
        ).all()
        assert {m.template for m in messages} == {
            "appointment_confirmation",
            "appointment_reminder",
        }
        assert all(m.recipient == "+447700900123" and m.status == "queued" for m in messages)
        assert all(patient.given_name not in m.body for m in messages)
        assert all(body["reference"] in m.body for m in messages)


def test_wrong_mrn_and_wrong_date_of_birth_get_the_same_answer(app, doctor, factory, settings):
    patient = _patient(factory, settings)
    c = _browser(app)
    token = _open_page(c)
    start = _free_slot(c, doctor.id, days_ahead=5)
    attempts = {
        "right MRN, wrong DOB": _existing(patient.mrn, DOB + timedelta(days=1)),
        "unknown MRN": _existing("HMS999999994"),
        "not an MRN at all": _existing("no-such-thing"),
    }
    answers = {}
    for name, who in attempts.items():
        response = _post(
            c, "/book/api/bookings", {"doctor_id": doctor.id, "start": start, "patient": who}, token
        )
        answers[name] = (
            response.status_code,
            response.json(),
            sorted(k for k in response.headers if k not in ("content-length",)),
        )
    first = next(iter(answers.values()))
    assert first[0] == 422 and first[1]["code"] == "verification_failed"
    assert GENERIC in first[1]["detail"]
    assert all(a == first for a in answers.values()), answers
    with factory() as session:
        assert (
            session.scalars(select(Appointment).where(Appointment.patient_id == patient.id)).all()
            == []
        )
        failures = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "self_booking.verify", AuditEntry.patient_id == patient.id
            )
        ).all()
        assert [f.outcome for f in failures] == ["failure"]


def test_new_patient_books_and_is_registered_with_a_new_mrn(app, doctor, factory):
    c = _browser(app)
    token = _open_page(c)
    start = _free_slot(c, doctor.id, days_ahead=6)
    response = _post(
        c,
        "/book/api/bookings",
        {
            "doctor_id": doctor.id,
            "start": start,
            "type": "new",
            "patient": {
                "kind": "new",
                "given_name": "Ada",
                "family_name": "Newcomer",
                "date_of_birth": "1990-01-02",
                "phone": "+44 7700 900555",
            },
        },
        token,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["mrn"] and body["mrn"].startswith("HMS")
    with factory() as session:
        appointment = session.scalars(
            select(Appointment).where(Appointment.booking_reference == body["reference"])
        ).one()
        assert appointment.source == "self"
        actions = set(
            session.scalars(
                select(AuditEntry.action).where(AuditEntry.patient_id == appointment.patient_id)
            )
        )
        assert {"patient.create", "appointment.book", "appointment.self_book"} <= actions


def test_cancel_needs_reference_and_date_of_birth_and_cancels_reminders(
    app, doctor, factory, settings
):
    patient = _patient(factory, settings, email="pat@example.org")
    c = _browser(app)
    token = _open_page(c)
    start = _free_slot(c, doctor.id, days_ahead=7)
    booked = _post(
        c,
        "/book/api/bookings",
        {"doctor_id": doctor.id, "start": start, "patient": _existing(patient.mrn)},
        token,
    )
    assert booked.status_code == 201, booked.text
    reference = booked.json()["reference"]

    wrong_dob = _post(
        c, "/book/api/cancellations", {"reference": reference, "date_of_birth": "1999-09-09"}, token
    )
    unknown_ref = _post(
        c,
        "/book/api/cancellations",
        {"reference": "ZZZZ-ZZZZ", "date_of_birth": DOB.isoformat()},
        token,
    )
    assert wrong_dob.status_code == unknown_ref.status_code == 422
    assert wrong_dob.json() == unknown_ref.json()

    cancelled = _post(
        c,
        "/book/api/cancellations",
        {"reference": reference.lower().replace("-", " "), "date_of_birth": DOB.isoformat()},
        token,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = _post(
        c,
        "/book/api/cancellations",
        {"reference": reference, "date_of_birth": DOB.isoformat()},
        token,
    )
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    with factory() as session:
        appointment = session.scalars(
            select(Appointment).where(Appointment.booking_reference == reference)
        ).one()
        assert appointment.status == "cancelled"
        statuses = {
            (m.template, m.channel): m.status
            for m in session.scalars(
                select(Message).where(Message.appointment_id == appointment.id)
            )
        }
        assert statuses[("appointment_reminder", "sms")] == "cancelled"
        assert statuses[("appointment_reminder", "email")] == "cancelled"
        assert statuses[("appointment_cancelled", "sms")] == "queued"
        assert (
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "appointment.self_cancel",
                    AuditEntry.patient_id == patient.id,
                )
            )
            .one()
            .username
            == "self-booking"
        )


@pytest.mark.parametrize(
    "case",
    [
        "no token",
        "no cookie",
        "cross-site origin",
        "cross-site fetch",
        "forged token",
        "null origin",
        "cross-site origin behind proxy",
    ],
)
def test_state_changing_requests_without_valid_csrf_proof_are_refused(
    app, doctor, factory, settings, case
):
    patient = _patient(factory, settings)
    c = _browser(app)
    token = _open_page(c)
    start = _free_slot(c, doctor.id, days_ahead=8)
    body = {"doctor_id": doctor.id, "start": start, "patient": _existing(patient.mrn)}
    headers: dict[str, str] = {}
    sent_token: str | None = token
    if case == "no token":
        sent_token = None
    elif case == "no cookie":
        c.cookies.clear()
    elif case == "cross-site origin":
        headers["Origin"] = "https://evil.example"
    elif case == "cross-site fetch":
        headers["Sec-Fetch-Site"] = "cross-site"
    elif case == "null origin":
        headers["Origin"] = "null"
    elif case == "cross-site origin behind proxy":
        headers.update({"Origin": "https://evil.example", "X-Forwarded-Host": "hospital.example"})
    elif case == "forged token":
        nonce, issued, _ = token.split(".")
        sent_token = f"{nonce}.{issued}.AAAAAAAAAAAAAAAAAAAAAAAA"
        c.cookies.set("hms_book_csrf", sent_token, path="/book")
    response = _post(c, "/book/api/bookings", body, sent_token, **headers)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "csrf_failed"
    cancel = _post(
        c,
        "/book/api/cancellations",
        {"reference": "ABCD-EFGH", "date_of_birth": "1970-01-01"},
        sent_token,
        **headers,
    )
    assert cancel.status_code == 403
    with factory() as session:
        assert (
            session.scalars(select(Appointment).where(Appointment.patient_id == patient.id)).all()
            == []
        )


def test_same_origin_through_a_host_rewriting_proxy_is_accepted(app, doctor, factory, settings):
    patient = _patient(factory, settings)
    c = _browser(app)
    token = _open_page(c)
    start = _free_slot(c, doctor.id, days_ahead=12)
    response = _post(
        c,
        "/book/api/bookings",
        {"doctor_id": doctor.id, "start": start, "patient": _existing(patient.mrn)},
        token,
        Origin="https://hospital.example",
        **{"X-Forwarded-Host": "hospital.example"},
    )
    assert response.status_code == 201, response.text


def test_attempts_are_rate_limited_per_client_address(app, doctor):
    c = _browser(app)
    token = _open_page(c)
    start = _free_slot(c, doctor.id, days_ahead=9)
    budget = DEFAULT_LIMITS.writes_per_address.hits
    statuses = []
    for i in range(budget + 2):
        response = _post(
            c,
            "/book/api/bookings",
            {
                "doctor_id": doctor.id,
                "start": start,
                "patient": _existing(f"HMS{i:08d}0", date(1960, 1, 1)),
            },
            token,
        )
        statuses.append(response.status_code)
    assert statuses[:budget] == [422] * budget
    assert statuses[budget:] == [429, 429]
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["code"] == "too_many_attempts"
    # Another address is not affected.
    other = _browser(app)
    other_token = _open_page(other)
    assert (
        _post(
            other,
            "/book/api/bookings",
            {"doctor_id": doctor.id, "start": start, "patient": _existing("HMS000000000")},
            other_token,
        ).status_code
        == 422
    )


def test_limits_are_shared_by_every_server_process(app, settings, doctor):
    from hms_server.app import create_app

    second_server = create_app(settings)  # another worker on the same database
    address = "10.250.250.7"
    clients = [_browser(app, address), _browser(second_server, address)]
    tokens = [_open_page(c) for c in clients]
    start = _free_slot(clients[0], doctor.id, days_ahead=13)
    budget = DEFAULT_LIMITS.writes_per_address.hits
    statuses = [
        _post(
            clients[i % 2],
            "/book/api/bookings",
            {"doctor_id": doctor.id, "start": start, "patient": _existing(f"HMS7{i:07d}0")},
            tokens[i % 2],
        ).status_code
        for i in range(budget + 2)
    ]
    assert statuses == [422] * budget + [429, 429]
    second_server.state.engine.dispose()


def test_guessing_one_mrn_from_many_addresses_is_rate_limited_whether_or_not_it_exists(
    app, doctor, factory, settings
):
    patient = _patient(factory, settings)
    start = _free_slot(_browser(app), doctor.id, days_ahead=10)
    budget = DEFAULT_LIMITS.attempts_per_mrn.hits
    for mrn in (patient.mrn, "HMS888888880"):
        # Re-formatting the number does not buy more guesses.
        spellings = [mrn, mrn.lower(), f"{mrn[:3]}-{mrn[3:7]}-{mrn[7:]}", mrn[3:], mrn[:-1]]
        statuses = []
        for i in range(budget + 1):
            c = _browser(app)
            token = _open_page(c)
            statuses.append(
                _post(
                    c,
                    "/book/api/bookings",
                    {
                        "doctor_id": doctor.id,
                        "start": start,
                        "patient": _existing(
                            spellings[i % len(spellings)], date(1950, 1, 1) + timedelta(days=i)
                        ),
                    },
                    token,
                ).status_code
            )
        assert statuses == [422] * budget + [429], (mrn, statuses)


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/book/api/bookings", {"doctor_id": "x", "start": "soon", "patient": {}}),
        (
            "/book/api/bookings",
            {
                "doctor_id": 1,
                "start": "2030-01-01T09:00:00+00:00",
                "patient": {"kind": "existing", "mrn": "HMS1", "date_of_birth": "1970-13-40"},
            },
        ),
        (
            "/book/api/bookings",
            {
                "doctor_id": 2**63,
                "start": "2030-01-01T09:00:00+00:00",
                "patient": {
                    "kind": "new",
                    "given_name": "",
                    "family_name": "x",
                    "date_of_birth": "1970-01-01",
                    "phone": "call me",
                },
            },
        ),
        (
            "/book/api/bookings",
            {
                "doctor_id": 1,
                "start": "2030-01-01T09:00:00+00:00",
                "patient": {
                    "kind": "existing",
                    "mrn": "HMS000000018",
                    "date_of_birth": "1970-01-01",
                },
                "admin": True,
            },
        ),
        ("/book/api/cancellations", {"reference": "", "date_of_birth": "yesterday"}),
        ("/book/api/cancellations", ["not", "an", "object"]),
    ],
)
def test_bad_input_is_a_422_problem_listing_fields(app, path, payload):
    c = _browser(app)
    token = _open_page(c)
    response = _post(c, path, payload, token)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "validation_error"


def test_slot_queries_out_of_range_or_malformed_are_422_and_unknown_doctor_404(app, doctor):
    c = _browser(app)
    far = (date.today() + timedelta(days=400)).isoformat()
    past = (date.today() - timedelta(days=1)).isoformat()
    for params in (
        {"doctor_id": doctor.id, "date": far},
        {"doctor_id": doctor.id, "date": past},
        {"doctor_id": doctor.id, "date": "31/12/2030"},
        {"doctor_id": "abc", "date": date.today().isoformat()},
        {"doctor_id": doctor.id},
    ):
        assert c.get("/book/api/slots", params=params).status_code == 422, params
    missing = c.get(
        "/book/api/slots", params={"doctor_id": 2**61, "date": date.today().isoformat()}
    )
    assert missing.status_code == 404


def test_booking_a_taken_slot_is_409_with_suggestions(app, doctor, factory, settings):
    first, second = _patient(factory, settings), _patient(factory, settings)
    c = _browser(app)
    token = _open_page(c)
    start = _free_slot(c, doctor.id, days_ahead=11)
    ok = _post(
        c,
        "/book/api/bookings",
        {"doctor_id": doctor.id, "start": start, "patient": _existing(first.mrn)},
        token,
    )
    assert ok.status_code == 201
    taken = _post(
        c,
        "/book/api/bookings",
        {"doctor_id": doctor.id, "start": start, "patient": _existing(second.mrn)},
        token,
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "slot_taken"
    assert taken.json()["suggestions"]
