"""Demo scheduling: departments, doctors with weekly schedules, appointments over the coming
days and a queue for today (some done, one in consultation, some waiting).

Idempotent: departments, doctors and schedules are created only when missing; appointments
and today's queue only when the database has no appointments yet. Everything goes through
the services, so audit rows and events are written as in real use.
"""

from __future__ import annotations

import logging
from datetime import date, time, timedelta

from sqlalchemy import func, select

from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import Appointment, Department, Doctor, ScheduleTemplate
from hms_server.domain.errors import DomainError
from hms_server.domain.scheduling import SessionTemplate, Slot
from hms_server.seed.demo import DEMO_PASSWORD, SeedContext
from hms_server.services import appointments, queue, scheduling
from hms_server.services.users import create_user

SEED_ORDER = 20
log = logging.getLogger("hms_server.seed")

DEPARTMENTS = [
    ("General Medicine", "Block A, ground floor"),
    ("Paediatrics", "Block B, first floor"),
    ("Cardiology", "Block C, second floor"),
    ("Orthopaedics", "Block A, first floor"),
    ("Obstetrics & Gynaecology", "Block D, ground floor"),
]

# username, full name, department, specialty; "doctor" is the existing demo account.
DOCTORS = [
    ("doctor", None, "General Medicine", "General Medicine"),
    ("dr.amara", "Dr. Amara Nwosu", "General Medicine", "Family Medicine"),
    ("dr.lindqvist", "Dr. Erik Lindqvist", "General Medicine", "Internal Medicine"),
    ("dr.chen", "Dr. Li Chen", "Paediatrics", "Paediatrics"),
    ("dr.garcia", "Dr. Lucía García", "Paediatrics", "Neonatology"),
    ("dr.iyer", "Dr. Priya Iyer", "Cardiology", "Cardiology"),
    ("dr.haddad", "Dr. Karim Haddad", "Cardiology", "Cardiology"),
    ("dr.mueller", "Dr. Jürgen Müller", "Orthopaedics", "Orthopaedics"),
    ("dr.obrien", "Dr. Siobhán O'Brien", "Orthopaedics", "Sports Medicine"),
    ("dr.sato", "Dr. Yui Sato", "Obstetrics & Gynaecology", "Obstetrics"),
    ("dr.kowalczyk", "Dr. Zofia Kowalczyk", "Obstetrics & Gynaecology", "Gynaecology"),
]

BOOKING_DAYS = 5
BOOKINGS_PER_DOCTOR_DAY = 5


def _weekly(index: int, username: str) -> list[SessionTemplate]:
    """Mon–Fri mornings, some afternoons, and a weekend morning clinic, so every doctor has
    free slots on any coming day; the demo doctor works 08:00–18:00 daily (so today always
    has a queue to show)."""
    room = f"Room {index + 1}"
    if username == "doctor":
        return [SessionTemplate(d, time(8), time(18), 15, 1, room) for d in range(7)]
    sessions = []
    for d in range(5):
        sessions.append(SessionTemplate(d, time(9), time(12, 30), 15, 1, room))
        if (d + index) % 2 == 0:
            sessions.append(SessionTemplate(d, time(14), time(17), 20, 0, room))
    sessions += [SessionTemplate(d, time(9), time(12), 15, 0, room) for d in (5, 6)]
    return sessions


def _ensure_doctors(ctx: SeedContext) -> list[int]:
    with ctx.session_factory() as s:
        departments = {d.name: d.id for d in s.scalars(select(Department))}
    for name, location in DEPARTMENTS:
        if name not in departments:
            departments[name] = scheduling.create_department(
                ctx.uow(), name=name, location=location
            ).id
    doctor_ids = []
    for index, (username, full_name, department, specialty) in enumerate(DOCTORS):
        with ctx.session_factory() as s:
            user = s.scalar(select(User).where(func.lower(User.username) == username))
            doctor = s.scalar(select(Doctor).where(Doctor.user_id == user.id)) if user else None
            has_schedule = doctor is not None and s.scalar(
                select(func.count())
                .select_from(ScheduleTemplate)
                .where(ScheduleTemplate.doctor_id == doctor.id)
            )
        if user is None:
            if full_name is None:
                continue  # the demo account was not created; nothing to link
            user = create_user(
                ctx.uow(),
                ctx.settings,
                username=username,
                full_name=full_name,
                roles=["doctor"],
                password=DEMO_PASSWORD,
            ).user
        if doctor is None:
            doctor = scheduling.create_doctor(
                ctx.uow(),
                user_id=user.id,
                department_id=departments[department],
                specialty=specialty,
            )
        if not has_schedule:
            scheduling.replace_templates(ctx.uow(), doctor.id, _weekly(index, username))
        doctor_ids.append(doctor.id)
    return doctor_ids


