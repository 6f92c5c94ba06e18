"""Factories for the clinical API tests: patients through the reception API, clinicians
with their user ids, and care relationships through an encounter."""

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


def open_encounter(client: Any, clinician: Clinician, patient_id: int,
                   **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/patients/{patient_id}/encounters", json=body,
                           headers=clinician.headers)
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
    return {"drug_id": drug, "dose": 1, "unit": "tablet", "route": "oral",
            "frequency": "twice daily", "duration_days": 7, "quantity": 14, **overrides}
