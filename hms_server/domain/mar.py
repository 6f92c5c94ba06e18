"""Medication administration record rules: dose schedules and the five-rights check.

A schedule is a set of *wall-clock* times in the hospital's time zone ("every 8 hours" →
06:00, 14:00, 22:00). Doses are generated day by day from the local calendar, so a
daylight-saving change never shifts a 06:00 dose to 05:00 or 07:00: on the spring-forward
day the interval around the gap is an hour shorter, on the fall-back day an hour longer, and
a time that does not exist that day (02:30 when clocks jump from 02:00 to 03:00) is moved
forward by the gap (03:30). A time that occurs twice (fall-back) is given once.

The five rights (patient, drug, dose, route, time) are checked by ``check_five_rights``
against what the server knows about the order; each mismatch has its own stable code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from hms_server.domain.errors import ConflictError, ValidationFailedError

ADMIN_STATUSES = ("given", "held", "refused", "missed")
DOSE_STATUSES = ("scheduled", "given", "held", "refused", "missed", "cancelled")
ORDER_STATUSES = ("active", "stopped", "completed", "unscheduled")
DEFAULT_WINDOW_MINUTES = 60
DEFAULT_PRN_INTERVAL_MINUTES = 240
#: How far ahead doses of an open-ended order are generated (topped up by the ward worker).
OPEN_ENDED_HORIZON = timedelta(hours=72)
MAX_SCHEDULE_DAYS = 60


# --- errors ---------------------------------------------------------------------------------


class FiveRightsError(ConflictError):
    """A barcode check failed; nothing was recorded."""


class WrongPatientError(FiveRightsError):
    code, title = "wrong_patient", "Wrong patient"


class WrongDrugError(FiveRightsError):
    code, title = "wrong_drug", "Wrong drug"


class WrongDoseError(FiveRightsError):
    code, title = "wrong_dose", "Wrong dose"


class WrongRouteError(FiveRightsError):
    code, title = "wrong_route", "Wrong route"


class WrongTimeError(FiveRightsError):
    code, title = "wrong_time", "Wrong time"


class DoseAlreadyRecordedError(ConflictError):
    code, title = "dose_already_recorded", "Dose already recorded"


class DoseNotDueError(ConflictError):
    """The dose was cancelled (order stopped or changed) and must not be given."""

    code, title = "dose_cancelled", "Dose cancelled"


class OrderNotActiveError(ConflictError):
    code, title = "order_not_active", "Order not active"


class ReasonRequiredError(ValidationFailedError):
    code, title = "reason_required", "Reason required"


class UnknownFrequencyError(ValidationFailedError):
    code, title = "unknown_frequency", "Frequency not understood"


# --- frequencies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frequency:
    """A parsed frequency: fixed local times per day, every ``every_days`` days, or PRN
    (as needed, at least ``prn_interval_minutes`` apart), or one dose (``once``)."""

    times: tuple[time, ...] = ()
    every_days: int = 1
    prn: bool = False
    once: bool = False
    prn_interval_minutes: int | None = None

    def describe(self) -> str:
        if self.prn:
            return f"as needed, at least {self.prn_interval_minutes} min apart"
        if self.once:
            return "once"
        clock = ", ".join(t.strftime("%H:%M") for t in self.times)
        return clock if self.every_days == 1 else f"{clock} every {self.every_days} days"


def _t(*hours: int) -> tuple[time, ...]:
    return tuple(time(h % 24) for h in hours)


# Hospital-standard administration times (the usual drug-round times).
_NAMED: dict[str, tuple[time, ...]] = {
    "once daily": _t(8),
    "daily": _t(8),
    "od": _t(8),
    "qd": _t(8),
    "every morning": _t(8),
    "in the morning": _t(8),
    "mane": _t(8),
    "once a day": _t(8),
    "twice daily": _t(8, 20),
    "bd": _t(8, 20),
    "bid": _t(8, 20),
    "twice a day": _t(8, 20),
    "every 12 hours": _t(6, 18),
    "q12h": _t(6, 18),
    "three times daily": _t(8, 14, 20),
    "tds": _t(8, 14, 20),
    "tid": _t(8, 14, 20),
    "three times a day": _t(8, 14, 20),
    "four times daily": _t(8, 12, 16, 20),
    "qds": _t(8, 12, 16, 20),
    "qid": _t(8, 12, 16, 20),
    "four times a day": _t(8, 12, 16, 20),
    "at night": _t(22),
    "nocte": _t(22),
    "at bedtime": _t(22),
    "every night": _t(22),
    "on": _t(22),
}
_ONCE = {"once", "stat", "single dose", "immediately", "now"}
_PRN = re.compile(r"\b(prn|as needed|as required|when required|if needed)\b")
_EVERY_HOURS = re.compile(r"\b(?:every|q)\s*(\d{1,2})\s*(?:h|hr|hrs|hour|hours)\b")
_EVERY_DAYS = re.compile(r"\b(?:every\s*(\d{1,2})\s*days|weekly|once a week)\b")
#: "every N hours" is anchored at 06:00, the first drug round (every 8 h → 06, 14, 22).
ANCHOR_HOUR = 6


def parse_frequency(text: str) -> Frequency:
    """Understand a prescription's frequency text (case and spacing ignored).

    Accepts the usual words and abbreviations ("twice daily", "bd", "every 8 hours", "q6h",
    "at night", "weekly", "stat", "every 4 hours as needed"). Raises
    ``UnknownFrequencyError`` for text it cannot schedule, never guesses.
    """
    norm = re.sub(r"\s+", " ", text.strip().lower()).replace("-", " ")
    norm = norm.rstrip(".")
    if not norm:
        raise UnknownFrequencyError("The frequency is empty.")
    every_hours = _EVERY_HOURS.search(norm)
    if _PRN.search(norm):
        interval = int(every_hours.group(1)) * 60 if every_hours else DEFAULT_PRN_INTERVAL_MINUTES
        if not 30 <= interval <= 24 * 60:
            raise UnknownFrequencyError(f"'{text}': a PRN interval must be 0.5 to 24 hours.")
        return Frequency(prn=True, prn_interval_minutes=interval)
    if norm in _ONCE:
        return Frequency(once=True)
    if norm in _NAMED:
        return Frequency(times=_NAMED[norm])
    if every_hours:
        hours = int(every_hours.group(1))
        if hours not in (1, 2, 3, 4, 6, 8, 12, 24):
            raise UnknownFrequencyError(
                f"'{text}': an interval must divide the day (1, 2, 3, 4, 6, 8, 12 or 24 h)."
            )
        anchor = ANCHOR_HOUR if hours >= 4 else 0
        return Frequency(
            times=tuple(sorted(time((anchor + k * hours) % 24) for k in range(24 // hours)))
        )
    every_days = _EVERY_DAYS.search(norm)
    if every_days:
        days = int(every_days.group(1)) if every_days.group(1) else 7
        if not 1 <= days <= 28:
            raise UnknownFrequencyError(f"'{text}': every 1 to 28 days.")
        return Frequency(times=_t(8), every_days=days)
    raise UnknownFrequencyError(
        f"'{text}' is not a frequency the ward can schedule (e.g. 'twice daily', "
        "'every 8 hours', 'at night', 'every 4 hours as needed')."
    )


def parse_clock_times(values: list[str]) -> tuple[time, ...]:
    """Explicit administration times ``["06:00", "18:00"]`` (sorted, unique)."""
    out: set[time] = set()
    for value in values:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if not match:
            raise UnknownFrequencyError(f"'{value}' is not a time of day (HH:MM).")
        out.add(time(int(match.group(1)), int(match.group(2))))
    if not out:
        raise UnknownFrequencyError("Give at least one time of day.")
    return tuple(sorted(out))


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local day.

    A time skipped by a spring-forward change is moved forward by the length of the gap
    (02:30 → 03:30 when clocks jump 02:00 → 03:00), as PEP 495 and most scheduling systems
    do; a time that occurs twice (fall-back) is its first occurrence.
    """
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)


