"""Management reports over HTTP on real PostgreSQL: exact figures from known facts.

Each test makes its facts the way the hospital does (services and the API) and then moves
their timestamps into a year no other test uses (reports aggregate the whole database, and
history cannot be booked through the API), so every count and amount below is exact.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from hms_server.adapters.orm.scheduling import Appointment, QueueEntry
from hms_server.adapters.orm.wards import Admission, BedStay
from tests.server.api.clinical_factories import drug_id, new_clinician
from tests.server.api.pharmacy_factories import new_pharmacy, patient_with_doctor, prescribe
from tests.server.api.ward_factories import new_ward
from tests.server.billing_factories import charge, draft, pay, price_item
from tests.server.scheduling_factories import make_department, make_doctor, make_patient

REPORTS = ("activity", "clinic-flow", "inpatient", "revenue", "pharmacy")


@pytest.fixture
def owner(db):
    return db.owner_session_factory()


@pytest.fixture
def zone(settings) -> ZoneInfo:
    return ZoneInfo(settings.hospital_timezone)


def _at(zone: ZoneInfo, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), zone)


def _report(client, headers_for, name: str, start: date, end: date, grouping: str = "day"):
    response = client.get(
        f"/api/v1/reports/{name}",
        params={"start": start.isoformat(), "end": end.isoformat(), "grouping": grouping},
        headers=headers_for("manager"),
    )
    assert response.status_code == 200, response.text
    return response.json()


def _csv(client, headers_for, name: str, start: date, end: date, **params):
    response = client.get(
        f"/api/v1/reports/{name}.csv",
        params={"start": start.isoformat(), "end": end.isoformat(), **params},
        headers=headers_for("manager"),
    )
    assert response.status_code == 200, response.text
    return response


def _back_date(session) -> None:
    """Let this transaction move finalised invoices and ledger rows into the past: the
    immutability triggers that forbid it in production are skipped for its rows only
    (``session_replication_role``, as a data load would; the test cluster's owner may)."""
    session.execute(text("SET LOCAL session_replication_role = replica"))


# --- activity ------------------------------------------------------------------------------


def test_activity_counts_appointments_by_outcome_doctor_and_week(
    client, headers_for, owner, settings, zone
):
    monday = date(2011, 3, 7)
    department = make_department(owner)
    a = make_doctor(owner, settings, department_id=department)
    b = make_doctor(owner, settings, department_id=department)
    patients = [make_patient(owner, settings) for _ in range(3)]
    facts = [  # doctor, patient, day offset, hour, status
        (a, 0, 0, 9, "completed"),
        (a, 1, 0, 10, "no_show"),
        (a, 2, 1, 10, "cancelled"),
        (a, 0, 8, 9, "completed"),  # the next week
        (b, 1, 1, 9, "completed"),
    ]
    with owner() as session:
        for doctor, patient, offset, hour, status in facts:
            starts = _at(zone, monday + timedelta(days=offset), hour)
            session.add(
                Appointment(
                    patient_id=patients[patient],
                    doctor_id=doctor.id,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=15),
                    overbook_slot=0,
                    status=status,
                    type_code="new",
                    source="staff",
                    booking_reference=uuid.uuid4().hex[:12].upper(),
                )
            )
        session.execute(
            text("UPDATE patients SET created_at = :at WHERE id = ANY(:ids)"),
            {"at": _at(zone, monday, 8), "ids": patients},
        )
        session.commit()

    report = _report(client, headers_for, "activity", monday, monday + timedelta(days=13), "week")

    assert report["period"]["grouping"] == "week"
    assert report["totals"] == {
        "registrations": 3,
        "booked": 5,
        "completed": 3,
        "cancelled": 1,
        "no_show": 1,
        "no_show_rate": "25.0",
    }
    weeks = {row["bucket_start"]: row for row in report["series"]}
    assert list(weeks) == ["2011-03-07", "2011-03-14"]
    assert (weeks["2011-03-07"]["booked"], weeks["2011-03-07"]["registrations"]) == (4, 3)
    assert (weeks["2011-03-14"]["booked"], weeks["2011-03-14"]["completed"]) == (1, 1)
    doctors = {row["doctor_id"]: row for row in report["by_doctor"]}
    assert (doctors[a.id]["booked"], doctors[a.id]["no_show_rate"]) == (4, "33.3")
    assert (doctors[b.id]["booked"], doctors[b.id]["no_show_rate"]) == (1, "0.0")
    [dept] = [r for r in report["by_department"] if r["department_id"] == department]
    assert (dept["booked"], dept["completed"], dept["no_show"]) == (5, 3, 1)


