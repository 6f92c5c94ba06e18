"""Factories for the clinical API tests: patients through the reception API, clinicians
with their user ids, and care relationships from the hospital's own facts (an appointment
booked by reception with the clinician's clinic), then an encounter."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

from tests.conftest import unique_name


@dataclass
class Clinician:
    username: str
    user_id: int
    headers: dict[str, str]
    doctor_id: int | None = None
    department_id: int | None = None


def new_clinician(client: Any, make_user: Any, login: Any, role: str = "doctor") -> Clinician:
    username, password = make_user(role)[:2]
    headers = login(username, password)
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    return Clinician(username, int(me.json()["id"]), headers)


def new_patient(client: Any, headers_for: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "given_name": unique_name("Pat").capitalize(),
        "family_name": "Clinical" + uuid.uuid4().hex[:6],
        "date_of_birth": f"19{random.randint(40, 99)}-0{random.randint(1, 9)}-"
        f"1{random.randint(0, 9)}",
        "sex": random.choice(["male", "female"]),
        "phone": f"+1 555 {random.randint(1000000, 9999999)}",
        "confirm_new": True,
        **overrides,
    }
    response = client.post("/api/v1/patients", json=body, headers=headers_for("receptionist"))
    assert response.status_code == 201, response.text
    return response.json()


def give_clinic(client: Any, headers_for: Any, clinician: Clinician) -> int:
    """Make the clinician a bookable doctor with a clinic open every day, all day (admin
    work through the API); returns the doctors-table id."""
    if clinician.doctor_id is not None:
        return clinician.doctor_id
    admin = headers_for("admin")
    department = client.post(
        "/api/v1/departments", headers=admin, json={"name": "Clinic " + uuid.uuid4().hex[:10]}
    )
    assert department.status_code == 201, department.text
    clinician.department_id = int(department.json()["id"])
    doctor = client.post(
        "/api/v1/doctors",
        headers=admin,
        json={
            "user_id": clinician.user_id,
            "department_id": clinician.department_id,
            "specialty": "General Medicine",
        },
    )
    assert doctor.status_code == 201, doctor.text
    clinician.doctor_id = int(doctor.json()["id"])
    schedule = client.put(
        f"/api/v1/doctors/{clinician.doctor_id}/schedule",
        headers=admin,
        json={
            "sessions": [
                {"weekday": d, "start_time": "00:00", "end_time": "23:45", "slot_minutes": 15}
                for d in range(7)
            ]
        },
    )
    assert schedule.status_code == 200, schedule.text
    return clinician.doctor_id


def book_with(
    client: Any, headers_for: Any, clinician: Clinician, patient_id: int
) -> dict[str, Any]:
    """Reception books the patient with this clinician (the hospital's fact that makes them
    the patient's doctor): the next free slot."""
    doctor_id = give_clinic(client, headers_for, clinician)
    reception = headers_for("receptionist")
    free = client.get(
        "/api/v1/slots/next-available",
        headers=reception,
        params={"doctor_id": doctor_id, "limit": 20},
    )
    assert free.status_code == 200 and free.json()["items"], free.text
    for slot in free.json()["items"]:  # the patient may be booked elsewhere at the first one
        booked = client.post(
            "/api/v1/appointments",
            headers=reception,
            json={"patient_id": patient_id, "doctor_id": doctor_id, "start": slot["start"]},
        )
        if booked.status_code != 409:
            break
    assert booked.status_code == 201, booked.text
    return booked.json()


def open_encounter(
    client: Any, clinician: Clinician, patient_id: int, **body: Any
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/patients/{patient_id}/encounters", json=body, headers=clinician.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def drug_id(client: Any, headers: dict[str, str], name: str) -> int:
    response = client.get("/api/v1/formulary", params={"q": name}, headers=headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    exact = [d for d in items if d["generic_name"].lower() == name.lower()]
    assert exact or items, f"{name} not in the formulary"
    return int((exact or items)[0]["id"])


def rx_item(drug: int, **overrides: Any) -> dict[str, Any]:
    return {
        "drug_id": drug,
        "dose": 1,
        "unit": "tablet",
        "route": "oral",
        "frequency": "twice daily",
        "duration_days": 7,
        "quantity": 14,
        **overrides,
    }