def dose_times(freq: Frequency, start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
    """UTC instants of the doses in ``[start, end)`` (``once``: one dose at ``start``;
    PRN: none, given on demand)."""
    if freq.prn or end <= start:
        return []
    if freq.once:
        return [start.astimezone(UTC)]
    first_day = start.astimezone(zone).date()
    last_day = end.astimezone(zone).date()
    out: set[datetime] = set()
    day = first_day
    while day <= last_day:
        if (day - first_day).days % freq.every_days == 0:
            for at in freq.times:
                instant = local_instant(day, at, zone)
                if start <= instant < end:
                    out.add(instant)
        day += timedelta(days=1)
    return sorted(out)


def schedule_end(
    start: datetime, duration_days: int | None, now: datetime
) -> tuple[datetime, bool]:
    """``(end, open_ended)``: a course ends ``duration_days`` after it starts; an open-ended
    order is generated up to the rolling horizon and topped up later."""
    if duration_days is not None:
        return start + timedelta(days=min(duration_days, MAX_SCHEDULE_DAYS)), False
    return max(start, now) + OPEN_ENDED_HORIZON, True


# --- the five rights ----------------------------------------------------------------------------

_ROUTE_ALIASES = {
    "po": "oral",
    "by mouth": "oral",
    "orally": "oral",
    "per os": "oral",
    "iv": "intravenous",
    "intravenously": "intravenous",
    "ivi": "intravenous",
    "im": "intramuscular",
    "sc": "subcutaneous",
    "sq": "subcutaneous",
    "subcut": "subcutaneous",
    "s/c": "subcutaneous",
    "inh": "inhalation",
    "inhaled": "inhalation",
    "neb": "inhalation",
    "pr": "rectal",
    "sl": "sublingual",
    "top": "topical",
    "td": "transdermal",
    "eye": "ophthalmic",
    "ng": "enteral",
    "peg": "enteral",
}


def normalize_route(route: str | None) -> str:
    value = re.sub(r"\s+", " ", (route or "").strip().lower())
    return _ROUTE_ALIASES.get(value, value)


_STRENGTH = re.compile(
    r"^\s*(\d+(?:[.,]\d+)?)\s*([a-zµ]+)\s*(?:/\s*(\d+(?:[.,]\d+)?)?\s*"
    r"([a-z]+))?\s*$",
    re.IGNORECASE,
)
_TO_MG = {
    "g": Decimal(1000),
    "mg": Decimal(1),
    "mcg": Decimal("0.001"),
    "µg": Decimal("0.001"),
    "ug": Decimal("0.001"),
    "microgram": Decimal("0.001"),
    "ng": Decimal("0.000001"),
}
_TO_ML = {"l": Decimal(1000), "ml": Decimal(1)}


def normalize_strength(text: str | None) -> str | None:
    """A comparable form of a strength ("0.5 g" and "500 mg" are equal; "120 mg/5 mL" and
    "24 mg/mL" too). Unparseable text is compared case- and space-insensitively."""
    if not text:
        return None
    match = _STRENGTH.match(text.replace(" per ", "/"))
    if not match:
        return re.sub(r"\s+", "", text.lower())
    try:
        amount = Decimal(match.group(1).replace(",", "."))
        unit = match.group(2).lower()
        per_amount = Decimal(match.group(3).replace(",", ".")) if match.group(3) else None
    except InvalidOperation:
        return re.sub(r"\s+", "", text.lower())
    per_unit = (match.group(4) or "").lower()
    if unit in _TO_MG:
        amount, unit = amount * _TO_MG[unit], "mg"
    if per_unit:
        divisor = (per_amount or Decimal(1)) * _TO_ML.get(per_unit, Decimal(1))
        per_unit = "ml" if per_unit in _TO_ML else per_unit
        amount = amount / divisor
        return f"{amount.normalize():f}{unit}/{per_unit}"
    return f"{amount.normalize():f}{unit}"


@dataclass(frozen=True)
class DrugFacts:
    """What the check needs to know about a formulary drug."""

    drug_id: int
    generic_name: str
    ingredients: tuple[str, ...]
    strength: str | None
    form: str | None
    route: str | None


@dataclass(frozen=True)
class OrderedDose:
    """The dose as ordered: the patient's MRN, the drug, the route and when it is due."""

    patient_mrn: str
    drug: DrugFacts
    route: str
    due_at: datetime | None
    window_minutes: int


def check_patient(scanned_mrn: str, ordered: OrderedDose) -> None:
    scanned = re.sub(r"[\s\-./]", "", scanned_mrn).upper()
    if scanned != ordered.patient_mrn.upper():
        raise WrongPatientError(
            "The wristband scanned is not this patient's. Do not give the dose: check the "
            "patient's identity and scan their own wristband."
        )


def check_drug_dose_route(
    scanned: DrugFacts | None,
    *,
    scanned_strength: str | None,
    scanned_route: str | None,
    ordered: OrderedDose,
) -> None:
    """Right drug (same formulary drug, or the same ingredients), right route (the product's
    route matches the order's), right dose (the strength of the scanned product)."""
    want = ordered.drug
    if scanned is None:
        raise WrongDrugError("The scanned medication is not linked to a formulary drug.")
    same_drug = scanned.drug_id == want.drug_id
    same_ingredients = sorted(i.lower() for i in scanned.ingredients) == sorted(
        i.lower() for i in want.ingredients
    )
    if not same_drug and not same_ingredients:
        raise WrongDrugError(
            f"The scanned medication is {scanned.generic_name}; the order is for "
            f"{want.generic_name}. Do not give it.",
            extra={"scanned_drug_id": scanned.drug_id, "ordered_drug_id": want.drug_id},
        )
    # The route first: a product for another route (an injection for an oral order) is the
    # wrong route even though its strength is written differently too.
    have_route = normalize_route(scanned_route or scanned.route)
    want_route = normalize_route(ordered.route)
    if have_route and want_route and have_route != want_route:
        raise WrongRouteError(
            f"The scanned product is for {have_route} use; the order is {want_route}.",
            extra={"scanned_route": have_route, "ordered_route": want_route},
        )
    have_strength = normalize_strength(scanned_strength or scanned.strength)
    want_strength = normalize_strength(want.strength)
    if have_strength and want_strength and have_strength != want_strength:
        raise WrongDoseError(
            f"The scanned product is {scanned_strength or scanned.strength}; the order is for "
            f"{want.strength}. Do not give it.",
            extra={
                "scanned_strength": scanned_strength or scanned.strength,
                "ordered_strength": want.strength,
            },
        )


def check_time(ordered: OrderedDose, *, at: datetime, reason: str | None) -> bool:
    """Right time: within ± the window of the due time. Outside it the nurse must give a
    reason (early or late doses are recorded with it); returns whether it was outside."""
    if ordered.due_at is None:
        return False
    window = timedelta(minutes=ordered.window_minutes)
    outside = not (ordered.due_at - window <= at <= ordered.due_at + window)
    if outside and not (reason and reason.strip()):
        early = at < ordered.due_at - window
        minutes = int(abs((at - ordered.due_at).total_seconds()) // 60)
        raise WrongTimeError(
            f"This dose is {minutes} minutes {'early' if early else 'late'} (window "
            f"±{ordered.window_minutes} min). Give a reason to record it outside its window.",
            extra={
                "due_at": ordered.due_at.isoformat(),
                "window_minutes": ordered.window_minutes,
                "reason_required": True,
            },
        )
    return outside


def check_prn_interval(last_given: datetime | None, *, at: datetime, interval_minutes: int) -> None:
    if last_given is None:
        return
    earliest = last_given + timedelta(minutes=interval_minutes)
    if at < earliest:
        wait = int((earliest - at).total_seconds() // 60) + 1
        raise WrongTimeError(
            f"The last as-needed dose was less than {interval_minutes} minutes ago; the next "
            f"may be given in {wait} minutes.",
            extra={
                "prn_interval_minutes": interval_minutes,
                "next_allowed_at": earliest.isoformat(),
            },
        )


def require_reason(status: str, reason: str | None) -> None:
    if status != "given" and not (reason and reason.strip()):
        raise ReasonRequiredError(
            f"Say why the dose was {status}.",
            extra={
                "errors": [
                    {
                        "field": "reason",
                        "type": "missing",
                        "message": f"a reason is required when a dose is {status}",
                    }
                ]
            },
        )
