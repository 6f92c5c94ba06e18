"""Demo history for the management reports: eight weeks of past clinics and ward stays.

The other seeds make *today* real (bookings ahead, today's queue, patients on the wards
now); a manager's Monday-morning reports look back. So this seed adds, for the 56 days
before today:

- each doctor's past clinics (Monday to Saturday, 5–9 patients a day between 09:00 and
  16:00): most seen (with the queue timestamps a real morning leaves: check-in, call, start,
  completion), some no-shows, some cancelled;
- every bed's past stays, back to back with short gaps, each an admission that was
  discharged (1–8 nights), ending before the bed's current patient arrived (or a day ago).

History cannot be booked through the services (they refuse the past, and the queue stamps
"now"), so the rows are written directly, consistent by construction: no two appointments
of a doctor or of a patient overlap, tokens are unique per doctor and day, no two stays of a
bed overlap. Idempotent: skipped when any appointment lies more than a week back.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, text

from hms_server.adapters.orm.scheduling import Appointment, Doctor, QueueEntry
from hms_server.adapters.orm.wards import Admission, Bed, BedStay, Ward
from hms_server.seed.demo import SeedContext

log = logging.getLogger(__name__)

SEED_ORDER = 45  # after scheduling, wards and billing (it only adds the past)
DAYS = 56
REASONS = (
    "Community-acquired pneumonia",
    "Exacerbation of COPD",
    "Cellulitis of the leg",
    "Elective hip replacement",
    "Chest pain, observation",
    "Diabetic ketoacidosis",
    "Post-operative care",
)


def seed(ctx: SeedContext) -> None:
    """Add the past eight weeks (see the module docstring)."""
    today = ctx.runtime.hospital.today()
    with ctx.session_factory() as session:
        done = session.execute(
            select(Appointment.id).where(
                Appointment.starts_at
                < ctx.runtime.hospital.day_bounds(today)[0] - timedelta(days=7)
            )
        ).first()
        registered: dict[int, datetime] = dict(
            session.execute(text("SELECT id, created_at FROM patients ORDER BY id")).all()
        )
        patients = list(registered)
        doctors = list(session.execute(select(Doctor.id, Doctor.user_id).where(Doctor.active)))
    if done is not None or not patients or not doctors:
        return
    clinics = _past_clinics(ctx, patients, [d for d, _ in doctors], registered)
    stays = _past_stays(ctx, patients, doctors[0][1], registered)
    log.info("reports history: %d past appointments, %d past stays", clinics, stays)


def _past_clinics(
    ctx: SeedContext, patients: list[int], doctors: list[int], registered: dict[int, datetime]
) -> int:
    """Nobody is booked before they registered (see ``registrations``): a patient
    registered lately is booked after, at the earliest an hour before the visit."""
    rng, zone = ctx.rng, ctx.runtime.hospital.zone
    today = ctx.runtime.hospital.today()
    appointments: list[dict[str, Any]] = []
    queue: list[dict[str, Any]] = []
    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        if day.weekday() == 6:
            continue  # no clinics on Sundays
        busy: dict[datetime, set[int]] = {}  # start → patients already booked then
        for doctor in doctors:
            starts = sorted(rng.sample(range(21), rng.randint(5, 9)))  # 20-minute slots
            token = 0
            for slot in starts:
                start = datetime.combine(day, time(9), zone) + timedelta(minutes=20 * slot)
                taken = busy.setdefault(start, set())
                free = [
                    p
                    for p in patients[:400]
                    if p not in taken and registered[p] <= start - timedelta(hours=1)
                ]
                if not free:
                    continue
                patient = rng.choice(free)
                taken.add(patient)
                booked = max(
                    start - timedelta(days=rng.randint(2, 20)),
                    registered[patient] + timedelta(minutes=rng.randint(1, 30)),
                )
                roll = rng.random()
                status = "completed" if roll < 0.82 else "no_show" if roll < 0.91 else "cancelled"
                reference = f"H{back:02d}{doctor:03d}{slot:02d}{rng.randrange(16**6):06X}"
                appointments.append(
                    {
                        "patient_id": patient,
                        "doctor_id": doctor,
                        "starts_at": start,
                        "ends_at": start + timedelta(minutes=15),
                        "overbook_slot": 0,
                        "status": status,
                        "type_code": rng.choice(["new", "follow_up"]),
                        "source": "staff",
                        "reason": None,
                        "cancel_reason": "Patient rescheduled" if status == "cancelled" else None,
                        "booking_reference": reference,
                        "created_at": min(booked, start - timedelta(minutes=30)),
                        "updated_at": start,
                        "version": 1,
                    }
                )
                if status != "completed":
                    continue
                token += 1
                arrived = start - timedelta(minutes=rng.randint(0, 15))
                called = arrived + timedelta(minutes=round(4 + rng.random() ** 2 * 45))
                begun = called + timedelta(minutes=1)
                queue.append(
                    {
                        "reference": reference,
                        "patient_id": patient,
                        "doctor_id": doctor,
                        "queue_date": day,
                        "token": token,
                        "status": "done",
                        "checked_in_at": arrived,
                        "called_at": called,
                        "started_at": begun,
                        "completed_at": begun + timedelta(minutes=rng.randint(7, 26)),
                        "version": 1,
                    }
                )
    with ctx.session_factory() as session, session.begin():
        session.execute(insert(Appointment), appointments)
        ids = dict(
            session.execute(
                select(Appointment.booking_reference, Appointment.id).where(
                    Appointment.booking_reference.in_([q["reference"] for q in queue])
                )
            ).all()
        )
        session.execute(
            insert(QueueEntry),
            [{**q, "appointment_id": ids[q.pop("reference")]} for q in queue],
        )
    return len(appointments)


def _past_stays(
    ctx: SeedContext, patients: list[int], doctor_user_id: int, registered: dict[int, datetime]
) -> int:
    rng, hospital = ctx.rng, ctx.runtime.hospital
    today = hospital.today()
    first = hospital.day_bounds(today - timedelta(days=DAYS))[0]
    now = hospital.now()
    with ctx.session_factory() as session:
        # A bed's history ends before whoever lies in it today arrived (or a day ago).
        taken = dict(
            session.execute(
                select(BedStay.bed_id, BedStay.started_at).where(BedStay.ended_at.is_(None))
            ).all()
        )
        beds = list(
            session.execute(
                select(Bed.id, Bed.ward_id, Ward.ward_class)
                .join(Ward, Ward.id == Bed.ward_id)
                .where(Ward.active)
                .order_by(Bed.id)
            )
        )
    stays: list[tuple[int, int, str, datetime, datetime]] = []
    for bed_id, ward_id, ward_class in beds:
        last = taken.get(bed_id, now - timedelta(hours=30)) - timedelta(hours=2)
        at = first + timedelta(hours=rng.randint(0, 72))
        while True:
            admitted = at + timedelta(hours=rng.randint(9, 17))
            discharged = admitted + timedelta(days=rng.randint(1, 8), hours=rng.randint(-3, 3))
            if discharged >= last:
                break
            stays.append((bed_id, ward_id, ward_class, admitted, discharged))
            at = discharged + timedelta(hours=rng.randint(2, 60))
    free_from: dict[int, datetime] = {}  # patient → when their last past stay ended
    written = 0
    with ctx.session_factory() as session, session.begin():
        for bed_id, ward_id, ward_class, admitted, discharged in sorted(stays, key=lambda s: s[3]):
            # Nobody lies in two beds at once, nor before they registered.
            candidates = [
                p
                for p in patients
                if free_from.get(p, first) <= admitted
                and registered[p] <= admitted - timedelta(hours=1)
            ]
            if not candidates:
                continue
            patient = rng.choice(candidates)
            free_from[patient] = discharged + timedelta(days=3)
            written += 1
            admission = Admission(
                patient_id=patient,
                status="discharged",
                source=rng.choice(["clinic", "emergency"]),
                reason=rng.choice(REASONS),
                admitted_by_user_id=doctor_user_id,
                attending_doctor_user_id=doctor_user_id,
                admitted_at=admitted,
                discharged_at=discharged,
                discharged_by_user_id=doctor_user_id,
                discharge_disposition="home",
                expected_los_days=max(1, (discharged - admitted).days),
                version=1,
            )
            session.add(admission)
            session.flush()
            session.add(
                BedStay(
                    admission_id=admission.id,
                    patient_id=patient,
                    bed_id=bed_id,
                    ward_id=ward_id,
                    ward_class=ward_class,
                    started_at=admitted,
                    ended_at=discharged,
                )
            )
    return written
