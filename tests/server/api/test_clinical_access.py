"""Who may see a chart: roles, the care relationship, and break-the-glass."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import text

from hms_server.api.deps import Require
from hms_server.domain.permissions import Perm, Role, permissions_for
from tests.server.api.clinical_factories import (
    Clinician,
    book_with,
    drug_id,
    new_clinician,
    new_patient,
    open_encounter,
    rx_item,
)

CLINICAL_PERMS = {Perm.CLINICAL_READ, Perm.CLINICAL_WRITE, Perm.PRESCRIBE}
REASON = "Unconscious in ED, no record of medication"


@pytest.fixture
def doctor(client, make_user, login) -> Clinician:
    return new_clinician(client, make_user, login)


@pytest.fixture
def patient_id(client, headers_for) -> int:
    return new_patient(client, headers_for)["id"]


def _api_routes(routes, prefix: str = ""):  # type: ignore[no-untyped-def]
    """Every APIRoute with its full path. FastAPI 0.165 keeps included routers as
    ``_IncludedRouter`` entries in ``app.routes``, so walk into them."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            yield from _api_routes(
                route.original_router.routes, prefix + route.include_context.prefix
            )


def _permission(route: APIRoute) -> Perm | None:
    found: list[Perm] = []

    def walk(dep) -> None:  # type: ignore[no-untyped-def]
        if isinstance(dep.call, Require):
            found.append(dep.call.permission)
        for sub in dep.dependencies:
            walk(sub)

    walk(route.dependant)
    return found[0] if found else None


def _clinical_routes(app) -> list[tuple[str, str, Perm]]:
    found = []
    for path, route in _api_routes(app.routes):
        perm = _permission(route)
        if perm in CLINICAL_PERMS | {Perm.FORMULARY_READ, Perm.BREAK_GLASS_REVIEW}:
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                found.append((method, path, perm))
    return found


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_role_gets_exactly_its_clinical_routes(app, client, headers_for, role):
    """The authorization matrix for this area's routes, walked through included routers."""
    routes = _clinical_routes(app)
    assert len(routes) >= 40
    granted = permissions_for([role])
    headers = headers_for(role)
    failures = []
    for method, path, perm in routes:
        concrete = re.sub(r"\{[^}]+\}", "999999999", path)
        response = client.request(
            method, concrete, headers=headers, json={} if method in ("POST", "PATCH") else None
        )
        body = response.json() if "json" in response.headers.get("content-type", "") else {}
        forbidden = response.status_code == 403 and body.get("code") == "forbidden"
        if perm in granted and (forbidden or response.status_code == 401):
            failures.append(f"{role} refused {method} {path}")
        if perm not in granted and not forbidden:
            failures.append(f"{role} not refused {method} {path} ({response.status_code})")
        if response.status_code >= 500:
            failures.append(f"{role} got {response.status_code} on {method} {path}")
    assert failures == []


@pytest.mark.parametrize("role", ["receptionist", "billing_clerk"])
def test_front_office_roles_get_403_on_every_clinical_route(
    app, client, headers_for, patient_id, role
):
    routes = [(m, p) for m, p, perm in _clinical_routes(app) if perm in CLINICAL_PERMS]
    assert len(routes) >= 30
    headers = headers_for(role)
    failures = []
    for method, path in routes:
        concrete = re.sub(r"\{patient_id\}", str(patient_id), path)
        concrete = re.sub(r"\{[^}]+\}", "1", concrete)
        response = client.request(
            method, concrete, headers=headers, json={} if method == "POST" else None
        )
        if response.status_code != 403 or response.json().get("code") != "forbidden":
            failures.append(f"{method} {path} -> {response.status_code}")
    assert failures == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/patients/{p}/chart", None),
        ("GET", "/api/v1/patients/{p}/vitals", None),
        ("GET", "/api/v1/patients/{p}/timeline", None),
        ("GET", "/api/v1/patients/{p}/allergies", None),
        ("GET", "/api/v1/patients/{p}/documents", None),
    ],
)
def test_doctor_outside_the_care_team_is_refused(client, doctor, patient_id, method, path, body):
    response = client.request(method, path.format(p=patient_id), headers=doctor.headers, json=body)
    assert response.status_code == 403
    assert response.json()["code"] == "care_relationship_required"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/api/v1/patients/{p}/allergies",
            {"substance": "latex", "reaction": "rash", "severity": "mild"},
        ),
        ("/api/v1/patients/{p}/notes", {"body": "Seen in the emergency department."}),
    ],
)
def test_a_new_chart_entry_is_not_a_declaration_of_care(client, db, doctor, patient_id, path, body):
    """Issue 8 changed this: writing used to add the writer to the care team as
    'self_declared'. A write now needs the access a read needs, and changes nothing."""
    response = client.post(path.format(p=patient_id), headers=doctor.headers, json=body)
    assert response.status_code == 403
    assert response.json()["code"] == "care_relationship_required"
    team = client.get(f"/api/v1/patients/{patient_id}/care-team", headers=doctor.headers)
    assert team.status_code == 403
    with db.owner_engine.connect() as conn:
        declared = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE patient_id = :p AND user_id = :u "
                "AND action = 'care_team.add'"
            ),
            {"p": patient_id, "u": doctor.user_id},
        ).scalar_one()
    assert declared == 0


def test_prescribing_for_a_patient_outside_your_care_is_refused(client, doctor, patient_id):
    """Issue 8 changed this: prescribing used to declare care; now it is refused."""
    para = drug_id(client, doctor.headers, "paracetamol")
    response = client.post(
        "/api/v1/prescriptions",
        headers=doctor.headers,
        json={"patient_id": patient_id, "items": [rx_item(para)]},
    )
    assert response.status_code == 403
    assert (
        client.get(f"/api/v1/patients/{patient_id}/chart", headers=doctor.headers).status_code
        == 403
    )


