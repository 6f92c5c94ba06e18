"""The chart through the API: encounters, notes, vitals, allergies, problems, labs, documents,
timeline and the chart summary, with the audit entries reads leave behind."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import event, text

from tests.server.api.clinical_factories import (
    Clinician,
    book_with,
    drug_id,
    new_clinician,
    new_patient,
    open_encounter,
    rx_item,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

REASON = "Same person registered twice"


@pytest.fixture
def doctor(client, make_user, login) -> Clinician:
    return new_clinician(client, make_user, login)


@pytest.fixture
def patient(client, headers_for, doctor) -> dict:
    created = new_patient(client, headers_for)
    book_with(client, headers_for, doctor, created["id"])
    created["encounter"] = open_encounter(client, doctor, created["id"], reason="Cough")
    return created


def audit_rows(db, patient_id: int, category: str) -> list:
    with db.owner_engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT user_id, category, action, outcome, detail FROM audit_log "
                    "WHERE patient_id = :p AND category = :c ORDER BY id"
                ),
                {"p": patient_id, "c": category},
            )
        )


def test_opening_an_encounter_puts_the_clinician_on_the_care_team(client, doctor, patient):
    team = client.get(f"/api/v1/patients/{patient['id']}/care-team", headers=doctor.headers)
    assert team.status_code == 200
    assert [m["user_id"] for m in team.json()["items"]] == [doctor.user_id]
    enc = patient["encounter"]
    assert enc["status"] == "in_progress" and enc["clinician_user_id"] == doctor.user_id
    closed = client.post(f"/api/v1/encounters/{enc['id']}/close", headers=doctor.headers)
    assert closed.status_code == 200 and closed.json()["status"] == "finished"
    assert closed.json()["ended_at"] is not None
    listed = client.get(f"/api/v1/patients/{patient['id']}/encounters", headers=doctor.headers)
    assert listed.json()["total"] == 1


def test_open_encounter_service_is_idempotent_per_appointment(db, doctor, patient):
    from hms_server.adapters.uow import Actor
    from hms_server.services.encounters import close_encounter
    from hms_server.services.encounters import open_encounter as open_service
    from tests.wiring import wired_uow

    factory = db.owner_session_factory()
    first = open_service(
        wired_uow(factory, Actor.system()),
        patient_id=patient["id"],
        clinician_user_id=doctor.user_id,
        appointment_id=987654,
    )
    again = open_service(
        wired_uow(factory, Actor.system()),
        patient_id=patient["id"],
        clinician_user_id=doctor.user_id,
        appointment_id=987654,
    )
    assert first.id == again.id
    assert close_encounter(wired_uow(factory, Actor.system()), first.id).status == "finished"


def test_amending_a_note_appends_a_version_and_keeps_the_old_one(client, doctor, patient):
    base = f"/api/v1/patients/{patient['id']}/notes"
    created = client.post(
        base,
        headers=doctor.headers,
        json={
            "encounter_id": patient["encounter"]["id"],
            "subjective": "Cough for 3 days",
            "assessment": "Viral URTI",
            "plan": "Fluids",
        },
    )
    assert created.status_code == 201, created.text
    note = created.json()
    assert note["version"] == 1 and not note["signed"]
    signed = client.post(f"{base}/{note['id']}/sign", headers=doctor.headers)
    assert signed.status_code == 200 and signed.json()["signed"]
    twice = client.post(f"{base}/{note['id']}/sign", headers=doctor.headers)
    assert twice.status_code == 409

    amended = client.post(
        f"{base}/{note['id']}/amend",
        headers=doctor.headers,
        json={
            "version": 1,
            "reason": "Added exam finding",
            "subjective": "Cough for 3 days",
            "objective": "Chest clear",
            "assessment": "Viral URTI",
            "plan": "Fluids",
            "sign": True,
        },
    )
    assert amended.status_code == 201, amended.text
    body = amended.json()
    assert body["version"] == 2 and len(body["versions"]) == 2
    assert body["versions"][0]["objective"] is None and body["versions"][0]["signed"]
    assert body["current"]["objective"] == "Chest clear"
    assert body["current"]["amendment_reason"] == "Added exam finding"

    stale = client.post(
        f"{base}/{note['id']}/amend",
        headers=doctor.headers,
        json={"version": 1, "reason": "again", "body": "x"},
    )
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    fetched = client.get(f"{base}/{note['id']}", headers=doctor.headers).json()
    assert [v["version_no"] for v in fetched["versions"]] == [1, 2]


def test_the_notes_list_carries_each_notes_versions_in_a_fixed_number_of_queries(
    client, doctor, patient
):
    base = f"/api/v1/patients/{patient['id']}/notes"
    ids = [
        client.post(base, headers=doctor.headers, json={"body": f"Note {i}"}).json()["id"]
        for i in range(3)
    ]
    amended = client.post(
        f"{base}/{ids[1]}/amend",
        headers=doctor.headers,
        json={"version": 1, "reason": "Corrected", "body": "Note 1, corrected"},
    )
    assert amended.status_code == 201, amended.text

    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = client.app.state.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        one = client.get(base, headers=doctor.headers, params={"limit": 1})
        for_one = len(statements)
        statements.clear()
        everything = client.get(base, headers=doctor.headers)
        for_three = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert one.status_code == 200 and everything.status_code == 200
    assert for_three == for_one  # not two more queries per note
    listed = {n["id"]: n for n in everything.json()["items"]}
    assert set(listed) == set(ids)
    assert [v["version_no"] for v in listed[ids[1]]["versions"]] == [1, 2]
    assert listed[ids[1]]["current"]["body"] == "Note 1, corrected"
    assert [len(listed[i]["versions"]) for i in (ids[0], ids[2])] == [1, 1]
    assert listed[ids[2]]["current"]["body"] == "Note 2"


def test_a_chart_request_establishes_the_care_relationship_once(client, doctor, patient):
    """The permission check finds the basis before the route runs; the service reuses it."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = client.app.state.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        chart = client.get(f"/api/v1/patients/{patient['id']}/chart", headers=doctor.headers)
        vitals = client.post(
            f"/api/v1/patients/{patient['id']}/vitals",
            headers=doctor.headers,
            json={"heart_rate_bpm": 70},
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert chart.status_code == 200 and vitals.status_code == 201, vitals.text
    care_checks = [s for s in statements if "FROM care_team_members" in s]
    assert len(care_checks) == 2  # one per request


def test_note_without_text_is_a_422_listing_the_problem(client, doctor, patient):
    response = client.post(
        f"/api/v1/patients/{patient['id']}/notes",
        headers=doctor.headers,
        json={"note_type": "soap", "title": "empty"},
    )
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


def test_only_the_author_signs_a_note(client, make_user, login, headers_for, doctor, patient):
    note = client.post(
        f"/api/v1/patients/{patient['id']}/notes",
        headers=doctor.headers,
        json={"body": "Progress note"},
    ).json()
    other = new_clinician(client, make_user, login)
    book_with(client, headers_for, other, patient["id"])
    open_encounter(client, other, patient["id"])
    refused = client.post(
        f"/api/v1/patients/{patient['id']}/notes/{note['id']}/sign", headers=other.headers
    )
    assert refused.status_code == 403


def test_vitals_are_flagged_bmi_is_derived_and_the_trend_is_oldest_first(client, doctor, patient):
    url = f"/api/v1/patients/{patient['id']}/vitals"
    first = client.post(
        url,
        headers=doctor.headers,
        json={
            "recorded_at": "2026-01-05T09:00:00Z",
            "systolic_mmhg": 150,
            "diastolic_mmhg": 95,
            "heart_rate_bpm": 72,
            "weight_kg": 80,
            "height_cm": 180,
            "temperature_c": 36.8,
        },
    )
    assert first.status_code == 201, first.text
    assert first.json()["bmi"] == "24.7"
    assert first.json()["flags"] == {"systolic_mmhg": "H", "diastolic_mmhg": "H"}
    second = client.post(
        url, headers=doctor.headers, json={"recorded_at": "2026-02-05T09:00:00Z", "weight_kg": 76}
    )
    assert second.json()["bmi"] == "23.5"  # height carried over from the last record
    trend = client.get(
        f"{url}/trend", params=[("metric", "weight_kg"), ("metric", "bmi")], headers=doctor.headers
    )
    assert trend.status_code == 200
    assert [p["value"] for p in trend.json()["series"]["weight_kg"]] == [80, 76]
    listed = client.get(url, headers=doctor.headers).json()
    assert listed["total"] == 2 and listed["items"][0]["weight_kg"] == "76.0"


@pytest.mark.parametrize(
    "body",
    [
        {"temperature_c": 370},
        {"heart_rate_bpm": 500, "spo2_pct": 20},
        {"systolic_mmhg": 80, "diastolic_mmhg": 120},
        {},
        {"weight_kg": "heavy"},
        {"recorded_at": "2026-01-01T00:00:00"},
        {"recorded_at": "2999-01-01T00:00:00Z", "weight_kg": 70},
    ],
)
def test_implausible_vitals_are_422(client, doctor, patient, body):
    response = client.post(
        f"/api/v1/patients/{patient['id']}/vitals", headers=doctor.headers, json=body
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"]


def test_unknown_trend_metric_is_422(client, doctor, patient):
    response = client.get(
        f"/api/v1/patients/{patient['id']}/vitals/trend",
        params={"metric": "mood"},
        headers=doctor.headers,
    )
    assert response.status_code == 422


def test_allergy_contract_and_edit_with_version(client, doctor, patient):
    url = f"/api/v1/patients/{patient['id']}/allergies"
    created = client.post(
        url,
        headers=doctor.headers,
        json={
            "substance": "Penicillin",
            "reaction": "Hives",
            "severity": "severe",
            "status": "active",
            "category": "medication",
        },
    )
    assert created.status_code == 201, created.text
    allergy = created.json()
    assert allergy["severity"] == "severe" and allergy["version"] == 1
    bad = client.post(url, headers=doctor.headers, json={"substance": "X", "severity": "deadly"})
    assert bad.status_code == 422
    blank = client.post(url, headers=doctor.headers, json={"substance": "  "})
    assert blank.status_code == 422
    patched = client.patch(
        f"{url}/{allergy['id']}",
        headers=doctor.headers,
        json={"version": 1, "status": "entered_in_error"},
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    assert client.get(url, headers=doctor.headers).json()["total"] == 0
    every = client.get(url, params={"include_inactive": True}, headers=doctor.headers).json()
    assert every["total"] == 1
    stale = client.patch(
        f"{url}/{allergy['id']}", headers=doctor.headers, json={"version": 1, "status": "active"}
    )
    assert stale.status_code == 409


def test_problem_list_uses_validated_icd10_codes(client, doctor, patient):
    url = f"/api/v1/patients/{patient['id']}/problems"
    created = client.post(url, headers=doctor.headers, json={"icd10_code": "e11.9"})
    assert created.status_code == 201, created.text
    assert created.json()["icd10_code"] == "E11.9"
    assert created.json()["description"] == "Type 2 diabetes mellitus without complications"
    unknown = client.post(url, headers=doctor.headers, json={"icd10_code": "Q99.999"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "body.icd10_code"
    resolved = client.patch(
        f"{url}/{created.json()['id']}",
        headers=doctor.headers,
        json={"version": 1, "status": "resolved"},
    )
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_date"]


def test_icd10_search_by_code_prefix_and_words(client, doctor):
    by_code = client.get("/api/v1/icd10", params={"q": "I10"}, headers=doctor.headers).json()
    assert by_code["items"][0]["code"] == "I10"
    by_words = client.get(
        "/api/v1/icd10", params={"q": "type 2 diabetes", "limit": 5}, headers=doctor.headers
    ).json()
    assert by_words["total"] > 5 and by_words["items"][0]["code"] == "E11"
    assert client.get("/api/v1/icd10", headers=doctor.headers).status_code == 422


def test_lab_order_result_gets_catalogue_units_and_an_abnormal_flag(client, doctor, patient):
    tests = client.get(
        "/api/v1/lab-tests", params={"q": "potassium"}, headers=doctor.headers
    ).json()
    potassium = tests["items"][0]
    assert potassium["loinc"] == "2823-3"
    url = f"/api/v1/patients/{patient['id']}/lab-orders"
    order = client.post(url, headers=doctor.headers, json={"test_code": "K", "priority": "urgent"})
    assert order.status_code == 201, order.text
    order_id = order.json()["id"]
    result = client.post(
        f"{url}/{order_id}/result", headers=doctor.headers, json={"value_numeric": "6.9"}
    )
    assert result.status_code == 201, result.text
    body = result.json()
    assert body["status"] == "resulted" and body["result"]["flag"] == "HH"
    assert body["result"]["unit"] == "mmol/L"
    again = client.post(
        f"{url}/{order_id}/result", headers=doctor.headers, json={"value_numeric": "4"}
    )
    assert again.status_code == 409
    results = client.get(
        f"/api/v1/patients/{patient['id']}/lab-results", headers=doctor.headers
    ).json()
    assert results["items"][0]["loinc"] == "2823-3"
    assert client.post(url, headers=doctor.headers, json={"test_code": "NOPE"}).status_code == 422
    assert client.post(url, headers=doctor.headers, json={}).status_code == 422


def test_documents_are_typed_by_content_and_checksummed(client, doctor, patient):
    url = f"/api/v1/patients/{patient['id']}/documents"
    uploaded = client.post(
        url,
        headers=doctor.headers,
        data={"title": "Referral letter"},
        files={"file": ("letter.pdf", PDF, "image/png")},
    )
    assert uploaded.status_code == 201, uploaded.text
    doc = uploaded.json()
    assert doc["content_type"] == "application/pdf"
    assert doc["sha256"] == hashlib.sha256(PDF).hexdigest() and doc["size_bytes"] == len(PDF)
    image = client.post(
        url, headers=doctor.headers, files={"file": ("scan.bin", PNG, "application/octet-stream")}
    )
    assert image.status_code == 201 and image.json()["content_type"] == "image/png"

    fake = client.post(
        url,
        headers=doctor.headers,
        files={"file": ("evil.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert fake.status_code == 415 and fake.json()["code"] == "unsupported_document_type"
    empty = client.post(url, headers=doctor.headers, files={"file": ("e.pdf", b"", "x/y")})
    assert empty.status_code == 422
    missing = client.post(url, headers=doctor.headers, data={"title": "no file"})
    assert missing.status_code == 422

    content = client.get(f"{url}/{doc['id']}/content", headers=doctor.headers)
    assert content.status_code == 200 and content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert client.get(url, headers=doctor.headers).json()["total"] == 2


def test_oversized_document_is_413(client, doctor, patient, monkeypatch):
    from hms_server.services import documents

    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", 1024)
    response = client.post(
        f"/api/v1/patients/{patient['id']}/documents",
        headers=doctor.headers,
        files={"file": ("big.pdf", PDF + b"0" * 2048, "application/pdf")},
    )
    assert response.status_code == 413 and response.json()["code"] == "document_too_large"


def test_timeline_is_one_chronological_list(client, doctor, patient):
    pid = patient["id"]
    client.post(
        f"/api/v1/patients/{pid}/vitals",
        headers=doctor.headers,
        json={"heart_rate_bpm": 80, "recorded_at": "2020-01-01T08:00:00Z"},
    )
    client.post(f"/api/v1/patients/{pid}/notes", headers=doctor.headers, json={"body": "Seen"})
    client.post(
        f"/api/v1/patients/{pid}/allergies",
        headers=doctor.headers,
        json={"substance": "Latex", "severity": "mild", "category": "environment"},
    )
    para = drug_id(client, doctor.headers, "paracetamol")
    rx = client.post(
        "/api/v1/prescriptions",
        headers=doctor.headers,
        json={"patient_id": pid, "items": [rx_item(para)]},
    )
    assert rx.status_code == 201, rx.text
    items = client.get(f"/api/v1/patients/{pid}/timeline", headers=doctor.headers).json()
    kinds = [i["kind"] for i in items["items"]]
    assert set(kinds) >= {"encounter", "note", "vitals", "allergy", "prescription"}
    stamps = [i["at"] for i in items["items"]]
    assert stamps == sorted(stamps, reverse=True) and kinds[-1] == "vitals"
    # Every entry says who recorded it.
    me = client.get("/api/v1/me", headers=doctor.headers).json()["full_name"]
    assert {i["by"] for i in items["items"]} == {me}
    only = client.get(
        f"/api/v1/patients/{pid}/timeline", params={"kind": "vitals"}, headers=doctor.headers
    ).json()
    assert only["total"] == 1 and only["items"][0]["summary"] == "HR 80"
    assert (
        client.get(
            f"/api/v1/patients/{pid}/timeline", params={"kind": "x;drop"}, headers=doctor.headers
        ).status_code
        == 422
    )


def test_chart_summary_has_the_header_facts_and_is_audited(client, db, doctor, patient):
    pid = patient["id"]
    client.post(
        f"/api/v1/patients/{pid}/allergies",
        headers=doctor.headers,
        json={"substance": "Sulfa", "reaction": "Rash", "severity": "moderate"},
    )
    client.post(
        f"/api/v1/patients/{pid}/problems", headers=doctor.headers, json={"icd10_code": "I10"}
    )
    client.post(
        f"/api/v1/patients/{pid}/vitals",
        headers=doctor.headers,
        json={"systolic_mmhg": 128, "diastolic_mmhg": 82},
    )
    metformin = drug_id(client, doctor.headers, "metformin")
    client.post(
        "/api/v1/prescriptions",
        headers=doctor.headers,
        json={"patient_id": pid, "items": [rx_item(metformin, duration_days=90)]},
    )
    before = len(audit_rows(db, pid, "chart"))
    chart = client.get(f"/api/v1/patients/{pid}/chart", headers=doctor.headers)
    assert chart.status_code == 200, chart.text
    body = chart.json()
    assert body["patient"]["mrn"] == patient["mrn"] and body["access"] == "care_team"
    assert body["has_allergies"] and body["allergies"][0]["substance"] == "Sulfa"
    assert body["problems"][0]["icd10_code"] == "I10"
    assert body["medications"][0]["generic_name"] == "Metformin"
    assert body["latest_vitals"]["systolic_mmhg"] == 128
    assert body["recent_encounters"][0]["id"] == patient["encounter"]["id"]
    assert body["counts"]["encounters"] == 1
    rows = audit_rows(db, pid, "chart")
    assert len(rows) == before + 1
    assert rows[-1].user_id == doctor.user_id and rows[-1].action == "read"
    assert rows[-1].detail["access"] == "care_team"


@pytest.mark.parametrize(
    ("path", "category"),
    [
        ("notes", "clinical_notes"),
        ("vitals", "vitals"),
        ("allergies", "allergies"),
        ("problems", "problems"),
        ("documents", "documents"),
        ("prescriptions", "prescriptions"),
        ("lab-results", "lab_results"),
        ("medications", "prescriptions"),
        ("timeline", "timeline"),
        ("encounters", "encounters"),
    ],
)
def test_every_clinical_read_is_audited_with_its_category(
    client, db, doctor, patient, path, category
):
    before = len(audit_rows(db, patient["id"], category))
    response = client.get(f"/api/v1/patients/{patient['id']}/{path}", headers=doctor.headers)
    assert response.status_code == 200, response.text
    rows = audit_rows(db, patient["id"], category)
    assert len(rows) == before + 1 and rows[-1].action == "read"


def test_unknown_patient_answers_like_one_outside_your_care_not_500(client, doctor):
    """Issue 8 changed this from 404: an unknown patient and one outside your care answer
    the same 403, so the answer does not tell which ids exist."""
    for path in ("chart", "vitals", "notes", "timeline"):
        response = client.get(f"/api/v1/patients/987654321/{path}", headers=doctor.headers)
        assert response.status_code == 403, path
        assert response.json()["code"] == "care_relationship_required"


def test_patient_merge_moves_the_chart_to_the_survivor(client, headers_for, doctor, patient):
    loser = patient["id"]
    client.post(
        f"/api/v1/patients/{loser}/allergies",
        headers=doctor.headers,
        json={"substance": "Aspirin", "severity": "moderate"},
    )
    client.post(
        f"/api/v1/patients/{loser}/vitals", headers=doctor.headers, json={"heart_rate_bpm": 66}
    )
    survivor = new_patient(client, headers_for)["id"]
    merged = client.post(
        f"/api/v1/patients/{survivor}/merge",
        json={"merge_from_id": loser, "reason": REASON},
        headers=headers_for("admin"),
    )
    assert merged.status_code == 200, merged.text
    chart = client.get(f"/api/v1/patients/{survivor}/chart", headers=doctor.headers)
    assert chart.status_code == 200, chart.text  # the care team came along
    body = chart.json()
    assert [a["substance"] for a in body["allergies"]] == ["Aspirin"]
    assert body["latest_vitals"]["heart_rate_bpm"] == 66
    assert body["counts"]["encounters"] == 1
