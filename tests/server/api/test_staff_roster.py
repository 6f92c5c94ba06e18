"""Duty roster and leave over HTTP: no overlapping shifts for one person (also when two
requests race), the week view and who is on duty now, leave decided by someone else and
never over rostered shifts."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.server.api.staff_factories import new_department, new_employee, new_staff


def _shift(
    staff_id: int, dept: int, start: datetime, hours: int = 8, kind: str = "day"
) -> dict[str, Any]:
    return {
        "staff_id": staff_id,
        "department_id": dept,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=hours)).isoformat(),
        "kind": kind,
    }


def test_an_overlapping_shift_is_refused_with_the_clash_listed(
    client: Any, headers_for: Any
) -> None:
    dept = new_department(client, headers_for)
    person = new_staff(client, headers_for, dept)
    hr = headers_for("hr_officer")
    start = datetime(2030, 3, 4, 7, tzinfo=UTC)
    first = client.post("/api/v1/shifts", json=_shift(person["id"], dept, start), headers=hr)
    assert first.status_code == 201, first.text
    assert first.json()["staff_name"] == person["full_name"]
    clash = client.post(
        "/api/v1/shifts", json=_shift(person["id"], dept, start + timedelta(hours=7)), headers=hr
    )
    assert clash.status_code == 409
    assert clash.json()["code"] == "shift_overlap"
    assert [c["id"] for c in clash.json()["clashes"]] == [first.json()["id"]]
    # Back to back is fine: shifts are half-open [start, end).
    after = client.post(
        "/api/v1/shifts", json=_shift(person["id"], dept, start + timedelta(hours=8)), headers=hr
    )
    assert after.status_code == 201, after.text


def test_two_concurrent_overlapping_shifts_give_one_201_and_one_409(
    client: Any, headers_for: Any, live_server: Any
) -> None:
    dept = new_department(client, headers_for)
    person = new_staff(client, headers_for, dept)
    hr = headers_for("hr_officer")
    start = datetime(2030, 5, 6, 19, tzinfo=UTC)
    bodies = [
        _shift(person["id"], dept, start, hours=12, kind="night"),
        _shift(person["id"], dept, start + timedelta(hours=2), hours=8, kind="evening"),
    ]
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def post(body: dict[str, Any]) -> None:
        with httpx.Client(base_url=live_server.url, headers=hr, timeout=30) as http:
            barrier.wait()
            statuses.append(http.post("/api/v1/shifts", json=body).status_code)

    threads = [threading.Thread(target=post, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 409]
    week = client.get(
        "/api/v1/shifts",
        params={"start": "2030-05-06", "staff_id": person["id"]},
        headers=hr,
    )
    assert len(week.json()) == 1


def test_week_view_per_unit_and_who_is_on_duty_now(client: Any, headers_for: Any) -> None:
    dept = new_department(client, headers_for)
    other_dept = new_department(client, headers_for)
    a = new_staff(client, headers_for, dept, name="Alpha Week")
    b = new_staff(client, headers_for, dept, name="Bravo Week")
    hr = headers_for("hr_officer")
    monday = datetime(2030, 6, 3, 7, tzinfo=UTC)
    for day in range(7):
        r = client.post(
            "/api/v1/shifts", json=_shift(a["id"], dept, monday + timedelta(days=day)), headers=hr
        )
        assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/shifts", json=_shift(b["id"], other_dept, monday + timedelta(days=8)), headers=hr
    )
    assert r.status_code == 201
    nurse = headers_for("nurse")  # clinicians read the roster
    week = client.get(
        "/api/v1/shifts", params={"start": "2030-06-03", "department_id": dept}, headers=nurse
    )
    assert week.status_code == 200
    assert [s["staff_name"] for s in week.json()] == ["Alpha Week"] * 7
    now = datetime.now(UTC).replace(microsecond=0)
    running = client.post(
        "/api/v1/shifts", json=_shift(b["id"], dept, now - timedelta(hours=1)), headers=hr
    )
    assert running.status_code == 201, running.text
    on_duty = client.get("/api/v1/shifts/on-duty", params={"department_id": dept}, headers=nurse)
    assert [s["id"] for s in on_duty.json()] == [running.json()["id"]]
    assert (
        client.post(
            "/api/v1/shifts", json=_shift(a["id"], dept, now + timedelta(days=30)), headers=nurse
        ).status_code
        == 403
    )


def test_bad_shifts_are_refused_and_nothing_is_written(client: Any, headers_for: Any) -> None:
    dept = new_department(client, headers_for)
    person = new_staff(client, headers_for, dept)
    hr = headers_for("hr_officer")
    start = datetime(2030, 7, 1, 7, tzinfo=UTC)
    good = _shift(person["id"], dept, start)
    cases = [
        ({"ends_at": start.isoformat()}, "body.ends_at"),
        ({"ends_at": (start + timedelta(hours=30)).isoformat()}, "body.ends_at"),
        ({"ward_id": 1}, "body.ward_id"),
        ({"department_id": 2**31 - 1}, "body.department_id"),
        ({"kind": "siesta"}, "body.kind"),
        (
            {"starts_at": "2019-01-01T07:00:00+00:00", "ends_at": "2019-01-01T15:00:00+00:00"},
            "body.starts_at",
        ),
    ]
    for change, field in cases:
        r = client.post("/api/v1/shifts", json={**good, **change}, headers=hr)
        assert r.status_code == 422, (change, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (change, r.json())
    week = client.get(
        "/api/v1/shifts", params={"start": "2030-07-01", "staff_id": person["id"]}, headers=hr
    )
    assert week.json() == []


def test_leave_is_decided_by_someone_else_and_never_over_shifts(
    client: Any, headers_for: Any, make_user: Any, login: Any
) -> None:
    dept = new_department(client, headers_for)
    nurse = new_employee(client, headers_for, make_user, login, dept)
    hr_person = new_employee(client, headers_for, make_user, login, dept, role="hr_officer")
    manager = headers_for("manager")
    # A shift in the middle of the leave the nurse will ask for.
    shift = client.post(
        "/api/v1/shifts",
        json=_shift(nurse.staff_id, dept, datetime(2031, 2, 10, 7, tzinfo=UTC)),
        headers=manager,
    )
    assert shift.status_code == 201, shift.text
    asked = client.post(
        "/api/v1/me/leave-requests",
        json={
            "kind": "annual",
            "starts_on": "2031-02-09",
            "ends_on": "2031-02-13",
            "reason": "Trip",
        },
        headers=nurse.headers,
    )
    assert asked.status_code == 201, asked.text
    leave = asked.json()
    assert leave["status"] == "pending" and leave["days"] == 5
    assert [
        x["id"] for x in client.get("/api/v1/me/leave-requests", headers=nurse.headers).json()
    ] == [leave["id"]]
    # The nurse may not decide at all; HR's own request is not theirs to approve.
    url = f"/api/v1/leave-requests/{leave['id']}/decision"
    assert (
        client.post(
            url, json={"version": 1, "decision": "approve"}, headers=nurse.headers
        ).status_code
        == 403
    )
    own = client.post(
        "/api/v1/me/leave-requests",
        json={"kind": "study", "starts_on": "2031-03-01", "ends_on": "2031-03-01"},
        headers=hr_person.headers,
    ).json()
    refused = client.post(
        f"/api/v1/leave-requests/{own['id']}/decision",
        json={"version": own["version"], "decision": "approve"},
        headers=hr_person.headers,
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "own_leave_decision"
    # Approval over a rostered shift lists it.
    clash = client.post(url, json={"version": 1, "decision": "approve"}, headers=manager)
    assert clash.status_code == 409
    assert clash.json()["code"] == "leave_clash"
    assert [c["id"] for c in clash.json()["clashes"]] == [shift.json()["id"]]
    assert client.delete(f"/api/v1/shifts/{shift.json()['id']}", headers=manager).status_code == 204
    ok = client.post(
        url, json={"version": 1, "decision": "approve", "note": "Enjoy"}, headers=manager
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "approved"
    again = client.post(
        url, json={"version": ok.json()["version"], "decision": "decline"}, headers=manager
    )
    assert again.json()["code"] == "leave_not_pending"
    # ...and no shift can be rostered in approved leave.
    during = client.post(
        "/api/v1/shifts",
        json=_shift(nurse.staff_id, dept, datetime(2031, 2, 11, 7, tzinfo=UTC)),
        headers=manager,
    )
    assert during.status_code == 409
    assert during.json()["code"] == "shift_during_leave"


def test_pending_leave_list_for_hr(client: Any, headers_for: Any) -> None:
    dept = new_department(client, headers_for)
    person = new_staff(client, headers_for, dept)
    hr = {**headers_for("hr_officer"), "Idempotency-Key": uuid.uuid4().hex}
    body = {
        "staff_id": person["id"],
        "kind": "sick",
        "starts_on": "2030-01-02",
        "ends_on": "2030-01-03",
    }
    first = client.post("/api/v1/leave-requests", json=body, headers=hr)
    again = client.post("/api/v1/leave-requests", json=body, headers=hr)
    assert first.status_code == again.status_code == 201
    listed = client.get(
        "/api/v1/leave-requests", params={"status": "pending", "staff_id": person["id"]}, headers=hr
    ).json()
    assert listed["total"] == 1
    bad = client.post(
        "/api/v1/leave-requests",
        json={**body, "ends_on": "2030-01-01"},
        headers=headers_for("hr_officer"),
    )
    assert bad.status_code == 422
    assert "body.ends_on" in [e["field"] for e in bad.json()["errors"]]


def test_the_database_itself_refuses_an_overlapping_shift(
    client: Any, headers_for: Any, db: Any
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    dept = new_department(client, headers_for)
    person = new_staff(client, headers_for, dept)
    insert = text(
        "INSERT INTO staff_shifts (staff_id, department_id, starts_at, ends_at, kind)"
        " VALUES (:s, :d, :a, :b, 'day')"
    )
    start = datetime(2030, 9, 2, 7, tzinfo=UTC)
    values = {"s": person["id"], "d": dept, "a": start, "b": start + timedelta(hours=8)}
    with db.owner_engine.begin() as conn:
        conn.execute(insert, values)
    try:
        with db.owner_engine.begin() as conn:
            conn.execute(insert, {**values, "a": start + timedelta(hours=4)})
    except IntegrityError as exc:
        assert "ex_staff_shifts_no_overlap" in str(exc.orig)
    else:
        raise AssertionError("an overlapping shift was stored")


def test_roster_and_leave_changes_are_published_with_ids_only(
    client: Any, headers_for: Any, db: Any
) -> None:
    from sqlalchemy import text

    from hms_server.domain.event_access import may_receive
    from hms_server.domain.permissions import Role, permissions_for

    dept = new_department(client, headers_for)
    person = new_staff(client, headers_for, dept)
    hr = headers_for("hr_officer")
    shift = client.post(
        "/api/v1/shifts",
        json=_shift(person["id"], dept, datetime(2030, 10, 7, 7, tzinfo=UTC)),
        headers=hr,
    ).json()
    client.delete(f"/api/v1/shifts/{shift['id']}", headers=hr)
    leave = client.post(
        "/api/v1/leave-requests",
        json={
            "staff_id": person["id"],
            "kind": "sick",
            "starts_on": "2030-10-08",
            "ends_on": "2030-10-08",
        },
        headers=hr,
    ).json()
    with db.owner_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT type, payload FROM outbox_events WHERE (payload->>'staff_id')::bigint = :s"
                " ORDER BY id"
            ),
            {"s": person["id"]},
        ).all()
    assert [r[0] for r in rows] == ["shift.added", "shift.removed", "leave.requested"]
    assert rows[0][1] == {
        "shift_id": shift["id"],
        "staff_id": person["id"],
        "ward_id": None,
        "department_id": dept,
    }
    assert rows[2][1] == {"leave_id": leave["id"], "staff_id": person["id"]}
    assert all(person["full_name"] not in str(r[1]) for r in rows)
    nurse = permissions_for([Role.NURSE.value])
    assert may_receive("shift.added", nurse) and not may_receive("leave.requested", nurse)
