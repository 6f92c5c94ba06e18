"""Prescribing safety rules as pure functions: allergy, interaction, duplicate therapy."""

from __future__ import annotations

import json

import pytest

from hms_server.domain.errors import ConflictError
from hms_server.domain.prescribing import (
    AllergyInfo,
    DrugInfo,
    InteractionRule,
    PrescribingConflictError,
    allergy_conflicts,
    allergy_matches,
    check_prescription,
    duplicate_conflicts,
    interaction_conflicts,
    most_severe,
)
from hms_server.resources import reference_data_dir

DATA = reference_data_dir()  # resources/reference-data

AMOXICILLIN = DrugInfo(
    1,
    "Amoxicillin",
    ("amoxicillin",),
    "J01CA04",
    "J01CA",
    "Penicillins with extended spectrum",
    ("penicillins", "beta-lactams"),
)
CO_AMOXICLAV = DrugInfo(
    2,
    "Amoxicillin + clavulanic acid",
    ("amoxicillin", "clavulanic acid"),
    "J01CR02",
    "J01CR",
    "Penicillins with beta-lactamase inhibitors",
    ("penicillins",),
)
WARFARIN = DrugInfo(3, "Warfarin", ("warfarin",), "B01AA03", "B01AA", "Vitamin K antagonists")
IBUPROFEN = DrugInfo(4, "Ibuprofen", ("ibuprofen",), "M01AE01", "M01AE", "NSAIDs", ("nsaids",))
NAPROXEN = DrugInfo(5, "Naproxen", ("naproxen",), "M01AE02", "M01AE", "NSAIDs", ("nsaids",))
SILDENAFIL = DrugInfo(6, "Sildenafil", ("sildenafil",), "G04BE03", "G04BE", "PDE5 inhibitors")
GTN = DrugInfo(
    7, "Glyceryl trinitrate", ("glyceryl trinitrate",), "C01DA02", "C01DA", "Organic nitrates"
)
PARACETAMOL = DrugInfo(8, "Paracetamol", ("paracetamol",), "N02BE01", "N02BE", "Anilides")
AZITHROMYCIN = DrugInfo(9, "Azithromycin", ("azithromycin",), "J01FA10", "J01FA", "Macrolides")

RULES = [
    InteractionRule("warfarin", "class:M01A", "major", "bleeding"),
    InteractionRule("class:G04BE", "class:C01DA", "contraindicated", "hypotension"),
]


@pytest.mark.parametrize(
    "substance", ["penicillin", "Penicillins", "  PENICILLIN ", "amoxicillin", "Beta-lactams"]
)
def test_penicillin_allergy_matches_amoxicillin_by_ingredient_or_class(substance):
    assert allergy_matches(substance, AMOXICILLIN) is not None


def test_allergy_matches_an_ingredient_of_a_combination_product():
    assert allergy_matches("clavulanic acid", CO_AMOXICLAV) == "clavulanic acid"


@pytest.mark.parametrize("substance", ["peanut", "iron", "cillin", "", "aspirin"])
def test_unrelated_allergy_does_not_match(substance):
    assert allergy_matches(substance, AMOXICILLIN) is None


def test_allergy_conflict_severity_follows_the_allergy():
    severe = allergy_conflicts([AMOXICILLIN], [AllergyInfo("penicillin", "severe", "anaphylaxis")])
    mild = allergy_conflicts([AMOXICILLIN], [AllergyInfo("penicillin", "mild")])
    assert severe[0].severity == "contraindicated" and "anaphylaxis" in severe[0].reason
    assert mild[0].severity == "moderate"
    assert severe[0].type == "allergy_conflict" and severe[0].drug_ids == (1,)


def test_class_interaction_is_found_within_a_new_prescription():
    found = interaction_conflicts([WARFARIN, IBUPROFEN], [], RULES)
    assert [(c.type, set(c.drug_ids), c.severity) for c in found] == [
        ("interaction", {3, 4}, "major")
    ]


