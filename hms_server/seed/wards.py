"""Demo wards: one of each class (general, semi-private, private, ICU) with rooms and beds,
the demo nurses assigned, patients admitted days ago with inpatient medication orders (doses
given, due now and overdue), nursing assessments, tasks, fluid balance, manual vitals on the
wards and monitor vitals in the ICU (through the real HL7 listener pipeline), some beds
waiting to be cleaned or blocked, and the bed-days charged so far.

Everything goes through the area's services; the only shortcut is the clock: admissions are
created now and then moved back in time (``_backdate``) so the demo has a history and doses
that are overdue. Idempotent: skipped when the medical ward exists.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from random import Random
from typing import Any

from sqlalchemy import func, select, text

from hms_server.adapters.hl7.monitor_simulator import Bed as MonitorBed
from hms_server.adapters.hl7.monitor_simulator import Vitals, oru_message
from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.mar import MedicationOrder
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.prescribing import Drug
from hms_server.adapters.orm.wards import Admission, Ward
from hms_server.adapters.repositories.mar import MarRepository
from hms_server.adapters.uow import Actor
from hms_server.domain.errors import DomainError
from hms_server.domain.mar import Frequency, dose_times
from hms_server.domain.ports import ScannedMedication
from hms_server.domain.prescribing import PrescribingConflictError
from hms_server.seed.demo import DEMO_PASSWORD, SeedContext
from hms_server.services import admissions as adt
from hms_server.services import bed_days, device_vitals, mar, nursing, prescribing
from hms_server.services import users as user_service
from hms_server.services import wards as ward_service

SEED_ORDER = 40
log = logging.getLogger("hms_server.seed")

# code, name, class, gender policy, rooms: [(label, policy, beds)]
WARDS = [
    (
        "MED-A",
        "Medical Ward A",
        "general",
        "mixed",
        [("Bay A", "female", 6), ("Bay B", "male", 6), ("Bay C", "mixed", 6)],
    ),
    (
        "SUR-B",
        "Surgical Ward B",
        "semi_private",
        "mixed",
        [(f"Room {n}", "mixed", 2) for n in range(1, 5)],
    ),
    ("PRV", "Private Wing", "private", "mixed", [(f"Suite {n}", "mixed", 1) for n in range(1, 7)]),
    ("ICU", "Intensive Care Unit", "icu", "mixed", [("ICU", "mixed", 8)]),
]
NURSES = [("nurse", ["MED-A", "ICU"]), ("nurse2", ["SUR-B", "PRV"])]
EXTRA_NURSE = ("nurse2", "Grace Mwangi", ["nurse"])
# reason, diagnosis, ICD-10, [(drug, dose, unit, frequency, duration days)]
CASES = [
    (
        "Community-acquired pneumonia",
        "Pneumonia, unspecified",
        "J18.9",
        [
            ("Amoxicillin", "500", "mg", "every 8 hours", 5),
            ("Paracetamol", "1", "tablet", "every 6 hours as needed", None),
        ],
    ),
    (
        "Heart failure exacerbation",
        "Heart failure, unspecified",
        "I50.9",
        [
            ("Furosemide", "40", "mg", "twice daily", 3),
            ("Spironolactone", "25", "mg", "once daily", 7),
        ],
    ),
    (
        "Cellulitis of the leg",
        "Cellulitis of lower limb",
        "L03.119",
        [("Metronidazole", "400", "mg", "every 8 hours", 5)],
    ),
    (
        "Post-operative care, hip replacement",
        "Presence of artificial hip joint",
        "Z96.649",
        [
            ("Paracetamol", "1", "tablet", "four times daily", 5),
            ("Ondansetron", "8", "mg", "every 8 hours as needed", None),
        ],
    ),
    (
        "COPD exacerbation",
        "COPD with acute exacerbation",
        "J44.1",
        [("Salbutamol", "100", "micrograms", "four times daily", 5)],
    ),
    (
        "Diabetic ketoacidosis",
        "Type 1 diabetes with ketoacidosis",
        "E10.10",
        [("Ondansetron", "8", "mg", "every 8 hours as needed", None)],
    ),
]
FILL = {"MED-A": 0.75, "SUR-B": 0.75, "PRV": 0.5, "ICU": 0.75}


@dataclass
class _Staff:
    doctor: Actor
    nurses: dict[str, Actor]


def _seed_resolver(uow: Any, code: str) -> ScannedMedication:
    """Demo-only medication codes ``SEED-<drug id>`` (the pharmacy's resolver answers real
    GS1 codes in the running system)."""
    drug = uow.repo(MarRepository).drug(int(code.split("-", 1)[1]))
    return ScannedMedication(
        stock_item_id=None,
        drug_id=drug.id,
        strength=drug.strength,
        form=drug.form,
        route=drug.route,
    )


def _user(ctx: SeedContext, username: str) -> User | None:
    with ctx.session_factory() as session:
        return session.scalar(select(User).where(func.lower(User.username) == username))


def _staff(ctx: SeedContext) -> _Staff | None:
    doctor = _user(ctx, "doctor")
    if doctor is None or _user(ctx, "nurse") is None:
        return None
    if _user(ctx, EXTRA_NURSE[0]) is None:
        user_service.create_user(
            ctx.uow(),
            ctx.settings,
            username=EXTRA_NURSE[0],
            full_name=EXTRA_NURSE[1],
            roles=EXTRA_NURSE[2],
            password=DEMO_PASSWORD,
        )
    nurses = {}
    for username, _ in NURSES:
        user = _user(ctx, username)
        assert user is not None
        nurses[username] = Actor(
            user_id=user.id, username=username, roles=("nurse",), workstation="seed"
        )
    return _Staff(
        Actor(user_id=doctor.id, username="doctor", roles=("doctor",), workstation="seed"), nurses
    )


def _build_wards(ctx: SeedContext, staff: _Staff) -> dict[str, list[tuple[int, str, str]]]:
    """Wards, rooms and beds; returns ``code → [(bed id, room label, bed label)]``."""
    manager = Actor.system("seed-demo")
    beds: dict[str, list[tuple[int, str, str]]] = {}
    for code, name, ward_class, policy, rooms in WARDS:
        ward = ward_service.create_ward(
            ctx.uow(manager),
            code=code,
            name=name,
            ward_class=ward_class,
            gender_policy=policy,
            mar_window_minutes=30 if ward_class == "icu" else 60,
        )
        beds[code] = []
        number = 0
        for label, room_policy, count in rooms:
            room = ward_service.add_room(
                ctx.uow(manager), ward.id, label=label, gender_policy=room_policy
            )
            for _ in range(count):
                number += 1
                bed = ward_service.add_bed(
                    ctx.uow(manager),
                    room_id=room.id,
                    label=f"{number:02d}",
                    bed_type="icu" if ward_class == "icu" else "standard",
                )
                beds[code].append((bed.id, label, bed.label))
    for username, codes in NURSES:
        for code in codes:
            ward_id = _ward_id(ctx, code)
            ward_service.assign_nurse(ctx.uow(manager), ward_id, staff.nurses[username].user_id)
    return beds


def _ward_id(ctx: SeedContext, code: str) -> int:
    with ctx.session_factory() as session:
        ward_id = session.scalar(select(Ward.id).where(Ward.code == code))
    assert ward_id is not None
    return ward_id


def _backdate(ctx: SeedContext, admission_id: int, hours: float) -> None:
    """Move an admission (its stays, encounter and medication orders) ``hours`` back."""
    shift = {"a": admission_id, "h": hours}
    with ctx.session_factory() as session, session.begin():
        session.execute(
            text(
                "UPDATE admissions SET admitted_at = admitted_at - "
                "make_interval(secs => :h * 3600) WHERE id = :a"
            ),
            shift,
        )
        session.execute(
            text(
                "UPDATE bed_stays SET started_at = started_at - "
                "make_interval(secs => :h * 3600) WHERE admission_id = :a"
            ),
            shift,
        )
        session.execute(
            text(
                "UPDATE encounters SET started_at = started_at - "
                "make_interval(secs => :h * 3600) WHERE id = (SELECT encounter_id "
                "FROM admissions WHERE id = :a)"
            ),
            shift,
        )
        session.execute(
            text(
                "UPDATE medication_orders SET starts_at = starts_at - "
                "make_interval(secs => :h * 3600), ends_at = ends_at - "
                "make_interval(secs => :h * 3600) WHERE admission_id = :a"
            ),
            shift,
        )
        # A course that now ends sooner loses the doses planned past its end.
        session.execute(
            text(
                "DELETE FROM scheduled_doses d USING medication_orders o WHERE "
                "d.order_id = o.id AND o.admission_id = :a AND d.status = "
                "'scheduled' AND o.ends_at IS NOT NULL AND d.due_at >= o.ends_at"
            ),
            shift,
        )


def _past_doses(ctx: SeedContext, admission_id: int) -> None:
    """Create the doses of the backdated orders between their (new) start and now."""
    now = utcnow()
    zone = ctx.runtime.hospital.zone
    with ctx.session_factory() as session, session.begin():
        repo = MarRepository(session)
        for order in session.scalars(
            select(MedicationOrder).where(
                MedicationOrder.admission_id == admission_id,
                MedicationOrder.status == "active",
                MedicationOrder.prn.is_(False),
            )
        ):
            freq = Frequency(times=tuple(order.schedule_times), every_days=order.every_days)
            repo.add_doses(order, dose_times(freq, order.starts_at, now, zone))


def _give_past_doses(
    ctx: SeedContext, admission: Admission, mrn: str, nurse: Actor, rng: Random
) -> None:
    """Record the past doses as given, except the newest one or two (left overdue)."""
    with ctx.session_factory() as session:
        doses = session.execute(
            text(
                "SELECT d.id, d.due_at, o.drug_id FROM scheduled_doses d JOIN medication_orders o "
                "ON o.id = d.order_id WHERE d.admission_id = :a AND d.status = 'scheduled' AND "
                "d.due_at < now() - interval '75 minutes' ORDER BY d.due_at"
            ),
            {"a": admission.id},
        ).all()
    leave = rng.choice([0, 1, 1, 2])
    for dose in doses[: max(0, len(doses) - leave)]:
        status = "given" if rng.random() > 0.06 else "refused"
        body = mar.AdministrationInput(
            dose_id=dose.id,
            order_id=None,
            patient_barcode=mrn,
            medication_barcode=f"SEED-{dose.drug_id}" if status == "given" else None,
            status=status,
            reason=None if status == "given" else "Patient declined",
            administered_at=dose.due_at + timedelta(minutes=rng.randint(-20, 25)),
        )
        with contextlib.suppress(DomainError):
            mar.record_administration(ctx.uow(nurse), body, _seed_resolver)


def _prescribe(
    ctx: SeedContext, staff: _Staff, patient_id: int, case: tuple[Any, ...], drugs: dict[str, int]
) -> None:
    items = [
        prescribing.ItemInput(
            drug_id=drugs[name],
            dose=Decimal(dose),
            unit=unit,
            route="inhalation" if name == "Salbutamol" else "oral",
            frequency=frequency,
            duration_days=days,
            quantity=Decimal(20),
        )
        for name, dose, unit, frequency, days in case[3]
        if name in drugs
    ]
    # The demo respects its own safety checks: a regimen that conflicts (an allergy, an
    # interaction with the patient's own medicines) is not prescribed.
    with contextlib.suppress(PrescribingConflictError):
        if items:
            prescribing.create_prescription(
                ctx.uow(staff.doctor),
                patient_id=patient_id,
                items=items,
                notes="Inpatient regimen",
                override_reason=None,
                encounter_id=None,
            )


def _manual_vitals(
    ctx: SeedContext, admission_id: int, nurse: Actor, since: datetime, rng: Random
) -> None:
    vitals = Vitals.baseline(rng)
    at = max(since + timedelta(minutes=30), utcnow() - timedelta(hours=24))
    while at < utcnow() - timedelta(minutes=20):
        vitals.step(rng)
        values = {
            "systolic_mmhg": round(vitals.sys),
            "diastolic_mmhg": round(vitals.dia),
            "heart_rate_bpm": round(vitals.hr),
            "respiratory_rate": round(vitals.rr),
            "spo2_pct": round(vitals.spo2),
            "temperature_c": Decimal(f"{vitals.temp:.1f}"),
        }
        nursing.record_ward_vitals(
            ctx.uow(nurse), admission_id, values=values, recorded_at=at, notes=None
        )
        at += timedelta(hours=rng.choice([4, 4, 6]))


def _monitor_vitals(
    ctx: SeedContext, ward_code: str, room: str, bed: str, mrn: str, since: datetime, rng: Random
) -> None:
    """Half-hourly monitor results through the real ORU pipeline (as the listener does)."""
    vitals = Vitals.baseline(rng)
    at = max(since + timedelta(minutes=10), utcnow() - timedelta(hours=8))
    n = 0
    while at < utcnow() - timedelta(minutes=2):
        vitals.step(rng)
        message = oru_message(
            f"ICU-MON-{bed}",
            MonitorBed(ward_code, room, bed, mrn),
            vitals,
            f"SEED-{mrn}-{n}",
            at,
            send_mrn=n % 2 == 0,
        )
        device_vitals.receive_message(ctx.uow(device_vitals.DEVICE_ACTOR), message)
        at += timedelta(minutes=30)
        n += 1


def _nursing_records(
    ctx: SeedContext, admission_id: int, nurse: Actor, rng: Random, icu: bool
) -> None:
    with contextlib.suppress(DomainError):
        nursing.record_assessment(
            ctx.uow(nurse),
            admission_id,
            kind="news2",
            answers={
                "consciousness": "alert" if rng.random() > 0.15 else "confusion",
                "on_oxygen": icu or rng.random() < 0.2,
            },
        )
    nursing.record_assessment(
        ctx.uow(nurse),
        admission_id,
        kind="morse_falls",
        answers={
            "history_of_falling": rng.choice(["no", "yes"]),
            "secondary_diagnosis": "yes",
            "ambulatory_aid": rng.choice(["none", "crutches_cane_walker", "bed_rest"]),
            "iv_or_heparin_lock": "yes" if icu else rng.choice(["no", "yes"]),
            "gait": rng.choice(["normal", "weak", "impaired"]),
            "mental_status": "oriented",
        },
    )
    nursing.record_assessment(
        ctx.uow(nurse),
        admission_id,
        kind="braden",
        answers={
            "sensory_perception": rng.randint(2, 4),
            "moisture": rng.randint(2, 4),
            "activity": 1 if icu else rng.randint(2, 4),
            "mobility": rng.randint(1, 4),
            "nutrition": rng.randint(2, 4),
            "friction_shear": rng.randint(1, 3),
        },
    )
    now = utcnow()
    if icu or rng.random() < 0.4:
        nursing.add_task(
            ctx.uow(nurse),
            admission_id,
            kind="turn",
            title="Turn patient (pressure areas)",
            due_at=now - timedelta(minutes=rng.randint(-90, 40)),
            repeat_every_minutes=120,
            note=None,
        )
    if rng.random() < 0.4:
        nursing.add_task(
            ctx.uow(nurse),
            admission_id,
            kind="dressing",
            title="Dressing change",
            due_at=now + timedelta(minutes=rng.randint(20, 240)),
            repeat_every_minutes=None,
            note=None,
        )
    for hours, kind, route, ml in (
        (6, "intake", "oral", 250),
        (5, "intake", "intravenous", 1000),
        (3, "output", "urine", 400),
        (1, "intake", "oral", 200),
    ):
        nursing.add_fluid(
            ctx.uow(nurse),
            admission_id,
            kind=kind,
            route=route,
            volume_ml=ml + rng.randint(-50, 50),
            recorded_at=now - timedelta(hours=hours),
            note=None,
        )
    nursing.add_nursing_note(
        ctx.uow(nurse),
        admission_id,
        text=rng.choice(
            [
                "Comfortable overnight; eating and drinking; mobilising with one assist.",
                "Pain controlled with regular analgesia. Family visited.",
                "Slept poorly; reassured. Observations stable.",
            ]
        ),
    )


def seed(ctx: SeedContext) -> None:
    with ctx.session_factory() as session:
        if session.scalar(select(Ward.id).where(Ward.code == WARDS[0][0])):
            return
        candidates = list(
            session.execute(
                select(Patient.id, Patient.mrn, Patient.sex)
                .where(Patient.merged_into_id.is_(None))
                .order_by(Patient.id)
                .limit(120)
            ).all()
        )
        drugs = {
            d.generic_name: d.id
            for d in session.scalars(
                select(Drug).where(Drug.generic_name.in_({c[0] for case in CASES for c in case[3]}))
            )
        }
        # The oral forms: "Paracetamol" etc. have several products; take the tablet.
        for name in list(drugs):
            tablet = session.scalar(
                select(Drug.id)
                .where(Drug.generic_name == name, Drug.route.in_(("oral", "inhalation")))
                .order_by(Drug.id)
                .limit(1)
            )
            if tablet:
                drugs[name] = tablet
    staff = _staff(ctx)
    if staff is None or not candidates:
        return
    rng: Random = ctx.rng
    beds = _build_wards(ctx, staff)
    waiting = list(candidates)
    admitted = 0
    for code, _, ward_class, _, _ in WARDS:
        nurse = staff.nurses["nurse" if code in ("MED-A", "ICU") else "nurse2"]
        for bed_id, room, bed_label in beds[code]:
            if rng.random() > FILL[code]:
                continue
            # A patient who fits the bay (single-sex bays); a small demo may run out.
            room_policy = next(
                p for label, p, _ in next(w[4] for w in WARDS if w[0] == code) if label == room
            )
            fits = next((c for c in waiting if room_policy == "mixed" or c[2] == room_policy), None)
            if fits is None:
                continue
            waiting.remove(fits)
            pid, mrn, _sex = fits
            case = rng.choice(CASES)
            admission = adt.admit_patient(
                ctx.uow(staff.doctor),
                adt.AdmitInput(
                    pid,
                    bed_id,
                    case[0],
                    source=rng.choice(["clinic", "emergency"]),
                    diagnosis=case[1],
                    icd10_code=case[2],
                    expected_los_days=rng.randint(3, 10),
                ),
            )
            _prescribe(ctx, staff, pid, case, drugs)
            hours_ago = rng.uniform(14, 4 * 24)
            _backdate(ctx, admission.id, hours_ago)
            _past_doses(ctx, admission.id)
            since = utcnow() - timedelta(hours=hours_ago)
            _give_past_doses(ctx, admission, mrn, nurse, rng)
            if ward_class == "icu":
                _monitor_vitals(ctx, code, room, bed_label, mrn, since, rng)
            else:
                _manual_vitals(ctx, admission.id, nurse, since, rng)
            _nursing_records(ctx, admission.id, nurse, rng, ward_class == "icu")
            admitted += 1
    # A bed waiting to be cleaned and one out of service, as on any real ward.
    manager = Actor.system("seed-demo")
    with ctx.session_factory() as session:
        free_ids = set(session.scalars(text("SELECT id FROM beds WHERE status = 'free'")))
    spare = [bed_id for bed_id, _, _ in beds["MED-A"] if bed_id in free_ids]
    if len(spare) >= 2:
        ward_service.change_bed_status(
            ctx.uow(manager), spare[0], status="cleaning", reason=None, version=None
        )
        ward_service.change_bed_status(
            ctx.uow(manager),
            spare[1],
            status="blocked",
            reason="Broken bed rail, repair ordered",
            version=None,
        )
    charged = bed_days.capture_bed_days(ctx.uow(manager))
    log.info("seeded %d wards, %d admissions, %d bed-days", len(WARDS), admitted, charged)
