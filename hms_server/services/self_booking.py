"""Patient self-booking from the public web page: list bookable doctors and free slots, book
as an existing patient (MRN + date of birth) or a new one, cancel by reference + date of
birth. Booking itself is ``appointments.book_appointment`` with ``source="self"``.

Disclosure rule: a wrong MRN and a right MRN with a wrong date of birth are answered the
same way (``VerificationFailedError``, same text, same work done: one lookup, one compare,
one audit row, one commit). Attempts are rate-limited in PostgreSQL (``booking_rate_limits``)
so limits hold across every server process; counters are committed before the attempt runs,
so a failing attempt still counts.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import Appointment
from hms_server.adapters.repositories.appointments import AppointmentRepository
from hms_server.adapters.repositories.messaging import RateLimitRepository
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.repositories.scheduling import SchedulingRepository
from hms_server.adapters.uow import Actor, UnitOfWork
from hms_server.domain import mrn as mrn_rules
from hms_server.domain import patients as patient_rules
from hms_server.domain.errors import (
    ConflictError,
    TooManyAttemptsError,
    ValidationFailedError,
)
from hms_server.services import appointments, duplicates, scheduling
from hms_server.services import patients as patient_service

CATEGORY = "self_booking"
ACTOR_NAME = "self-booking"
CANCEL_REASON = "Cancelled by the patient online"
MAX_DAYS_AHEAD = 90
NOT_VERIFIED = (
    "We could not verify those details. Please check them and try again, or call the hospital."
)
_REFERENCE_CHARS = re.compile(r"^[A-HJ-NP-Z2-9]{8}$")


class VerificationFailedError(ValidationFailedError):
    """Identity could not be confirmed. Deliberately says nothing about which part was wrong."""

    code, title = "verification_failed", "Details not verified"


def self_booking_actor(address: str | None) -> Actor:
    """The system actor every self-booking change is audited under."""
    return Actor(
        user_id=None,
        username=ACTOR_NAME,
        workstation="web:/book",
        address=(address or "")[:64] or None,
    )


# --- rate limiting --------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    hits: int
    window_seconds: int


@dataclass(frozen=True)
class BookingLimits:
    """Per-address and per-identifier budgets. Defaults suit a real patient comfortably."""

    reads_per_address: Limit = Limit(300, 60)
    writes_per_address: Limit = Limit(20, 600)
    attempts_per_mrn: Limit = Limit(10, 3600)
    attempts_per_reference: Limit = Limit(10, 3600)


DEFAULT_LIMITS = BookingLimits()


def _keyed(secret: str, kind: str, value: str) -> str:
    """A rate-limit key that does not store the identifier itself."""
    digest = hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:40]}"


def address_key(scope: str, address: str | None) -> str:
    return f"addr:{scope}:{(address or 'unknown')[:64]}"


def mrn_key(secret: str, mrn: str, mrn_prefix: str) -> str:
    """Keyed by the canonical MRN, so re-typing one number differently (dashes, dots, no
    prefix, no check digit) counts against the same budget."""
    try:
        candidates = mrn_rules.mrn_candidates(mrn, mrn_prefix)
    except (ValueError, TypeError):
        candidates = []
    canonical = candidates[0] if candidates else re.sub(r"[\s\-./]", "", mrn).upper()
    return _keyed(secret, "mrn", canonical)


def reference_key(secret: str, reference: str) -> str:
    return _keyed(secret, "ref", normalize_reference(reference) or reference.strip().upper())


def hit_rate_limits(
    uow: UnitOfWork, buckets: list[tuple[str, Limit]], now: datetime | None = None
) -> None:
    """Count one hit in each bucket (atomically, committed at once); 429 with Retry-After if
    any bucket is over its budget."""
    retry_after = 0
    with uow:
        # Database time, so every server process judges windows by the same clock.
        counters = uow.repo(RateLimitRepository)
        now = now or counters.database_now() or utcnow()
        for key, limit in buckets:
            hits, window_start = counters.hit(key, now, limit.window_seconds)
            if hits > limit.hits:
                ends = window_start + timedelta(seconds=limit.window_seconds)
                retry_after = max(retry_after, math.ceil((ends - now).total_seconds()), 1)
        if secrets.randbelow(500) == 0:  # now and then, forget long-finished windows
            counters.forget_before(now - timedelta(days=1))
        uow.commit()
    if retry_after:
        raise TooManyAttemptsError(
            "Too many attempts from here. Please wait a little and try again.",
            extra={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


# --- reading what can be booked -------------------------------------------------------------


@dataclass(frozen=True)
class BookableDoctor:
    id: int
    name: str
    specialty: str


@dataclass(frozen=True)
class BookableDepartment:
    id: int
    name: str
    location: str | None
    doctors: list[BookableDoctor]


def list_bookable(uow: UnitOfWork) -> list[BookableDepartment]:
    """Active departments with their active doctors (names and specialties only)."""
    with uow:
        rows = uow.repo(SchedulingRepository).bookable_doctors()
    departments: dict[int, BookableDepartment] = {}
    for department, doctor in rows:
        entry = departments.setdefault(
            department.id,
            BookableDepartment(department.id, department.name, department.location, []),
        )
        entry.doctors.append(BookableDoctor(doctor.id, doctor.display_name, doctor.specialty))
    return list(departments.values())


@dataclass(frozen=True)
class FreeTime:
    start: datetime
    end: datetime
    location: str | None


def _check_day(day: date, today: date) -> None:
    if day < today or day > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationFailedError(
            f"Choose a date from today up to {MAX_DAYS_AHEAD} days ahead.",
            extra={
                "errors": [{"field": "date", "message": "date out of range", "type": "value_error"}]
            },
        )


def free_times(
    uow: UnitOfWork, *, doctor_id: int, day: date, now: datetime | None = None
) -> list[FreeTime]:
    """The free regular slots of one doctor's day (overbook places are for staff only)."""
    now = now or utcnow()
    _check_day(day, uow.hospital.local(now).date())
    views = scheduling.list_slots(uow, doctor_id=doctor_id, day=day, now=now)
    return [FreeTime(v.start, v.end, v.location) for v in views if v.available]


