"""Patient registration, duplicate prompt, search, edit, merge and audit over HTTP."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from hms_server.adapters.orm.infra import AuditEntry
from hms_server.domain.events import PatientsMerged
from hms_server.domain.mrn import is_valid_mrn

BASE = "/api/v1/patients"

REASON = "Same person registered twice"


def _uniq(prefix: str = "") -> str:
    # Letters only, so the name never reads as an MRN or national ID.
    return prefix + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:10])


def _new(**overrides):
    body = {
        "given_name": _uniq("Gi").title(),
        "family_name": _uniq("Fa").title(),
        "date_of_birth": "1984-03-05",
        "sex": "female",
        "phone": f"+1 555 {uuid.uuid4().int % 10**7:07d}",
    }
    body.update(overrides)
    return body


@pytest.fixture
def reception(headers_for):
    return headers_for("receptionist")


@pytest.fixture
def register(client, reception):
    def _register(**overrides):
        response = client.post(BASE, json=_new(**overrides), headers=reception)
        assert response.status_code == 201, response.text
        return response.json()

    return _register


def _audit_rows(db, action, patient_id=None):
    with db.owner_session_factory()() as session:
        query = select(AuditEntry).where(AuditEntry.action == action)
        if patient_id is not None:
            query = query.where(AuditEntry.patient_id == patient_id)
        return list(session.scalars(query.order_by(AuditEntry.id)))


def test_registration_returns_record_with_server_mrn(client, reception, db):
    body = _new(
        email="p@example.org",
        national_id="AB 123 456 C",
        preferred_language="pt-BR",
        address={"line": ["1 Rua Augusta"], "city": "Lisboa", "country": "PT"},
        next_of_kin=[{"name": "Ana Costa", "relationship": "mother", "phone": "+351 912 345 678"}],
        insurance=[
            {
                "payer": "Médis",
                "policy_number": "P-1",
                "member_id": "M9",
                "valid_from": "2026-01-01",
                "valid_to": "2026-12-31",
            }
        ],
    )
    response = client.post(BASE, json=body, headers=reception)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"{BASE}/{created['id']}"
    assert created["version"] == 1
    assert created["mrn"].startswith("HMS") and is_valid_mrn(created["mrn"])
    assert created["insurance"][0]["valid_to"] == "2026-12-31"
    assert created["address"]["city"] == "Lisboa"
    assert created["birth_date_estimated"] is False
    assert _audit_rows(db, "patient.create", created["id"])


def test_mrns_are_unique_and_increasing(register):
    a, b = register(), register()
    assert a["mrn"] != b["mrn"] and a["mrn"] < b["mrn"]


def test_estimated_age_gives_flagged_birth_date(register):
    created = register(date_of_birth=None, age_years=40)
    dob = date.fromisoformat(created["date_of_birth"])
    assert created["birth_date_estimated"] is True
    assert abs((date.today() - dob).days - 40 * 365.25) < 3


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"date_of_birth": "1984-02-30"}, "body.date_of_birth"),
        ({"date_of_birth": "not a date"}, "body.date_of_birth"),
        ({"sex": "m"}, "body.sex"),
        ({"given_name": "x" * 101}, "body.given_name"),
        ({"family_name": ""}, "body.family_name"),
        ({"phone": "call me"}, "body.phone"),
        ({"email": "nope"}, "body.email"),
        ({"age_years": 30}, "body"),
        ({"unexpected": 1}, "body.unexpected"),
        (
            {
                "insurance": [
                    {
                        "payer": "X",
                        "policy_number": "1",
                        "valid_from": "2026-02-01",
                        "valid_to": "2026-01-01",
                    }
                ]
            },
            "body.insurance.0",
        ),
    ],
)
def test_bad_registration_is_422_naming_the_field(client, reception, overrides, field):
    response = client.post(BASE, json=_new(**overrides), headers=reception)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert any(e["field"].startswith(field) for e in problem["errors"]), problem


def test_future_birth_date_is_422(client, reception):
    future = (date.today() + timedelta(days=2)).isoformat()
    response = client.post(BASE, json=_new(date_of_birth=future), headers=reception)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.date_of_birth"


def test_several_bad_fields_are_all_listed(client, reception):
    response = client.post(BASE, json=_new(sex="x", given_name="", phone="?"), headers=reception)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"body.sex", "body.given_name", "body.phone"} <= fields


def test_sex_accepts_fhir_codes_in_any_case(register):
    assert register(sex="Other")["sex"] == "other"
    assert register(sex="unknown")["sex"] == "unknown"


def test_idempotency_key_gives_one_patient(client, reception):
    body = _new()
    headers = {**reception, "Idempotency-Key": str(uuid.uuid4())}
    first = client.post(BASE, json=body, headers=headers)
    second = client.post(BASE, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers.get("idempotent-replayed") == "true"


def test_likely_duplicate_is_prompted_then_confirmed(client, reception, register):
    family = _uniq("Mül").title()
    existing = register(given_name="José", family_name=family, date_of_birth="1971-07-09")
    again = _new(given_name="Jose", family_name=family.lower(), date_of_birth="1971-07-09")
    response = client.post(BASE, json=again, headers=reception)
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "possible_duplicates"
    ids = [c["id"] for c in problem["candidates"]]
    assert existing["id"] in ids
    candidate = problem["candidates"][ids.index(existing["id"])]
    assert set(candidate) >= {"id", "mrn", "name", "dob"}
    assert candidate["mrn"] == existing["mrn"]
    confirmed = client.post(BASE, json={**again, "confirm_new": True}, headers=reception)
    assert confirmed.status_code == 201
    assert confirmed.json()["id"] != existing["id"]


def test_same_national_id_alone_is_a_likely_duplicate(client, reception, register):
    nid = "NI-" + uuid.uuid4().hex[:8]
    register(national_id=nid)
    response = client.post(
        BASE, json=_new(national_id=nid.lower(), date_of_birth="1950-01-01"), headers=reception
    )
    assert response.status_code == 409
    assert "same_national_id" in response.json()["candidates"][0]["reasons"]


def test_family_members_sharing_phone_and_twins_are_not_duplicates(register):
    family = _uniq("Fam").title()
    phone = f"+44 20 {uuid.uuid4().int % 10**8:08d}"
    register(given_name="Amira", family_name=family, date_of_birth="1990-05-05", phone=phone)
    register(given_name="Yusuf", family_name=family, date_of_birth="1990-05-05", phone=phone)
    register(given_name="Leila", family_name=family, date_of_birth="1962-11-30", phone=phone)


def test_same_phone_and_similar_name_is_a_duplicate(client, reception, register):
    phone = f"+44 20 {uuid.uuid4().int % 10**8:08d}"
    first = register(
        given_name="Katharina", family_name="Schneider", phone=phone, date_of_birth="1980-01-01"
    )
    response = client.post(
        BASE,
        json=_new(
            given_name="Katharina", family_name="Schnieder", phone=phone, date_of_birth="1981-01-01"
        ),
        headers=reception,
    )
    assert response.status_code == 409
    assert first["id"] in [c["id"] for c in response.json()["candidates"]]


def test_search_by_name_fragment_ignores_accents_and_case(client, reception, register):
    family = "Ångström" + _uniq().title()
    created = register(given_name="Zoë", family_name=family)
    for q in ("ANGSTR", "zoe", "ngströ", family.lower()):
        response = client.get(BASE, params={"q": q, "limit": 200}, headers=reception)
        assert response.status_code == 200
        assert created["id"] in [p["id"] for p in response.json()["items"]], q
    tail = family[-6:].lower()
    body = client.get(BASE, params={"q": f"zoe {tail}"}, headers=reception).json()
    assert [p["id"] for p in body["items"]] == [created["id"]]
    assert body["total"] == 1
    assert set(body["items"][0]) >= {"id", "mrn", "given_name", "family_name", "date_of_birth"}


def test_search_by_mrn_with_and_without_formatting(client, reception, register):
    created = register()
    mrn = created["mrn"]
    for q in (mrn, mrn.lower(), f"{mrn[:3]}-{mrn[3:7]}-{mrn[7:11]}-{mrn[11:]}", mrn[3:], mrn[:-1]):
        items = client.get(BASE, params={"q": q}, headers=reception).json()["items"]
        assert [p["id"] for p in items] == [created["id"]], q


def test_search_by_phone_birth_date_and_national_id(client, reception, register):
    digits = f"{uuid.uuid4().int % 10**9:09d}"
    nid = "X" + uuid.uuid4().hex[:9].upper()
    created = register(
        phone=f"+49 {digits[:3]} {digits[3:]}",
        national_id=nid,
        date_of_birth="1933-04-01",
        family_name="Wąsik" + _uniq(),
    )
    for q in (digits, f"0{digits}", f"+49{digits}", nid.lower()):
        ids = [
            p["id"] for p in client.get(BASE, params={"q": q}, headers=reception).json()["items"]
        ]
        assert created["id"] in ids, q
    body = client.get(BASE, params={"q": "1933-04-01", "limit": 200}, headers=reception).json()
    assert created["id"] in [p["id"] for p in body["items"]]
    assert all(p["date_of_birth"] == "1933-04-01" for p in body["items"])
    name_and_date = client.get(BASE, params={"q": "wasik 1933-04-01"}, headers=reception).json()
    assert created["id"] in [p["id"] for p in name_and_date["items"]]
    other_date = client.get(BASE, params={"q": "wasik 1933-04-02"}, headers=reception).json()
    assert created["id"] not in [p["id"] for p in other_date["items"]]


def test_short_fragment_is_a_prefix_search(client, reception, register):
    created = register(family_name="Qx" + _uniq())
    items = client.get(BASE, params={"q": "qx", "limit": 200}, headers=reception).json()["items"]
    assert created["id"] in [p["id"] for p in items]
    assert all(
        p["family_name"].lower().startswith("qx") or p["given_name"].lower().startswith("qx")
        for p in items
    )


def test_search_pages_and_counts(client, reception, register):
    family = _uniq("Pag").title()
    made = [
        register(family_name=family, given_name=g, date_of_birth=f"19{60 + i}-01-01")["id"]
        for i, g in enumerate(["Ann", "Ben", "Cyd"])
    ]
    first = client.get(BASE, params={"q": family, "limit": 2}, headers=reception).json()
    second = client.get(
        BASE, params={"q": family, "limit": 2, "offset": 2}, headers=reception
    ).json()
    assert first["total"] == second["total"] == 3
    assert [p["id"] for p in first["items"] + second["items"]] == made
    beyond = client.get(BASE, params={"q": family, "offset": 10}, headers=reception).json()
    assert beyond == {"items": [], "total": 3, "total_capped": False}


def test_listing_without_query_pages_everyone_in_name_order(client, reception, register):
    register()
    first = client.get(BASE, params={"limit": 5}, headers=reception).json()
    assert first["total"] >= 1 and 1 <= len(first["items"]) <= 5
    second = client.get(BASE, params={"limit": 5, "offset": 5}, headers=reception).json()
    assert second["total"] == first["total"]
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in second["items"]}


def test_wildcards_in_search_are_literal(client, reception):
    body = client.get(BASE, params={"q": "%%%"}, headers=reception).json()
    assert body["total"] == 0
    assert client.get(BASE, params={"q": "___"}, headers=reception).json()["total"] == 0


def test_search_and_read_are_audited_without_names(client, db, register, headers_for):
    created = register()
    doctor = headers_for("doctor")
    assert client.get(f"{BASE}/{created['id']}", headers=doctor).status_code == 200
    reads = _audit_rows(db, "patient.read", created["id"])
    assert reads and reads[-1].category == "demographics"
    client.get(BASE, params={"q": created["family_name"]}, headers=doctor)
    search = _audit_rows(db, "patient.search")[-1]
    assert search.detail["result_count"] == 1
    assert created["family_name"] not in str(search.detail)


def test_get_by_id_and_by_mrn(client, reception, register):
    created = register()
    assert client.get(f"{BASE}/{created['id']}", headers=reception).json() == created
    by_mrn = client.get(f"{BASE}/by-mrn/{created['mrn'].lower()}", headers=reception)
    assert by_mrn.json()["id"] == created["id"]
    assert client.get(f"{BASE}/by-mrn/HMS000000000", headers=reception).status_code == 404
    assert client.get(f"{BASE}/999999999", headers=reception).status_code == 404


def test_update_with_version_and_stale_conflict(client, reception, register, db):
    created = register()
    url = f"{BASE}/{created['id']}"
    ok = client.patch(
        url,
        json={"version": 1, "phone": "+1 555 0000000", "address": {"city": "Nairobi"}},
        headers=reception,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2 and ok.json()["address"]["city"] == "Nairobi"
    stale = client.patch(url, json={"version": 1, "phone": "+1 555 1111111"}, headers=reception)
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    assert client.get(url, headers=reception).json()["phone"] == "+1 555 0000000"
    assert _audit_rows(db, "patient.update", created["id"])[-1].detail == {
        "fields": ["address", "phone"]
    }


def test_bad_update_is_422_and_changes_nothing(client, reception, register):
    created = register()
    url = f"{BASE}/{created['id']}"
    bad = client.patch(
        url, json={"version": 1, "sex": "robot", "given_name": None}, headers=reception
    )
    assert bad.status_code == 422
    future = (date.today() + timedelta(days=1)).isoformat()
    assert (
        client.patch(
            url, json={"version": 1, "date_of_birth": future}, headers=reception
        ).status_code
        == 422
    )
    assert client.get(url, headers=reception).json() == created


def test_roles_that_only_read_cannot_register_or_edit(client, headers_for, register):
    created = register()
    for role in ("doctor", "nurse", "pharmacist", "billing_clerk", "admin"):
        headers = headers_for(role)
        assert client.get(f"{BASE}/{created['id']}", headers=headers).status_code == 200
        assert client.post(BASE, json=_new(), headers=headers).status_code == 403
        assert (
            client.patch(
                f"{BASE}/{created['id']}", json={"version": 1}, headers=headers
            ).status_code
            == 403
        )
    assert (
        client.get(f"{BASE}/{created['id']}", headers=headers_for("hr_officer")).status_code == 403
    )


def test_merge_moves_mrn_resolution_to_survivor(client, headers_for, register, reception, db):
    admin = headers_for("admin")
    survivor = register(email=None)
    loser = register(email="dup@example.org", insurance=[{"payer": "AXA", "policy_number": "7"}])
    moved: list[tuple[int, int]] = []

    def observe(_uow, event):  # type: ignore[no-untyped-def]
        moved.append((event.loser_id, event.survivor_id))

    events = client.app.state.runtime.events
    events.subscribe(PatientsMerged, observe)
    try:
        response = client.post(
            f"{BASE}/{survivor['id']}/merge",
            json={"merge_from_id": loser["id"], "reason": REASON},
            headers=admin,
        )
    finally:
        events.unsubscribe(PatientsMerged, observe)
    assert response.status_code == 200, response.text
    merged = response.json()
    assert merged["email"] == "dup@example.org"
    assert merged["insurance"][0]["payer"] == "AXA"
    assert merged["version"] == survivor["version"] + 1
    assert moved == [(loser["id"], survivor["id"])]
    assert (
        client.get(f"{BASE}/by-mrn/{loser['mrn']}", headers=reception).json()["id"]
        == survivor["id"]
    )
    found = client.get(BASE, params={"q": loser["mrn"]}, headers=reception).json()["items"]
    assert [p["id"] for p in found] == [survivor["id"]]
    by_name = client.get(BASE, params={"q": loser["family_name"]}, headers=reception).json()
    assert by_name["total"] == 0
    old = client.get(f"{BASE}/{loser['id']}", headers=reception).json()
    assert old["merged_into_id"] == survivor["id"]
    assert (
        client.patch(
            f"{BASE}/{loser['id']}", json={"version": old["version"]}, headers=reception
        ).json()["code"]
        == "patient_merged"
    )
    again = client.post(
        f"{BASE}/{survivor['id']}/merge",
        json={"merge_from_id": loser["id"], "reason": REASON},
        headers=admin,
    )
    assert again.status_code == 409 and again.json()["code"] == "patient_merged"
    assert _audit_rows(db, "patient.merge", survivor["id"])
    assert _audit_rows(db, "patient.merged_away", loser["id"])


def test_merge_chain_resolves_to_the_last_survivor(client, headers_for, register, reception):
    admin = headers_for("admin")
    a, b, c = register(), register(), register()
    assert (
        client.post(
            f"{BASE}/{b['id']}/merge",
            json={"merge_from_id": a["id"], "reason": REASON},
            headers=admin,
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"{BASE}/{c['id']}/merge",
            json={"merge_from_id": b["id"], "reason": REASON},
            headers=admin,
        ).status_code
        == 200
    )
    assert client.get(f"{BASE}/by-mrn/{a['mrn']}", headers=reception).json()["id"] == c["id"]
    assert client.get(f"{BASE}/{a['id']}", headers=reception).json()["merged_into_id"] == c["id"]


def test_merge_refuses_self_unknown_stale_and_wrong_roles(client, headers_for, register):
    admin = headers_for("admin")
    a, b = register(), register()
    url = f"{BASE}/{a['id']}/merge"
    assert (
        client.post(
            url, json={"merge_from_id": a["id"], "reason": REASON}, headers=admin
        ).status_code
        == 422
    )
    assert (
        client.post(
            url, json={"merge_from_id": 999999999, "reason": REASON}, headers=admin
        ).status_code
        == 404
    )
    stale = client.post(
        url, json={"merge_from_id": b["id"], "reason": REASON, "survivor_version": 7}, headers=admin
    )
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    assert (
        client.post(
            url, json={"merge_from_id": b["id"], "reason": REASON}, headers=headers_for("doctor")
        ).status_code
        == 403
    )
    # A merge says why: no reason (or a blank one) is refused before anything moves.
    for body in ({"merge_from_id": b["id"]}, {"merge_from_id": b["id"], "reason": "   "}):
        refused = client.post(url, json=body, headers=admin)
        assert refused.status_code == 422 and refused.json()["code"] == "validation_error"
    assert client.get(f"{BASE}/{b['id']}", headers=admin).json()["merged_into_id"] is None


def test_print_is_audited(client, reception, register, db):
    created = register()
    response = client.post(
        f"{BASE}/{created['id']}/prints", json={"document": "wristband"}, headers=reception
    )
    assert response.status_code == 204
    assert _audit_rows(db, "patient.print", created["id"])[-1].detail == {"document": "wristband"}


def test_names_with_digits_are_still_names(client, reception, register):
    for family in (f"Pt-{uuid.uuid4().hex[:7]}k", f"Test-{uuid.uuid4().int % 10**8:08d}"):
        created = register(family_name=family)
        for q in (family, family.upper(), family[3:]):
            items = client.get(BASE, params={"q": q}, headers=reception).json()["items"]
            assert created["id"] in [p["id"] for p in items], q
