"""The shipped formulary and interaction table cover the ONC-sponsored high-priority
drug–drug interaction list (Phansalkar et al., JAMIA 2012): every member drug is in the
formulary, and every pair raises a contraindicated interaction that cites the paper — through
the same rule matching the prescribing check uses. Every rule records its source."""

from __future__ import annotations

import json
from itertools import count

import pytest

from hms_server.domain.prescribing import DrugInfo, InteractionRule, interaction_conflicts
from hms_server.resources import reference_data_dir

DATA = reference_data_dir()
ONC = json.loads((DATA / "onc_high_priority_interactions.json").read_text())
FORMULARY = json.loads((DATA / "formulary.json").read_text())
RULES = [
    InteractionRule(r["a"], r["b"], r["severity"], r["reason"], r.get("source"))
    for r in json.loads((DATA / "drug_interactions.json").read_text())
]
CITATION = "Phansalkar et al., JAMIA 2012"


def onc_pairs() -> list[tuple[str, str, str]]:
    pairs = []
    for item in ONC["interactions"]:
        objects = item["object"]
        others = objects if item["precipitant"] == "same as object" else item["precipitant"]
        pairs += [(item["name"], a, b) for a in objects for b in others if a != b]
    return pairs


def product(ingredient: str, ids=count(1)) -> DrugInfo:
    """A formulary product of ``ingredient`` as the check sees it: the single-ingredient one,
    or (lopinavir) the co-formulation it only comes in."""
    entry = next((d for d in FORMULARY if d["ingredients"] == [ingredient]), None) or next(
        d for d in FORMULARY if ingredient in d["ingredients"]
    )
    atc = entry.get("atc")
    return DrugInfo(
        next(ids),
        entry["generic_name"],
        tuple(entry["ingredients"]),
        atc,
        atc[:5] if atc else None,
        entry.get("class_name"),
    )


def test_the_list_has_its_fifteen_interactions_with_a_citation():
    assert len(ONC["interactions"]) == 15
    assert "Phansalkar" in ONC["source"] and "2012" in ONC["source"]
    # The drugs the first-day trial found missing.
    members = {
        d
        for item in ONC["interactions"]
        for side in ("object", "precipitant")
        if isinstance(item[side], list)
        for d in item[side]
    }
    assert {"febuxostat", "irinotecan", "procarbazine", "dexamfetamine"} <= members


def test_every_drug_of_the_list_is_in_the_formulary():
    stocked = {i for d in FORMULARY for i in d["ingredients"]}
    singles = {d["ingredients"][0] for d in FORMULARY if len(d["ingredients"]) == 1}
    members = {m for _name, a, b in onc_pairs() for m in (a, b)}
    assert sorted(members - stocked) == []
    # Only lopinavir comes solely co-formulated (with ritonavir), as it does in practice.
    assert sorted(members - singles) == ["lopinavir"]


@pytest.mark.parametrize("name,a,b", onc_pairs(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_pair_of_the_list_is_a_contraindicated_interaction_citing_its_source(name, a, b):
    found = interaction_conflicts([product(a)], [product(b)], RULES)
    assert found, f"{a} + {b} ({name}) raises no interaction"
    assert found[0].severity == "contraindicated"
    assert found[0].source and CITATION in found[0].source and name in found[0].source


def test_every_rule_records_where_it_comes_from():
    assert all(rule.source and len(rule.source) <= 300 for rule in RULES)
    starter = [r for r in RULES if CITATION not in (r.source or "")]
    assert starter and all("not from the ONC list" in (r.source or "") for r in starter)


def test_a_less_severe_rule_never_hides_a_contraindication():
    warfarin_like = DrugInfo(1, "Simvastatin", ("simvastatin",), "C10AA01", "C10AA")
    macrolide = DrugInfo(2, "Clarithromycin", ("clarithromycin",), "J01FA09", "J01FA")
    mild = InteractionRule("simvastatin", "clarithromycin", "moderate", "mild", "x")
    strict = InteractionRule("simvastatin", "clarithromycin", "contraindicated", "strict", "y")
    [conflict] = interaction_conflicts([warfarin_like], [macrolide], [mild, strict])
    assert (conflict.severity, conflict.source) == ("contraindicated", "y")