# --- identity ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExistingPatient:
    mrn: str
    date_of_birth: date


@dataclass(frozen=True)
class NewPatient:
    given_name: str
    family_name: str
    date_of_birth: date
    phone: str
    email: str | None = None


def _same_date(a: date | None, b: date) -> bool:
    left = (a.isoformat() if a else "0000-00-00").encode()
    return hmac.compare_digest(left, b.isoformat().encode())


def _verify(uow: UnitOfWork, who: ExistingPatient, mrn_prefix: str) -> Patient | None:
    """The patient if MRN and date of birth match; ``None`` otherwise, having done the same
    work either way (one query, one constant-time compare, one audit row)."""
    try:
        candidates = mrn_rules.mrn_candidates(who.mrn, mrn_prefix)
    except (ValueError, TypeError):
        candidates = []
    found = uow.repo(PatientRepository).by_mrn(candidates or ["-"])
    matches = _same_date(found.date_of_birth if found else None, who.date_of_birth)
    if found is not None and matches:
        return patient_service.resolve_survivor(uow, found)
    uow.audit(
        CATEGORY,
        "self_booking.verify",
        outcome="failure",
        patient_id=found.id if found else None,
        detail={"reason": "not_verified"},
    )
    return None


# --- booking and cancelling ---------------------------------------------------------------------


@dataclass(frozen=True)
class SelfBooking:
    appointment: Appointment
    doctor: str
    department: str
    new_mrn: str | None
    #: How the patient was found: ``verified`` (MRN + birth date), ``matched`` (a new-patient
    #: form that confidently matched an existing record), ``registered`` (a new record).
    identity: str = "verified"


def _patient_for_new_form(
    uow: UnitOfWork, who: NewPatient, *, mrn_prefix: str, today: date
) -> tuple[Patient, str]:
    """The record a "new patient" form books for, after the same duplicate check as the
    reception desk: a confident match (same name, exact birth date and phone) is the
    existing record; otherwise a new record is registered, and any possible match is
    flagged for reception to review. Returns ``(patient, "matched" | "registered")``."""
    given, family = (
        patient_rules.clean_name(who.given_name),
        patient_rules.clean_name(who.family_name),
    )
    key = patient_rules.PersonKey(given, family, who.date_of_birth, False, who.phone, None)
    candidates = patient_service.find_duplicates(uow, key)
    confident = [c for c in candidates if c.confident]
    if confident:
        chosen = confident[0]
        patient = uow.repo(PatientRepository).get(chosen.id)
        assert patient is not None
        # Two existing records both matching with certainty are duplicates of each other.
        if confident[1:]:
            duplicates.flag_possible_duplicates(
                uow, chosen.id, confident[1:], source="self_booking"
            )
        uow.audit(
            CATEGORY,
            "self_booking.matched_existing",
            patient_id=patient.id,
            detail={"candidates": len(candidates)},
        )
        return patient, "matched"
    patient = patient_service.register_patient(
        uow,
        mrn_prefix=mrn_prefix,
        given_name=who.given_name,
        family_name=who.family_name,
        sex="unknown",
        date_of_birth=who.date_of_birth,
        phone=who.phone,
        email=who.email,
        confirm_new=True,
        today=today,
    )
    if candidates:
        duplicates.flag_possible_duplicates(uow, patient.id, candidates, source="self_booking")
    return patient, "registered"


