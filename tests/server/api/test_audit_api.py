"""The audit report: who did what, when, from where; filterable and sortable by every field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hms_server.services.audit import SORTABLE
from tests.conftest import TEST_PASSWORD


def test_login_is_audited_with_workstation_and_address(client, headers_for, make_user):
    username, password = make_user("receptionist")
    client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        headers={"X-Workstation": "reception-desk-2"},
    )
    entries = client.get(
        "/api/v1/audit", params={"user": username, "action": "login"}, headers=headers_for("admin")
    ).json()["items"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["outcome"] == "success"
    assert entry["workstation"] == "reception-desk-2"
    assert entry["address"]
    assert entry["category"] == "authentication"
    assert datetime.fromisoformat(entry["at"]).tzinfo is not None


def test_failed_login_and_denied_access_are_audited(client, headers_for, make_user, login):
    username, password = make_user("nurse")
    client.post("/api/v1/auth/login", json={"username": username, "password": "Wrong-Wrong-9"})
    headers = login(username, password)
    client.get("/api/v1/users", headers=headers)
    admin = headers_for("admin")
    failures = client.get(
        "/api/v1/audit", params={"user": username, "outcome": "failure"}, headers=admin
    ).json()
    denied = client.get(
        "/api/v1/audit", params={"user": username, "action": "access.denied"}, headers=admin
    ).json()
    assert failures["total"] == 1
    assert denied["total"] == 1
    assert denied["items"][0]["detail"]["permission"] == "users.manage"


def test_time_range_filter(client, headers_for):
    admin = headers_for("admin")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/audit", params={"since": future}, headers=admin).json()["total"] == 0
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert client.get("/api/v1/audit", params={"since": past}, headers=admin).json()["total"] > 0


@pytest.mark.parametrize("field", sorted(SORTABLE))
@pytest.mark.parametrize("descending", [False, True])
def test_sort_by_every_field(client, headers_for, field, descending):
    sort = ("-" if descending else "") + field
    response = client.get(
        "/api/v1/audit", params={"sort": sort, "limit": 200}, headers=headers_for("admin")
    )
    assert response.status_code == 200
    values = [item[field] for item in response.json()["items"] if item[field] is not None]
    assert values == sorted(values, reverse=descending)


@pytest.mark.parametrize("sort", ["password_hash", "id;drop table users", "at desc", ""])
def test_sort_field_is_allow_listed(client, headers_for, sort):
    response = client.get("/api/v1/audit", params={"sort": sort}, headers=headers_for("admin"))
    assert response.status_code == 422


def test_non_admin_cannot_read_the_audit_log(client, make_user, login):
    headers = login(*make_user("manager"))
    response = client.get("/api/v1/audit", headers=headers)
    assert response.status_code == 403


def test_audit_rows_never_hold_passwords(client, headers_for, db):
    from sqlalchemy import text

    client.post(
        "/api/v1/users",
        json={
            "username": "pw_probe_user",
            "full_name": "P",
            "roles": ["nurse"],
            "password": TEST_PASSWORD,
        },
        headers=headers_for("admin"),
    )
    with db.owner_engine.connect() as conn:
        hits = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE detail::text LIKE :p"),
            {"p": f"%{TEST_PASSWORD}%"},
        ).scalar_one()
    assert hits == 0


def test_entries_name_their_patient_by_mrn_and_name(client, headers_for):
    reception = headers_for("receptionist")
    created = client.post(
        "/api/v1/patients",
        headers=reception,
        json={
            "given_name": "Audited",
            "family_name": "Ortega-Lindqvist",
            "sex": "female",
            "date_of_birth": "1971-04-02",
            "confirm_new": True,
        },
    ).json()
    client.get(f"/api/v1/patients/{created['id']}", headers=reception)
    entries = client.get(
        "/api/v1/audit", params={"patient_id": created["id"]}, headers=headers_for("admin")
    ).json()["items"]
    assert entries and all(e["patient_mrn"] == created["mrn"] for e in entries)
    assert all(e["patient_name"] == "Ortega-Lindqvist, Audited" for e in entries)
    others = client.get(
        "/api/v1/audit", params={"action": "login", "limit": 5}, headers=headers_for("admin")
    ).json()["items"]
    assert all(e["patient_mrn"] is None and e["patient_name"] is None for e in others)
