"""The ward's round: the due-now list and the shift handover report of one ward.

Both show many patients' clinical detail at once, so both are for the ward's staff: the
nurses assigned to it, and doctors (``services.ward_access.ensure_ward_staff``). Each read
is audited once with the ward and the number of patients shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.wards import Ward
from hms_server.adapters.queries import ward_rounds as q
from hms_server.adapters.repositories.wards import WardRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import NotFoundError
from hms_server.domain.hospital import age_on
from hms_server.domain.mar import DEFAULT_WINDOW_MINUTES
from hms_server.domain.nursing import news2, shift_at
from hms_server.domain.wards import length_of_stay_days
from hms_server.services.ward_access import ensure_ward_staff

CATEGORY = "wards"
#: Observations are due this long after the last ones when no NEWS2 says otherwise.
DEFAULT_OBSERVATION_MINUTES = 4 * 60


@dataclass(frozen=True)
class DueEntry:
    kind: str
    ref_id: int | None
    admission_id: int
    patient_id: int
    patient_name: str
    bed_label: str
    title: str
    due_at: datetime
    overdue: bool


def _news2_row(vitals: object) -> tuple[int | None, str | None, int | None]:
    if vitals is None or getattr(vitals, "id", None) is None:
        return None, None, None
    answers = getattr(vitals, "news2_answers", None) or {}
    score = news2(
        respiratory_rate=vitals.respiratory_rate,  # type: ignore[attr-defined]
        spo2_pct=vitals.spo2_pct,  # type: ignore[attr-defined]
        on_oxygen=answers.get("on_oxygen"),
        systolic_mmhg=vitals.systolic_mmhg,  # type: ignore[attr-defined]
        heart_rate_bpm=vitals.heart_rate_bpm,  # type: ignore[attr-defined]
        consciousness=answers.get("consciousness"),
        temperature_c=vitals.temperature_c,
    )  # type: ignore[attr-defined]
    if not score.parts:
        return None, None, None
    return score.total, score.risk, score.observe_every_minutes


_AMOUNT_UNITS = {"mg", "g", "mcg", "microgram", "micrograms", "ml", "units", "unit", "mmol"}


def _dose_title(d: object) -> str:
    """``Amoxicillin 500 mg oral``; for a count of units the product's strength too:
    ``Paracetamol 1 tablet (500 mg) oral``."""
    name, unit = d.generic_name, d.unit  # type: ignore[attr-defined]
    strength = d.strength  # type: ignore[attr-defined]
    amount = f"{d.dose.normalize():f} {unit}"  # type: ignore[attr-defined]
    if strength and unit.lower() not in _AMOUNT_UNITS:
        amount += f" ({strength})"
    return f"{name} {amount} {d.route}"  # type: ignore[attr-defined]


def _ward(uow: UnitOfWork, ward_id: int) -> Ward:
    ward = uow.repo(WardRepository).ward(ward_id)
    if ward is None:
        raise NotFoundError(f"No ward with id {ward_id}.")
    ensure_ward_staff(uow, ward_id)
    return ward


def due_list(uow: UnitOfWork, ward_id: int, *, within_minutes: int) -> list[DueEntry]:
    """Doses, tasks and observations of the ward's patients due within ``within_minutes``
    (and everything overdue), soonest first."""
    now = utcnow()
    until = now + timedelta(minutes=within_minutes)
    with uow:
        ward = _ward(uow, ward_id)
        window = timedelta(minutes=ward.mar_window_minutes or DEFAULT_WINDOW_MINUTES)
        patients = {p.admission_id: p for p in q.ward_patients(uow.session, ward_id)}
        ids = list(patients)
        out: list[DueEntry] = []
        for d in q.due_doses(uow.session, ids, until):
            p = patients[d.admission_id]
            out.append(
                DueEntry(
                    "dose",
                    d.id,
                    p.admission_id,
                    p.patient_id,
                    p.name,
                    p.bed_label,
                    _dose_title(d),
                    d.due_at,
                    d.due_at + window < now,
                )
            )
        for t in q.open_tasks(uow.session, ids, until):
            p = patients[t.admission_id]
            out.append(
                DueEntry(
                    "task",
                    t.id,
                    p.admission_id,
                    p.patient_id,
                    p.name,
                    p.bed_label,
                    t.title,
                    t.due_at,
                    t.due_at < now,
                )
            )
        vitals = q.latest_vitals(uow.session, ids)
        for admission_id, p in patients.items():
            row = vitals.get(admission_id)
            _, _, every = _news2_row(row)
            last = row.recorded_at if row is not None and row.recorded_at else None
            due_at = (
                (last + timedelta(minutes=every or DEFAULT_OBSERVATION_MINUTES))
                if last
                else p.admitted_at
            )
            if due_at <= until:
                out.append(
                    DueEntry(
                        "vitals",
                        None,
                        admission_id,
                        p.patient_id,
                        p.name,
                        p.bed_label,
                        "Observations (vitals)",
                        due_at,
                        due_at < now,
                    )
                )
        out.sort(key=lambda e: (e.due_at, e.bed_label))
        uow.audit(
            CATEGORY, "due_list.read", detail={"ward_id": ward_id, "patients_shown": len(patients)}
        )
        uow.commit()
        return out


@dataclass
class HandoverEntry:
    admission_id: int
    patient_id: int
    bed_label: str
    patient_name: str
    patient_mrn: str
    age: int
    sex: str
    days_in: int
    diagnosis: str | None
    attending_doctor_name: str | None
    allergies: list[str]
    latest_vitals: str | None
    news2: int | None
    news2_risk: str | None
    falls_risk: str | None
    pressure_risk: str | None
    fluid_balance_ml: int
    overdue_doses: list[str] = field(default_factory=list)
    due_doses: list[str] = field(default_factory=list)
    open_tasks: list[str] = field(default_factory=list)
    recent_notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Handover:
    ward_id: int
    ward_code: str
    ward_name: str
    generated_at: datetime
    shift: str
    occupied: int
    free: int
    patients: list[HandoverEntry]


def _vitals_text(v: object) -> str | None:
    if v is None or getattr(v, "id", None) is None:
        return None
    parts = []
    if v.systolic_mmhg is not None:  # type: ignore[attr-defined]
        parts.append(f"BP {v.systolic_mmhg}/{v.diastolic_mmhg}")  # type: ignore[attr-defined]
    for label, attr, unit in (
        ("HR", "heart_rate_bpm", ""),
        ("RR", "respiratory_rate", ""),
        ("SpO2", "spo2_pct", "%"),
        ("T", "temperature_c", " °C"),
    ):
        value = getattr(v, attr)
        if value is not None:
            parts.append(f"{label} {value}{unit}")
    return ", ".join(parts) or None


def handover(uow: UnitOfWork, ward_id: int, *, hours_ahead: int = 12) -> Handover:
    """The shift handover of a ward: every patient with diagnosis, allergies, newest vitals
    and NEWS2, falls and pressure-ulcer risk, fluid balance of the last 24 h, overdue and
    upcoming doses, open tasks and the nursing notes of the last 24 h."""
    from hms_server.adapters.queries.wards import ward_summaries

    now = utcnow()
    zone, today = uow.hospital.zone, uow.hospital.today()
    with uow:
        ward = _ward(uow, ward_id)
        window = timedelta(minutes=ward.mar_window_minutes or DEFAULT_WINDOW_MINUTES)
        patients = q.ward_patients(uow.session, ward_id)
        ids = [p.admission_id for p in patients]
        vitals = q.latest_vitals(uow.session, ids)
        risks = q.latest_risks(uow.session, ids)
        allergies = q.allergies(uow.session, ids)
        balances = q.fluid_balances(uow.session, ids, now - timedelta(hours=24))
        notes = q.recent_notes(uow.session, ids, now - timedelta(hours=24))
        doses = q.due_doses(uow.session, ids, now + timedelta(hours=hours_ahead))
        tasks = q.open_tasks(uow.session, ids, now + timedelta(hours=hours_ahead))
        entries: dict[int, HandoverEntry] = {}
        for p in patients:
            score, risk, _ = _news2_row(vitals.get(p.admission_id))
            falls = risks.get((p.admission_id, "morse_falls"))
            pressure = risks.get((p.admission_id, "braden"))
            entries[p.admission_id] = HandoverEntry(
                p.admission_id,
                p.patient_id,
                p.bed_label,
                p.name,
                p.mrn,
                age_on(p.date_of_birth, today),
                p.sex,
                length_of_stay_days(p.admitted_at, now, zone),
                p.diagnosis or p.reason,
                p.attending_doctor_name,
                allergies.get(p.admission_id, []),
                _vitals_text(vitals.get(p.admission_id)),
                score,
                risk,
                falls.risk if falls else None,
                pressure.risk if pressure else None,
                balances.get(p.admission_id, 0),
                recent_notes=[
                    f"{uow.hospital.local(n.created_at):%H:%M} {n.author or ''}: {n.body[:300]}"
                    for n in notes.get(p.admission_id, [])[:3]
                ],
            )
        for d in doses:
            entry = entries[d.admission_id]
            label = f"{uow.hospital.local(d.due_at):%H:%M} {_dose_title(d)}"
            (entry.overdue_doses if d.due_at + window < now else entry.due_doses).append(label)
        for t in tasks:
            entries[t.admission_id].open_tasks.append(
                f"{uow.hospital.local(t.due_at):%H:%M} {t.title}"
            )
        summary = ward_summaries(uow.session, ward_ids=[ward_id], include_inactive=True)[0]
        uow.audit(
            CATEGORY, "handover.read", detail={"ward_id": ward_id, "patients_shown": len(patients)}
        )
        uow.commit()
        return Handover(
            ward.id,
            ward.code,
            ward.name,
            now,
            shift_at(now, zone)[1],
            summary.occupied_beds,
            summary.free_beds,
            list(entries.values()),
        )
