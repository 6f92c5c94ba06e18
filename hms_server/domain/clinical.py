"""Clinical rules: vital-sign plausibility, abnormal flags, BMI, lab result flags.

Two kinds of limits: *plausible* ranges reject values that cannot be real (a typo such as a
temperature of 370) with 422, while *reference* ranges only flag a real but abnormal value
(``L``/``H``, and ``LL``/``HH`` when critical). Adult reference ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hms_server.domain.errors import ForbiddenError, ValidationFailedError


class CareRelationshipRequiredError(ForbiddenError):
    """The role may see clinical data, but not this patient's: no care relationship."""

    code, title = "care_relationship_required", "Care relationship required"


class BreakGlassReasonError(ValidationFailedError):
    code, title = "reason_required", "Reason required"


@dataclass(frozen=True)
class VitalLimits:
    label: str
    plausible: tuple[float, float]
    low: float | None = None  # below → L
    high: float | None = None  # at or above → H
    critical_low: float | None = None  # below → LL
    critical_high: float | None = None  # at or above → HH


VITAL_LIMITS: dict[str, VitalLimits] = {
    "systolic_mmhg": VitalLimits("systolic blood pressure", (40, 300), 90, 140, 70, 180),
    "diastolic_mmhg": VitalLimits("diastolic blood pressure", (20, 200), 60, 90, 40, 120),
    "heart_rate_bpm": VitalLimits("heart rate", (20, 300), 50, 101, 40, 131),
    "respiratory_rate": VitalLimits("respiratory rate", (4, 80), 12, 21, 8, 30),
    "temperature_c": VitalLimits("temperature", (25, 45), 36.0, 38.0, 35.0, 40.0),
    "spo2_pct": VitalLimits("oxygen saturation", (50, 100), 94, None, 90, None),
    "weight_kg": VitalLimits("weight", (0.3, 500)),
    "height_cm": VitalLimits("height", (20, 260)),
    "bmi": VitalLimits("body mass index", (5, 150), 18.5, 30, None, None),
}

MEASURED_VITALS = tuple(k for k in VITAL_LIMITS if k != "bmi")


def field_error(field: str, message: str, kind: str = "value_error") -> dict[str, str]:
    return {"field": field, "message": message, "type": kind}


def validate_vitals(values: dict[str, Any]) -> None:
    """Raise 422 listing every implausible field; at least one measurement is required."""
    errors: list[dict[str, str]] = []
    present = {k: v for k, v in values.items() if k in MEASURED_VITALS and v is not None}
    if not present:
        errors.append(field_error("body", "Record at least one measurement.", "missing"))
    for name, value in present.items():
        lo, hi = VITAL_LIMITS[name].plausible
        if not lo <= float(value) <= hi:
            errors.append(
                field_error(
                    f"{name}",
                    f"{VITAL_LIMITS[name].label} must be between {lo:g} and {hi:g}.",
                    "out_of_range",
                )
            )
    sys_, dia = present.get("systolic_mmhg"), present.get("diastolic_mmhg")
    if (sys_ is None) != (dia is None):
        errors.append(
            field_error(
                "diastolic_mmhg" if dia is None else "systolic_mmhg",
                "Blood pressure needs both systolic and diastolic values.",
                "missing",
            )
        )
    elif sys_ is not None and dia is not None and float(dia) >= float(sys_):
        errors.append(
            field_error(
                "diastolic_mmhg", "Diastolic pressure must be lower than systolic.", "out_of_range"
            )
        )
    if errors:
        fields = ", ".join(e["field"] for e in errors)
        raise ValidationFailedError(f"Please correct: {fields}.", extra={"errors": errors})


def compute_bmi(
    weight_kg: Decimal | float | None, height_cm: Decimal | float | None
) -> Decimal | None:
    """Body mass index, kg/m², to one decimal; None unless both are known."""
    if weight_kg is None or height_cm is None or Decimal(str(height_cm)) <= 0:
        return None
    metres = Decimal(str(height_cm)) / 100
    return (Decimal(str(weight_kg)) / (metres * metres)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def flag_value(
    value: float | Decimal,
    *,
    low: float | Decimal | None,
    high: float | Decimal | None,
    critical_low: float | Decimal | None = None,
    critical_high: float | Decimal | None = None,
    high_inclusive: bool = True,
) -> str:
    """``LL``/``L``/``N``/``H``/``HH`` for a value against its ranges."""
    v = float(value)
    if critical_low is not None and v < float(critical_low):
        return "LL"
    if critical_high is not None and v >= float(critical_high):
        return "HH"
    if low is not None and v < float(low):
        return "L"
    if high is not None and (v >= float(high) if high_inclusive else v > float(high)):
        return "H"
    return "N"


def vital_flags(values: dict[str, Any]) -> dict[str, str]:
    """Abnormal flags for the recorded vitals (normal values are left out)."""
    flags: dict[str, str] = {}
    for name, value in values.items():
        limits = VITAL_LIMITS.get(name)
        if limits is None or value is None:
            continue
        flag = flag_value(
            value,
            low=limits.low,
            high=limits.high,
            critical_low=limits.critical_low,
            critical_high=limits.critical_high,
        )
        if flag != "N":
            flags[name] = flag
    return flags


def lab_flag(
    value: Decimal | float,
    *,
    ref_low: Decimal | None,
    ref_high: Decimal | None,
    critical_low: Decimal | None = None,
    critical_high: Decimal | None = None,
) -> str:
    """Flag a numeric lab value: the upper reference limit itself is still normal."""
    v = float(value)
    if critical_low is not None and v < float(critical_low):
        return "LL"
    if critical_high is not None and v > float(critical_high):
        return "HH"
    return flag_value(value, low=ref_low, high=ref_high, high_inclusive=False)
