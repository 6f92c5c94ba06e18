"""Period presets of the reports workspace, on the hospital's calendar (not the
workstation's): a manager in another time zone still gets the hospital's "today"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hms_desktop.qt import QT_TRANSLATE_NOOP, translate

MAX_DAYS = 731  # the server's limit (two years)


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    grouping: str  # the grouping that reads best for the preset

    def display(self) -> str:
        return translate("Reports", self.label)


PRESETS: tuple[Preset, ...] = (
    Preset("today", QT_TRANSLATE_NOOP("Reports", "Today"), "day"),
    Preset("this_week", QT_TRANSLATE_NOOP("Reports", "This week"), "day"),
    Preset("last_30_days", QT_TRANSLATE_NOOP("Reports", "Last 30 days"), "day"),
    Preset("this_month", QT_TRANSLATE_NOOP("Reports", "This month"), "day"),
    Preset("last_month", QT_TRANSLATE_NOOP("Reports", "Last month"), "day"),
    Preset("this_year", QT_TRANSLATE_NOOP("Reports", "This year"), "month"),
    Preset("custom", QT_TRANSLATE_NOOP("Reports", "Custom"), "day"),
)
PRESET_KEYS = tuple(p.key for p in PRESETS)


def hospital_today(timezone: str, now: datetime | None = None) -> date:
    """Today on the hospital's wall calendar."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return (now or datetime.now(UTC)).astimezone(zone).date()


def preset_period(key: str, today: date) -> tuple[date, date]:
    """``(start, end)`` of a preset, both days included. A week starts on Monday and runs
    to Sunday (so "this week" includes what is booked for the rest of it)."""
    if key == "today":
        return today, today
    if key == "this_week":
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=6)
    if key == "last_30_days":
        return today - timedelta(days=29), today
    if key == "this_month":
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, following - timedelta(days=1)
    if key == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if key == "this_year":
        return today.replace(month=1, day=1), today.replace(month=12, day=31)
    raise ValueError(f"no preset {key!r}")


def period_problem(start: date, end: date) -> str | None:
    """Why a custom period cannot be run (the same rules as the server), or ``None``."""
    if end < start:
        return translate("Reports", "The period ends before it starts.")
    if (end - start).days + 1 > MAX_DAYS:
        return translate("Reports", "A report covers at most two years.")
    return None


def period_text(start: date, end: date) -> str:
    """``1 – 31 Mar 2026`` style text for headings and printouts."""
    if start == end:
        return start.strftime("%a %d %b %Y")
    if start.year == end.year:
        return f"{start.strftime('%d %b')} – {end.strftime('%d %b %Y')}"
    return f"{start.strftime('%d %b %Y')} – {end.strftime('%d %b %Y')}"
