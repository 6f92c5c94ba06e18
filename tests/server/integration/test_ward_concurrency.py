"""Ward invariants under concurrency, through the real server over HTTP: twenty admissions
to one bed at once → exactly one; one patient admitted to two beds at once → one; two nurses
recording the same dose at once → one record."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from tests.server.api.clinical_factories import drug_id, rx_item
from tests.server.api.ward_factories import admit, new_patient, new_ward, ward_nurse


def _parallel(calls):
    """Run the callables at the same moment (a barrier releases them together)."""
    barrier = threading.Barrier(len(calls))

    def go(call):
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(go, calls))


def test_twenty_concurrent_admissions_to_one_bed_admit_exactly_one(
    client, live_server, headers_for, db
):
    ward = new_ward(client, headers_for, beds=1)
    patients = [new_patient(client, headers_for) for _ in range(20)]
    doctor = headers_for("doctor")
    bed = ward.bed_ids[0]

    def admit_one(patient_id):
        def call():
            with httpx.Client(base_url=live_server.url, timeout=60) as http:
                return http.post(
                    "/api/v1/admissions",
                    headers=doctor,
                    json={"patient_id": patient_id, "bed_id": bed, "reason": "Race"},
                )

        return call

    responses = _parallel([admit_one(p["id"]) for p in patients])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [r.text for r in responses if r.status_code >= 500]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"bed_occupied"}
    with db.owner_engine.connect() as conn:
        open_in_bed = conn.scalar(
            text(
                "SELECT count(*) FROM admissions WHERE current_bed_id = :b AND status = 'admitted'"
            ),
            {"b": bed},
        )
        stays = conn.scalar(text("SELECT count(*) FROM bed_stays WHERE bed_id = :b"), {"b": bed})
    assert (open_in_bed, stays) == (1, 1)


def test_one_patient_admitted_to_two_beds_at_once_gets_one_admission(
    client, live_server, headers_for, db
):
    ward = new_ward(client, headers_for, beds=6)
    patient = new_patient(client, headers_for)
    doctor = headers_for("doctor")

    def admit_to(bed_id):
        def call():
            with httpx.Client(base_url=live_server.url, timeout=60) as http:
                return http.post(
                    "/api/v1/admissions",
                    headers=doctor,
                    json={"patient_id": patient["id"], "bed_id": bed_id, "reason": "Race"},
                )

        return call

    responses = _parallel([admit_to(b) for b in ward.bed_ids])
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_admitted"}
    with db.owner_engine.connect() as conn:
        assert (
            conn.scalar(
                text("SELECT count(*) FROM admissions WHERE patient_id = :p"), {"p": patient["id"]}
            )
            == 1
        )
        assert (
            conn.scalar(
                text("SELECT count(*) FROM beds WHERE ward_id = :w AND status = 'occupied'"),
                {"w": ward.id},
            )
            == 1
        )


def test_the_database_refuses_a_second_open_admission_in_one_bed(client, headers_for, db):
    """Even a writer that skips the service's checks cannot put two patients in one bed."""
    ward = new_ward(client, headers_for, beds=1)
    first, second = new_patient(client, headers_for), new_patient(client, headers_for)
    admission = admit(client, headers_for("doctor"), first["id"], ward.bed_ids[0])
    with db.owner_engine.connect() as conn:
        user_id = conn.scalar(
            text("SELECT admitted_by_user_id FROM admissions WHERE id = :a"), {"a": admission["id"]}
        )
        with pytest.raises(Exception, match="uq_admissions_current_bed"):
            conn.execute(
                text(
                    "INSERT INTO admissions (patient_id, status, source, reason, "
                    "admitted_by_user_id, current_bed_id, admitted_at, version) VALUES "
                    "(:p, 'admitted', 'clinic', 'x', :u, :b, now(), 1)"
                ),
                {"p": second["id"], "u": user_id, "b": ward.bed_ids[0]},
            )
        conn.rollback()
        other = conn.scalar(
            text(
                "INSERT INTO admissions (patient_id, status, source, reason, admitted_by_user_id, "
                "admitted_at, discharged_at, version) VALUES (:p, 'discharged', 'clinic', 'x', :u, "
                "now(), now() + interval '2 hours', 1) RETURNING id"
            ),
            {"p": second["id"], "u": user_id},
        )
        with pytest.raises(Exception, match="ex_bed_stays_bed_overlap"):
            conn.execute(
                text(
                    "INSERT INTO bed_stays (admission_id, patient_id, bed_id, ward_id, ward_class, "
                    "started_at, ended_at) VALUES (:a, :p, :b, :w, 'general', now() + interval "
                    "'1 hour', now() + interval '2 hours')"
                ),
                {"a": other, "p": second["id"], "b": ward.bed_ids[0], "w": ward.id},
            )
        conn.rollback()


def test_two_nurses_recording_one_dose_at_once_record_it_once(
    app, client, live_server, make_user, login, headers_for, db
):
    from tests.server.api.test_wards_mar import FakeResolver

    ports = app.state.runtime.ports
    previous, ports.medication_codes = ports.medication_codes, FakeResolver()
    try:
        ward = new_ward(client, headers_for, beds=1)
        nurses = [ward_nurse(client, make_user, login, headers_for, ward) for _ in range(2)]
        doctor = headers_for("doctor")
        patient = new_patient(client, headers_for)
        admission = admit(client, doctor, patient["id"], ward.bed_ids[0])
        drug = drug_id(client, doctor, "Spironolactone")
        r = client.post(
            "/api/v1/prescriptions",
            headers=doctor,
            json={
                "patient_id": patient["id"],
                "items": [rx_item(drug, dose=25, unit="mg", frequency="once daily")],
            },
        )
        assert r.status_code == 201
        mar = client.get(f"/api/v1/admissions/{admission['id']}/mar", headers=doctor).json()
        order = mar["orders"][0]
        soon = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%H:%M")
        client.patch(
            f"/api/v1/medication-orders/{order['id']}",
            headers=doctor,
            json={"version": order["version"], "schedule_times": [soon]},
        )
        mar = client.get(f"/api/v1/admissions/{admission['id']}/mar", headers=doctor).json()
        dose = next(d for d in mar["items"] if d["status"] == "scheduled")

        def record(nurse):
            def call():
                with httpx.Client(base_url=live_server.url, timeout=60) as http:
                    return http.post(
                        "/api/v1/medication-administrations",
                        headers=nurse.headers,
                        json={
                            "dose_id": dose["id"],
                            "patient_barcode": patient["mrn"],
                            "medication_barcode": f"GTIN-{drug}",
                            "status": "given",
                        },
                    )

            return call

        responses = _parallel([record(n) for n in nurses])
        assert sorted(r.status_code for r in responses) == [201, 409]
        assert (
            next(r for r in responses if r.status_code == 409).json()["code"]
            == "dose_already_recorded"
        )
        with db.owner_engine.connect() as conn:
            assert (
                conn.scalar(
                    text("SELECT count(*) FROM medication_administrations WHERE dose_id = :d"),
                    {"d": dose["id"]},
                )
                == 1
            )
    finally:
        ports.medication_codes = previous