def test_interaction_is_found_against_active_medication_in_either_order():
    assert interaction_conflicts([IBUPROFEN], [WARFARIN], RULES)
    assert interaction_conflicts([GTN], [SILDENAFIL], RULES)[0].severity == "contraindicated"


def test_active_medications_are_not_checked_against_each_other():
    assert interaction_conflicts([PARACETAMOL], [WARFARIN, IBUPROFEN], RULES) == []


def test_duplicate_therapy_same_ingredient_and_same_class():
    same_ingredient = duplicate_conflicts([CO_AMOXICLAV], [AMOXICILLIN])
    assert same_ingredient[0].severity == "major" and "amoxicillin" in same_ingredient[0].reason
    same_class = duplicate_conflicts([IBUPROFEN, NAPROXEN], [])
    assert same_class[0].severity == "moderate" and set(same_class[0].drug_ids) == {4, 5}
    assert duplicate_conflicts([PARACETAMOL, AZITHROMYCIN], [IBUPROFEN]) == []


def test_check_prescription_sorts_most_severe_first_and_error_picks_its_type():
    conflicts = check_prescription(
        [WARFARIN, IBUPROFEN, NAPROXEN], [], [AllergyInfo("naproxen", "mild")], RULES
    )
    kinds = {c.type for c in conflicts}
    assert kinds == {"interaction", "duplicate_therapy", "allergy_conflict"}
    assert conflicts[0] == most_severe(conflicts)
    error = PrescribingConflictError(conflicts)
    assert error.code == conflicts[0].type == "interaction"  # major beats moderate
    assert isinstance(error, ConflictError)  # answered as 409
    assert {c["type"] for c in error.extra["conflicts"]} == kinds


def test_severity_ties_prefer_allergy_over_interaction():
    conflicts = check_prescription(
        [WARFARIN, IBUPROFEN], [], [AllergyInfo("ibuprofen", "moderate")], RULES
    )
    assert PrescribingConflictError(conflicts).code == "allergy_conflict"


def test_clean_prescription_has_no_conflicts():
    assert check_prescription([PARACETAMOL], [AZITHROMYCIN], [AllergyInfo("peanut")], RULES) == []


def test_shipped_interaction_table_names_only_formulary_drugs_and_classes():
    drugs = json.loads((DATA / "formulary.json").read_text())
    rules = json.loads((DATA / "drug_interactions.json").read_text())
    assert len(drugs) >= 150 and len(rules) >= 50
    ingredients = {i.lower() for d in drugs for i in d["ingredients"]}
    atc = [d["atc"] for d in drugs if d.get("atc")]
    for rule in rules:
        assert rule["severity"] in {"contraindicated", "major", "moderate", "minor"}
        assert rule["reason"]
        for side in (rule["a"], rule["b"]):
            if side.startswith("class:"):
                assert any(a.startswith(side[6:]) for a in atc), side
            else:
                assert side in ingredients, side


@pytest.mark.parametrize(
    "pair",
    [
        ("warfarin", "ibuprofen"),
        ("methotrexate", "trimethoprim"),
        ("simvastatin", "clarithromycin"),
        ("sildenafil", "isosorbide mononitrate"),
        ("phenelzine", "sertraline"),
    ],
)
def test_shipped_table_flags_the_classic_high_priority_pairs(pair):
    drugs = {
        d["generic_name"].lower(): d for d in json.loads((DATA / "formulary.json").read_text())
    }
    rules = [
        InteractionRule(r["a"], r["b"], r["severity"], r["reason"])
        for r in json.loads((DATA / "drug_interactions.json").read_text())
    ]

    def info(n: int, name: str) -> DrugInfo:
        d = drugs[name]
        return DrugInfo(n, d["generic_name"], tuple(d["ingredients"]), d["atc"], d["atc"][:5])

    found = interaction_conflicts([info(1, pair[0])], [info(2, pair[1])], rules)
    assert found and found[0].severity in {"contraindicated", "major"}
