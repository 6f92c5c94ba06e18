"""Every patient a list showed is attributable (issue 8; ONC 170.315(d)(2)/(3)): patient search,
FHIR search, the queue board and /my-patients record the ids of the patients returned in the
same audit row. Before, a search recorded only how many it returned and /my-patients nothing."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from tests.server.api.clinical_factories import book_with, new_clinician, new_patient
from tests.server.scheduling_factories import make_doctor, tomorrow_at


def _last_audit(db, user_id: int, action: str) -> dict[str, Any]:
    with db.owner_engine.connect() as conn:
        detail = conn.execute(
            text(
                "SELECT detail FROM audit_log WHERE user_id = :u AND action = :a "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"u": user_id, "a": action},
        ).scalar_one()
    return dict(detail)


def _me(client, headers) -> int:
    return int(client.get("/api/v1/me", headers=headers).json()["id"])


def _family(client, headers_for, n: int) -> tuple[str, list[int]]:
    family = "Audited" + uuid.uuid4().hex[:8]
    return family, sorted(
        new_patient(client, headers_for, family_name=family)["id"] for _ in range(n)
    )


def test_patient_search_records_the_ids_it_returned(client, db, headers_for, make_user, login):
    headers = login(*make_user("receptionist"))
    family, ids = _family(client, headers_for, 3)
    found = client.get("/api/v1/patients", params={"q": family}, headers=headers)
    assert found.status_code == 200 and found.json()["total"] == 3
    detail = _last_audit(db, _me(client, headers), "patient.search")
    assert detail["patient_ids"] == ids and detail["returned"] == 3
    paged = client.get(
        "/api/v1/patients", params={"q": family, "limit": 1, "offset": 1}, headers=headers
    )
    shown = [p["id"] for p in paged.json()["items"]]
    assert _last_audit(db, _me(client, headers), "patient.search")["patient_ids"] == shown


def test_fhir_patient_search_records_the_ids_it_returned(client, db, headers_for, make_user, login):
    headers = login(*make_user("doctor"))
    family, ids = _family(client, headers_for, 2)
    bundle = client.get("/fhir/Patient", params={"family": family}, headers=headers)
    assert bundle.status_code == 200 and bundle.json()["total"] == 2
    assert _last_audit(db, _me(client, headers), "patient.search")["patient_ids"] == ids


def test_the_queue_board_records_the_ids_it_showed(
    client, db, settings, headers_for, make_user, login
):
    headers = login(*make_user("receptionist"))
    doctor = make_doctor(db.owner_session_factory(), settings)
    _, ids = _family(client, headers_for, 2)
    for n, pid in enumerate(ids):
        booked = client.post(
            "/api/v1/appointments",
            headers=headers,
            json={
                "patient_id": pid,
                "doctor_id": doctor.id,
                "start": tomorrow_at(settings, 9, 15 * n).isoformat(),
            },
        )
        assert booked.status_code == 201, booked.text
        assert (
            client.post(
                f"/api/v1/appointments/{booked.json()['id']}/check-in", headers=headers
            ).status_code
            == 200
        )
    day = tomorrow_at(settings, 9).date().isoformat()
    board = client.get(
        "/api/v1/queue", params={"doctor_id": doctor.id, "date": day}, headers=headers
    )
    assert board.status_code == 200 and board.json()["total"] == 2
    assert _last_audit(db, _me(client, headers), "queue.read")["patient_ids"] == ids


def test_my_patients_is_audited_with_the_ids_it_returned(client, db, headers_for, make_user, login):
    doctor = new_clinician(client, make_user, login)
    _, ids = _family(client, headers_for, 2)
    for pid in ids:
        book_with(client, headers_for, doctor, pid)
        assert (
            client.post(
                f"/api/v1/patients/{pid}/encounters", headers=doctor.headers, json={}
            ).status_code
            == 201
        )
    mine = client.get("/api/v1/my-patients", headers=doctor.headers)
    assert sorted(p["id"] for p in mine.json()["items"]) == ids
    detail = _last_audit(db, doctor.user_id, "my_patients.read")
    assert detail["patient_ids"] == ids and detail["returned"] == 2
