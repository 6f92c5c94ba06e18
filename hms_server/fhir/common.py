"""Search-parameter parsing and small builders shared by the FHIR resource modules.

Every parse failure is a ``FhirError(400, ...)``: the router answers it as an
OperationOutcome, never a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hms_contract.common import EARLIEST_DATE, LATEST_DATE
from hms_server.fhir.registry import FhirError, Resource, SearchParams

USER_SYSTEM = "urn:hms:user"
ATC = "http://www.whocc.no/atc"
MAX_ID_DIGITS = 18

_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_DATE_VALUE = re.compile(
    r"^(?P<prefix>[a-z]{2})?(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_TINY = timedelta(microseconds=1)


def ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def number(value: Any) -> float | int:
    """A Decimal as the JSON number FHIR wants (``25`` rather than ``25.000``)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value  # type: ignore[no-any-return]


def int_id(resource_id: str) -> int | None:
    return int(resource_id) if resource_id.isdigit() and len(resource_id) <= MAX_ID_DIGITS else None


def reference_id(raw: str, resource_type: str, param: str) -> int:
    """``Patient/123`` or ``123`` (first of comma-separated alternatives) as an int."""
    value = raw.split(",")[0].strip()
    if value.startswith(f"{resource_type}/"):
        value = value[len(resource_type) + 1 :]
    found = int_id(value)
    if found is None:
        raise FhirError(400, "invalid", f"{param} must be {resource_type}/<id> or <id>.")
    return found


def patient_id_param(params: SearchParams) -> int:
    """The required ``patient`` parameter: a search across patients would bypass the
    care-relationship check."""
    raw = params.first("patient")
    if raw is None:
        raise FhirError(400, "required", "Search by patient: ?patient=Patient/123 or 123.")
    return reference_id(raw, "Patient", "patient")


def tokens(params: SearchParams, name: str) -> set[str]:
    """Token values with any ``system|`` part dropped."""
    out: set[str] = set()
    for value in params.get(name):
        for part in value.split(","):
            out.add(part.split("|")[-1].strip())
    return {t for t in out if t}


def practitioner_reference(user_id: int | None, name: str | None) -> Resource | None:
    """A staff member as a logical reference: HMS serves no Practitioner resource, so the
    reference names the user by identifier (and display) instead of a URL to nowhere."""
    if user_id is None and not name:
        return None
    ref: Resource = {"type": "Practitioner"}
    if user_id is not None:
        ref["identifier"] = {"system": USER_SYSTEM, "value": str(user_id)}
    if name:
        ref["display"] = name
    return ref


def medication_concept(drug: Any) -> Resource:
    """A formulary drug as a CodeableConcept: the label as text, the ATC code if known."""
    label = " ".join(x for x in (drug.generic_name, drug.strength, drug.form) if x)
    concept: Resource = {"text": label}
    if drug.atc_code:
        concept["coding"] = [{"system": ATC, "code": drug.atc_code, "display": drug.generic_name}]
    return concept


def encounter_reference(encounter_id: int | None, admission_id: int | None) -> Resource | None:
    """The Encounter a ward record belongs to: the admission's inpatient encounter, or
    ``adm-<admission id>`` while the admission has none (see ``fhir.inpatient``)."""
    if encounter_id is not None:
        return {"reference": f"Encounter/{encounter_id}"}
    if admission_id is not None:
        return {"reference": f"Encounter/adm-{admission_id}"}
    return None


@dataclass(frozen=True)
class InstantRange:
    """``[low, high)`` in aware datetimes; either end open (None)."""

    low: datetime | None = None
    high: datetime | None = None

    def contains(self, value: datetime) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value < self.high)

    def empty(self) -> bool:
        return self.low is not None and self.high is not None and self.low >= self.high


def _bounds(name: str, m: re.Match[str], zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instant span a FHIR date value denotes (a day, month or year is the hospital's
    local calendar period; a time without a zone is the hospital's local time)."""
    y, mo, d, clock, tz = (m.group(k) for k in ("y", "m", "d", "time", "tz"))
    try:
        if clock is not None:
            moment = datetime.fromisoformat(
                f"{y}-{mo}-{d}T{clock}{'+00:00' if tz == 'Z' else tz or ''}"
            )
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            if not EARLIEST_DATE <= moment.date() <= LATEST_DATE:
                raise ValueError("out of range")
            return moment, moment + _TINY
        if d is not None:
            first = last = date(int(y), int(mo), int(d))
        elif mo is not None:
            first = date(int(y), int(mo), 1)
            last = date(int(y) + (int(mo) == 12), int(mo) % 12 + 1, 1) - timedelta(days=1)
        else:
            first, last = date(int(y), 1, 1), date(int(y), 12, 31)
        if first < EARLIEST_DATE or last > LATEST_DATE:
            raise ValueError("out of range")
    except ValueError as exc:
        raise FhirError(
            400,
            "invalid",
            f"{name} is not a valid date between {EARLIEST_DATE.year} and "
            f"{LATEST_DATE.year}: {m.string[:40]!r} ({exc})",
        ) from exc
    low = datetime.combine(first, datetime.min.time(), zone)
    high = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    return low, high


def instant_range(params: SearchParams, name: str, zone: ZoneInfo) -> InstantRange:
    """All values of the date parameter ``name`` ANDed into one ``[low, high)`` range.

    Values: ``[prefix]YYYY[-MM[-DD[Thh:mm[:ss[.ffffff]][Z|±hh:mm]]]]`` with the prefixes
    eq, gt, ge, lt, le, sa, eb (``ne`` and ``ap`` are refused with 400)."""
    low: datetime | None = None
    high: datetime | None = None
    for value in params.get(name):
        if "," in value:
            raise FhirError(
                400,
                "not-supported",
                f"{name}: alternatives (a,b) are not supported; repeat the parameter for a range",
            )
        m = _DATE_VALUE.match(value.strip())
        if m is None or (m.group("prefix") and m.group("prefix") not in _PREFIXES):
            raise FhirError(
                400,
                "invalid",
                f"{name} must look like [ge|le|gt|lt|eq]YYYY-MM-DD[Thh:mm:ssZ], got {value[:40]!r}",
            )
        prefix = m.group("prefix") or "eq"
        if prefix in ("ne", "ap"):
            raise FhirError(400, "not-supported", f"{name} prefix {prefix!r} is not supported")
        start, end = _bounds(name, m, zone)
        lo, hi = {
            "eq": (start, end),
            "ge": (start, None),
            "gt": (end, None),
            "sa": (end, None),
            "le": (None, end),
            "lt": (None, start),
            "eb": (None, start),
        }[prefix]
        if lo is not None:
            low = lo if low is None else max(low, lo)
        if hi is not None:
            high = hi if high is None else min(high, hi)
    return InstantRange(low, high)
