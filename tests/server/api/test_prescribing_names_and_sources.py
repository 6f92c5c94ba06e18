"""Prescribing through the API, first-day fixes: drugs are found by their other common names
and brand names, each interaction names its source, and a prescription carries the
prescriber's registration number and the encounter it was written in."""

from __future__ import annotations

import pytest

from tests.server.api.clinical_factories import (
    book_with,
    drug_id,
    new_clinician,
    new_patient,
    open_encounter,
    rx_item,
)


@pytest.mark.parametrize(
    "typed,generic",
    [
        ("aspirin", "Acetylsalicylic acid"),
        ("acetaminophen", "Paracetamol"),
        ("meperidine", "Pethidine"),
        ("rifampin", "Rifampicin"),
        ("adrenaline", "Epinephrine"),
        ("albuterol", "Salbutamol"),
        ("Panadol", "Paracetamol"),
        ("Reyataz", "Atazanavir"),
        ("dextroamphetamine", "Dexamfetamine"),
    ],
)
def test_drugs_are_found_by_their_other_names_and_brands(client, headers_for, typed, generic):
    found = client.get(
        "/api/v1/formulary", params={"q": typed}, headers=headers_for("doctor")
    ).json()
    assert found["total"] >= 1
    first = found["items"][0]
    assert first["generic_name"].startswith(generic)
    assert typed.lower() in [n.lower() for n in first["synonyms"] + first["brand_names"]]


def test_a_search_for_a_wildcard_matches_it_literally(client, headers_for):
    # As a LIKE pattern "ox%n" would match oxytocin; typed, it is just text nothing has.
    assert (
        client.get("/api/v1/formulary", params={"q": "ox%n"}, headers=headers_for("doctor")).json()[
            "total"
        ]
        == 0
    )


def test_interactions_name_their_source(client, make_user, login, headers_for):
    doctor = new_clinician(client, make_user, login)
    patient = new_patient(client, headers_for)["id"]
    book_with(client, headers_for, doctor, patient)  # the doctor's patient
    open_encounter(client, doctor, patient)
    drugs = [drug_id(client, doctor.headers, n) for n in ("simvastatin", "clarithromycin")]
    check = client.post(
        "/api/v1/prescriptions/check",
        headers=doctor.headers,
        json={"patient_id": patient, "drug_ids": drugs},
    )
    assert check.status_code == 200, check.text
    [conflict] = [c for c in check.json()["conflicts"] if c["type"] == "interaction"]
    assert conflict["severity"] == "contraindicated"
    assert "Phansalkar" in conflict["source"] and "HMG-CoA" in conflict["source"]
    refused = client.post(
        "/api/v1/prescriptions",
        headers=doctor.headers,
        json={"patient_id": patient, "items": [rx_item(d) for d in drugs]},
    )
    assert refused.status_code == 409
    assert any("Phansalkar" in (c["source"] or "") for c in refused.json()["conflicts"])


def test_a_prescription_carries_the_registration_number_and_the_encounter(
    client, make_user, login, headers_for
):
    doctor = new_clinician(client, make_user, login)
    patient = new_patient(client, headers_for)["id"]
    book_with(client, headers_for, doctor, patient)  # makes them a bookable doctor too
    admin = headers_for("admin")
    version = client.get(f"/api/v1/doctors/{doctor.doctor_id}", headers=admin).json()["version"]
    registered = client.patch(
        f"/api/v1/doctors/{doctor.doctor_id}",
        headers=admin,
        json={"version": version, "registration_number": "GMC 7012345"},
    )
    assert registered.status_code == 200, registered.text
    assert registered.json()["registration_number"] == "GMC 7012345"
    encounter = open_encounter(client, doctor, patient, reason="Cough for two weeks")
    created = client.post(
        "/api/v1/prescriptions",
        headers=doctor.headers,
        json={
            "patient_id": patient,
            "encounter_id": encounter["id"],
            "items": [rx_item(drug_id(client, doctor.headers, "paracetamol"))],
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["prescriber_registration"] == "GMC 7012345"
    assert body["encounter"]["id"] == encounter["id"]
    assert body["encounter"]["reason"] == "Cough for two weeks"
    assert body["encounter"]["kind"] == "outpatient"
