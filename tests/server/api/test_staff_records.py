"""Staff records over HTTP: HR creates and edits them, salary reaches only HR, managers and
the employee, bad input changes nothing, and reviews reach the employee once final."""

from __future__ import annotations

import uuid
from typing import Any

from tests.server.api.staff_factories import new_department, new_employee, new_staff


def test_hr_creates_a_record_and_salary_is_a_decimal_string(client: Any, headers_for: Any) -> None:
    dept = new_department(client, headers_for)
    record = new_staff(client, headers_for, dept, salary="3210.50")
    assert record["base_monthly_salary"] == "3210.50"
    assert record["department_name"].startswith("Dept ")
    manager = client.get(f"/api/v1/staff/{record['id']}", headers=headers_for("manager"))
    assert manager.status_code == 200
    assert manager.json()["base_monthly_salary"] == "3210.50"


def test_directory_search_pages_by_name(client: Any, headers_for: Any) -> None:
    dept = new_department(client, headers_for)
    tag = uuid.uuid4().hex[:6]
    for n in range(3):
        new_staff(client, headers_for, dept, name=f"Zed {tag} {n}")
    hr = headers_for("hr_officer")
    r = client.get("/api/v1/staff", params={"q": tag, "limit": 2}, headers=hr)
    assert r.status_code == 200
    assert r.json()["total"] == 3
    assert [s["full_name"] for s in r.json()["items"]] == [f"Zed {tag} 0", f"Zed {tag} 1"]
    r = client.get("/api/v1/staff", params={"department_id": dept, "offset": 2}, headers=hr)
    assert [s["full_name"] for s in r.json()["items"]] == [f"Zed {tag} 2"]


def test_duplicate_employee_number_is_refused(client: Any, headers_for: Any) -> None:
    dept = new_department(client, headers_for)
    record = new_staff(client, headers_for, dept)
    body = {
        "employee_number": record["employee_number"].lower(),
        "full_name": "Someone Else",
        "job_title": "Porter",
        "department_id": dept,
        "employment_type": "part_time",
        "hire_date": "2021-01-01",
        "base_monthly_salary": "1000.00",
    }
    r = client.post("/api/v1/staff", json=body, headers=headers_for("hr_officer"))
    assert r.status_code == 409
    assert r.json()["code"] == "employee_number_taken"