def test_refused_chart_access_is_audited(client, db, doctor, patient_id):
    client.get(f"/api/v1/patients/{patient_id}/chart", headers=doctor.headers)
    with db.owner_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT outcome, action FROM audit_log WHERE patient_id = :p AND user_id = :u"),
            {"p": patient_id, "u": doctor.user_id},
        ).all()
    assert ("denied", "chart.denied") in [tuple(r) for r in rows]


def test_nurse_added_to_the_care_team_gets_access(
    client, make_user, login, headers_for, doctor, patient_id
):
    nurse = new_clinician(client, make_user, login, role="nurse")
    url = f"/api/v1/patients/{patient_id}/vitals"
    assert client.get(url, headers=nurse.headers).status_code == 403
    handover = "Ward nurse for the post-operative stay"  # a handover states why (issue 8)
    refused = client.post(
        f"/api/v1/patients/{patient_id}/care-team",
        headers=doctor.headers,
        json={"user_id": nurse.user_id, "reason": handover},
    )
    assert refused.status_code == 403  # the doctor is not caring for the patient either
    book_with(client, headers_for, doctor, patient_id)
    open_encounter(client, doctor, patient_id)
    added = client.post(
        f"/api/v1/patients/{patient_id}/care-team",
        headers=doctor.headers,
        json={"user_id": nurse.user_id, "role": "ward nurse", "reason": handover},
    )
    assert added.status_code == 201, added.text
    recorded = client.post(url, headers=nurse.headers, json={"heart_rate_bpm": 76, "spo2_pct": 97})
    assert recorded.status_code == 201
    mine = client.get("/api/v1/my-patients", headers=nurse.headers).json()
    assert patient_id in [p["id"] for p in mine["items"]]


def test_break_glass_requires_a_reason(client, doctor, patient_id):
    url = f"/api/v1/patients/{patient_id}/break-glass"
    assert client.post(url, headers=doctor.headers, json={}).status_code == 422
    short = client.post(url, headers=doctor.headers, json={"reason": "  because  "})
    assert short.status_code == 422
    unknown = client.post(
        "/api/v1/patients/987654321/break-glass", headers=doctor.headers, json={"reason": REASON}
    )
    assert unknown.status_code == 404


def test_break_glass_grants_time_limited_audited_access_listed_for_review(
    client, db, doctor, patient_id, headers_for
):
    chart = f"/api/v1/patients/{patient_id}/chart"
    assert client.get(chart, headers=doctor.headers).status_code == 403
    granted = client.post(
        f"/api/v1/patients/{patient_id}/break-glass",
        headers=doctor.headers,
        json={"reason": REASON},
    )
    assert granted.status_code == 201, granted.text
    grant = granted.json()
    expires = datetime.fromisoformat(grant["expires_at"])
    assert timedelta(minutes=55) < expires - datetime.now(UTC) <= timedelta(minutes=60)
    assert grant["active"] and grant["reason"] == REASON

    opened = client.get(chart, headers=doctor.headers)
    assert opened.status_code == 200 and opened.json()["access"] == "break_glass"
    with db.owner_engine.connect() as conn:
        audited = conn.execute(
            text(
                "SELECT category, action, detail FROM audit_log WHERE patient_id = :p "
                "AND user_id = :u ORDER BY id"
            ),
            {"p": patient_id, "u": doctor.user_id},
        ).all()
    grant_rows = [r for r in audited if r.action == "break_glass.grant"]
    assert grant_rows and grant_rows[0].detail["reason"] == REASON
    reads = [r for r in audited if r.category == "chart" and r.action == "read"]
    assert reads[-1].detail["break_glass_grant_id"] == grant["id"]

    # The review queue: admins only, with the reason and how often the grant was used.
    assert client.get("/api/v1/break-glass", headers=doctor.headers).status_code == 403
    admin = headers_for("admin")
    queue = client.get(
        "/api/v1/break-glass", params={"patient_id": patient_id, "unreviewed": True}, headers=admin
    )
    assert queue.status_code == 200, queue.text
    entry = queue.json()["items"][0]
    assert entry["id"] == grant["id"] and entry["reason"] == REASON
    assert entry["username"] == doctor.username and entry["access_count"] >= 1
    # Whom it was about, as the review screen shows it (MRN and name, not an id).
    patient = client.get(f"/api/v1/patients/{patient_id}", headers=admin).json()
    assert entry["patient_mrn"] == patient["mrn"]
    assert entry["patient_name"] == f"{patient['family_name']}, {patient['given_name']}"
    reviewed = client.post(
        f"/api/v1/break-glass/{grant['id']}/review",
        headers=admin,
        json={"note": "Appropriate: emergency admission"},
    )
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_at"]
    left = client.get(
        "/api/v1/break-glass", params={"patient_id": patient_id, "unreviewed": True}, headers=admin
    )
    assert left.json()["total"] == 0

    # Once the grant has expired, access ends.
    with db.owner_engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE break_glass_grants SET granted_at = now() - interval '2 h', "
                "expires_at = now() - interval '1 h' WHERE id = :g"
            ),
            {"g": grant["id"]},
        )
    again = client.get(chart, headers=doctor.headers)
    assert again.status_code == 403 and again.json()["code"] == "care_relationship_required"


def test_break_glass_is_not_for_front_office(client, headers_for, patient_id):
    response = client.post(
        f"/api/v1/patients/{patient_id}/break-glass",
        headers=headers_for("receptionist"),
        json={"reason": REASON},
    )
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