def _day_slots(ctx: SeedContext, doctor_id: int, day: date) -> list[Slot]:
    work = ctx.uow()
    with work:
        return scheduling.doctor_day_slots(work, doctor_id, day)


def _book_upcoming(ctx: SeedContext, doctor_ids: list[int], patients: list[int]) -> int:
    booked = 0
    today = ctx.runtime.hospital.today()
    cursor = 0
    for offset in range(1, BOOKING_DAYS + 1):
        day = today + timedelta(days=offset)
        for doctor_id in doctor_ids:
            slots = _day_slots(ctx, doctor_id, day)
            picks = ctx.rng.sample(slots, min(BOOKINGS_PER_DOCTOR_DAY, len(slots)))
            for slot in sorted(picks, key=lambda x: x.start):
                patient = patients[cursor % len(patients)]
                cursor += 1
                try:
                    appointments.book_appointment(
                        ctx.uow(),
                        patient_id=patient,
                        doctor_id=doctor_id,
                        start=slot.start,
                        type_code=ctx.rng.choice(["new", "follow_up"]),
                        reason=ctx.rng.choice(
                            [
                                "Check-up",
                                "Follow-up visit",
                                "Back pain",
                                "Blood pressure review",
                                "Cough",
                                None,
                            ]
                        ),
                    )
                    booked += 1
                except DomainError:
                    continue  # a random pick overlapped; skip it
    return booked


def _queue_today(ctx: SeedContext, doctor_id: int, patients: list[int]) -> None:
    """Eight bookings today for the demo doctor: three seen, one in consultation, two
    waiting, two not yet arrived."""
    hospital = ctx.runtime.hospital
    now = hospital.now()
    slots = _day_slots(ctx, doctor_id, now.date())
    if not slots:
        return
    day_start, _ = hospital.day_bounds(now.date())
    middle = max(
        0,
        min(
            len(slots) - 8,
            next((i for i, sl in enumerate(slots) if sl.start >= now), len(slots)) - 5,
        ),
    )
    chosen = slots[middle : middle + 8]
    entries = []
    for i, slot in enumerate(chosen):
        try:
            appointment = appointments.book_appointment(
                ctx.uow(),
                patient_id=patients[-(i + 1)],
                doctor_id=doctor_id,
                start=slot.start,
                reason="Consultation",
                now=day_start,
            )
        except DomainError:
            continue
        if i < 6:
            arrived = now - timedelta(minutes=95 - 15 * i)
            entries.append((queue.check_in(ctx.uow(), appointment.id, now=arrived), arrived))
    for i, (entry, arrived) in enumerate(entries[:4]):
        called = arrived + timedelta(minutes=8 + 3 * i)
        queue.call_patient(ctx.uow(), entry.id, now=called)
        queue.start_consultation(ctx.uow(), entry.id, now=called + timedelta(minutes=1))
        if i < 3:
            queue.complete_consultation(ctx.uow(), entry.id, now=called + timedelta(minutes=12))


def seed(ctx: SeedContext) -> None:
    doctor_ids = _ensure_doctors(ctx)
    with ctx.session_factory() as s:
        if s.scalar(select(func.count()).select_from(Appointment)):
            return
        patients = list(
            s.scalars(
                select(Patient.id)
                .where(Patient.merged_into_id.is_(None))
                .order_by(Patient.id)
                .limit(400)
            )
        )
        demo_doctor = s.scalar(
            select(Doctor.id).join(User, User.id == Doctor.user_id).where(User.username == "doctor")
        )
    if len(patients) < 20:
        log.info("seed scheduling: too few patients for demo appointments; skipped")
        return
    booked = _book_upcoming(ctx, doctor_ids, patients[: len(patients) - 10])
    if demo_doctor is not None:
        _queue_today(ctx, demo_doctor, patients)
    log.info("seed scheduling: %d doctors, %d upcoming appointments", len(doctor_ids), booked)