def test_bad_input_is_a_clear_problem_and_writes_nothing(client: Any, headers_for: Any) -> None:
    dept = new_department(client, headers_for)
    hr = headers_for("hr_officer")
    name = f"Nobody {uuid.uuid4().hex[:8]}"
    base = {
        "employee_number": "E" + uuid.uuid4().hex[:8],
        "full_name": name,
        "job_title": "Porter",
        "department_id": dept,
        "employment_type": "full_time",
        "hire_date": "2021-05-01",
        "base_monthly_salary": "1000.00",
    }
    cases = [
        ({"end_date": "2021-04-30"}, 422, "body.end_date"),
        ({"base_monthly_salary": 1000.5}, 422, "body.base_monthly_salary"),
        ({"base_monthly_salary": "-1.00"}, 422, "body.base_monthly_salary"),
        ({"department_id": 2**31 - 1}, 422, "body.department_id"),
        ({"employment_type": "volunteer"}, 422, "body.employment_type"),
    ]
    for change, status, field in cases:
        r = client.post("/api/v1/staff", json={**base, **change}, headers=hr)
        assert r.status_code == status, (change, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert client.get("/api/v1/staff", params={"q": name}, headers=hr).json()["total"] == 0


def test_stale_edit_is_refused(client: Any, headers_for: Any) -> None:
    dept = new_department(client, headers_for)
    record = new_staff(client, headers_for, dept)
    hr = headers_for("hr_officer")
    url = f"/api/v1/staff/{record['id']}"
    first = client.patch(url, json={"version": record["version"], "grade": "B6"}, headers=hr)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == record["version"] + 1
    stale = client.patch(url, json={"version": record["version"], "grade": "B7"}, headers=hr)
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    assert client.get(url, headers=hr).json()["grade"] == "B6"


def test_one_sign_in_links_to_one_record(
    client: Any, headers_for: Any, make_user: Any, login: Any
) -> None:
    dept = new_department(client, headers_for)
    nurse = new_employee(client, headers_for, make_user, login, dept)
    body = {
        "employee_number": "E" + uuid.uuid4().hex[:8],
        "full_name": "Twin",
        "job_title": "Porter",
        "department_id": dept,
        "employment_type": "full_time",
        "hire_date": "2021-05-01",
        "base_monthly_salary": "1000.00",
        "user_id": nurse.user_id,
    }
    r = client.post("/api/v1/staff", json=body, headers=headers_for("hr_officer"))
    assert r.status_code == 409
    assert r.json()["code"] == "user_already_linked"


def test_an_employee_sees_their_own_salary_but_no_one_elses(
    client: Any, headers_for: Any, make_user: Any, login: Any
) -> None:
    dept = new_department(client, headers_for)
    nurse = new_employee(client, headers_for, make_user, login, dept, salary="2750.00")
    other = new_staff(client, headers_for, dept)
    own = client.get("/api/v1/me/staff-record", headers=nurse.headers)
    assert own.status_code == 200
    assert own.json()["base_monthly_salary"] == "2750.00"
    assert client.get(f"/api/v1/staff/{other['id']}", headers=nurse.headers).status_code == 403
    assert client.get("/api/v1/staff", headers=nurse.headers).status_code == 403


def test_a_user_without_a_record_is_told_so(client: Any, headers_for: Any) -> None:
    r = client.get("/api/v1/me/staff-record", headers=headers_for("pharmacist"))
    assert r.status_code == 404
    assert r.json()["code"] == "no_staff_record"


def test_idempotent_create_makes_one_record(client: Any, headers_for: Any) -> None:
    dept = new_department(client, headers_for)
    hr = {**headers_for("hr_officer"), "Idempotency-Key": uuid.uuid4().hex}
    body = {
        "employee_number": "E" + uuid.uuid4().hex[:8],
        "full_name": f"Once {uuid.uuid4().hex[:6]}",
        "job_title": "Porter",
        "department_id": dept,
        "employment_type": "full_time",
        "hire_date": "2021-05-01",
        "base_monthly_salary": "1000.00",
    }
    first = client.post("/api/v1/staff", json=body, headers=hr)
    again = client.post("/api/v1/staff", json=body, headers=hr)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_staff_reads_are_audited_with_ids_only(client: Any, headers_for: Any, db: Any) -> None:
    from sqlalchemy import text

    dept = new_department(client, headers_for)
    record = new_staff(client, headers_for, dept, name=f"Audited {uuid.uuid4().hex[:6]}")
    client.get(f"/api/v1/staff/{record['id']}", headers=headers_for("manager"))
    with db.owner_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action, detail::text FROM audit_log WHERE category = 'staff'"
                " AND detail->>'staff_id' = :id ORDER BY id"
            ),
            {"id": str(record["id"])},
        ).all()
    assert [r[0] for r in rows] == ["staff.create", "staff.view"]
    assert all(record["full_name"] not in r[1] for r in rows)


def test_reviews_reach_the_employee_only_when_final(
    client: Any, headers_for: Any, make_user: Any, login: Any
) -> None:
    dept = new_department(client, headers_for)
    nurse = new_employee(client, headers_for, make_user, login, dept)
    manager = headers_for("manager")
    r = client.post(
        "/api/v1/reviews",
        json={
            "staff_id": nurse.staff_id,
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
            "rating": 4,
            "strengths": "Calm under pressure.",
            "goals": "Lead the night team.",
        },
        headers=manager,
    )
    assert r.status_code == 201, r.text
    review = r.json()
    assert client.get("/api/v1/me/reviews", headers=nurse.headers).json() == []
    assert client.get("/api/v1/reviews", headers=nurse.headers).status_code == 403
    r = client.post(
        f"/api/v1/reviews/{review['id']}/finalise",
        json={"version": review["version"]},
        headers=manager,
    )
    assert r.status_code == 200, r.text
    mine = client.get("/api/v1/me/reviews", headers=nurse.headers).json()
    assert [m["id"] for m in mine] == [review["id"]]
    assert mine[0]["rating"] == 4
    late = client.patch(
        f"/api/v1/reviews/{review['id']}",
        json={"version": r.json()["version"], "rating": 5},
        headers=manager,
    )
    assert late.status_code == 409
    assert late.json()["code"] == "review_final"
