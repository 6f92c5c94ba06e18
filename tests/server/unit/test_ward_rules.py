"""Ward rules without I/O: dose schedules across daylight-saving changes, frequencies,
strengths and routes, bed-day midnights, NEWS2 / Morse / Braden bands, shifts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from hms_server.domain import mar
from hms_server.domain.nursing import (
    AssessmentInputError,
    braden,
    morse_falls,
    news2,
    shift_at,
    shift_bounds,
)
from hms_server.domain.wards import (
    BedBeingCleanedError,
    BedBlockedError,
    BedGenderPolicyError,
    BedOccupiedError,
    check_bed_accepts,
    length_of_stay_days,
    occupied_midnights,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def _local(instants, zone):
    return [i.astimezone(zone).strftime("%Y-%m-%d %H:%M") for i in instants]


# --- dose schedules -------------------------------------------------------------------------


def test_every_8_hours_is_06_14_22_local():
    freq = mar.parse_frequency("every 8 hours")
    assert freq.times == (time(6), time(14), time(22))


def test_spring_forward_day_keeps_wall_clock_times():
    # 29 March 2026: London clocks go 01:00 GMT -> 02:00 BST.
    freq = mar.parse_frequency("every 8 hours")
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    doses = mar.dose_times(freq, start, start + timedelta(days=1), LONDON)
    assert _local(doses, LONDON) == ["2026-03-29 06:00", "2026-03-29 14:00", "2026-03-29 22:00"]
    # 06:00 BST is 05:00 UTC; the night before, 22:00 GMT was 22:00 UTC: 7 h, not 8.
    assert [d.hour for d in doses] == [5, 13, 21]


def test_fall_back_day_keeps_wall_clock_times():
    # 25 October 2026: London clocks go 02:00 BST -> 01:00 GMT (a 25-hour day).
    freq = mar.parse_frequency("every 8 hours")
    start = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)  # 00:00 BST on the 25th
    doses = mar.dose_times(freq, start, start + timedelta(hours=25), LONDON)
    assert _local(doses, LONDON) == ["2026-10-25 06:00", "2026-10-25 14:00", "2026-10-25 22:00"]
    assert [d.hour for d in doses] == [6, 14, 22]  # GMT = UTC again


def test_hourly_doses_over_the_gap_and_the_repeated_hour_are_not_duplicated():
    freq = mar.parse_frequency("every 1 hour")
    spring = mar.dose_times(
        freq,
        datetime(2026, 3, 8, 5, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 4, 0, tzinfo=UTC),
        NEW_YORK,
    )
    assert len(spring) == len(set(spring)) == 23  # 02:00 does not exist on 8 March
    fall = mar.dose_times(
        freq,
        datetime(2026, 11, 1, 4, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 5, 0, tzinfo=UTC),
        NEW_YORK,
    )
    assert len(fall) == len(set(fall)) == 24  # 01:00 happens twice, given once


def test_a_time_in_the_spring_gap_moves_forward_by_the_gap():
    at = mar.local_instant(date(2026, 3, 29), time(1, 30), LONDON)
    assert at.astimezone(LONDON).strftime("%H:%M") == "02:30"


def test_schedule_starts_at_the_first_slot_after_the_order():
    freq = mar.parse_frequency("twice daily")
    start = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
    doses = mar.dose_times(freq, start, start + timedelta(days=1), ZoneInfo("UTC"))
    assert _local(doses, ZoneInfo("UTC")) == ["2026-05-04 20:00", "2026-05-05 08:00"]


@pytest.mark.parametrize(
    ("text", "times"),
    [
        ("once daily", ["08:00"]),
        ("BD", ["08:00", "20:00"]),
        ("tds", ["08:00", "14:00", "20:00"]),
        ("Four times daily", ["08:00", "12:00", "16:00", "20:00"]),
        ("at night", ["22:00"]),
        ("q6h", ["00:00", "06:00", "12:00", "18:00"]),
        ("every 12 hours", ["06:00", "18:00"]),
    ],
)
def test_common_frequencies(text, times):
    assert [t.strftime("%H:%M") for t in mar.parse_frequency(text).times] == times


def test_prn_once_weekly_and_unknown_frequencies():
    prn = mar.parse_frequency("every 4 hours as needed")
    assert prn.prn and prn.prn_interval_minutes == 240
    assert mar.parse_frequency("as needed").prn_interval_minutes == 240
    assert mar.parse_frequency("stat").once
    weekly = mar.parse_frequency("weekly")
    assert weekly.every_days == 7
    for bad in ("", "whenever", "every 5 hours", "every 45 days"):
        with pytest.raises(mar.UnknownFrequencyError):
            mar.parse_frequency(bad)


def test_weekly_doses_fall_every_seventh_day():
    doses = mar.dose_times(
        mar.parse_frequency("weekly"),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 22, tzinfo=UTC),
        ZoneInfo("UTC"),
    )
    assert [d.day for d in doses] == [1, 8, 15]


def test_explicit_clock_times():
    assert mar.parse_clock_times(["18:00", "06:30", "06:30"]) == (time(6, 30), time(18))
    with pytest.raises(mar.UnknownFrequencyError):
        mar.parse_clock_times(["25:00"])


# --- the five rights ----------------------------------------------------------------------------


def _drug(
    drug_id=1,
    name="Spironolactone",
    strength="25 mg",
    route="oral",
    ingredients=("spironolactone",),
):
    return mar.DrugFacts(drug_id, name, ingredients, strength, "tablet", route)


def _ordered(**kw):
    base = {
        "patient_mrn": "HMS000012344",
        "drug": _drug(),
        "route": "oral",
        "due_at": datetime(2026, 1, 1, 8, tzinfo=UTC),
        "window_minutes": 60,
    }
    return mar.OrderedDose(**{**base, **kw})


def test_wristband_must_be_the_patients():
    mar.check_patient("hms-0000-1234-4", _ordered())
    with pytest.raises(mar.WrongPatientError):
        mar.check_patient("HMS000012351", _ordered())


@pytest.mark.parametrize(
    ("scanned", "error"),
    [
        (_drug(2, "Amlodipine", "5 mg", ingredients=("amlodipine",)), mar.WrongDrugError),
        (_drug(3, strength="100 mg"), mar.WrongDoseError),
        (_drug(4, strength="25 mg", route="intravenous"), mar.WrongRouteError),
        (None, mar.WrongDrugError),
    ],
)
def test_drug_route_and_dose_mismatches_are_refused(scanned, error):
    with pytest.raises(error):
        mar.check_drug_dose_route(
            scanned, scanned_strength=None, scanned_route=None, ordered=_ordered()
        )


def test_the_same_medicine_from_another_catalogue_entry_is_accepted():
    mar.check_drug_dose_route(
        _drug(9, strength="0.025 g"), scanned_strength=None, scanned_route="PO", ordered=_ordered()
    )


def test_strengths_compare_by_value():
    assert mar.normalize_strength("0.5 g") == mar.normalize_strength("500 mg")
    assert mar.normalize_strength("120 mg/5 mL") == mar.normalize_strength("24 mg/mL")
    assert mar.normalize_strength("500 mg") != mar.normalize_strength("250 mg")


def test_time_window_and_reason():
    ordered = _ordered()
    assert mar.check_time(ordered, at=ordered.due_at + timedelta(minutes=59), reason=None) is False
    with pytest.raises(mar.WrongTimeError):
        mar.check_time(ordered, at=ordered.due_at + timedelta(minutes=61), reason=" ")
    assert (
        mar.check_time(ordered, at=ordered.due_at - timedelta(hours=3), reason="before theatre")
        is True
    )


def test_prn_minimum_interval():
    last = datetime(2026, 1, 1, 8, tzinfo=UTC)
    mar.check_prn_interval(last, at=last + timedelta(hours=4), interval_minutes=240)
    with pytest.raises(mar.WrongTimeError):
        mar.check_prn_interval(last, at=last + timedelta(hours=3), interval_minutes=240)


# --- beds and bed-days --------------------------------------------------------------------------


def test_bed_states_refuse_with_their_own_code():
    for status, error in (
        ("occupied", BedOccupiedError),
        ("blocked", BedBlockedError),
        ("cleaning", BedBeingCleanedError),
    ):
        with pytest.raises(error):
            check_bed_accepts(status, gender_policy="mixed", patient_sex="male")
    with pytest.raises(BedGenderPolicyError):
        check_bed_accepts("free", gender_policy="female", patient_sex="male")
    check_bed_accepts("free", gender_policy="female", patient_sex="unknown")


def test_one_bed_day_per_occupied_midnight():
    utc = ZoneInfo("UTC")
    admitted = datetime(2026, 5, 1, 14, tzinfo=UTC)
    assert occupied_midnights(admitted, datetime(2026, 5, 2, 11, tzinfo=UTC), utc) == [
        date(2026, 5, 2)
    ]
    assert occupied_midnights(admitted, datetime(2026, 5, 1, 23, tzinfo=UTC), utc) == []
    assert occupied_midnights(
        datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 3, 0, 1, tzinfo=UTC), utc
    ) == [date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 3)]


def test_bed_days_use_local_midnights_across_dst():
    # Admitted 28 March 20:00 GMT, discharged 30 March 10:00 BST: midnights of the 29th
    # (00:00 GMT) and the 30th (00:00 BST = 23:00 UTC on the 29th) -> two bed-days.
    days = occupied_midnights(
        datetime(2026, 3, 28, 20, tzinfo=UTC), datetime(2026, 3, 30, 9, tzinfo=UTC), LONDON
    )
    assert days == [date(2026, 3, 29), date(2026, 3, 30)]
    assert (
        length_of_stay_days(
            datetime(2026, 3, 28, 20, tzinfo=UTC), datetime(2026, 3, 30, 9, tzinfo=UTC), LONDON
        )
        == 3
    )


# --- nursing scores -----------------------------------------------------------------------------


def test_news2_bands():
    normal = news2(
        respiratory_rate=16,
        spo2_pct=97,
        on_oxygen=False,
        systolic_mmhg=120,
        heart_rate_bpm=72,
        consciousness="alert",
        temperature_c=Decimal("36.8"),
    )
    assert (normal.total, normal.risk, normal.complete) == (0, "low", True)
    assert normal.observe_every_minutes == 12 * 60
    single_three = news2(
        respiratory_rate=26,
        spo2_pct=97,
        on_oxygen=False,
        systolic_mmhg=120,
        heart_rate_bpm=72,
        consciousness="alert",
        temperature_c=Decimal("36.8"),
    )
    assert (single_three.total, single_three.risk) == (3, "low_medium")
    sick = news2(
        respiratory_rate=24,
        spo2_pct=92,
        on_oxygen=True,
        systolic_mmhg=98,
        heart_rate_bpm=118,
        consciousness="confusion",
        temperature_c=Decimal("39.2"),
    )
    assert sick.parts == {
        "respiratory_rate": 2,
        "spo2": 2,
        "air_or_oxygen": 2,
        "systolic": 2,
        "pulse": 2,
        "consciousness": 3,
        "temperature": 2,
    }
    assert (sick.total, sick.risk, sick.observe_every_minutes) == (15, "high", 15)
    partial = news2(
        respiratory_rate=None,
        spo2_pct=95,
        on_oxygen=None,
        systolic_mmhg=None,
        heart_rate_bpm=None,
        consciousness=None,
        temperature_c=None,
    )
    assert (partial.total, partial.complete) == (1, False)


def test_morse_and_braden():
    high = morse_falls(
        {
            "history_of_falling": "yes",
            "secondary_diagnosis": "yes",
            "ambulatory_aid": "furniture",
            "iv_or_heparin_lock": "yes",
            "gait": "impaired",
            "mental_status": "forgets_limitations",
        }
    )
    assert (high.total, high.risk) == (125, "high")
    with pytest.raises(AssessmentInputError):
        morse_falls({"history_of_falling": "maybe"})
    score = braden(
        {
            "sensory_perception": 2,
            "moisture": 2,
            "activity": 1,
            "mobility": 2,
            "nutrition": 2,
            "friction_shear": 1,
        }
    )
    assert (score.total, score.risk) == (10, "high")
    with pytest.raises(AssessmentInputError):
        braden(
            {
                "sensory_perception": 5,
                "moisture": 2,
                "activity": 1,
                "mobility": 2,
                "nutrition": 2,
                "friction_shear": 1,
            }
        )


def test_shifts():
    utc = ZoneInfo("UTC")
    assert shift_at(datetime(2026, 1, 2, 3, tzinfo=UTC), utc) == (date(2026, 1, 1), "night")
    assert shift_at(datetime(2026, 1, 2, 7, tzinfo=UTC), utc) == (date(2026, 1, 2), "early")
    start, end = shift_bounds(date(2026, 10, 24), "night", LONDON)
    # The clocks go back during this night: 9 hours elapse (wall-clock subtraction would say 8).
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=9)
