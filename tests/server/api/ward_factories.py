"""Factories for the ward API tests: a ward with rooms and beds (made by a manager through
the API), nurses assigned to it, admitted patients."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.server.api.clinical_factories import Clinician, new_clinician, new_patient


@dataclass
class WardFixture:
    id: int
    code: str
    bed_ids: list[int]
    room_ids: list[int] = field(default_factory=list)
    nurses: list[Clinician] = field(default_factory=list)


def new_ward(
    client: Any,
    headers_for: Any,
    *,
    beds: int = 4,
    ward_class: str = "general",
    gender_policy: str = "mixed",
    rooms: int = 1,
    window: int = 60,
) -> WardFixture:
    manager = headers_for("manager")
    code = "W" + uuid.uuid4().hex[:8].upper()
    r = client.post(
        "/api/v1/wards",
        json={
            "code": code,
            "name": f"Ward {code}",
            "ward_class": ward_class,
            "gender_policy": gender_policy,
            "mar_window_minutes": window,
        },
        headers=manager,
    )
    assert r.status_code == 201, r.text
    ward_id = r.json()["id"]
    room_ids = []
    for n in range(rooms):
        r = client.post(
            f"/api/v1/wards/{ward_id}/rooms", json={"label": f"R{n + 1}"}, headers=manager
        )
        assert r.status_code == 201, r.text
        room_ids.append(r.json()["id"])
    bed_ids = []
    for n in range(beds):
        r = client.post(
            "/api/v1/beds",
            json={"room_id": room_ids[n % rooms], "label": f"{n + 1:02d}"},
            headers=manager,
        )
        assert r.status_code == 201, r.text
        bed_ids.append(r.json()["id"])
    return WardFixture(ward_id, code, bed_ids, room_ids)


def assign_nurse(client: Any, headers_for: Any, ward: WardFixture, nurse: Clinician) -> None:
    r = client.put(
        f"/api/v1/wards/{ward.id}/nurses/{nurse.user_id}", headers=headers_for("manager")
    )
    assert r.status_code == 200, r.text
    ward.nurses.append(nurse)


def ward_nurse(
    client: Any, make_user: Any, login: Any, headers_for: Any, ward: WardFixture
) -> Clinician:
    nurse = new_clinician(client, make_user, login, "nurse")
    assign_nurse(client, headers_for, ward, nurse)
    return nurse


def admit(
    client: Any, headers: dict[str, str], patient_id: int, bed_id: int, **extra: Any
) -> dict[str, Any]:
    r = client.post(
        "/api/v1/admissions",
        json={
            "patient_id": patient_id,
            "bed_id": bed_id,
            "reason": "Community-acquired pneumonia",
            **extra,
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


__all__ = [
    "Clinician",
    "WardFixture",
    "admit",
    "assign_nurse",
    "new_clinician",
    "new_patient",
    "new_ward",
    "ward_nurse",
]
