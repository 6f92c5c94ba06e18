"""Edge dates answer 4xx with a clear problem, never a 500 (issue 8, "bad input"): dates are
bounded to 1900-01-01..2200-12-31 at the schema (``hms_contract.common.SaneDate`` /
``SaneDateTime``), and arithmetic overflow anywhere is caught centrally (422)."""

from __future__ import annotations

import pytest

from hms_contract.common import LATEST_DATE
from tests.server.api.test_self_booking import _browser, _open_page, _post
from tests.server.scheduling_factories import make_doctor, make_patient

EDGES = ["9999-12-31", "0001-01-01", "2201-01-01", "1899-12-31"]


@pytest.fixture(scope="module")
def doctor(db, settings):  # type: ignore[no-untyped-def]
    return make_doctor(db.owner_session_factory(), settings)


def _bad(response, field_part: str) -> None:
    assert response.status_code in (400, 422), response.text
    body = response.json()
    text = str(body)
    assert field_part in text, text


@pytest.mark.parametrize("day", EDGES)
def test_appointment_list_dates(client, headers_for, day):
    for params in ({"date": day}, {"date": "2026-01-01", "date_to": day}):
        _bad(
            client.get("/api/v1/appointments", params=params, headers=headers_for("receptionist")),
            "date",
        )


@pytest.mark.parametrize("day", [*EDGES, "9999-12-31T23:59:00+00:00"])
def test_next_available_from(client, headers_for, doctor, day):
    _bad(
        client.get(
            "/api/v1/slots/next-available",
            params={"doctor_id": doctor.id, "from": day},
            headers=headers_for("receptionist"),
        ),
        "from",
    )


def test_next_available_at_the_last_allowed_day_is_not_a_500(client, headers_for, doctor):
    response = client.get(
        "/api/v1/slots/next-available",
        params={"doctor_id": doctor.id, "from": LATEST_DATE.isoformat(), "days": 90},
        headers=headers_for("receptionist"),
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:45:00+00:00", "0001-01-01T00:00:00+00:00", "9999-12-31T23:45:00"]
)
def test_booking_an_appointment(client, db, settings, headers_for, doctor, start):
    patient = make_patient(db.owner_session_factory(), settings)
    _bad(
        client.post(
            "/api/v1/appointments",
            headers=headers_for("receptionist"),
            json={"patient_id": patient, "doctor_id": doctor.id, "start": start},
        ),
        "start",
    )


@pytest.mark.parametrize("start", ["9999-12-31T23:45:00+00:00", "0001-01-01T00:00:00+00:00"])
def test_self_booking(app, doctor, start):
    browser = _browser(app)
    token = _open_page(browser)
    response = _post(
        browser,
        "/book/api/bookings",
        {
            "doctor_id": doctor.id,
            "start": start,
            "patient": {"kind": "existing", "mrn": "HMS-000001", "date_of_birth": "1980-01-01"},
        },
        token,
    )
    _bad(response, "start")
    slots = browser.get("/book/api/slots", params={"doctor_id": doctor.id, "date": "9999-12-31"})
    _bad(slots, "date")


@pytest.mark.parametrize(
    "value", ["eb0001-01-01", "sa9999", "lt0001", "gt9999-12-31", "eq1850", "ge2300-01"]
)
def test_fhir_birthdate_prefixes(client, headers_for, value):
    response = client.get(
        "/fhir/Patient", params={"birthdate": value}, headers=headers_for("doctor")
    )
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    assert "birthdate" in response.json()["issue"][0]["diagnostics"]


def test_fhir_birthdate_inside_the_range_still_searches(client, headers_for):
    response = client.get(
        "/fhir/Patient", params={"birthdate": "sa2200"}, headers=headers_for("doctor")
    )
    assert response.status_code == 200 and response.json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {
            "given_name": "Edge",
            "family_name": "Case",
            "sex": "female",
            "confirm_new": True,
            "date_of_birth": "1899-12-31",
        },
        {
            "given_name": "Edge",
            "family_name": "Case",
            "sex": "female",
            "confirm_new": True,
            "age_years": 10**9,
        },
    ],
)
def test_patient_birth_dates(client, headers_for, body):
    response = client.post("/api/v1/patients", json=body, headers=headers_for("receptionist"))
    assert response.status_code == 422, response.text


def test_arithmetic_overflow_anywhere_is_a_422_problem():
    """The net under the schema bounds: any route whose date or number arithmetic overflows
    answers 422 ``value_out_of_range``, never 500."""
    from datetime import date, timedelta

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from hms_server.api.problems import install_problem_handlers

    probe = FastAPI()
    install_problem_handlers(probe)

    @probe.get("/overflow")
    def overflow() -> str:
        return (date.max + timedelta(days=1)).isoformat()

    with TestClient(probe, raise_server_exceptions=False) as c:
        response = c.get("/overflow")
    assert response.status_code == 422
    assert response.json()["code"] == "value_out_of_range"
    assert response.headers["content-type"].startswith("application/problem+json")
