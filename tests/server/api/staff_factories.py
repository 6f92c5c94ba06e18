"""Factories for the staff API tests: a department (made by a manager through the API), staff
records (made by HR), and signed-in employees whose sign-in is linked to their record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class Employee:
    staff_id: int
    user_id: int | None
    headers: dict[str, str] | None
    version: int


def new_department(client: Any, headers_for: Any) -> int:
    r = client.post(
        "/api/v1/departments",
        json={"name": f"Dept {uuid.uuid4().hex[:8]}"},
        headers=headers_for("manager"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def new_staff(
    client: Any,
    headers_for: Any,
    department_id: int,
    *,
    salary: str = "3000.00",
    hire_date: str = "2020-01-01",
    end_date: str | None = None,
    user_id: int | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "employee_number": "E" + uuid.uuid4().hex[:10].upper(),
        "full_name": name or f"Staff {uuid.uuid4().hex[:6]}",
        "job_title": "Staff Nurse",
        "department_id": department_id,
        "employment_type": "full_time",
        "grade": "B5",
        "hire_date": hire_date,
        "base_monthly_salary": salary,
        "phone": "+44 20 7946 0000",
    }
    if end_date:
        body["end_date"] = end_date
    if user_id:
        body["user_id"] = user_id
    r = client.post("/api/v1/staff", json=body, headers=headers_for("hr_officer"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def new_employee(
    client: Any,
    headers_for: Any,
    make_user: Any,
    login: Any,
    department_id: int,
    *,
    role: str = "nurse",
    **staff: Any,
) -> Employee:
    """A user with ``role`` who has a staff record linked to their sign-in."""
    headers = login(*make_user(role))
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    user_id = int(me.json()["id"])
    record = new_staff(client, headers_for, department_id, user_id=user_id, **staff)
    return Employee(
        staff_id=record["id"], user_id=user_id, headers=headers, version=record["version"]
    )
