"""Demo clinical data: encounters with signed notes, vitals series, allergies, problems,
prescriptions and lab results for a subset of demo patients, cared for by the demo
``doctor`` (and some by the demo ``nurse``), so the clinical workspace has data to show.

Created through the same services the API uses; idempotent (skipped when the demo doctor
has already written notes). The services stamp what they write with the current time, so
the history is then moved to when it happened (the visit's time, the result a day later):
a chart reads like months of care, every entry names its author, and every past visit is
closed. The audit trail keeps the real (seeding) times.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from random import Random

from sqlalchemy import func, select, update

from hms_server.adapters.orm.base import Base, utcnow
from hms_server.adapters.orm.clinical import ClinicalNote, LabTest
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.prescribing import Drug
from hms_server.adapters.orm.scheduling import Appointment, Doctor
from hms_server.adapters.uow import Actor, UnitOfWork
from hms_server.domain.prescribing import PrescribingConflictError
from hms_server.seed.demo import SeedContext
from hms_server.services import clinical, encounters, labs, prescribing
from hms_server.services.access import add_care_team_member

SEED_ORDER = 30
log = logging.getLogger("hms_server.seed")

CHARTED_PATIENTS = 40
ORAL_FORMS = ("tablet", "capsule")
NURSE_SHARE = 3  # every third charted patient also has the demo nurse on the care team

# (ICD-10-CM, drug generic name or None, lab code or None, complaint)
CONDITIONS = [
    ("I10", "Amlodipine", "CREAT", "Blood pressure review"),
    ("E11.9", "Metformin", "HBA1C", "Diabetes follow-up"),
    ("J45.909", "Salbutamol", None, "Wheeze and cough"),
    ("E78.5", "Atorvastatin", "CHOL", "Cholesterol check"),
    ("K21.9", "Omeprazole", None, "Heartburn"),
    ("M54.50", "Paracetamol", None, "Low back pain"),
    ("E03.9", "Levothyroxine", "TSH", "Tiredness, thyroid follow-up"),
    ("F32.A", "Sertraline", None, "Low mood"),
]
ALLERGIES = [
    ("Penicillin", "Urticaria", "severe"),
    ("Sulfonamides", "Rash", "moderate"),
    ("Peanut", "Lip swelling", "severe"),
    ("Latex", "Contact dermatitis", "mild"),
    ("Codeine", "Nausea and vomiting", "mild"),
]
LAB_VALUES = {
    "CREAT": (0.6, 1.6),
    "HBA1C": (5.2, 9.5),
    "CHOL": (150, 280),
    "TSH": (0.3, 6.0),
    "HGB": (10.5, 16.5),
    "K": (3.3, 5.6),
}


def _user_id(ctx: SeedContext, username: str) -> int | None:
    with ctx.session_factory() as session:
        return session.scalar(select(User.id).where(func.lower(User.username) == username))


def _soap(rng: Random, complaint: str, problem: str) -> dict[str, str | None]:
    return {
        "subjective": f"{complaint}. Symptoms for {rng.randint(2, 21)} days; no fever.",
        "objective": "Alert and oriented. Chest clear, heart sounds normal, abdomen soft.",
        "assessment": f"{problem}: stable."
        if rng.random() < 0.7
        else f"{problem}: not yet at target.",
        "plan": rng.choice(
            [
                "Continue current treatment; review in 3 months.",
                "Adjust dose; blood tests before next visit.",
                "Lifestyle advice given; follow up in 6 weeks.",
            ]
        ),
        "body": None,
    }


def _vitals(rng: Random, height: Decimal, weight: float) -> dict[str, object]:
    systolic = rng.randint(108, 168)
    return {
        "systolic_mmhg": systolic,
        "diastolic_mmhg": rng.randint(64, min(104, systolic - 20)),
        "heart_rate_bpm": rng.randint(58, 104),
        "respiratory_rate": rng.randint(12, 20),
        "temperature_c": Decimal(str(round(rng.uniform(36.2, 37.9), 1))),
        "spo2_pct": rng.randint(94, 99),
        "weight_kg": Decimal(str(round(weight, 1))),
        "height_cm": height,
    }


def seed(ctx: SeedContext) -> None:
    doctor_id = _user_id(ctx, "doctor")
    nurse_id = _user_id(ctx, "nurse")
    if doctor_id is None:
        return
    with ctx.session_factory() as session:
        # Scheduling's seed may already have opened today's consultations; notes are ours.
        if session.scalar(
            select(ClinicalNote.id).where(ClinicalNote.author_user_id == doctor_id).limit(1)
        ):
            return
        # The demo doctor's booked patients first (today's list opens on a real chart),
        # then others up to the quota.
        booked = list(
            dict.fromkeys(
                session.scalars(
                    select(Appointment.patient_id)
                    .join(Doctor, Doctor.id == Appointment.doctor_id)
                    .where(Doctor.user_id == doctor_id)
                    .order_by(Appointment.starts_at)
                )
            )
        )
        others = list(
            session.scalars(
                select(Patient.id)
                .where(Patient.merged_into_id.is_(None), Patient.id.not_in(booked or [0]))
                .order_by(Patient.id)
                .limit(CHARTED_PATIENTS)
            )
        )
        patient_ids = (booked + others)[:CHARTED_PATIENTS]
        # One product per generic name, tablets and capsules preferred (several forms share a
        # name: Salbutamol is an inhaler and a nebuliser solution).
        drugs: dict[str, int] = {}
        drug_forms: dict[str, str] = {}
        for d in session.scalars(select(Drug).order_by(Drug.id)):
            if d.generic_name not in drugs or (
                drug_forms[d.generic_name] not in ORAL_FORMS and d.form in (*ORAL_FORMS, "inhaler")
            ):
                drugs[d.generic_name] = d.id
                drug_forms[d.generic_name] = d.form
        lab_tests = {t.code: t.id for t in session.scalars(select(LabTest))}
    if not patient_ids:
        return
    actor = Actor(user_id=doctor_id, username="doctor", roles=("doctor",), workstation="seed")
    nurse = Actor(user_id=nurse_id, username="nurse", roles=("nurse",), workstation="seed")

    def uow(who: Actor = actor) -> UnitOfWork:
        return ctx.uow(who)

    rng = ctx.rng
    now = utcnow()
    for n, pid in enumerate(patient_ids):
        conditions = rng.sample(CONDITIONS, k=rng.choice([1, 1, 2, 2, 3]))
        height = Decimal(str(rng.randint(150, 192)))
        weight = rng.uniform(52, 104)
        visits = rng.randint(2, 5)
        recorder = actor
        if nurse_id is not None and n % NURSE_SHARE == 0:
            _add_nurse(uow(), pid, nurse_id)
            recorder = nurse  # the ward nurse takes the vitals for these patients
        # Visits every one to three months, the last within the past seven weeks, each in
        # clinic hours (08:30-16:30).
        days_ago = sorted(
            (
                sum(rng.randint(30, 90) for _ in range(k)) + rng.randint(3, 45)
                for k in range(visits)
            ),
            reverse=True,
        )
        last_visit = None
        for v, ago in enumerate(days_ago):
            day = (now - timedelta(days=ago)).date()
            started = datetime.combine(day, time(8, 30), tzinfo=UTC) + timedelta(
                minutes=15 * rng.randint(0, 32)
            )
            code, _, _, complaint = conditions[v % len(conditions)]
            enc = encounters.open_encounter(
                uow(),
                patient_id=pid,
                clinician_user_id=doctor_id,
                reason=complaint,
                started_at=started,
            )
            note = clinical.create_note(
                uow(),
                pid,
                encounter_id=enc.id,
                note_type="soap",
                title=complaint,
                text=_soap(rng, complaint, code),
                sign=True,
            )
            _backdate_note(ctx, note.note.id, started + timedelta(minutes=20))
            weight += rng.uniform(-1.5, 1.2)
            clinical.record_vitals(
                uow(recorder),
                pid,
                values=_vitals(rng, height, weight),
                encounter_id=enc.id,
                recorded_at=started + timedelta(minutes=5),
                notes=None,
            )
            # Every past visit is over: none is left "in progress".
            encounters.close_encounter(uow(), enc.id, ended_at=started + timedelta(minutes=25))
            last_visit = (enc.id, started)
        assert last_visit is not None
        encounter_id, seen_at = last_visit
        if rng.random() < 0.45:
            substance, reaction, severity = rng.choice(ALLERGIES)
            allergy = clinical.add_allergy(
                uow(),
                pid,
                substance=substance,
                reaction=reaction,
                severity=severity,
                status="active",
                category="food"
                if substance == "Peanut"
                else "environment"
                if substance == "Latex"
                else "medication",
                kind="allergy",
                onset_date=None,
            )
            first_seen = now - timedelta(days=days_ago[0]) + timedelta(minutes=12)
            _backdate(ctx, "allergies", allergy.id, recorded_at=first_seen, updated_at=first_seen)
        for code, drug_name, lab_code, _ in conditions:
            problem = clinical.add_problem(
                uow(),
                pid,
                icd10_code=code,
                description=None,
                status="active",
                onset_date=None,
                notes=None,
                encounter_id=encounter_id,
            )
            _backdate(
                ctx,
                "problems",
                problem.id,
                recorded_at=seen_at + timedelta(minutes=15),
                updated_at=seen_at + timedelta(minutes=15),
            )
            if drug_name and drug_name in drugs:
                item = _long_term_item(drugs[drug_name], drug_forms[drug_name], rng)
                # The demo respects its own safety checks: a conflicting drug is skipped.
                with contextlib.suppress(PrescribingConflictError):
                    rx = prescribing.create_prescription(
                        uow(),
                        patient_id=pid,
                        items=[item],
                        notes=None,
                        override_reason=None,
                        encounter_id=encounter_id,
                    )
                    _backdate(
                        ctx,
                        "prescriptions",
                        rx.prescription.id,
                        created_at=seen_at + timedelta(minutes=22),
                    )
            for code_ in [c for c in (lab_code, "HGB", "K") if c and c in lab_tests][:2]:
                low, high = LAB_VALUES[code_]
                order = labs.order_lab(
                    uow(),
                    pid,
                    test_id=lab_tests[code_],
                    test_code=None,
                    priority="routine",
                    notes=None,
                    encounter_id=encounter_id,
                )
                result = labs.record_lab_result(
                    uow(),
                    pid,
                    order.order.id,
                    value_numeric=Decimal(str(round(rng.uniform(low, high), 1))),
                    value_text=None,
                    comment=None,
                )
                _backdate(
                    ctx, "lab_orders", order.order.id, ordered_at=seen_at + timedelta(minutes=18)
                )
                if result.result is not None:
                    _backdate(
                        ctx,
                        "lab_results",
                        result.result.id,
                        resulted_at=seen_at + timedelta(days=1, hours=3),
                    )
    log.info("seeded charts for %d patients", len(patient_ids))


def _backdate(ctx: SeedContext, table: str, row_id: int, **stamps: datetime) -> None:
    """Move a seeded row's time stamps to when it happened (demo data only)."""
    columns = Base.metadata.tables[table].c
    values = {k: v for k, v in stamps.items() if k in columns}
    with ctx.session_factory() as session, session.begin():
        session.execute(
            update(Base.metadata.tables[table]).where(columns.id == row_id).values(**values)
        )