def test_days_without_activity_are_zero_rows_and_rate_is_empty(client, headers_for):
    report = _report(client, headers_for, "activity", date(2010, 1, 1), date(2010, 1, 3))
    assert [r["bucket_start"] for r in report["series"]] == [
        "2010-01-01",
        "2010-01-02",
        "2010-01-03",
    ]
    assert report["totals"]["booked"] == 0
    assert report["totals"]["no_show_rate"] is None


# --- clinic flow ---------------------------------------------------------------------------


def test_clinic_flow_gives_median_and_p90_waits_and_consultations(
    client, headers_for, owner, settings, zone
):
    day = date(2012, 5, 14)
    doctor = make_doctor(owner, settings)
    patients = [make_patient(owner, settings) for _ in range(5)]
    # (check-in minute, called, started, completed) in minutes after 09:00; None = never.
    visits = [
        (0, 10, 12, 17),  # waited 10 (to the call), consulted 5
        (0, None, 20, 35),  # waited 20 (never called: to the start), consulted 15
        (0, 30, 30, 55),  # waited 30, consulted 25
        (0, 40, 41, None),  # waited 40, still in consultation
        (0, None, None, None),  # left before being called
    ]
    start = _at(zone, day, 9)

    def at(minute: int | None) -> datetime | None:
        return None if minute is None else start + timedelta(minutes=minute)

    with owner() as session:
        for token, (checked, called, started, completed) in enumerate(visits, start=1):
            session.add(
                QueueEntry(
                    patient_id=patients[token - 1],
                    doctor_id=doctor.id,
                    queue_date=day,
                    token=token,
                    status="done" if completed is not None else "waiting",
                    checked_in_at=at(checked),
                    called_at=at(called),
                    started_at=at(started),
                    completed_at=at(completed),
                )
            )
        session.commit()

    report = _report(client, headers_for, "clinic-flow", day, day)

    [dept] = [r for r in report["by_department"] if r["department_id"] == doctor.department_id]
    assert dept["patients"] == 5
    assert (dept["wait_median_min"], dept["wait_p90_min"]) == ("25.0", "37.0")
    assert (dept["consult_median_min"], dept["consult_p90_min"]) == ("15.0", "23.0")
    [daily] = [r for r in report["series"] if r["department_id"] == doctor.department_id]
    assert daily["bucket_start"] == "2012-05-14"
    assert daily["wait_median_min"] == "25.0"
    assert report["totals"]["patients"] == 5


# --- inpatient -----------------------------------------------------------------------------


