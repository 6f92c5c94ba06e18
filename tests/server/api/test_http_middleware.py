"""The security headers every answer carries and the access log, which names route
templates only (a search box's query string can hold an MRN or a name)."""

from __future__ import annotations

import logging


def test_api_answers_carry_the_security_headers_and_no_store(client, headers_for):
    answer = client.get(
        "/api/v1/patients", params={"q": "HMS-000123"}, headers=headers_for("receptionist")
    )
    assert answer.status_code == 200
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    refused = client.get("/api/v1/patients")  # errors too
    assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"
    assert refused.headers["x-frame-options"] == "DENY"


def test_headers_a_route_sets_itself_are_kept(client):
    docs = client.get("/openapi.json")  # outside the API prefix: no no-store added
    assert docs.status_code == 200 and "cache-control" not in docs.headers
    assert docs.headers["x-content-type-options"] == "nosniff"


def test_the_access_log_names_the_route_template_not_the_patient(client, headers_for, caplog):
    headers = headers_for("receptionist")
    with caplog.at_level(logging.INFO, logger="hms_server.access"):
        client.get("/api/v1/patients", params={"q": "Okonkwo"}, headers=headers)
        client.get("/api/v1/patients/424242", headers=headers)
    lines = [r.getMessage() for r in caplog.records if r.name == "hms_server.access"]
    assert lines[0].startswith("GET /api/v1/patients 200 ")
    assert lines[1].startswith("GET /api/v1/patients/{patient_id} 404 ")
    assert not any("Okonkwo" in line or "424242" in line for line in lines)
