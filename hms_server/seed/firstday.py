"""Demo data for the screens a hospital checks on its first day: doctors' registration
numbers (printed on prescriptions), a few patients on the waitlist, a self-booking that
possibly duplicates an existing record (reception's duplicates list), and an emergency
"break the glass" chart access waiting for review (the administrator's list).

Created through the services, as in real use; idempotent (skipped when the waitlist already
has entries).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import Appointment, Doctor, WaitlistEntry
from hms_server.adapters.uow import Actor
from hms_server.domain.errors import DomainError
from hms_server.domain.patients import PersonKey
from hms_server.seed.demo import SeedContext
from hms_server.services import access, appointments, duplicates, scheduling, waitlist
from hms_server.services.patients import find_duplicates, register_patient

SEED_ORDER = 40
log = logging.getLogger("hms_server.seed")

WAITLIST_REASONS = (
    "Wants an earlier appointment",
    "Results to discuss sooner",
    "Can come at short notice",
    None,
)


def _user(ctx: SeedContext, username: str) -> User | None:
    with ctx.session_factory() as session:
        return session.scalars(select(User).where(func.lower(User.username) == username)).first()


def seed(ctx: SeedContext) -> None:
    with ctx.session_factory() as session:
        if session.scalar(select(WaitlistEntry.id).limit(1)) is not None:
            return
        doctors = list(session.scalars(select(Doctor).order_by(Doctor.id)))
        patients = list(
            session.scalars(
                select(Patient)
                .where(Patient.merged_into_id.is_(None))
                .order_by(Patient.id)
                .limit(60)
            )
        )
    if not doctors or len(patients) < 12:
        return
    system = ctx.uow
    # Registration numbers, as a medical council would issue them.
    for n, doctor in enumerate(doctors):
        if doctor.registration_number is None:
            scheduling.update_doctor(
                system(),
                doctor.id,
                version=doctor.version,
                registration_number=f"MC-{704120 + 37 * n}",
            )
    today = ctx.runtime.hospital.today()
    rng = ctx.rng
    cancelling = _tomorrows_booking(ctx)
    if cancelling is not None:  # its doctor's waitlist comes first
        doctors.sort(key=lambda d: d.id != cancelling.doctor_id)
    middle = len(patients) // 2
    for n, patient in enumerate(patients[middle : middle + 6]):
        doctor = doctors[n % len(doctors)]
        waitlist.add_to_waitlist(
            system(),
            patient_id=patient.id,
            doctor_id=doctor.id,
            earliest_date=today + timedelta(days=1),
            latest_date=today + timedelta(days=rng.randint(10, 30)),
            reason=WAITLIST_REASONS[n % len(WAITLIST_REASONS)],
        )
    if cancelling is not None:
        # A patient cancels tomorrow: the freed slot is offered to the first on the
        # waitlist, who is told by SMS through the outbox.
        appointments.cancel_appointment(
            system(), cancelling.id, reason="Patient called: cannot come"
        )
    _seed_possible_duplicate(ctx, patients[7])
    _seed_emergency_access(ctx, patients[-1])
    log.info(
        "seeded first-day screens: registration numbers, waitlist, duplicates, break-the-glass"
    )


def _tomorrows_booking(ctx: SeedContext) -> Appointment | None:
    """A regular booking tomorrow, the one a patient will cancel."""
    start, end = ctx.runtime.hospital.day_bounds(ctx.runtime.hospital.today() + timedelta(days=1))
    with ctx.session_factory() as session:
        return session.scalars(
            select(Appointment)
            .where(
                Appointment.status == "booked",
                Appointment.overbook_slot == 0,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
            .order_by(Appointment.starts_at.desc(), Appointment.id)
            .limit(1)
        ).first()


def _seed_possible_duplicate(ctx: SeedContext, existing: Patient) -> None:
    """Someone booked online as "new" with the same name and birth date but another phone:
    possibly the same person, so a new record is flagged for reception (as /book does)."""
    key = PersonKey(
        existing.given_name,
        existing.family_name,
        existing.date_of_birth,
        False,
        "+44 7700 900461",
        None,
    )
    try:
        new = register_patient(
            ctx.uow(Actor.system("self-booking")),
            mrn_prefix=ctx.settings.mrn_prefix,
            given_name=key.given_name,
            family_name=key.family_name,
            sex="unknown",
            date_of_birth=key.date_of_birth,
            phone=key.phone,
            confirm_new=True,
        )
    except DomainError:
        return
    work = ctx.uow()
    with work:
        candidates = [c for c in find_duplicates(work, key) if c.id != new.id]
    if candidates:
        duplicates.flag_possible_duplicates(
            ctx.uow(Actor.system("self-booking")), new.id, candidates, source="self_booking"
        )


def _seed_emergency_access(ctx: SeedContext, patient: Patient) -> None:
    """The night nurse opened a chart outside her care team, with a reason."""
    nurse = _user(ctx, "nurse")
    if nurse is None:
        return
    actor = Actor(
        user_id=nurse.id,
        username=nurse.username,
        roles=tuple(nurse.roles),
        workstation="WARD-3-STATION",
    )
    try:
        access.break_glass(
            ctx.uow(actor),
            patient_id=patient.id,
            reason="Found collapsed in the corridor outside clinic 4; "
            "checking allergies before giving anything",
        )
    except DomainError:
        return
