"""FHIR R4 API: CapabilityStatement, Patient read/search, errors; all validated with the
``fhir.resources`` R4B models."""

from __future__ import annotations

import uuid

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from sqlalchemy import select

from hms_server.adapters.orm.infra import AuditEntry
from hms_server.fhir import registry

FHIR_JSON = "application/fhir+json"

REASON = "Same person registered twice"


def _uniq(prefix: str) -> str:
    return prefix + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])


@pytest.fixture
def reader(headers_for):
    return headers_for("doctor")


@pytest.fixture
def patient(client, headers_for):
    body = {
        "given_name": "Zoë Marie",
        "family_name": _uniq("Ångström").title(),
        "date_of_birth": "1977-06-15",
        "sex": "female",
        "phone": f"+46 8 {uuid.uuid4().int % 10**7:07d}",
        "email": "zoe@example.se",
        "national_id": "SE" + uuid.uuid4().hex[:8].upper(),
        "preferred_language": "sv",
        "address": {
            "line": ["Drottninggatan 1"],
            "city": "Stockholm",
            "postal_code": "111 51",
            "country": "SE",
        },
        "next_of_kin": [
            {"name": "Erik Ångström", "relationship": "brother", "phone": "+46 70 123 4567"}
        ],
    }
    response = client.post("/api/v1/patients", json=body, headers=headers_for("receptionist"))
    assert response.status_code == 201, response.text
    return response.json()


def test_metadata_is_public_and_lists_patient(client):
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FHIR_JSON)
    statement = CapabilityStatement.model_validate(response.json())
    assert statement.fhirVersion == "4.0.1"
    resources = {r.type: r for r in statement.rest[0].resource}
    assert "Patient" in resources
    params = {p.name for p in resources["Patient"].searchParam}
    assert {"name", "birthdate", "identifier"} <= params


def test_capability_statement_follows_the_registry():
    assert set(registry.resource_types()) >= {"Patient"}
    statement = registry.capability_statement("http://x/fhir", "1")
    types = [r["type"] for r in statement["rest"][0]["resource"]]
    assert types == sorted(registry.resource_types())


def test_read_patient_validates_and_maps_fields(client, reader, patient, db):
    response = client.get(f"/fhir/Patient/{patient['id']}", headers=reader)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FHIR_JSON)
    resource = FhirPatient.model_validate(response.json())
    assert resource.id == str(patient["id"])
    assert resource.gender == "female"
    assert str(resource.birthDate) == "1977-06-15"
    mrn = next(i for i in resource.identifier if i.system == "urn:hms:mrn")
    assert mrn.value == patient["mrn"]
    assert any(i.system == "urn:hms:national-id" for i in resource.identifier)
    assert resource.name[0].family == patient["family_name"]
    assert resource.name[0].given == ["Zoë", "Marie"]
    assert {t.system for t in resource.telecom} == {"phone", "email"}
    assert resource.address[0].postalCode == "111 51"
    assert resource.communication[0].language.coding[0].code == "sv"
    assert resource.contact[0].name.text == "Erik Ångström"
    assert resource.meta.versionId == "1"
    with db.owner_session_factory()() as session:
        assert session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.action == "patient.read", AuditEntry.patient_id == patient["id"]
            )
        )


