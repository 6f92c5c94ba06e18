"""Read-side queries for the ward's round: what is due now on a ward (doses, care tasks,
observations) and the facts of the shift handover report, each one query over the ward's
open admissions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_PATIENTS = text("""
    SELECT a.id AS admission_id, a.patient_id, a.admitted_at, a.diagnosis, a.reason,
           b.label AS bed_label, p.given_name, p.family_name, p.mrn, p.sex, p.date_of_birth,
           u.full_name AS attending_doctor_name
    FROM admissions a
    JOIN beds b ON b.id = a.current_bed_id
    JOIN rooms r ON r.id = b.room_id
    JOIN patients p ON p.id = a.patient_id
    LEFT JOIN users u ON u.id = a.attending_doctor_user_id
    WHERE a.status = 'admitted' AND b.ward_id = :ward_id
    ORDER BY r.label, b.label, b.id
""")

_DOSES = text("""
    SELECT d.id, d.admission_id, d.due_at, dr.generic_name, dr.strength, o.dose, o.unit,
           o.route
    FROM scheduled_doses d
    JOIN medication_orders o ON o.id = d.order_id
    JOIN drugs dr ON dr.id = o.drug_id
    WHERE d.admission_id = ANY(CAST(:ids AS bigint[])) AND d.status = 'scheduled'
      AND d.due_at <= :until
    ORDER BY d.due_at, d.id
""")

_TASKS = text("""
    SELECT t.id, t.admission_id, t.title, t.due_at
    FROM care_tasks t
    WHERE t.admission_id = ANY(CAST(:ids AS bigint[])) AND t.status = 'open'
      AND t.due_at <= :until
    ORDER BY t.due_at, t.id
""")

_LATEST_VITALS = text("""
    SELECT a.id AS admission_id, v.id, v.recorded_at, v.systolic_mmhg, v.diastolic_mmhg,
           v.heart_rate_bpm, v.respiratory_rate, v.temperature_c, v.spo2_pct,
           n.answers AS news2_answers
    FROM admissions a
    LEFT JOIN LATERAL (
        SELECT * FROM vital_signs vs WHERE vs.patient_id = a.patient_id
          AND vs.recorded_at >= a.admitted_at
        ORDER BY vs.recorded_at DESC, vs.id DESC LIMIT 1) v ON true
    LEFT JOIN LATERAL (
        SELECT na.answers FROM nursing_assessments na
        WHERE na.admission_id = a.id AND na.kind = 'news2'
        ORDER BY na.assessed_at DESC LIMIT 1) n ON true
    WHERE a.id = ANY(CAST(:ids AS bigint[]))
""")

_RISKS = text("""
    SELECT DISTINCT ON (admission_id, kind) admission_id, kind, risk, total
    FROM nursing_assessments
    WHERE admission_id = ANY(CAST(:ids AS bigint[])) AND kind IN ('morse_falls', 'braden')
    ORDER BY admission_id, kind, assessed_at DESC
""")

_ALLERGIES = text("""
    SELECT a.id AS admission_id, al.substance
    FROM admissions a JOIN allergies al ON al.patient_id = a.patient_id
    WHERE a.id = ANY(CAST(:ids AS bigint[])) AND al.status = 'active'
    ORDER BY al.recorded_at
""")

_FLUIDS = text("""
    SELECT admission_id,
           coalesce(sum(volume_ml) FILTER (WHERE kind = 'intake'), 0)
         - coalesce(sum(volume_ml) FILTER (WHERE kind = 'output'), 0) AS balance
    FROM fluid_entries
    WHERE admission_id = ANY(CAST(:ids AS bigint[])) AND recorded_at >= :since
    GROUP BY admission_id
""")

_NOTES = text("""
    SELECT a.id AS admission_id, n.created_at, coalesce(v.body, v.assessment, '') AS body,
           u.full_name AS author
    FROM admissions a
    JOIN clinical_notes n ON n.patient_id = a.patient_id AND n.note_type = 'nursing'
    JOIN clinical_note_versions v ON v.note_id = n.id AND v.version_no = n.current_version
    LEFT JOIN users u ON u.id = n.author_user_id
    WHERE a.id = ANY(CAST(:ids AS bigint[])) AND n.created_at >= :since
    ORDER BY n.created_at DESC
""")


@dataclass
class WardPatient:
    admission_id: int
    patient_id: int
    admitted_at: datetime
    diagnosis: str | None
    reason: str | None
    bed_label: str
    given_name: str
    family_name: str
    mrn: str
    sex: str
    date_of_birth: date
    attending_doctor_name: str | None

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def ward_patients(session: Session, ward_id: int) -> list[WardPatient]:
    return [WardPatient(**r._mapping) for r in session.execute(_PATIENTS, {"ward_id": ward_id})]


def due_doses(session: Session, ids: Sequence[int], until: datetime) -> list[Any]:
    return list(session.execute(_DOSES, {"ids": list(ids), "until": until})) if ids else []


def open_tasks(session: Session, ids: Sequence[int], until: datetime) -> list[Any]:
    return list(session.execute(_TASKS, {"ids": list(ids), "until": until})) if ids else []


def latest_vitals(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {r.admission_id: r for r in session.execute(_LATEST_VITALS, {"ids": list(ids)})}


def latest_risks(session: Session, ids: Sequence[int]) -> dict[tuple[int, str], Any]:
    if not ids:
        return {}
    return {(r.admission_id, r.kind): r for r in session.execute(_RISKS, {"ids": list(ids)})}


def allergies(session: Session, ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for r in session.execute(_ALLERGIES, {"ids": list(ids)}) if ids else []:
        out.setdefault(r.admission_id, []).append(r.substance)
    return out


def fluid_balances(session: Session, ids: Sequence[int], since: datetime) -> dict[int, int]:
    if not ids:
        return {}
    return {
        r.admission_id: int(r.balance)
        for r in session.execute(_FLUIDS, {"ids": list(ids), "since": since})
    }


def recent_notes(session: Session, ids: Sequence[int], since: datetime) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for r in session.execute(_NOTES, {"ids": list(ids), "since": since}) if ids else []:
        out.setdefault(r.admission_id, []).append(r)
    return out
