"""Ward rules: bed states, who a bed may take, admission states, and bed-days.

Pure Python. The database enforces the hard invariants (one patient per bed, one open
admission per patient: see migration 0030); these rules give the friendly answer first.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hms_server.domain.errors import ConflictError, ValidationFailedError

WARD_CLASSES = ("general", "semi_private", "private", "icu")
GENDER_POLICIES = ("mixed", "female", "male")
BED_TYPES = ("standard", "icu", "isolation", "bariatric", "paediatric", "maternity")
BED_STATUSES = ("free", "occupied", "cleaning", "blocked")
ADMISSION_SOURCES = ("clinic", "emergency", "booked", "transfer")
ADMISSION_STATUSES = ("admitted", "discharged", "cancelled")
DISCHARGE_DISPOSITIONS = ("home", "transfer_out", "against_advice", "deceased", "other")


# --- errors (stable codes; the API maps the kinds to statuses) -------------------------------


class BedOccupiedError(ConflictError):
    code, title = "bed_occupied", "Bed occupied"


class BedBlockedError(ConflictError):
    code, title = "bed_blocked", "Bed blocked"


class BedBeingCleanedError(ConflictError):
    code, title = "bed_being_cleaned", "Bed being cleaned"


class BedGenderPolicyError(ConflictError):
    code, title = "bed_gender_policy", "Bed not suitable"


class AlreadyAdmittedError(ConflictError):
    code, title = "already_admitted", "Already admitted"


class AdmissionNotOpenError(ConflictError):
    """Transfer, discharge or cancel of an admission that is no longer open."""

    code, title = "admission_not_open", "Admission not open"


class SameBedError(ConflictError):
    code, title = "same_bed", "Already in that bed"


class BedDaysCapturedError(ConflictError):
    code, title = "bed_days_captured", "Bed-days already charged"


class BedStateError(ConflictError):
    """A bed-status change that does not follow from the bed's current state."""

    code, title = "bed_state", "Bed state does not allow this"


class WardConfigError(ValidationFailedError):
    code, title = "ward_config", "Ward configuration invalid"


def check_bed_accepts(status: str, *, gender_policy: str, patient_sex: str) -> None:
    """Raise the specific conflict when a bed cannot take a patient now."""
    if status == "occupied":
        raise BedOccupiedError("That bed is occupied. Choose a free bed.")
    if status == "blocked":
        raise BedBlockedError("That bed is blocked (out of service). Choose another bed.")
    if status == "cleaning":
        raise BedBeingCleanedError(
            "That bed is waiting to be cleaned. Mark it clean first, or choose a free bed."
        )
    if (
        gender_policy in ("female", "male")
        and patient_sex in ("female", "male")
        and patient_sex != gender_policy
    ):
        raise BedGenderPolicyError(
            f"This bed is on a {gender_policy}-only bay; the patient is {patient_sex}.",
            extra={"gender_policy": gender_policy},
        )


# Which manual bed-status changes are allowed (occupancy itself changes only by ADT).
BED_STATUS_CHANGES: dict[str, frozenset[str]] = {
    "cleaning": frozenset({"free", "blocked"}),
    "free": frozenset({"blocked", "cleaning"}),
    "blocked": frozenset({"free", "cleaning"}),
    "occupied": frozenset(),
}


def check_bed_status_change(current: str, wanted: str) -> None:
    if wanted not in BED_STATUS_CHANGES.get(current, frozenset()):
        if current == "occupied":
            raise BedStateError("An occupied bed changes state by transfer or discharge.")
        raise BedStateError(f"A {current} bed cannot be set to {wanted}.")


# --- bed-days ---------------------------------------------------------------------------------


def occupied_midnights(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """The local days whose starting midnight falls in ``[start, end)``.

    One bed-day is charged per occupied midnight: a patient admitted at 14:00 and discharged
    at 11:00 the next day is charged one day (the day that began at that midnight). Midnights
    are the hospital's wall-clock midnights, so a 23- or 25-hour day is still one day.
    """
    if end <= start:
        return []
    local_start = start.astimezone(zone)
    day = local_start.date()
    if datetime.combine(day, time.min, zone) < start:
        day += timedelta(days=1)
    days: list[date] = []
    while datetime.combine(day, time.min, zone) < end:
        days.append(day)
        day += timedelta(days=1)
    return days


def length_of_stay_days(admitted_at: datetime, until: datetime, zone: ZoneInfo) -> int:
    """Days in hospital as the bed board shows it: calendar days since admission (day of
    admission = day 1)."""
    first = admitted_at.astimezone(zone).date()
    last = until.astimezone(zone).date()
    return max((last - first).days + 1, 1)