def test_occupancy_counts_midnights_and_length_of_stay_per_ward(
    client, headers_for, make_user, login, owner, settings, zone
):
    ward = new_ward(client, headers_for, beds=4)
    doctor = new_clinician(client, make_user, login)
    patients = [make_patient(owner, settings) for _ in range(4)]
    first = date(2013, 9, 2)
    stays = [  # patient, bed, admitted, discharged
        (0, 0, _at(zone, date(2013, 9, 1), 14), _at(zone, date(2013, 9, 4), 11)),
        (1, 2, _at(zone, date(2013, 9, 3), 10), _at(zone, date(2013, 9, 3), 16)),
        (2, 1, _at(zone, date(2013, 9, 5), 20), _at(zone, date(2013, 9, 10), 9)),
        (3, 3, _at(zone, date(2013, 9, 7), 22), None),  # still in bed
    ]
    with owner() as session:
        for patient, bed, admitted, discharged in stays:
            admission = Admission(
                patient_id=patients[patient],
                status="discharged" if discharged else "admitted",
                current_bed_id=None if discharged else ward.bed_ids[bed],
                source="clinic",
                reason="Observation",
                admitted_by_user_id=doctor.user_id,
                admitted_at=admitted,
                discharged_at=discharged,
            )
            session.add(admission)
            session.flush()
            session.add(
                BedStay(
                    admission_id=admission.id,
                    patient_id=patients[patient],
                    bed_id=ward.bed_ids[bed],
                    ward_id=ward.id,
                    ward_class="general",
                    started_at=admitted,
                    ended_at=discharged,
                )
            )
        session.commit()

    report = _report(client, headers_for, "inpatient", first, first + timedelta(days=6))

    [row] = [r for r in report["by_ward"] if r["ward_id"] == ward.id]
    assert row["beds"] == 4
    assert row["bed_nights"] == 28
    # Patient 1: midnights of 2, 3, 4 Sept; patient 2: a day case (none); patient 3: 6-8
    # Sept; patient 4 (still in): 8 Sept.
    assert row["occupied_midnights"] == 7
    assert row["occupancy_pct"] == "25.0"
    assert (row["admissions"], row["discharges"]) == (3, 2)
    assert row["average_los_days"] == "1.5"  # (3 + 0) / 2
    daily = {r["bucket_start"]: r for r in report["series"] if r["ward_id"] == ward.id}
    assert daily["2013-09-02"]["occupied_midnights"] == 1
    assert daily["2013-09-02"]["occupancy_pct"] == "25.0"
    assert daily["2013-09-05"]["occupied_midnights"] == 0

    monthly = _report(client, headers_for, "inpatient", first, first + timedelta(days=6), "month")
    [bucket] = [r for r in monthly["series"] if r["ward_id"] == ward.id]
    assert (bucket["bucket_start"], bucket["occupied_midnights"]) == ("2013-09-02", 7)


def test_a_period_whose_midnights_are_still_to_come_has_no_occupancy(client, headers_for):
    report = _report(client, headers_for, "inpatient", date(2199, 1, 1), date(2199, 1, 7))
    assert report["series"] == []
    assert report["totals"] == {
        "beds": 0,
        "bed_nights": 0,
        "occupied_midnights": 0,
        "occupancy_pct": None,
        "admissions": 0,
        "discharges": 0,
        "average_los_days": None,
    }


# --- revenue -------------------------------------------------------------------------------


def test_revenue_sums_invoiced_collected_and_ageing_in_money(client, headers_for, owner, settings):
    clerk = headers_for("billing_clerk")
    department = make_department(owner)
    patient = make_patient(owner, settings)
    items = [
        price_item(client, clerk, unit_price="40.00", department_id=department),
        price_item(client, clerk, unit_price="60.00", category="lab"),
    ]
    charges = [charge(client, clerk, patient, item)["id"] for item in items]
    first = draft(client, clerk, patient, charges)
    first = client.post(f"/api/v1/invoices/{first['id']}/finalize", headers=clerk).json()
    other = charge(client, clerk, patient, price_item(client, clerk, unit_price="50.00"))
    second = draft(client, clerk, patient, [other["id"]])
    second = client.post(f"/api/v1/invoices/{second['id']}/finalize", headers=clerk).json()
    assert pay(client, clerk, first["id"], "30.00", "cash").status_code == 201
    assert pay(client, clerk, first["id"], "20.00", "card", reference="T1").status_code == 201
    with owner() as session:
        _back_date(session)
        session.execute(
            text("UPDATE invoices SET issued_on = :day, due_on = :day WHERE id = ANY(:ids)"),
            {"day": date(2014, 6, 10), "ids": [first["id"], second["id"]]},
        )
        session.execute(
            text("UPDATE payments SET received_at = :at WHERE invoice_id = :id"),
            {"at": datetime(2014, 6, 11, 10, 0, tzinfo=ZoneInfo("UTC")), "id": first["id"]},
        )
        session.commit()

    start, end = date(2014, 6, 9), date(2014, 6, 15)
    report = _report(client, headers_for, "revenue", start, end, "week")

    assert report["totals"] == {
        "invoices": 2,
        "invoiced": "150.00",
        "collected": "50.00",
        "outstanding": "100.00",
    }
    assert report["series"] == [
        {"bucket_start": "2014-06-09", "invoiced": "150.00", "collected": "50.00"}
    ]
    categories = {r["category"]: (r["lines"], r["invoiced"]) for r in report["by_category"]}
    assert categories == {"procedure": (2, "90.00"), "lab": (1, "60.00")}
    departments = {r["department_id"]: r["invoiced"] for r in report["by_department"]}
    assert departments == {department: "40.00", None: "110.00"}
    methods = {r["method"]: (r["receipts"], r["net"]) for r in report["by_method"]}
    assert methods == {"cash": (1, "30.00"), "card": (1, "20.00")}
    assert report["ageing_as_of"] == "2014-06-15"
    assert report["ageing"][0] == {
        "bucket": "0-30",
        "invoices": 2,
        "patient": "100.00",
        "payer": "0.00",
        "total": "100.00",
    }

    rows = list(csv.reader(io.StringIO(_csv(client, headers_for, "revenue", start, end).text)))
    assert rows[0][0].lstrip("\ufeff") == "category"
    assert rows[1:] == [["procedure", "2", "90.00"], ["lab", "1", "60.00"]]


