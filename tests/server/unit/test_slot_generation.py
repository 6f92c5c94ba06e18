"""Slot generation from weekly templates minus exceptions, and the free-slot search."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hms_server.domain.scheduling import (
    APPOINTMENT_TRANSITIONS,
    BusyIndex,
    InvalidTransitionError,
    SessionTemplate,
    Unavailability,
    check_transition,
    consecutive_end,
    daily_slot_times,
    free_slots,
    generate_slots,
    merge_next_available,
    slot_span,
    slot_times,
)

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 11, 30)
MORNING = SessionTemplate(
    weekday=0, start=time(9), end=time(12), slot_minutes=15, overbook_places=2, location="Room 4"
)


def test_a_session_is_cut_into_slots_of_its_length():
    slots = generate_slots([MORNING], [], MONDAY, BERLIN)
    assert len(slots) == 12
    assert slots[0].start == datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)
    assert slots[-1].end == datetime(2026, 11, 30, 12, 0, tzinfo=BERLIN)
    assert all(s.overbook_places == 2 and s.location == "Room 4" for s in slots)


def test_templates_apply_only_on_their_weekday_and_validity():
    assert generate_slots([MORNING], [], MONDAY + timedelta(days=1), BERLIN) == []
    later = SessionTemplate(0, time(9), time(10), 30, valid_from=MONDAY + timedelta(days=7))
    assert generate_slots([later], [], MONDAY, BERLIN) == []
    assert len(generate_slots([later], [], MONDAY + timedelta(days=7), BERLIN)) == 2
    ended = SessionTemplate(0, time(9), time(10), 30, valid_to=MONDAY - timedelta(days=1))
    assert generate_slots([ended], [], MONDAY, BERLIN) == []


def test_a_trailing_piece_shorter_than_a_slot_is_not_offered():
    tpl = SessionTemplate(0, time(9), time(9, 50), 20)
    assert [s.start.time() for s in generate_slots([tpl], [], MONDAY, BERLIN)] == [
        time(9),
        time(9, 20),
    ]


def test_whole_day_leave_removes_every_slot():
    leave = Unavailability(MONDAY - timedelta(days=2), MONDAY + timedelta(days=2))
    assert generate_slots([MORNING], [leave], MONDAY, BERLIN) == []


def test_a_cancelled_part_of_a_session_removes_only_overlapping_slots():
    meeting = Unavailability(MONDAY, MONDAY, time(10, 10), time(10, 40))
    starts = [s.start.time() for s in generate_slots([MORNING], [meeting], MONDAY, BERLIN)]
    assert time(10) not in starts and time(10, 15) not in starts and time(10, 30) not in starts
    assert time(9, 45) in starts and time(10, 45) in starts
    assert len(starts) == 9


def test_two_sessions_a_day_and_duplicate_templates_do_not_duplicate_slots():
    afternoon = SessionTemplate(0, time(14), time(15), 30)
    slots = generate_slots([MORNING, afternoon, MORNING], [], MONDAY, BERLIN)
    assert len(slots) == 14
    assert [s.start for s in slots] == sorted(s.start for s in slots)


def test_slots_on_a_dst_change_day_keep_local_wall_clock_times():
    sunday_change = date(2026, 10, 25)  # Europe/Berlin falls back at 03:00
    tpl = SessionTemplate(6, time(9), time(10), 30)
    slots = generate_slots([tpl], [], sunday_change, BERLIN)
    assert [s.start.astimezone(UTC).hour for s in slots] == [8, 8]
    assert slots[0].start.utcoffset() == timedelta(hours=1)


def test_slot_span_rounds_the_duration_up_to_whole_slots():
    assert slot_span(15, 10) == 1
    assert slot_span(15, 15) == 1
    assert slot_span(15, 30) == 2
    assert slot_span(10, 25) == 3


def test_consecutive_end_needs_back_to_back_slots():
    slots = generate_slots(
        [MORNING], [Unavailability(MONDAY, MONDAY, time(9, 30), time(9, 45))], MONDAY, BERLIN
    )
    assert consecutive_end(slots, 0, 2) == datetime(2026, 11, 30, 9, 30, tzinfo=BERLIN)
    assert consecutive_end(slots, 1, 2) is None  # 09:30 is blocked
    assert consecutive_end(slots, len(slots) - 1, 2) is None  # session ends


def test_busy_index_answers_overlap_questions():
    t = datetime(2026, 11, 30, 9, tzinfo=UTC)
    busy = BusyIndex(
        [(t, t + timedelta(minutes=15)), (t + timedelta(minutes=10), t + timedelta(minutes=30))]
    )
    assert not busy.is_free(t + timedelta(minutes=20), t + timedelta(minutes=35))
    assert busy.is_free(t + timedelta(minutes=30), t + timedelta(minutes=45))
    assert busy.is_free(t - timedelta(minutes=15), t)
    assert BusyIndex([]).is_free(t, t + timedelta(minutes=1))


def _busy(*slots):  # type: ignore[no-untyped-def]
    return BusyIndex((int(sl.start.timestamp()), int(sl.end.timestamp())) for sl in slots)


def test_free_slots_skip_busy_and_past_and_need_room_for_the_duration():
    slots = generate_slots([MORNING], [], MONDAY, BERLIN)
    busy = _busy(slots[2])
    after = slots[1].start
    days = [slot_times([MORNING], [], MONDAY, BERLIN)]
    free = list(free_slots(7, days, busy, after, BERLIN))
    assert [f.start for f in free][:2] == [slots[1].start, slots[3].start]
    assert free[0].start.tzinfo is BERLIN
    long = list(free_slots(7, days, busy, after, BERLIN, duration_minutes=30))
    assert long[0].start == slots[3].start
    assert long[0].end == slots[4].end
    assert long[-1].start == slots[-2].start


def test_next_available_merges_doctors_by_time_then_doctor():
    slots_a = generate_slots([MORNING], [], MONDAY, BERLIN)
    later = SessionTemplate(0, time(9, 5), time(10), 15)
    busy_a = _busy(slots_a[0], slots_a[1])
    after = datetime(2026, 11, 30, 8, tzinfo=BERLIN)
    merged = merge_next_available(
        [
            free_slots(1, [slot_times([MORNING], [], MONDAY, BERLIN)], busy_a, after, BERLIN),
            free_slots(2, [slot_times([later], [], MONDAY, BERLIN)], BusyIndex([]), after, BERLIN),
        ],
        limit=4,
    )
    assert [(f.doctor_id, f.start.time()) for f in merged] == [
        (2, time(9, 5)),
        (2, time(9, 20)),
        (1, time(9, 30)),
        (2, time(9, 35)),
    ]


def test_a_month_of_twenty_doctors_with_three_busy_weeks_finds_the_fourth():
    weekly = [SessionTemplate(d, time(8), time(16), 15) for d in range(5)]
    last = MONDAY + timedelta(days=27)
    busy_until = int(
        datetime.combine(MONDAY + timedelta(days=21), time.min, tzinfo=BERLIN).timestamp()
    )
    busy = BusyIndex([(0, busy_until)])
    after = datetime.combine(MONDAY, time.min, tzinfo=BERLIN)
    merged = merge_next_available(
        [
            free_slots(i, daily_slot_times(weekly, [], MONDAY, last, BERLIN), busy, after, BERLIN)
            for i in range(20)
        ],
        limit=25,
    )
    assert len(merged) == 25
    assert merged[0].start == datetime(2026, 12, 21, 8, tzinfo=BERLIN)
    assert [f.doctor_id for f in merged[:20]] == list(range(20))


@pytest.mark.parametrize(
    "current,target,allowed",
    [
        ("booked", "checked_in", True),
        ("booked", "completed", False),
        ("cancelled", "booked", False),
        ("checked_in", "no_show", True),
        ("completed", "cancelled", False),
    ],
)
def test_appointment_status_transitions(current, target, allowed):
    if allowed:
        check_transition(APPOINTMENT_TRANSITIONS, current, target, "appointment")
    else:
        with pytest.raises(InvalidTransitionError):
            check_transition(APPOINTMENT_TRANSITIONS, current, target, "appointment")
