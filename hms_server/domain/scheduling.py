"""Scheduling rules: bookable slots from weekly templates minus exceptions, free-slot search,
and the appointment / queue state machines. Pure Python: no database, no web framework.

Times: templates and exceptions are hospital-local wall-clock times; every slot this module
returns is a timezone-aware datetime in the hospital zone (callers store UTC).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hms_server.domain.errors import ConflictError, ValidationFailedError

# --- errors (stable codes the API and the desktop rely on) -------------------------------


class SlotTakenError(ConflictError):
    code, title = "slot_taken", "Slot already taken"


class PatientBusyError(ConflictError):
    code, title = "patient_busy", "Patient already has an appointment then"


class OutsideScheduleError(ValidationFailedError):
    code, title = "outside_schedule", "Not within the doctor's sessions"


class InPastError(ValidationFailedError):
    code, title = "in_past", "Time is in the past"


class InvalidTransitionError(ConflictError):
    code, title = "invalid_status", "Not possible in the current status"


class OverbookFullError(ConflictError):
    code, title = "overbook_full", "No overbook place left"


# --- value objects ------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionTemplate:
    """A weekly session; ``weekday`` 0 = Monday."""

    weekday: int
    start: time
    end: time
    slot_minutes: int
    overbook_places: int = 0
    location: str | None = None
    valid_from: date = date.min
    valid_to: date | None = None

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and self.valid_from <= day
            and (self.valid_to is None or day <= self.valid_to)
        )


@dataclass(frozen=True)
class Unavailability:
    """Leave, a holiday or a cancelled session. ``start``/``end`` None = whole days."""

    starts_on: date
    ends_on: date
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    slot_minutes: int
    overbook_places: int = 0
    location: str | None = None


@dataclass(frozen=True)
class FreeSlot:
    doctor_id: int
    start: datetime
    end: datetime
    location: str | None = None


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    # fold=0 picks the first of an ambiguous (DST fall-back) time; a non-existent
    # spring-forward time is normalised by the UTC round trip.
    return datetime.combine(day, at, tzinfo=tz).astimezone(ZoneInfo("UTC")).astimezone(tz)


def _blocked_ranges(
    day: date, exceptions: Iterable[Unavailability], tz: ZoneInfo
) -> list[tuple[int, int]] | None:
    """Blocked ranges on ``day`` in epoch seconds; None when the whole day is blocked."""
    ranges = []
    for exc in exceptions:
        if not exc.starts_on <= day <= exc.ends_on:
            continue
        if exc.start is None or exc.end is None:
            return None
        ranges.append(
            (int(_local(day, exc.start, tz).timestamp()), int(_local(day, exc.end, tz).timestamp()))
        )
    return ranges


# (start, end) in epoch seconds, slot length in minutes, overbook places, location.
SlotTimes = tuple[int, int, int, int, str | None]


def slot_times(
    templates: Iterable[SessionTemplate],
    exceptions: Iterable[Unavailability],
    day: date,
    tz: ZoneInfo,
) -> list[SlotTimes]:
    """One doctor's bookable slots on one day as plain numbers, in start order.

    A slot is dropped when any exception overlaps it. A trailing piece shorter than the slot
    length is not offered. Overlapping templates do not produce duplicate slot starts.
    Numbers rather than datetimes because the month-wide search handles tens of thousands.
    """
    blocked = _blocked_ranges(day, exceptions, tz)
    if blocked is None:
        return []
    todays = [t for t in templates if t.applies_on(day) and t.slot_minutes > 0]
    seen: set[int] = set()
    out: list[SlotTimes] = []
    for tpl in todays:
        step = tpl.slot_minutes * 60
        cursor = int(_local(day, tpl.start, tz).timestamp())
        session_end = int(_local(day, tpl.end, tz).timestamp())
        while cursor + step <= session_end:
            end = cursor + step
            if cursor not in seen and not (
                blocked and any(b0 < end and cursor < b1 for b0, b1 in blocked)
            ):
                seen.add(cursor)
                out.append((cursor, end, tpl.slot_minutes, tpl.overbook_places, tpl.location))
            cursor = end
    if len(todays) > 1:
        out.sort()
    return out


def generate_slots(
    templates: Iterable[SessionTemplate],
    exceptions: Iterable[Unavailability],
    day: date,
    tz: ZoneInfo,
) -> list[Slot]:
    """Bookable slots of one doctor on one day (see ``slot_times``) as ``Slot`` values."""
    return [
        Slot(
            datetime.fromtimestamp(s, tz), datetime.fromtimestamp(e, tz), minutes, places, location
        )
        for s, e, minutes, places, location in slot_times(templates, exceptions, day, tz)
    ]


def daily_slot_times(
    templates: Sequence[SessionTemplate],
    exceptions: Sequence[Unavailability],
    first: date,
    last: date,
    tz: ZoneInfo,
) -> Iterator[list[SlotTimes]]:
    """Slots day by day from ``first`` to ``last``, generated lazily so a search that finds
    enough free slots early never builds the rest of the month."""
    day = first
    while day <= last:
        yield slot_times(templates, exceptions, day, tz)
        day += timedelta(days=1)


def slot_span(slot_minutes: int, duration_minutes: int) -> int:
    """How many consecutive slots an appointment of ``duration_minutes`` occupies."""
    return max(1, math.ceil(duration_minutes / slot_minutes))


def find_slot(slots: Sequence[Slot], start: datetime) -> Slot | None:
    """The slot that begins exactly at ``start`` (aware datetimes compare across zones)."""
    starts = [s.start for s in slots]
    i = bisect_left(starts, start)
    return slots[i] if i < len(slots) and slots[i].start == start else None


def consecutive_end(slots: Sequence[Slot], i: int, count: int) -> datetime | None:
    """End of ``count`` back-to-back slots starting with ``slots[i]``; None if they do not
    exist contiguously (e.g. the session ends, or a cancelled part interrupts)."""
    end = slots[i].end
    for k in range(1, count):
        if i + k >= len(slots) or slots[i + k].start != end:
            return None
        end = slots[i + k].end
    return end


class BusyIndex:
    """Busy intervals of one doctor place, for fast "is this free?" questions. Works with
    any comparable bounds (epoch seconds in the search, datetimes elsewhere)."""

    def __init__(self, intervals: Iterable[tuple[Any, Any]]):
        merged: list[tuple[Any, Any]] = []
        for s, e in sorted(intervals):
            if merged and s <= merged[-1][1]:
                if e > merged[-1][1]:
                    merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        self._starts = [s for s, _ in merged]
        self._intervals = merged

    def is_free(self, start: Any, end: Any) -> bool:
        i = bisect_left(self._starts, end)  # intervals starting before ``end``
        return i == 0 or self._intervals[i - 1][1] <= start


def free_slots(
    doctor_id: int,
    days: Iterable[list[SlotTimes]],
    busy: BusyIndex,
    after: datetime,
    tz: ZoneInfo,
    duration_minutes: int | None = None,
) -> Iterator[FreeSlot]:
    """Free regular slots starting at or after ``after``, in order (``busy`` in epoch
    seconds). With a duration longer than one slot, a start is free only if all the
    back-to-back slots it needs are free."""
    after_ts = after.timestamp()
    for day in days:
        for i, (start, end, minutes, _places, location) in enumerate(day):
            if start < after_ts:
                continue
            if duration_minutes:
                for k in range(1, slot_span(minutes, duration_minutes)):
                    if i + k >= len(day) or day[i + k][0] != end:
                        end = -1
                        break
                    end = day[i + k][1]
                if end < 0:
                    continue
            if busy.is_free(start, end):
                yield FreeSlot(
                    doctor_id,
                    datetime.fromtimestamp(start, tz),
                    datetime.fromtimestamp(end, tz),
                    location,
                )


def merge_next_available(per_doctor: Iterable[Iterator[FreeSlot]], limit: int) -> list[FreeSlot]:
    """The ``limit`` earliest free slots across doctors (ties: lower doctor id first)."""
    merged = heapq.merge(*per_doctor, key=lambda f: (f.start, f.doctor_id))
    out = []
    for free in merged:
        out.append(free)
        if len(out) >= limit:
            break
    return out


# --- state machines ----------------------------------------------------------------------

ACTIVE_STATUSES = frozenset({"booked", "checked_in", "in_consultation", "completed"})

APPOINTMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "booked": frozenset({"checked_in", "cancelled", "no_show"}),
    "checked_in": frozenset({"in_consultation", "cancelled", "no_show"}),
    "in_consultation": frozenset({"completed"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
    "no_show": frozenset(),
}

QUEUE_TRANSITIONS: dict[str, frozenset[str]] = {
    "waiting": frozenset({"called", "in_consultation", "left"}),
    "called": frozenset({"called", "in_consultation", "waiting", "left"}),
    "in_consultation": frozenset({"done"}),
    "done": frozenset(),
    "left": frozenset(),
}


def check_transition(
    table: dict[str, frozenset[str]], current: str, target: str, what: str
) -> None:
    if target not in table.get(current, frozenset()):
        raise InvalidTransitionError(
            f"This {what} is '{current}' and cannot become '{target}'.",
            extra={"current_status": current},
        )


def waiting_minutes(checked_in_at: datetime, until: datetime) -> int:
    """Whole minutes between check-in and being seen (or now, while still waiting)."""
    return max(0, int((until - checked_in_at).total_seconds() // 60))