def _backdate_note(ctx: SeedContext, note_id: int, at: datetime) -> None:
    _backdate(ctx, "clinical_notes", note_id, created_at=at)
    versions = Base.metadata.tables["clinical_note_versions"]
    with ctx.session_factory() as session, session.begin():
        session.execute(
            update(versions)
            .where(versions.c.note_id == note_id)
            .values(created_at=at, signed_at=at + timedelta(minutes=3))
        )


def _add_nurse(work: UnitOfWork, patient_id: int, nurse_id: int) -> None:
    with work:
        add_care_team_member(
            work, patient_id=patient_id, user_id=nurse_id, role="nurse", source="manual"
        )
        work.commit()


def _long_term_item(drug_id: int, form: str, rng: Random) -> prescribing.ItemInput:
    """A repeat prescription dosed as its form is: puffs from an inhaler, tablets by mouth."""
    if form == "inhaler":
        return prescribing.ItemInput(
            drug_id=drug_id,
            dose=Decimal(2),
            unit="puff",
            route="inhalation",
            frequency="four times daily as needed",
            duration_days=90,
            quantity=Decimal(1),
        )
    return prescribing.ItemInput(
        drug_id=drug_id,
        dose=Decimal(1),
        unit=form if form in ORAL_FORMS else "tablet",
        route="oral",
        frequency=rng.choice(["once daily", "twice daily"]),
        duration_days=180,
        quantity=Decimal(180),
    )