def _bundle(client, headers, **params):
    response = client.get("/fhir/Patient", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "searchset"
    for entry in bundle.entry or []:
        FhirPatient.model_validate(entry.resource.model_dump())
        assert entry.fullUrl.endswith(f"/fhir/Patient/{entry.resource.id}")
    return bundle


def _ids(bundle):
    return [e.resource.id for e in bundle.entry or []]


def test_search_by_name_birthdate_and_identifier(client, reader, patient):
    pid = str(patient["id"])
    family = patient["family_name"]
    folded = family.lower().replace("å", "a").replace("ö", "o")
    assert pid in _ids(_bundle(client, reader, name=family))
    assert pid in _ids(_bundle(client, reader, name=folded[:5]))  # start of a word
    assert pid in _ids(_bundle(client, reader, name="zoe", birthdate="1977-06-15"))
    assert pid not in _ids(_bundle(client, reader, name=family, birthdate="1977-06-16"))
    assert pid in _ids(_bundle(client, reader, name=family, birthdate="1977"))
    assert pid in _ids(_bundle(client, reader, name=family, birthdate="ge1977-06"))
    assert pid not in _ids(_bundle(client, reader, name=family, birthdate="lt1977-06-15"))
    assert pid in _ids(_bundle(client, reader, **{"name:contains": folded[3:9]}))
    by_mrn = _bundle(client, reader, identifier=f"urn:hms:mrn|{patient['mrn']}")
    assert _ids(by_mrn) == [pid] and by_mrn.total == 1
    assert _ids(_bundle(client, reader, identifier=patient["mrn"])) == [pid]
    assert _ids(
        _bundle(client, reader, identifier=f"urn:hms:national-id|{patient['national_id']}")
    ) == [pid]
    assert _bundle(client, reader, identifier=f"urn:other|{patient['mrn']}").total == 0
    assert pid in _ids(_bundle(client, reader, family=family[:4], gender="female"))
    assert pid not in _ids(_bundle(client, reader, family=family[:4], gender="male"))


def test_search_pages_with_total_and_next_link(client, reader, headers_for):
    family = _uniq("Page").title()
    for given in ("Ada", "Bo", "Cy"):
        response = client.post(
            "/api/v1/patients",
            headers=headers_for("receptionist"),
            json={
                "given_name": given,
                "family_name": family,
                "date_of_birth": "2001-02-03",
                "sex": "unknown",
                "confirm_new": True,
            },
        )
        assert response.status_code == 201
    first = _bundle(client, reader, family=family, _count=2)
    assert first.total == 3 and len(first.entry) == 2
    nxt = next(link.url for link in first.link if link.relation == "next")
    second = client.get(nxt[nxt.index("/fhir") :], headers=reader).json()
    assert len(second["entry"]) == 1 and second["total"] == 3
    assert not any(link["relation"] == "next" for link in second["link"])


def test_merged_patient_links_both_ways(client, reader, headers_for, patient):
    other = client.post(
        "/api/v1/patients",
        headers=headers_for("receptionist"),
        json={
            "given_name": "Dup",
            "family_name": _uniq("Dup"),
            "date_of_birth": "1999-09-09",
            "sex": "male",
        },
    ).json()
    merged = client.post(
        f"/api/v1/patients/{patient['id']}/merge",
        json={"merge_from_id": other["id"], "reason": REASON},
        headers=headers_for("admin"),
    )
    assert merged.status_code == 200
    loser = FhirPatient.model_validate(
        client.get(f"/fhir/Patient/{other['id']}", headers=reader).json()
    )
    assert loser.active is False
    assert loser.link[0].type == "replaced-by"
    assert loser.link[0].other.reference == f"Patient/{patient['id']}"
    survivor = FhirPatient.model_validate(
        client.get(f"/fhir/Patient/{patient['id']}", headers=reader).json()
    )
    assert [(link.type, link.other.reference) for link in survivor.link] == [
        ("replaces", f"Patient/{other['id']}")
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/Patient/999999999",
        "/fhir/Patient/abc",
        "/fhir/Patient/1.2.3",
        "/fhir/Unicorn/1",
        "/fhir/Unicorn",
    ],
)
def test_unknown_is_404_operation_outcome(client, reader, path):
    response = client.get(path, headers=reader)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(FHIR_JSON)
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].severity == "error"


@pytest.mark.parametrize(
    "params",
    [
        {"birthdate": "yesterday"},
        {"birthdate": "1999-13-01"},
        {"_count": "many"},
        {"gender": "robot"},
        {"name:contains": "ab"},
    ],
)
def test_bad_search_is_400_operation_outcome(client, reader, params):
    response = client.get("/fhir/Patient", params=params, headers=reader)
    assert response.status_code == 400
    OperationOutcome.model_validate(response.json())


def test_unknown_parameters_are_ignored(client, reader, patient):
    bundle = _bundle(client, reader, identifier=patient["mrn"], _elements="id", foo="bar")
    assert bundle.total == 1
    assert "foo" not in bundle.link[0].url


def test_fhir_needs_a_token_and_a_patient_reading_role(client, headers_for, patient):
    assert client.get(f"/fhir/Patient/{patient['id']}").status_code == 401
    assert client.get("/fhir/Patient", headers=headers_for("hr_officer")).status_code == 403
    assert (
        client.get(
            f"/fhir/Patient/{patient['id']}", headers=headers_for("billing_clerk")
        ).status_code
        == 200
    )


def test_registry_permission_is_checked_per_resource_type(client, headers_for):
    def _nothing(ctx, params):
        return []

    registry.register(
        registry.ResourceType(
            name="Flag",
            read=lambda ctx, rid: None,
            search=_nothing,
            permission=registry.Perm.CLINICAL_READ,
        )
    )
    try:
        refused = client.get("/fhir/Flag", headers=headers_for("receptionist"))
        assert refused.status_code == 403
        OperationOutcome.model_validate(refused.json())
        allowed = client.get("/fhir/Flag", headers=headers_for("nurse"))
        assert allowed.status_code == 200 and allowed.json()["total"] == 0
    finally:
        registry._REGISTRY.pop("Flag")
