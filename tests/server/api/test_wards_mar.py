"""The medication administration record through the API: prescriptions for admitted
patients become scheduled doses; recording a dose passes the five-rights check or is
refused with its code, and nothing is recorded.

Until the pharmacy's barcode resolver is on main, the resolver port is a test double that
maps a code to a formulary drug (``FakeResolver``): the five-rights logic under test is the
ward's, not the resolver's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hms_server.domain.errors import NotFoundError, ValidationFailedError
from hms_server.domain.ports import ScannedMedication
from tests.server.api.clinical_factories import book_with, drug_id, new_clinician, rx_item
from tests.server.api.ward_factories import admit, new_patient, new_ward, ward_nurse


class FakeResolver:
    """Codes ``GTIN-<drug id>`` (optionally ``;exp=YYYY-MM-DD``) identify a formulary drug;
    the strength and route come from the formulary like the real catalogue's would."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, uow: Any, code: str) -> ScannedMedication:
        from hms_server.adapters.repositories.mar import MarRepository

        self.calls.append(code)
        if not code.startswith("GTIN-"):
            raise ValidationFailedError("not a GS1 code")
        head, _, expiry = code.partition(";exp=")
        drug = uow.repo(MarRepository).drug(int(head[5:]))
        if drug is None:
            raise NotFoundError("unknown code")
        return ScannedMedication(
            stock_item_id=None,
            drug_id=drug.id,
            gtin=f"0{drug.id:013d}",
            lot="L1",
            expiry=datetime.fromisoformat(expiry).date() if expiry else None,
            strength=drug.strength,
            form=drug.form,
            route=drug.route,
        )


@pytest.fixture
def resolver(app):
    ports = app.state.runtime.ports
    previous = ports.medication_codes
    fake = FakeResolver()
    ports.medication_codes = fake
    yield fake
    ports.medication_codes = previous


@pytest.fixture
def ward_setup(client, make_user, login, headers_for):
    ward = new_ward(client, headers_for, beds=3)
    nurse = ward_nurse(client, make_user, login, headers_for, ward)
    return ward, nurse


