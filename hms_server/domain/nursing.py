"""Nursing scores and shifts: NEWS2, the Morse fall scale, the Braden scale.

Published scoring rules, as pure functions, so the server computes every score (the desktop
never does) and a test can check each band boundary:

- NEWS2: Royal College of Physicians, *National Early Warning Score 2* (2017), SpO2 scale 1.
- Morse Fall Scale: Morse, Morse & Tylko (1989).
- Braden Scale for Predicting Pressure Sore Risk: Bergstrom & Braden (1987).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hms_server.domain.errors import ValidationFailedError

ASSESSMENT_KINDS = ("news2", "morse_falls", "braden")
CONSCIOUSNESS = ("alert", "confusion", "voice", "pain", "unresponsive")
FLUID_KINDS = ("intake", "output")
INTAKE_ROUTES = ("oral", "intravenous", "enteral", "other")
OUTPUT_ROUTES = ("urine", "drain", "vomit", "stool", "nasogastric", "other")
TASK_KINDS = ("turn", "dressing", "observation", "hygiene", "mobilise", "catheter", "other")
TASK_STATUSES = ("open", "done", "cancelled")


class AssessmentInputError(ValidationFailedError):
    code, title = "assessment_input", "Assessment answers invalid"


@dataclass(frozen=True)
class Score:
    """A computed score: total, risk band, the points of each part, and (for NEWS2) how
    often observations are due."""

    kind: str
    total: int
    risk: str
    parts: dict[str, int] = field(default_factory=dict)
    observe_every_minutes: int | None = None
    complete: bool = True


def _band(value: float, bands: list[tuple[float, int]], top: int) -> int:
    """Points for ``value``: the first ``(upper_inclusive, points)`` whose bound it is under."""
    for upper, points in bands:
        if value <= upper:
            return points
    return top


def news2(
    *,
    respiratory_rate: int | None,
    spo2_pct: int | None,
    on_oxygen: bool | None,
    systolic_mmhg: int | None,
    heart_rate_bpm: int | None,
    consciousness: str | None,
    temperature_c: Decimal | float | None,
) -> Score:
    """NEWS2 with SpO2 scale 1. Missing parameters score 0 and mark the score incomplete
    (the bed board shows it as partial rather than hiding a high part-score)."""
    parts: dict[str, int] = {}
    if respiratory_rate is not None:
        parts["respiratory_rate"] = _band(respiratory_rate, [(8, 3), (11, 1), (20, 0), (24, 2)], 3)
    if spo2_pct is not None:
        parts["spo2"] = _band(spo2_pct, [(91, 3), (93, 2), (95, 1)], 0)
    if on_oxygen is not None:
        parts["air_or_oxygen"] = 2 if on_oxygen else 0
    if systolic_mmhg is not None:
        parts["systolic"] = _band(systolic_mmhg, [(90, 3), (100, 2), (110, 1), (219, 0)], 3)
    if heart_rate_bpm is not None:
        parts["pulse"] = _band(heart_rate_bpm, [(40, 3), (50, 1), (90, 0), (110, 1), (130, 2)], 3)
    if consciousness is not None:
        if consciousness not in CONSCIOUSNESS:
            raise AssessmentInputError(f"Consciousness is one of {', '.join(CONSCIOUSNESS)}.")
        parts["consciousness"] = 0 if consciousness == "alert" else 3
    if temperature_c is not None:
        parts["temperature"] = _band(
            float(temperature_c), [(35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1)], 2
        )
    total = sum(parts.values())
    if total >= 7:
        risk, every = "high", 15
    elif total >= 5:
        risk, every = "medium", 60
    elif any(p == 3 for p in parts.values()):
        risk, every = "low_medium", 60
    elif total >= 1:
        risk, every = "low", 4 * 60
    else:
        risk, every = "low", 12 * 60
    return Score("news2", total, risk, parts, every, complete=len(parts) == 7)


_MORSE: dict[str, dict[str, int]] = {
    "history_of_falling": {"no": 0, "yes": 25},
    "secondary_diagnosis": {"no": 0, "yes": 15},
    "ambulatory_aid": {
        "none": 0,
        "bed_rest": 0,
        "nurse_assist": 0,
        "crutches_cane_walker": 15,
        "furniture": 30,
    },
    "iv_or_heparin_lock": {"no": 0, "yes": 20},
    "gait": {"normal": 0, "bed_rest": 0, "wheelchair": 0, "weak": 10, "impaired": 20},
    "mental_status": {"oriented": 0, "forgets_limitations": 15},
}

_BRADEN: dict[str, tuple[int, int]] = {
    "sensory_perception": (1, 4),
    "moisture": (1, 4),
    "activity": (1, 4),
    "mobility": (1, 4),
    "nutrition": (1, 4),
    "friction_shear": (1, 3),
}


def _unknown_keys(answers: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(answers) - allowed)
    missing = sorted(allowed - set(answers))
    if extra or missing:
        errors = [
            {"field": f"answers.{k}", "type": "missing", "message": "required"} for k in missing
        ]
        errors += [
            {
                "field": f"answers.{k}",
                "type": "extra_forbidden",
                "message": "not part of this assessment",
            }
            for k in extra
        ]
        raise AssessmentInputError(
            "Answer every item of the assessment, and only those.", extra={"errors": errors}
        )


def morse_falls(answers: Mapping[str, Any]) -> Score:
    _unknown_keys(answers, set(_MORSE))
    parts: dict[str, int] = {}
    for item, options in _MORSE.items():
        value = answers[item]
        if value not in options:
            raise AssessmentInputError(
                f"{item}: choose one of {', '.join(options)}.",
                extra={
                    "errors": [
                        {
                            "field": f"answers.{item}",
                            "type": "enum",
                            "message": f"one of {', '.join(options)}",
                        }
                    ]
                },
            )
        parts[item] = options[value]
    total = sum(parts.values())
    risk = "high" if total >= 45 else "moderate" if total >= 25 else "low"
    return Score("morse_falls", total, risk, parts)


def braden(answers: Mapping[str, Any]) -> Score:
    _unknown_keys(answers, set(_BRADEN))
    parts: dict[str, int] = {}
    for item, (low, high) in _BRADEN.items():
        value = answers[item]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise AssessmentInputError(
                f"{item}: a whole number from {low} to {high}.",
                extra={
                    "errors": [
                        {
                            "field": f"answers.{item}",
                            "type": "out_of_range",
                            "message": f"{low}..{high}",
                        }
                    ]
                },
            )
        parts[item] = value
    total = sum(parts.values())
    if total <= 9:
        risk = "very_high"
    elif total <= 12:
        risk = "high"
    elif total <= 14:
        risk = "moderate"
    elif total <= 18:
        risk = "mild"
    else:
        risk = "none"
    return Score("braden", total, risk, parts)


# --- shifts -------------------------------------------------------------------------------------

SHIFTS: tuple[tuple[str, time, time], ...] = (
    ("early", time(7), time(15)),
    ("late", time(15), time(23)),
    ("night", time(23), time(7)),
)
SHIFT_NAMES = tuple(name for name, _, _ in SHIFTS)


def shift_bounds(day: date, name: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``[start, end)`` of a shift that *starts* on local ``day`` (the night shift ends the
    next morning). Wall-clock bounds, so a night shift over a DST change is 7 or 9 hours."""
    for shift, begins, ends in SHIFTS:
        if shift == name:
            end_day = day + timedelta(days=1) if ends <= begins else day
            return (datetime.combine(day, begins, zone), datetime.combine(end_day, ends, zone))
    raise ValueError(f"unknown shift {name!r}")


def shift_at(at: datetime, zone: ZoneInfo) -> tuple[date, str]:
    """The shift (its start day and name) that ``at`` falls in."""
    local = at.astimezone(zone)
    clock = local.time()
    if time(7) <= clock < time(15):
        return local.date(), "early"
    if time(15) <= clock < time(23):
        return local.date(), "late"
    return (local.date() if clock >= time(23) else local.date() - timedelta(days=1)), "night"