def book(
    uow: UnitOfWork,
    *,
    who: ExistingPatient | NewPatient,
    doctor_id: int,
    start: datetime,
    mrn_prefix: str,
    type_code: str = "new",
    now: datetime | None = None,
) -> SelfBooking:
    """Book a free slot for a verified existing patient or one filled in as new.

    A "new patient" form runs the reception desk's duplicate check
    (``_patient_for_new_form``): a confident match books for the existing record, a possible
    match registers a new record and flags the pair for reception's review list. Candidates
    are never shown to the public, and the answer does not say whether a record matched
    (only a newly registered record's MRN is given). Everything — the patient, the
    appointment, its messages, the flags, the audit rows — commits together or not at all.
    """
    now = now or utcnow()
    if start.tzinfo is not None and start < now:
        raise ValidationFailedError("That time has already passed. Please choose another.")
    new_mrn = None
    identity = "verified"
    failed = False
    with uow:
        if isinstance(who, ExistingPatient):
            patient = _verify(uow, who, mrn_prefix)
            if patient is None:
                uow.commit()  # keep the audit row of the failed attempt
                failed = True
        else:
            patient, identity = _patient_for_new_form(
                uow, who, mrn_prefix=mrn_prefix, today=uow.hospital.local(now).date()
            )
            new_mrn = patient.mrn if identity == "registered" else None
        if not failed:
            assert patient is not None
            appointment = appointments.book_appointment(
                uow,
                patient_id=patient.id,
                doctor_id=doctor_id,
                start=start,
                type_code=type_code,
                source="self",
                now=now,
            )
            scheduling_rows = uow.repo(SchedulingRepository)
            doctor = scheduling_rows.doctor(appointment.doctor_id)
            department = scheduling_rows.department(doctor.department_id) if doctor else None
            uow.audit(
                CATEGORY,
                "appointment.self_book",
                patient_id=patient.id,
                detail={
                    "appointment_id": appointment.id,
                    "doctor_id": doctor_id,
                    "new_patient": new_mrn is not None,
                    "identity": identity,
                    "source": "self",
                },
            )
            uow.commit()
    if failed:
        raise VerificationFailedError(NOT_VERIFIED)
    return SelfBooking(
        appointment,
        doctor.display_name if doctor else "",
        department.name if department else "",
        new_mrn,
        identity,
    )


def normalize_reference(value: str) -> str | None:
    """``abcd efgh`` / ``ABCD-EFGH`` → ``ABCD-EFGH``; ``None`` if it cannot be a reference."""
    compact = re.sub(r"[\s\-]", "", value or "").upper()
    if not _REFERENCE_CHARS.match(compact):
        return None
    return f"{compact[:4]}-{compact[4:]}"


def cancel(
    uow: UnitOfWork, *, reference: str, date_of_birth: date, now: datetime | None = None
) -> Appointment:
    """Cancel a booking by reference + date of birth (same answer for either being wrong).

    Cancelling an already-cancelled booking answers the cancelled booking again; one that
    has started, or that the patient has checked in for, can no longer be cancelled online.
    """
    now = now or utcnow()
    normalized = normalize_reference(reference)
    failed = False
    with uow:
        appointment = uow.repo(AppointmentRepository).by_reference(normalized or "-")
        patient = uow.repo(PatientRepository).get(appointment.patient_id) if appointment else None
        if not (
            _same_date(patient.date_of_birth if patient else None, date_of_birth)
            and appointment is not None
        ):
            uow.audit(
                CATEGORY,
                "self_booking.verify",
                outcome="failure",
                patient_id=appointment.patient_id if appointment else None,
                detail={"reason": "not_verified", "action": "cancel"},
            )
            uow.commit()
            failed = True
        else:
            if appointment.status == "cancelled":
                return appointment
            if appointment.status != "booked" or appointment.starts_at <= now:
                raise ConflictError(
                    "This appointment can no longer be cancelled online. Please call the hospital.",
                    extra={"reason": "not_cancellable"},
                )
            appointments.cancel_appointment(
                uow, appointment.id, reason=CANCEL_REASON, by_patient=True
            )
            uow.audit(
                CATEGORY,
                "appointment.self_cancel",
                patient_id=appointment.patient_id,
                detail={"appointment_id": appointment.id},
            )
            uow.commit()
    if failed:
        raise VerificationFailedError(NOT_VERIFIED)
    assert appointment is not None
    return appointment