def _prescribe(client, headers, patient_id, drug, **item):
    r = client.post(
        "/api/v1/prescriptions",
        json={"patient_id": patient_id, "items": [rx_item(drug, **item)]},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def _mar(client, headers, admission_id):
    r = client.get(f"/api/v1/admissions/{admission_id}/mar", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _due_now(client, doctor, admission_id, order_id, version, minutes_from_now=10):
    """Reschedule the order to a clock time just ahead, so a dose is inside its window."""
    at = datetime.now(UTC) + timedelta(minutes=minutes_from_now)  # the test hospital is UTC
    r = client.patch(
        f"/api/v1/medication-orders/{order_id}",
        json={"version": version, "schedule_times": [at.strftime("%H:%M")]},
        headers=doctor,
    )
    assert r.status_code == 200, r.text
    doses = [
        d
        for d in _mar(client, doctor, admission_id)["items"]
        if d["order_id"] == order_id and d["status"] == "scheduled"
    ]
    return doses[0]


@pytest.fixture
def dosed(client, headers_for, ward_setup):
    """An admitted patient with an active order of spironolactone 25 mg oral and a dose
    due within the next ten minutes."""
    ward, nurse = ward_setup
    doctor = headers_for("doctor")
    patient = new_patient(client, headers_for)
    admission = admit(client, doctor, patient["id"], ward.bed_ids[0])
    drug = drug_id(client, doctor, "Spironolactone")
    _prescribe(
        client,
        doctor,
        patient["id"],
        drug,
        frequency="twice daily",
        duration_days=3,
        dose=25,
        unit="mg",
    )
    order = _mar(client, doctor, admission["id"])["orders"][0]
    dose = _due_now(client, doctor, admission["id"], order["id"], order["version"])
    return {
        "ward": ward,
        "nurse": nurse,
        "doctor": doctor,
        "patient": patient,
        "admission": admission,
        "drug": drug,
        "order": order,
        "dose": dose,
    }


def _record(client, nurse, dose_id, mrn, code, status="given", **extra):
    body = {
        "dose_id": dose_id,
        "patient_barcode": mrn,
        "medication_barcode": code,
        "status": status,
        **extra,
    }
    return client.post("/api/v1/medication-administrations", json=body, headers=nurse.headers)


def test_every_8_hours_is_scheduled_at_06_14_22_for_its_duration(client, headers_for, ward_setup):
    ward, _ = ward_setup
    doctor = headers_for("doctor")
    patient = new_patient(client, headers_for)
    admission = admit(client, doctor, patient["id"], ward.bed_ids[0])
    _prescribe(
        client,
        doctor,
        patient["id"],
        drug_id(client, doctor, "Amoxicillin"),
        frequency="every 8 hours",
        duration_days=2,
        dose=500,
        unit="mg",
    )
    mar = _mar(client, doctor, admission["id"])
    assert mar["total"] == len(mar["items"]) and 5 <= mar["total"] <= 6
    times = {datetime.fromisoformat(d["due_at"]).strftime("%H:%M") for d in mar["items"]}
    assert times == {"06:00", "14:00", "22:00"}
    assert all({"id", "prescription_item_id", "due_at", "status"} <= set(d) for d in mar["items"])
    assert {d["status"] for d in mar["items"]} == {"scheduled"}
    order = mar["orders"][0]
    assert order["schedule_times"] == ["06:00", "14:00", "22:00"]
    assert order["status"] == "active"


def test_a_prescription_for_a_patient_who_is_not_admitted_makes_no_doses(
    client, headers_for, make_user, login
):
    clinician = new_clinician(client, make_user, login)
    doctor = clinician.headers
    patient = new_patient(client, headers_for)
    book_with(client, headers_for, clinician, patient["id"])  # an outpatient visit
    _prescribe(client, doctor, patient["id"], drug_id(client, doctor, "Amoxicillin"))
    ward = new_ward(client, headers_for, beds=1)
    admission = admit(client, doctor, patient["id"], ward.bed_ids[0])
    assert _mar(client, doctor, admission["id"])["total"] == 0


def test_a_correct_scan_records_the_dose(client, dosed, resolver):
    d = dosed
    r = _record(client, d["nurse"], d["dose"]["id"], d["patient"]["mrn"], f"GTIN-{d['drug']}")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "given" and body["outside_window"] is False
    assert body["dose_id"] == d["dose"]["id"] and body["scanned_drug_id"] == d["drug"]
    dose = next(
        x
        for x in _mar(client, d["doctor"], d["admission"]["id"])["items"]
        if x["id"] == d["dose"]["id"]
    )
    assert dose["status"] == "given" and dose["administered_at"]
    assert dose["recorded_by_name"]


def test_another_patients_wristband_is_refused(client, headers_for, dosed, resolver):
    d = dosed
    other = new_patient(client, headers_for)
    r = _record(client, d["nurse"], d["dose"]["id"], other["mrn"], f"GTIN-{d['drug']}")
    assert r.status_code == 409 and r.json()["code"] == "wrong_patient"
    dose = next(
        x
        for x in _mar(client, d["doctor"], d["admission"]["id"])["items"]
        if x["id"] == d["dose"]["id"]
    )
    assert dose["status"] == "scheduled"  # nothing recorded


@pytest.mark.parametrize(
    ("scanned", "code"),
    [
        ("Amlodipine", "wrong_drug"),  # another medicine
        ("Spironolactone@100 mg", "wrong_dose"),  # same medicine, other strength
    ],
)
def test_a_scan_of_the_wrong_medicine_or_strength_is_refused(
    client, dosed, resolver, scanned, code
):
    d = dosed
    name, _, strength = scanned.partition("@")
    r = client.get("/api/v1/formulary", params={"q": name}, headers=d["doctor"])
    drugs = [x for x in r.json()["items"] if not strength or x["strength"] == strength]
    r = _record(client, d["nurse"], d["dose"]["id"], d["patient"]["mrn"], f"GTIN-{drugs[0]['id']}")
    assert r.status_code == 409, r.text
    assert r.json()["code"] == code


def test_an_unknown_or_unreadable_barcode_is_not_the_ordered_drug(client, dosed, resolver):
    d = dosed
    for code in ("GTIN-999999", "hello"):
        r = _record(client, d["nurse"], d["dose"]["id"], d["patient"]["mrn"], code)
        assert r.status_code == 409 and r.json()["code"] == "wrong_drug"


def test_a_product_for_another_route_is_refused(client, headers_for, ward_setup, resolver):
    ward, nurse = ward_setup
    doctor = headers_for("doctor")
    patient = new_patient(client, headers_for)
    admission = admit(client, doctor, patient["id"], ward.bed_ids[1])
    r = client.get("/api/v1/formulary", params={"q": "Furosemide"}, headers=doctor)
    tablet = next(x for x in r.json()["items"] if x["route"] == "oral")
    injection = next(x for x in r.json()["items"] if x["route"] == "intravenous")
    _prescribe(
        client, doctor, patient["id"], tablet["id"], frequency="once daily", dose=40, unit="mg"
    )
    order = _mar(client, doctor, admission["id"])["orders"][0]
    dose = _due_now(client, doctor, admission["id"], order["id"], order["version"])
    r = _record(client, nurse, dose["id"], patient["mrn"], f"GTIN-{injection['id']}")
    assert r.status_code == 409 and r.json()["code"] == "wrong_route"


def test_a_dose_outside_its_window_needs_a_reason(client, headers_for, ward_setup, resolver):
    ward, nurse = ward_setup
    doctor = headers_for("doctor")
    patient = new_patient(client, headers_for)
    admission = admit(client, doctor, patient["id"], ward.bed_ids[2])
    drug = drug_id(client, doctor, "Spironolactone")
    _prescribe(client, doctor, patient["id"], drug, frequency="once daily", dose=25, unit="mg")
    order = _mar(client, doctor, admission["id"])["orders"][0]
    dose = _due_now(
        client, doctor, admission["id"], order["id"], order["version"], minutes_from_now=180
    )
    r = _record(client, nurse, dose["id"], patient["mrn"], f"GTIN-{drug}")
    assert r.status_code == 409 and r.json()["code"] == "wrong_time"
    assert r.json()["reason_required"] is True
    r = _record(
        client,
        nurse,
        dose["id"],
        patient["mrn"],
        f"GTIN-{drug}",
        reason="Given early before theatre",
    )
    assert r.status_code == 201, r.text
    assert r.json()["outside_window"] is True


def test_the_same_dose_cannot_be_recorded_twice(client, dosed, resolver):
    d = dosed
    first = _record(client, d["nurse"], d["dose"]["id"], d["patient"]["mrn"], f"GTIN-{d['drug']}")
    assert first.status_code == 201
    again = _record(client, d["nurse"], d["dose"]["id"], d["patient"]["mrn"], f"GTIN-{d['drug']}")
    assert again.status_code == 409 and again.json()["code"] == "dose_already_recorded"


def test_held_and_refused_doses_need_a_reason_but_no_medication_scan(client, dosed):
    d = dosed
    body = {"dose_id": d["dose"]["id"], "patient_barcode": d["patient"]["mrn"], "status": "refused"}
    r = client.post("/api/v1/medication-administrations", json=body, headers=d["nurse"].headers)
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    r = client.post(
        "/api/v1/medication-administrations",
        json={**body, "reason": "Patient declined: nauseous"},
        headers=d["nurse"].headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "refused"


@pytest.fixture
def no_resolver(app):
    """A build without the pharmacy's resolver (the port is wired when pharmacy is)."""
    ports = app.state.runtime.ports
    previous, ports.medication_codes = ports.medication_codes, None
    yield
    ports.medication_codes = previous


def test_without_a_barcode_resolver_scanning_is_unavailable(
    client, headers_for, dosed, app, no_resolver
):
    assert app.state.runtime.ports.medication_codes is None
    d = dosed
    r = _record(client, d["nurse"], d["dose"]["id"], d["patient"]["mrn"], "GTIN-1")
    assert r.status_code == 503 and r.json()["code"] == "scanning_unavailable"
    # Another patient's wristband is still refused as such.
    other = new_patient(client, headers_for)
    r = _record(client, d["nurse"], d["dose"]["id"], other["mrn"], "GTIN-1")
    assert r.status_code == 409 and r.json()["code"] == "wrong_patient"


def test_only_nurses_of_the_ward_record_doses(client, make_user, login, dosed, resolver):
    from tests.server.api.clinical_factories import new_clinician

    d = dosed
    stranger = new_clinician(client, make_user, login, "nurse")
    r = _record(client, stranger, d["dose"]["id"], d["patient"]["mrn"], f"GTIN-{d['drug']}")
    assert r.status_code == 403 and r.json()["code"] == "not_on_ward"
    # A doctor cannot record doses at all (nurses' work).
    r = client.post(
        "/api/v1/medication-administrations",
        json={
            "dose_id": d["dose"]["id"],
            "patient_barcode": d["patient"]["mrn"],
            "medication_barcode": f"GTIN-{d['drug']}",
            "status": "given",
        },
        headers=d["doctor"],
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_stopping_the_order_cancels_future_doses(client, dosed, resolver):
    d = dosed
    r = client.post(
        f"/api/v1/medication-orders/{d['order']['id']}/stop",
        json={"reason": "Potassium 5.9"},
        headers=d["doctor"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "stopped"
    statuses = {x["status"] for x in _mar(client, d["doctor"], d["admission"]["id"])["items"]}
    assert statuses == {"cancelled"}
    r = _record(client, d["nurse"], d["dose"]["id"], d["patient"]["mrn"], f"GTIN-{d['drug']}")
    assert r.status_code == 409 and r.json()["code"] == "dose_cancelled"


def test_cancelling_the_prescription_stops_its_orders(client, headers_for, ward_setup):
    ward, _ = ward_setup
    doctor = headers_for("doctor")
    patient = new_patient(client, headers_for)
    admission = admit(client, doctor, patient["id"], ward.bed_ids[0])
    rx = _prescribe(
        client,
        doctor,
        patient["id"],
        drug_id(client, doctor, "Amoxicillin"),
        frequency="three times daily",
    )
    r = client.post(
        f"/api/v1/prescriptions/{rx['id']}/cancel",
        json={"version": rx["version"], "reason": "Allergy found"},
        headers=doctor,
    )
    assert r.status_code == 200, r.text
    mar = _mar(client, doctor, admission["id"])
    assert mar["orders"][0]["status"] == "stopped"
    assert {x["status"] for x in mar["items"]} == {"cancelled"}


def test_prn_doses_keep_their_minimum_interval(client, headers_for, ward_setup, resolver):
    ward, nurse = ward_setup
    doctor = headers_for("doctor")
    patient = new_patient(client, headers_for)
    admission = admit(client, doctor, patient["id"], ward.bed_ids[0])
    drug = drug_id(client, doctor, "Paracetamol")
    _prescribe(
        client,
        doctor,
        patient["id"],
        drug,
        frequency="every 6 hours as needed",
        dose=1,
        unit="tablet",
    )
    mar = _mar(client, doctor, admission["id"])
    order = mar["orders"][0]
    assert order["prn"] is True and order["prn_interval_minutes"] == 360
    assert mar["total"] == 0
    body = {
        "order_id": order["id"],
        "patient_barcode": patient["mrn"],
        "medication_barcode": f"GTIN-{drug}",
        "status": "given",
    }
    r = client.post("/api/v1/medication-administrations", json=body, headers=nurse.headers)
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/medication-administrations", json=body, headers=nurse.headers)
    assert r.status_code == 409 and r.json()["code"] == "wrong_time"
    assert r.json()["prn_interval_minutes"] == 360


def test_an_expired_pack_is_refused(client, dosed, resolver):
    d = dosed
    r = _record(
        client, d["nurse"], d["dose"]["id"], d["patient"]["mrn"], f"GTIN-{d['drug']};exp=2020-01-31"
    )
    assert r.status_code == 409 and r.json()["code"] == "expired_medication"


def test_bad_administration_bodies_are_422(client, dosed):
    nurse = dosed["nurse"]
    for body in (
        {},
        {"patient_barcode": "x", "status": "given"},
        {"dose_id": 1, "order_id": 1, "patient_barcode": "x", "status": "held", "reason": "r"},
        {"dose_id": 1, "patient_barcode": "x", "status": "given"},
        {"dose_id": 1, "patient_barcode": "x", "status": "eaten", "reason": "r"},
    ):
        r = client.post("/api/v1/medication-administrations", json=body, headers=nurse.headers)
        assert r.status_code == 422, (body, r.text)