# --- pharmacy ------------------------------------------------------------------------------


def test_pharmacy_report_values_dispensing_waste_and_stock(
    client, headers_for, make_user, login, owner
):
    pharmacy = new_pharmacy(client, make_user, login)
    doctor = new_clinician(client, make_user, login)
    drug = drug_id(client, doctor.headers, "paracetamol")
    item = pharmacy.item(drug)
    lot = "RPT" + uuid.uuid4().hex[:6].upper()
    pharmacy.receive(item["id"], 60, lot=lot, unit_cost="0.25")
    rx = prescribe(
        client, doctor, patient_with_doctor(client, headers_for, doctor), drug, quantity=20
    )
    dispensed = pharmacy.dispense(rx, 20)
    assert dispensed.status_code == 201, dispensed.text
    dispense = dispensed.json()
    back = client.post(
        f"/api/v1/dispenses/{dispense['id']}/returns",
        headers=pharmacy.headers,
        json={
            "reason": "Not collected",
            "lines": [{"dispense_line_id": dispense["lines"][0]["id"], "quantity": 5}],
        },
    )
    assert back.status_code == 201, back.text
    written = client.post(
        "/api/v1/stock-write-offs",
        headers=pharmacy.headers,
        json={
            "item_id": item["id"],
            "location_id": pharmacy.location_id,
            "lot": lot,
            "quantity": 4,
            "reason_code": "damaged",
            "reason": "Crushed box",
        },
    )
    assert written.status_code == 201, written.text
    when = datetime(2015, 4, 8, 10, 0, tzinfo=ZoneInfo("UTC"))
    with owner() as session:
        _back_date(session)
        session.execute(
            text("UPDATE dispenses SET dispensed_at = :at WHERE id = :id"),
            {"at": when, "id": dispense["id"]},
        )
        session.execute(
            text(
                "UPDATE stock_movements SET at = :at WHERE item_id = :item AND kind = 'write_off'"
            ),
            {"at": when, "item": item["id"]},
        )
        session.commit()

    report = _report(client, headers_for, "pharmacy", date(2015, 4, 1), date(2015, 4, 30), "month")

    assert report["totals"]["dispenses"] == 1
    assert report["totals"]["lines"] == 1
    assert report["totals"]["dispensed_value"] == "3.75"  # (20 - 5 returned) x 0.25
    assert report["totals"]["waste_value"] == "1.00"
    assert report["series"] == [
        {"bucket_start": "2015-04-01", "dispenses": 1, "lines": 1, "value": "3.75"}
    ]
    assert report["top_items"] == [
        {
            "item_id": item["id"],
            "item_name": item["name"],
            "lines": 1,
            "quantity": "15",
            "value": "3.75",
        }
    ]
    assert report["waste"] == [
        {"month": "2015-04", "reason_code": "damaged", "quantity": "4", "value": "1.00"}
    ]
    [store] = [r for r in report["stock_value"] if r["location_id"] == pharmacy.location_id]
    assert (store["items"], store["value"]) == (1, "10.25")  # 60 - 20 + 5 - 4 = 41 x 0.25


