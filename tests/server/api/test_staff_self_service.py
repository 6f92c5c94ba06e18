"""Self-service and linking over HTTP: every role has the "My work" workspace; HR finds
sign-ins and links or unlinks them to a staff record (audited, HR only); an employee cannot
ask for leave overlapping leave they already asked for or have."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from hms_server.domain.permissions import Role
from tests.server.api.staff_factories import new_department, new_employee, new_staff


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_role_has_my_work_after_its_own_workspaces(
    client: Any, headers_for: Any, role: str
) -> None:
    workspaces = client.get("/api/v1/me", headers=headers_for(role)).json()["workspaces"]
    assert workspaces[-1] == "my_work"
    assert workspaces.count("my_work") == 1 and len(workspaces) >= 2


def test_hr_finds_a_sign_in_links_and_unlinks_it_and_it_is_audited(
    client: Any, headers_for: Any, make_user: Any, db: Any
) -> None:
    dept = new_department(client, headers_for)
    hr = headers_for("hr_officer")
    username = make_user("nurse", username=f"link_{uuid.uuid4().hex[:8]}")[0]
    record = new_staff(client, headers_for, dept, name=f"Linked {uuid.uuid4().hex[:6]}")
    found = client.get(
        "/api/v1/staff/sign-ins", params={"q": username, "unlinked": "true"}, headers=hr
    )
    assert found.status_code == 200, found.text
    [sign_in] = found.json()["items"]
    assert sign_in["username"] == username and sign_in["staff_id"] is None
    assert set(sign_in) == {"user_id", "username", "full_name", "active", "staff_id", "staff_name"}
    linked = client.patch(
        f"/api/v1/staff/{record['id']}",
        json={"version": record["version"], "user_id": sign_in["user_id"]},
        headers=hr,
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["username"] == username
    again = client.get("/api/v1/staff/sign-ins", params={"q": username}, headers=hr).json()
    assert again["items"][0]["staff_id"] == record["id"]
    assert again["items"][0]["staff_name"] == record["full_name"]
    assert (
        client.get(
            "/api/v1/staff/sign-ins", params={"q": username, "unlinked": "true"}, headers=hr
        ).json()["total"]
        == 0
    )
    unlinked = client.patch(
        f"/api/v1/staff/{record['id']}",
        json={"version": linked.json()["version"], "user_id": None},
        headers=hr,
    )
    assert unlinked.status_code == 200, unlinked.text
    assert unlinked.json()["user_id"] is None and unlinked.json()["username"] is None
    with db.owner_engine.connect() as conn:
        details = conn.execute(
            text(
                "SELECT detail FROM audit_log WHERE category = 'staff' AND action = 'staff.update'"
                " AND detail->>'staff_id' = :id ORDER BY id"
            ),
            {"id": str(record["id"])},
        ).scalars()
        links = [(d["user_id"], d["previous_user_id"]) for d in details]
    assert links == [(sign_in["user_id"], None), (None, sign_in["user_id"])]


def test_only_hr_may_look_up_sign_ins(client: Any, headers_for: Any) -> None:
    # The manager reads the directory but does not edit records, so does not link sign-ins.
    for role in ("manager", "nurse", "doctor", "receptionist", "billing_clerk", "pharmacist"):
        r = client.get("/api/v1/staff/sign-ins", headers=headers_for(role))
        assert r.status_code == 403, role
    assert client.get("/api/v1/staff/sign-ins").status_code == 401


def test_a_linked_employee_reaches_their_record_and_loses_it_when_unlinked(
    client: Any, headers_for: Any, make_user: Any, login: Any
) -> None:
    dept = new_department(client, headers_for)
    nurse = new_employee(client, headers_for, make_user, login, dept)
    assert client.get("/api/v1/me/staff-record", headers=nurse.headers).status_code == 200
    r = client.patch(
        f"/api/v1/staff/{nurse.staff_id}",
        json={"version": nurse.version, "user_id": None},
        headers=headers_for("hr_officer"),
    )
    assert r.status_code == 200, r.text
    gone = client.get("/api/v1/me/staff-record", headers=nurse.headers)
    assert gone.status_code == 404 and gone.json()["code"] == "no_staff_record"
    assert client.get("/api/v1/me/payslips", headers=nurse.headers).status_code == 404


def test_overlapping_leave_is_refused_with_the_earlier_request_listed(
    client: Any, headers_for: Any, make_user: Any, login: Any
) -> None:
    dept = new_department(client, headers_for)
    nurse = new_employee(client, headers_for, make_user, login, dept)
    first = client.post(
        "/api/v1/me/leave-requests",
        json={"kind": "annual", "starts_on": "2034-06-02", "ends_on": "2034-06-06"},
        headers=nurse.headers,
    )
    assert first.status_code == 201, first.text
    clash = client.post(
        "/api/v1/me/leave-requests",
        json={"kind": "study", "starts_on": "2034-06-06", "ends_on": "2034-06-09"},
        headers=nurse.headers,
    )
    assert clash.status_code == 409
    body = clash.json()
    assert body["code"] == "leave_overlap"
    assert body["overlapping"] == [
        {
            "id": first.json()["id"],
            "kind": "annual",
            "starts_on": "2034-06-02",
            "ends_on": "2034-06-06",
            "status": "pending",
        }
    ]
    mine = client.get("/api/v1/me/leave-requests", headers=nurse.headers).json()
    assert [x["id"] for x in mine] == [first.json()["id"]]
    # HR filing for the same person meets the same rule; a declined request no longer counts.
    hr = headers_for("hr_officer")
    filed = client.post(
        "/api/v1/leave-requests",
        json={
            "staff_id": nurse.staff_id,
            "kind": "sick",
            "starts_on": "2034-06-03",
            "ends_on": "2034-06-03",
        },
        headers=hr,
    )
    assert filed.status_code == 409 and filed.json()["code"] == "leave_overlap"
    declined = client.post(
        f"/api/v1/leave-requests/{first.json()['id']}/decision",
        json={"version": first.json()["version"], "decision": "decline"},
        headers=headers_for("manager"),
    )
    assert declined.status_code == 200, declined.text
    after = client.post(
        "/api/v1/me/leave-requests",
        json={"kind": "study", "starts_on": "2034-06-06", "ends_on": "2034-06-09"},
        headers=nurse.headers,
    )
    assert after.status_code == 201, after.text
