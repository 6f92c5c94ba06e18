"""Prescribing safety rules: allergy–ingredient conflicts, drug–drug interactions and
duplicate therapy. Pure functions over plain descriptions of drugs; the service feeds them
the formulary rows of the new prescription and of the patient's active medications.

Interaction rules name each side either by ingredient (``"warfarin"``) or by therapeutic
class as an ATC prefix (``"class:M01A"`` = NSAIDs), so one rule covers a whole class.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hms_server.domain.errors import ConflictError

SEVERITY_RANK = {"contraindicated": 4, "major": 3, "moderate": 2, "minor": 1}
TYPE_RANK = {"allergy_conflict": 3, "interaction": 2, "duplicate_therapy": 1}
ALLERGY_SEVERITY_TO_CONFLICT = {
    "severe": "contraindicated",
    "moderate": "major",
    "mild": "moderate",
}
ALLERGY_SOURCE = "The patient's recorded allergy (chart), matched by ingredient, class or group"
DUPLICATE_SOURCE = "HMS duplicate-therapy rule: same ingredient, or same ATC level-4 class"


@dataclass(frozen=True)
class DrugInfo:
    """What the rules need to know about one formulary drug."""

    id: int
    generic_name: str
    ingredients: tuple[str, ...]
    atc_code: str | None = None
    therapeutic_class: str | None = None  # ATC level 4 (5 chars), the duplicate-therapy group
    class_name: str | None = None
    allergy_groups: tuple[str, ...] = ()  # e.g. ("penicillins", "beta-lactams")

    def interaction_keys(self) -> set[str]:
        keys = {normalize(i) for i in self.ingredients}
        code = (self.atc_code or self.therapeutic_class or "").upper()
        keys |= {f"class:{code[:n]}" for n in range(3, len(code) + 1)}
        return keys


@dataclass(frozen=True)
class InteractionRule:
    a: str
    b: str
    severity: str
    reason: str
    #: Where the rule comes from (a citation), shown with the conflict it raises.
    source: str | None = None

    def matches(self, x: DrugInfo, y: DrugInfo) -> bool:
        kx, ky = x.interaction_keys(), y.interaction_keys()
        a, b = _rule_key(self.a), _rule_key(self.b)
        return (a in kx and b in ky) or (b in kx and a in ky)


@dataclass(frozen=True)
class AllergyInfo:
    substance: str
    severity: str = "moderate"
    reaction: str | None = None


@dataclass(frozen=True)
class Conflict:
    type: str  # allergy_conflict | interaction | duplicate_therapy
    drug_ids: tuple[int, ...]
    reason: str
    severity: str
    active_drug_ids: tuple[int, ...] = field(default=())
    source: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "type": self.type,
            "drug_ids": list(self.drug_ids),
            "reason": self.reason,
            "severity": self.severity,
            "source": self.source,
        }


class PrescribingConflictError(ConflictError):
    """409 whose ``code`` is the most severe conflict type; all conflicts are listed."""

    code, title = "prescribing_conflict", "Prescribing safety conflict"

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        worst = most_severe(conflicts)
        reasons = "; ".join(c.reason for c in conflicts)
        super().__init__(
            f"Safety check found {len(conflicts)} problem(s): {reasons} "
            "To prescribe anyway, resend with an override_reason.",
            extra={"conflicts": [c.as_dict() for c in conflicts], "override_allowed": True},
        )
        self.code = worst.type
        self.conflicts = list(conflicts)


def normalize(term: str) -> str:
    return re.sub(r"\s+", " ", term.strip().lower())


def _rule_key(side: str) -> str:
    side = side.strip()
    if side.lower().startswith("class:"):
        return "class:" + side[6:].strip().upper()
    return normalize(side)


def _singular(term: str) -> str:
    if term.endswith("ies") and len(term) > 4:
        return term[:-3] + "y"
    if term.endswith("s") and not term.endswith("ss") and len(term) > 3:
        return term[:-1]
    return term


def allergy_matches(substance: str, drug: DrugInfo) -> str | None:
    """The drug term the allergy substance matches (ingredient, name, class or allergy
    group), case-insensitively and ignoring a plural ``s``; None if it does not match."""
    wanted = _singular(normalize(substance))
    if not wanted:
        return None
    terms = [*drug.ingredients, drug.generic_name, *(drug.allergy_groups or ())]
    if drug.class_name:
        terms.append(drug.class_name)
    for term in terms:
        t = normalize(term)
        if _singular(t) == wanted:
            return term
        # "amoxicillin + clavulanic acid" style names: match any whole ingredient word.
        if wanted in {_singular(w) for w in re.split(r"[\s,/+()-]+", t) if w}:
            return term
    return None


def allergy_conflicts(
    drugs: Iterable[DrugInfo], allergies: Iterable[AllergyInfo]
) -> list[Conflict]:
    found: list[Conflict] = []
    allergies = list(allergies)
    for drug in drugs:
        for allergy in allergies:
            term = allergy_matches(allergy.substance, drug)
            if term is None:
                continue
            reaction = f" ({allergy.reaction})" if allergy.reaction else ""
            found.append(
                Conflict(
                    "allergy_conflict",
                    (drug.id,),
                    f"{drug.generic_name} contains or belongs to '{term}', and the patient is "
                    f"allergic to {allergy.substance}{reaction}.",
                    ALLERGY_SEVERITY_TO_CONFLICT.get(allergy.severity, "major"),
                    source=ALLERGY_SOURCE,
                )
            )
    return found


def _pairs(new: Sequence[DrugInfo], active: Sequence[DrugInfo]):  # type: ignore[no-untyped-def]
    for i, x in enumerate(new):
        for y in new[i + 1 :]:
            yield x, y, False
        for y in active:
            yield x, y, True


def interaction_conflicts(
    new: Sequence[DrugInfo], active: Sequence[DrugInfo], rules: Iterable[InteractionRule]
) -> list[Conflict]:
    """Interactions within the new prescription and between it and active medications."""
    rules = list(rules)
    found: list[Conflict] = []
    seen: set[tuple[int, int, str]] = set()
    for x, y, with_active in _pairs(new, active):
        if x.id == y.id:
            continue  # the same drug twice is duplicate therapy, not an interaction
        # The most severe rule that matches speaks for the pair (the first of equals, so
        # the table's order decides: the ONC list's rules come first).
        rule = max(
            (r for r in rules if r.matches(x, y)),
            key=lambda r: SEVERITY_RANK.get(r.severity, 0),
            default=None,
        )
        if rule is None:
            continue
        key = (min(x.id, y.id), max(x.id, y.id), rule.reason)
        if key in seen:
            continue
        seen.add(key)
        where = " (already taking)" if with_active else ""
        found.append(
            Conflict(
                "interaction",
                (x.id, y.id),
                f"{x.generic_name} + {y.generic_name}{where}: {rule.reason}",
                rule.severity,
                (y.id,) if with_active else (),
                source=rule.source,
            )
        )
    return found


def duplicate_conflicts(new: Sequence[DrugInfo], active: Sequence[DrugInfo]) -> list[Conflict]:
    """Same ingredient, or same therapeutic class (ATC level 4), prescribed twice."""
    found: list[Conflict] = []
    for x, y, with_active in _pairs(new, active):
        where = " already active" if with_active else " in the same prescription"
        shared = {normalize(i) for i in x.ingredients} & {normalize(i) for i in y.ingredients}
        if shared:
            found.append(
                Conflict(
                    "duplicate_therapy",
                    (x.id, y.id),
                    f"{x.generic_name} duplicates {y.generic_name}{where} "
                    f"(same ingredient: {', '.join(sorted(shared))}).",
                    "major",
                    (y.id,) if with_active else (),
                    source=DUPLICATE_SOURCE,
                )
            )
        elif x.therapeutic_class and x.therapeutic_class == y.therapeutic_class:
            label = x.class_name or x.therapeutic_class
            found.append(
                Conflict(
                    "duplicate_therapy",
                    (x.id, y.id),
                    f"{x.generic_name} and {y.generic_name}{where} are both {label}.",
                    "moderate",
                    (y.id,) if with_active else (),
                    source=DUPLICATE_SOURCE,
                )
            )
    return found


def check_prescription(
    new: Sequence[DrugInfo],
    active: Sequence[DrugInfo],
    allergies: Iterable[AllergyInfo],
    rules: Iterable[InteractionRule],
) -> list[Conflict]:
    """Every safety conflict of a new prescription, most severe first."""
    conflicts = [
        *allergy_conflicts(new, allergies),
        *interaction_conflicts(new, active, rules),
        *duplicate_conflicts(new, active),
    ]
    return sorted(conflicts, key=_rank, reverse=True)


def _rank(c: Conflict) -> tuple[int, int]:
    return SEVERITY_RANK.get(c.severity, 0), TYPE_RANK.get(c.type, 0)


def most_severe(conflicts: Sequence[Conflict]) -> Conflict:
    return max(conflicts, key=_rank)
