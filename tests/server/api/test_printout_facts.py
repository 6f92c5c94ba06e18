"""What printouts read from the server: the hospital's letterhead (name, address, phone and
the logo file from settings) and the allergy alert a wristband prints."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hms_server.adapters.orm.infra import AuditEntry
from tests.server.api.clinical_factories import (
    book_with,
    new_clinician,
    new_patient,
    open_encounter,
)

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
    "DwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def letterhead_client(db, tmp_path_factory):  # type: ignore[no-untyped-def]
    from hms_server.app import create_app

    logo = tmp_path_factory.mktemp("logo") / "logo.png"
    logo.write_bytes(PNG)
    settings = db.settings(
        hospital_name="St Mary's General Hospital",
        hospital_address="1 Harbour Road, Gdańsk",
        hospital_phone="+48 58 555 0100",
        hospital_logo_file=str(logo),
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_the_letterhead_comes_from_the_settings(letterhead_client, make_user, login):
    username, password = make_user("doctor")[:2]
    headers = login(username, password)  # same database and signing key as this app
    me = letterhead_client.get("/api/v1/me", headers=headers).json()
    assert me["hospital"]["name"] == "St Mary's General Hospital"
    assert me["hospital"]["has_logo"] is True
    hospital = letterhead_client.get("/api/v1/hospital", headers=headers).json()
    assert hospital["address"] == "1 Harbour Road, Gdańsk"
    assert hospital["phone"] == "+48 58 555 0100"
    logo = letterhead_client.get("/api/v1/hospital/logo", headers=headers)
    assert logo.status_code == 200
    assert logo.headers["content-type"] == "image/png" and logo.content == PNG
    assert letterhead_client.get("/api/v1/hospital/logo").status_code == 401


def test_billing_prints_the_same_logo(letterhead_client, make_user, login):
    """Billing's letterhead endpoint reads the same setting by the same rules."""
    headers = login(*make_user("billing_clerk")[:2])
    billing = letterhead_client.get("/api/v1/billing/logo", headers=headers)
    assert billing.status_code == 200 and billing.content == PNG
    assert billing.headers["content-type"] == "image/png"
    settings = letterhead_client.get("/api/v1/billing/settings", headers=headers).json()
    assert settings["has_logo"] is True


def test_a_logo_that_is_not_an_image_is_no_logo(db, tmp_path, headers_for):
    from hms_server.app import create_app

    bogus = tmp_path / "logo.png"
    bogus.write_bytes(b"<html>not an image</html>")
    settings = db.settings(hospital_logo_file=str(bogus))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for path in ("/api/v1/hospital/logo", "/api/v1/billing/logo"):
            answer = client.get(path, headers=headers_for("billing_clerk"))
            assert answer.status_code == 404 and answer.json()["code"] == "not_found"


def test_no_logo_is_a_404_problem(client, headers_for):
    headers = headers_for("receptionist")
    assert client.get("/api/v1/me", headers=headers).json()["hospital"]["has_logo"] is False
    missing = client.get("/api/v1/hospital/logo", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_reception_reads_the_allergy_alert_for_a_wristband(
    client, headers_for, make_user, login, db
):
    reception = headers_for("receptionist")
    patient = new_patient(client, headers_for)["id"]
    first = client.get(f"/api/v1/patients/{patient}/allergy-alert", headers=reception)
    assert first.status_code == 200, first.text
    assert first.json() == {"patient_id": patient, "recorded": False, "allergies": []}

    doctor = new_clinician(client, make_user, login)
    book_with(client, headers_for, doctor, patient)  # the doctor's patient
    open_encounter(client, doctor, patient)
    for substance, severity in (("latex", "mild"), ("penicillin", "severe")):
        added = client.post(
            f"/api/v1/patients/{patient}/allergies",
            headers=doctor.headers,
            json={"substance": substance, "severity": severity, "reaction": "rash"},
        )
        assert added.status_code == 201, added.text
    alert = client.get(f"/api/v1/patients/{patient}/allergy-alert", headers=reception).json()
    assert alert["recorded"] is True
    # Most severe first; the reaction and the rest of the chart are not part of the alert.
    assert alert["allergies"] == [
        {"substance": "penicillin", "severity": "severe"},
        {"substance": "latex", "severity": "mild"},
    ]
    with db.owner_session_factory()() as session:
        assert session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.patient_id == patient, AuditEntry.action == "allergy.alert_read"
            )
        ).all()
    assert (
        client.get(
            f"/api/v1/patients/{patient}/allergy-alert", headers=headers_for("hr_officer")
        ).status_code
        == 403
    )