# --- CSV -----------------------------------------------------------------------------------


def test_csv_is_a_named_download_with_plain_numbers_and_no_formulas(
    client, headers_for, owner, settings, zone
):
    day = date(2016, 2, 3)
    department = make_department(owner)
    with owner() as session:
        session.execute(
            text("UPDATE departments SET name = :name WHERE id = :id"),
            {"name": '=HYPERLINK("http://x") ' + uuid.uuid4().hex[:6], "id": department},
        )
        session.commit()
    doctor = make_doctor(owner, settings, department_id=department)
    patient = make_patient(owner, settings)
    with owner() as session:
        starts = _at(zone, day, 11)
        session.add(
            Appointment(
                patient_id=patient,
                doctor_id=doctor.id,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=15),
                overbook_slot=0,
                status="no_show",
                type_code="new",
                source="staff",
                booking_reference=uuid.uuid4().hex[:12].upper(),
            )
        )
        session.commit()

    response = _csv(client, headers_for, "activity", day, day, table="by_department")

    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="activity_2016-02-03_2016-02-03_by_department.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "department_id",
        "department",
        "booked",
        "completed",
        "cancelled",
        "no_show",
        "no_show_rate_pct",
    ]
    [row] = [r for r in rows[1:] if r[0] == str(department)]
    assert row[1].startswith("'=HYPERLINK")
    assert row[2:] == ["1", "0", "0", "1", "100.0"]


def test_unknown_csv_table_is_a_clear_422(client, headers_for):
    response = client.get(
        "/api/v1/reports/activity.csv",
        params={"start": "2016-01-01", "end": "2016-01-02", "table": "patients"},
        headers=headers_for("manager"),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["field"] == "query.table"


# --- periods, roles, audit -----------------------------------------------------------------


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2024-03-10", "end": "2024-03-01"}, "query.end"),
        ({"start": "2022-01-01", "end": "2024-01-02"}, "query.end"),
        ({"start": "2024-02-30", "end": "2024-03-01"}, "query.start"),
        ({"start": "2024-03-01"}, "query.end"),
        ({"start": "2024-03-01", "end": "2024-03-02", "grouping": "year"}, "query.grouping"),
        ({"start": "0001-01-01", "end": "0001-01-02"}, "query.start"),
    ],
)
def test_bad_periods_are_refused_with_422(client, headers_for, name, params, field):
    response = client.get(f"/api/v1/reports/{name}", params=params, headers=headers_for("admin"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]


def test_two_full_years_are_accepted(client, headers_for):
    response = client.get(
        "/api/v1/reports/activity",
        params={"start": "2022-01-01", "end": "2023-12-31", "grouping": "month"},
        headers=headers_for("manager"),
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["series"]) == 24


@pytest.mark.parametrize("role", ["receptionist", "nurse", "doctor", "billing_clerk", "pharmacist"])
@pytest.mark.parametrize("path", ["/api/v1/reports/revenue", "/api/v1/reports/activity.csv"])
def test_clinical_and_desk_roles_cannot_run_reports(client, headers_for, role, path):
    response = client.get(
        path, params={"start": "2024-01-01", "end": "2024-01-07"}, headers=headers_for(role)
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_running_a_report_is_audited_with_its_name_and_period(client, headers_for, owner):
    _csv(client, headers_for, "inpatient", date(2017, 1, 1), date(2017, 1, 31))
    with owner() as session:
        detail = session.execute(
            text(
                "SELECT detail FROM audit_log WHERE category = 'reports' "
                "AND action = 'report.run' ORDER BY id DESC LIMIT 1"
            )
        ).scalar_one()
    assert detail == {
        "name": "inpatient",
        "from": "2017-01-01",
        "to": "2017-01-31",
        "grouping": "day",
        "output": "csv",
    }
