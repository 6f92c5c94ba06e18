"""Charges captured from what happens elsewhere, exactly once per source: a completed
consultation (queue or encounter close), lab orders (and their cancellation), dispensed
medicines (and returns) and bed-days. The pharmacy and ward areas emit their events; here
the events are emitted through a wired unit of work, as those areas will."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from hms_server.adapters.orm.prescribing import Drug
from hms_server.adapters.uow import Actor
from hms_server.domain import events as ev
from tests.server.billing_factories import charge, draft, price_item
from tests.server.scheduling_factories import (
    PASSWORD,
    make_doctor,
    make_patient,
    tomorrow_at,
)
from tests.wiring import wired_uow


@pytest.fixture(scope="module")
def factory(db):  # type: ignore[no-untyped-def]
    return db.owner_session_factory()


@pytest.fixture(scope="module")
def clerk(make_user, login):  # type: ignore[no-untyped-def]
    return login(*make_user("billing_clerk"))


@pytest.fixture(scope="module")
def reception(make_user, login):  # type: ignore[no-untyped-def]
    return login(*make_user("receptionist"))


def _charges(client, clerk, patient_id, **params):  # type: ignore[no-untyped-def]
    return client.get(
        f"/api/v1/patients/{patient_id}/charges", params=params, headers=clerk
    ).json()["items"]


def _emit(factory, settings, event):  # type: ignore[no-untyped-def]
    uow = wired_uow(factory, Actor.system("tests"), settings=settings)
    with uow:
        uow.emit(event)
        uow.commit()


def test_completing_a_consultation_through_the_queue_charges_exactly_once(
    client, clerk, reception, factory, settings, login
):
    doctor = make_doctor(factory, settings)
    fee = price_item(
        client,
        clerk,
        category="consultation",
        unit_price="55.00",
        department_id=doctor.department_id,
    )
    doctor_headers = login(doctor.username, PASSWORD)
    booked = client.post(
        "/api/v1/appointments",
        headers=reception,
        json={
            "patient_id": make_patient(factory, settings),
            "doctor_id": doctor.id,
            "start": tomorrow_at(settings, 10).isoformat(),
        },
    ).json()
    entry = client.post(f"/api/v1/appointments/{booked['id']}/check-in", headers=reception).json()
    client.post(f"/api/v1/queue/{entry['id']}/start", headers=doctor_headers)
    responses = [
        client.post(f"/api/v1/queue/{entry['id']}/complete", headers=doctor_headers)
        for _ in range(3)
    ]
    assert [r.status_code for r in responses] == [200, 409, 409]
    charges = _charges(client, clerk, booked["patient_id"])
    assert len(charges) == 1
    assert (charges[0]["code"], charges[0]["source_type"], charges[0]["amount"]) == (
        fee["code"],
        "consultation",
        "55.00",
    )
    assert charges[0]["encounter_id"] == responses[0].json()["encounter_id"]
    # The same fact told again (a retried event, a second close) still charges once.
    _emit(
        factory,
        settings,
        ev.ConsultationCompleted(
            encounter_id=charges[0]["encounter_id"],
            patient_id=booked["patient_id"],
            doctor_user_id=doctor.user_id,
            department_id=doctor.department_id,
            ended_at=datetime.now(UTC),
        ),
    )
    assert len(_charges(client, clerk, booked["patient_id"])) == 1


def test_a_department_without_its_own_fee_uses_a_general_consultation_price(
    client, clerk, factory, settings
):
    patient = make_patient(factory, settings)
    doctor = make_doctor(factory, settings)
    price_item(client, clerk, category="consultation", unit_price="35.00")
    _emit(
        factory,
        settings,
        ev.ConsultationCompleted(
            encounter_id=_encounter(factory, settings, patient, doctor.user_id),
            patient_id=patient,
            doctor_user_id=doctor.user_id,
            department_id=None,
            ended_at=datetime.now(UTC),
        ),
    )
    charges = _charges(client, clerk, patient)
    assert len(charges) == 1
    used = client.get(f"/api/v1/price-items/{charges[0]['price_item_id']}", headers=clerk).json()
    assert used["category"] == "consultation" and used["department_id"] is None


def _encounter(factory, settings, patient_id, clinician_user_id):  # type: ignore[no-untyped-def]
    from hms_server.services.encounters import open_encounter

    return open_encounter(
        wired_uow(factory, Actor.system("tests"), settings=settings),
        patient_id=patient_id,
        clinician_user_id=clinician_user_id,
    ).id


def test_lab_orders_are_charged_and_a_cancelled_order_reverses_its_charge(
    client, clerk, factory, settings, login
):
    doctor = make_doctor(factory, settings)
    doctor_headers = login(doctor.username, PASSWORD)
    patient = make_patient(factory, settings)
    tests = client.get("/api/v1/lab-tests", params={"limit": 3}, headers=doctor_headers).json()
    first, second = tests["items"][0], tests["items"][1]
    for test in (first, second):
        existing = client.get(
            "/api/v1/price-items", params={"q": f"LABT-{test['code']}"}, headers=clerk
        ).json()
        if not existing["total"]:
            client.post(
                "/api/v1/price-items",
                json={
                    "code": f"LABT-{test['code']}",
                    "name": test["name"],
                    "category": "lab",
                    "unit_price": "18.00",
                    "lab_test_id": test["id"],
                },
                headers=clerk,
            )
    client.post(
        f"/api/v1/patients/{patient}/break-glass",
        json={"reason": "billing test"},
        headers=doctor_headers,
    )
    _encounter(factory, settings, patient, doctor.user_id)
    orders = [
        client.post(
            f"/api/v1/patients/{patient}/lab-orders",
            json={"test_id": t["id"]},
            headers=doctor_headers,
        )
        for t in (first, second)
    ]
    assert all(o.status_code == 201 for o in orders), orders[0].text
    charges = _charges(client, clerk, patient, status="unbilled")
    assert sorted(c["source_id"] for c in charges) == sorted(o.json()["id"] for o in orders)
    cancelled = client.post(
        f"/api/v1/patients/{patient}/lab-orders/{orders[0].json()['id']}/cancel",
        headers=doctor_headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    statuses = {c["source_id"]: c["status"] for c in _charges(client, clerk, patient)}
    assert statuses[orders[0].json()["id"]] == "reversed"
    # A billed charge whose order is cancelled stays on its invoice, flagged for a credit.
    invoice = draft(client, clerk, patient)
    client.post(f"/api/v1/invoices/{invoice['id']}/finalize", headers=clerk)
    client.post(
        f"/api/v1/patients/{patient}/lab-orders/{orders[1].json()['id']}/cancel",
        headers=doctor_headers,
    )
    billed = next(
        c for c in _charges(client, clerk, patient) if c["source_id"] == orders[1].json()["id"]
    )
    assert billed["status"] == "billed" and billed["source_cancelled"] is True


def test_dispensed_medicine_is_priced_by_the_drug_and_returns_reduce_or_reverse(
    client, clerk, factory, settings
):
    patient = make_patient(factory, settings)
    with factory() as session:
        drug_id = session.scalar(select(Drug.id).order_by(Drug.id.desc()).limit(1))
    existing = client.get(
        "/api/v1/price-items", params={"category": "medicine", "limit": 500}, headers=clerk
    ).json()["items"]
    item = next((i for i in existing if i["drug_id"] == drug_id), None) or price_item(
        client,
        clerk,
        category="medicine",
        unit_price="0.35",
        drug_id=drug_id,
        effective_from="2020-01-01",
    )
    line = int(datetime.now(UTC).timestamp() * 1000) % 10**12
    dispensed = ev.MedicationDispensed(
        dispense_line_id=line,
        patient_id=patient,
        drug_id=drug_id,
        stock_item_id=1,
        quantity=Decimal(30),
        dispensed_at=datetime.now(UTC),
    )
    _emit(factory, settings, dispensed)
    _emit(factory, settings, dispensed)
    charges = _charges(client, clerk, patient)
    assert len(charges) == 1
    unit = Decimal(item["unit_price"])
    assert Decimal(charges[0]["amount"]) == settings_round(unit * 30)
    _emit(
        factory,
        settings,
        ev.MedicationReturned(dispense_line_id=line, patient_id=patient, quantity=Decimal(10)),
    )
    reduced = _charges(client, clerk, patient)[0]
    assert reduced["quantity"] == "20" and Decimal(reduced["amount"]) == settings_round(unit * 20)
    _emit(
        factory,
        settings,
        ev.MedicationReturned(dispense_line_id=line, patient_id=patient, quantity=Decimal(20)),
    )
    assert _charges(client, clerk, patient)[0]["status"] == "reversed"


def settings_round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def test_each_bed_day_is_charged_once_at_the_ward_class_rate(client, clerk, factory, settings):
    patient = make_patient(factory, settings)
    existing = client.get(
        "/api/v1/price-items", params={"category": "bed_day"}, headers=clerk
    ).json()["items"]
    rate = next((i for i in existing if i["ward_class"] == "icu"), None) or price_item(
        client,
        clerk,
        category="bed_day",
        unit_price="900.00",
        ward_class="icu",
        effective_from="2020-01-01",
    )
    admission = int(datetime.now(UTC).timestamp() * 1000) % 10**12
    start = date.today() - timedelta(days=2)
    for offset in (0, 1, 1, 2):  # day 1 reported twice
        _emit(
            factory,
            settings,
            ev.BedDayOccupied(
                admission_id=admission,
                patient_id=patient,
                ward_class="icu",
                day=start + timedelta(days=offset),
            ),
        )
    charges = _charges(client, clerk, patient, admission_id=admission)
    assert len(charges) == 3
    assert {c["source_line"] for c in charges} == {
        (start + timedelta(days=d)).isoformat() for d in range(3)
    }
    assert all(c["unit_price"] == rate["unit_price"] for c in charges)


def test_an_unpriced_fact_is_not_charged_and_is_audited(client, clerk, factory, settings):
    from hms_server.adapters.orm.infra import AuditEntry

    patient = make_patient(factory, settings)
    _emit(
        factory,
        settings,
        ev.BedDayOccupied(
            admission_id=4242, patient_id=patient, ward_class="semi_private", day=date(1990, 1, 1)
        ),
    )
    assert _charges(client, clerk, patient) == []
    with factory() as session:
        actions = list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.patient_id == patient))
        )
    assert "charge.unpriced" in actions


def test_manual_charge_by_id_and_reversal(client, clerk, factory, settings):
    patient = make_patient(factory, settings)
    item = price_item(client, clerk, unit_price="9.99")
    by_id = client.post(
        "/api/v1/charges",
        json={
            "patient_id": patient,
            "price_item_id": item["id"],
            "quantity": "2",
            "reason": "two splints",
        },
        headers=clerk,
    )
    assert by_id.status_code == 201 and by_id.json()["amount"] == "19.98"
    reversed_ = client.post(
        f"/api/v1/charges/{by_id.json()['id']}/reverse",
        json={"reason": "entered twice"},
        headers=clerk,
    )
    assert reversed_.status_code == 200 and reversed_.json()["status"] == "reversed"
    again = client.post(
        f"/api/v1/charges/{by_id.json()['id']}/reverse",
        json={"reason": "entered twice"},
        headers=clerk,
    )
    assert again.status_code == 409
    other = charge(client, clerk, patient, item)
    draft(client, clerk, patient, [other["id"]])
    billed = client.post(
        f"/api/v1/charges/{other['id']}/reverse", json={"reason": "entered twice"}, headers=clerk
    )
    assert billed.status_code == 409 and billed.json()["code"] == "charge_not_unbilled"
