"""Vital-sign plausibility, abnormal flags, BMI and lab flags."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hms_server.domain.clinical import (
    compute_bmi,
    flag_value,
    lab_flag,
    validate_vitals,
    vital_flags,
)
from hms_server.domain.errors import ValidationFailedError


def test_bmi_is_weight_over_height_squared_to_one_decimal():
    assert compute_bmi(Decimal("80"), Decimal("180")) == Decimal("24.7")
    assert compute_bmi(70, 175) == Decimal("22.9")
    assert compute_bmi(None, 180) is None and compute_bmi(80, None) is None


def test_normal_vitals_have_no_flags():
    assert (
        vital_flags(
            {
                "systolic_mmhg": 118,
                "diastolic_mmhg": 76,
                "heart_rate_bpm": 72,
                "respiratory_rate": 14,
                "temperature_c": Decimal("36.8"),
                "spo2_pct": 98,
                "bmi": Decimal("23.1"),
            }
        )
        == {}
    )


@pytest.mark.parametrize(
    ("metric", "value", "flag"),
    [
        ("systolic_mmhg", 150, "H"),
        ("systolic_mmhg", 185, "HH"),
        ("systolic_mmhg", 85, "L"),
        ("heart_rate_bpm", 101, "H"),
        ("heart_rate_bpm", 100, "N"),
        ("heart_rate_bpm", 35, "LL"),
        ("temperature_c", Decimal("38.0"), "H"),
        ("temperature_c", Decimal("40.2"), "HH"),
        ("spo2_pct", 93, "L"),
        ("spo2_pct", 88, "LL"),
        ("respiratory_rate", 32, "HH"),
        ("bmi", Decimal("31.0"), "H"),
        ("bmi", Decimal("17.9"), "L"),
    ],
)
def test_abnormal_values_are_flagged(metric, value, flag):
    assert vital_flags({metric: value}).get(metric, "N") == flag


def test_implausible_values_are_refused_listing_every_field():
    with pytest.raises(ValidationFailedError) as caught:
        validate_vitals({"temperature_c": 370, "heart_rate_bpm": 900, "spo2_pct": 101})
    fields = {e["field"] for e in caught.value.extra["errors"]}
    assert fields == {"temperature_c", "heart_rate_bpm", "spo2_pct"}


def test_blood_pressure_needs_both_values_and_diastolic_below_systolic():
    with pytest.raises(ValidationFailedError):
        validate_vitals({"systolic_mmhg": 120})
    with pytest.raises(ValidationFailedError) as caught:
        validate_vitals({"systolic_mmhg": 80, "diastolic_mmhg": 90})
    assert caught.value.extra["errors"][0]["field"] == "diastolic_mmhg"


def test_empty_vitals_are_refused():
    with pytest.raises(ValidationFailedError):
        validate_vitals({"weight_kg": None})


def test_plausible_edge_values_are_accepted():
    validate_vitals({"systolic_mmhg": 300, "diastolic_mmhg": 200, "weight_kg": Decimal("0.3")})


def test_lab_flags_treat_the_upper_limit_as_normal():
    ranges = {
        "ref_low": Decimal("3.5"),
        "ref_high": Decimal("5.1"),
        "critical_low": Decimal("2.5"),
        "critical_high": Decimal("6.5"),
    }
    assert lab_flag(Decimal("5.1"), **ranges) == "N"
    assert lab_flag(Decimal("5.2"), **ranges) == "H"
    assert lab_flag(Decimal("3.4"), **ranges) == "L"
    assert lab_flag(Decimal("7"), **ranges) == "HH"
    assert lab_flag(Decimal("2.4"), **ranges) == "LL"
    assert lab_flag(10, ref_low=None, ref_high=None) == "N"


def test_flag_value_without_ranges_is_normal():
    assert flag_value(5, low=None, high=None) == "N"
