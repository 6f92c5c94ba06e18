"""Read-side queries of the wards area: the ward list with bed counts, the bed board, and
admissions shaped for screens. Plain SQL over a handful of joins: the bed board of a whole
hospital (30 wards × 30 beds) is two round trips, whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_WARDS = text("""
    SELECT w.id, w.code, w.name, w.ward_class, w.gender_policy, w.mar_window_minutes,
           w.active, w.version,
           count(b.id) AS bed_count,
           count(b.id) FILTER (WHERE b.status = 'free') AS free_beds,
           count(b.id) FILTER (WHERE b.status = 'occupied') AS occupied_beds,
           count(b.id) FILTER (WHERE b.status = 'cleaning') AS cleaning_beds,
           count(b.id) FILTER (WHERE b.status = 'blocked') AS blocked_beds
    FROM wards w LEFT JOIN beds b ON b.ward_id = w.id
    WHERE (CAST(:ward_ids AS bigint[]) IS NULL OR w.id = ANY(CAST(:ward_ids AS bigint[])))
      AND (:include_inactive OR w.active)
    GROUP BY w.id ORDER BY w.code
""")

_BOARD = text("""
    SELECT b.id, b.ward_id, b.label, b.status, b.room_id, r.label AS room_label, b.bed_type,
           CASE WHEN r.gender_policy <> 'mixed' THEN r.gender_policy
                ELSE w.gender_policy END AS gender_policy,
           b.blocked_reason, b.status_changed_at, b.version,
           a.id AS admission_id, a.patient_id, a.admitted_at,
           p.given_name, p.family_name, p.mrn, p.sex, p.date_of_birth,
           u.full_name AS attending_doctor_name,
           count(*) OVER () AS total
    FROM beds b
    JOIN rooms r ON r.id = b.room_id
    JOIN wards w ON w.id = b.ward_id
    LEFT JOIN admissions a ON a.current_bed_id = b.id AND a.status = 'admitted'
    LEFT JOIN patients p ON p.id = a.patient_id
    LEFT JOIN users u ON u.id = a.attending_doctor_user_id
    WHERE (CAST(:ward_id AS bigint) IS NULL OR b.ward_id = :ward_id)
      AND (CAST(:status AS text) IS NULL OR b.status = :status)
      AND (CAST(:bed_id AS bigint) IS NULL OR b.id = :bed_id)
      AND (w.active OR CAST(:bed_id AS bigint) IS NOT NULL)
    ORDER BY w.code, r.label, b.label, b.id
    LIMIT :limit OFFSET :offset
""")

# Clinical flags of the patients in beds: allergies, doses due and overdue (by the ward's
# window), overdue care tasks, the newest vitals and the newest NEWS2 answers. Aggregated per
# admission in one pass each (not one subquery per bed), so a whole hospital is one query.
_ALERTS = text("""
    WITH adm AS (
        SELECT a.id, a.patient_id, make_interval(mins => w.mar_window_minutes) AS win
        FROM admissions a JOIN beds b ON b.id = a.current_bed_id
        JOIN wards w ON w.id = b.ward_id
        WHERE a.id = ANY(CAST(:ids AS bigint[]))),
    doses AS (
        SELECT d.admission_id,
               count(*) FILTER (WHERE d.due_at < :now - adm.win) AS overdue,
               count(*) FILTER (WHERE d.due_at >= :now - adm.win
                                  AND d.due_at <= :now + adm.win) AS due
        FROM scheduled_doses d JOIN adm ON adm.id = d.admission_id
        WHERE d.status = 'scheduled' AND d.due_at <= :now + interval '4 hours'
        GROUP BY d.admission_id),
    tasks AS (
        SELECT t.admission_id, count(*) AS overdue
        FROM care_tasks t JOIN adm ON adm.id = t.admission_id
        WHERE t.status = 'open' AND t.due_at < :now GROUP BY t.admission_id),
    allergic AS (
        SELECT DISTINCT al.patient_id FROM allergies al
        WHERE al.status = 'active' AND al.patient_id IN (SELECT patient_id FROM adm))
    SELECT adm.id AS admission_id, (allergic.patient_id IS NOT NULL) AS allergy,
           coalesce(doses.overdue, 0) AS overdue_doses, coalesce(doses.due, 0) AS due_doses,
           coalesce(tasks.overdue, 0) AS overdue_tasks,
           v.respiratory_rate, v.spo2_pct, v.systolic_mmhg, v.heart_rate_bpm,
           v.temperature_c, v.recorded_at AS vitals_at, n.answers AS news2_answers
    FROM adm
    LEFT JOIN doses ON doses.admission_id = adm.id
    LEFT JOIN tasks ON tasks.admission_id = adm.id
    LEFT JOIN allergic ON allergic.patient_id = adm.patient_id
    LEFT JOIN LATERAL (
        SELECT vs.respiratory_rate, vs.spo2_pct, vs.systolic_mmhg, vs.heart_rate_bpm,
               vs.temperature_c, vs.recorded_at
        FROM vital_signs vs WHERE vs.patient_id = adm.patient_id
        ORDER BY vs.recorded_at DESC, vs.id DESC LIMIT 1) v ON true
    LEFT JOIN LATERAL (
        SELECT na.answers FROM nursing_assessments na
        WHERE na.admission_id = adm.id AND na.kind = 'news2'
        ORDER BY na.assessed_at DESC LIMIT 1) n ON true
""")

_ADMISSIONS = text("""
    SELECT a.id, a.patient_id, a.status, a.source, a.admitted_at, a.discharged_at,
           a.cancelled_at, a.current_bed_id AS bed_id, a.attending_doctor_user_id,
           a.encounter_id, a.expected_los_days, a.reason, a.diagnosis, a.icd10_code,
           a.discharge_disposition, a.discharge_note_id, a.version,
           coalesce(b.label, lb.label) AS bed_label,
           coalesce(w.id, lw.id) AS ward_id, coalesce(w.code, lw.code) AS ward_code,
           coalesce(w.name, lw.name) AS ward_name,
           coalesce(w.ward_class, lw.ward_class) AS ward_class,
           p.given_name, p.family_name, p.mrn, u.full_name AS attending_doctor_name,
           count(*) OVER () AS total
    FROM admissions a
    JOIN patients p ON p.id = a.patient_id
    LEFT JOIN beds b ON b.id = a.current_bed_id
    LEFT JOIN wards w ON w.id = b.ward_id
    LEFT JOIN LATERAL (
        SELECT s.bed_id, s.ward_id FROM bed_stays s WHERE s.admission_id = a.id
        ORDER BY s.started_at DESC LIMIT 1) ls ON a.current_bed_id IS NULL
    LEFT JOIN beds lb ON lb.id = ls.bed_id
    LEFT JOIN wards lw ON lw.id = ls.ward_id
    LEFT JOIN users u ON u.id = a.attending_doctor_user_id
    WHERE (CAST(:ids AS bigint[]) IS NULL OR a.id = ANY(CAST(:ids AS bigint[])))
      AND (CAST(:patient_id AS bigint) IS NULL OR a.patient_id = :patient_id)
      AND (CAST(:status AS text) IS NULL OR a.status = :status)
      AND (CAST(:ward_ids AS bigint[]) IS NULL OR b.ward_id = ANY(CAST(:ward_ids AS bigint[])))
      AND (CAST(:attending AS bigint) IS NULL OR a.attending_doctor_user_id = :attending
           OR b.ward_id = ANY(coalesce(CAST(:or_ward_ids AS bigint[]), '{}')))
    ORDER BY a.admitted_at DESC, a.id DESC
    LIMIT :limit OFFSET :offset
""")

_STAYS = text("""
    SELECT s.admission_id, s.bed_id, b.label AS bed_label, s.ward_id, w.code AS ward_code,
           s.ward_class, s.started_at, s.ended_at
    FROM bed_stays s JOIN beds b ON b.id = s.bed_id JOIN wards w ON w.id = s.ward_id
    WHERE s.admission_id = ANY(CAST(:ids AS bigint[]))
    ORDER BY s.admission_id, s.started_at
""")


@dataclass
class WardSummary:
    id: int
    code: str
    name: str
    ward_class: str
    gender_policy: str
    mar_window_minutes: int
    active: bool
    version: int
    bed_count: int
    free_beds: int
    occupied_beds: int
    cleaning_beds: int
    blocked_beds: int


@dataclass
class BedAlertsRow:
    allergy: bool
    overdue_doses: int
    due_doses: int
    overdue_tasks: int
    vitals: dict[str, Any]
    news2_answers: dict[str, Any] | None


@dataclass
class BoardRow:
    id: int
    ward_id: int
    label: str
    status: str
    room_id: int
    room_label: str
    bed_type: str
    gender_policy: str
    blocked_reason: str | None
    status_changed_at: datetime
    version: int
    admission_id: int | None
    patient_id: int | None
    admitted_at: datetime | None
    given_name: str | None
    family_name: str | None
    mrn: str | None
    sex: str | None
    date_of_birth: date | None
    attending_doctor_name: str | None
    alerts: BedAlertsRow | None = None


@dataclass
class StayRow:
    bed_id: int
    bed_label: str
    ward_id: int
    ward_code: str
    ward_class: str
    started_at: datetime
    ended_at: datetime | None


@dataclass
class AdmissionRow:
    id: int
    patient_id: int
    status: str
    source: str
    admitted_at: datetime
    discharged_at: datetime | None
    cancelled_at: datetime | None
    bed_id: int | None
    attending_doctor_user_id: int | None
    encounter_id: int | None
    expected_los_days: int | None
    reason: str | None
    diagnosis: str | None
    icd10_code: str | None
    discharge_disposition: str | None
    discharge_note_id: int | None
    version: int
    bed_label: str | None
    ward_id: int | None
    ward_code: str | None
    ward_name: str | None
    ward_class: str | None
    given_name: str
    family_name: str
    mrn: str
    attending_doctor_name: str | None
    stays: list[StayRow] = field(default_factory=list)


def ward_summaries(
    session: Session, *, ward_ids: Sequence[int] | None = None, include_inactive: bool = False
) -> list[WardSummary]:
    rows = session.execute(
        _WARDS,
        {
            "ward_ids": list(ward_ids) if ward_ids is not None else None,
            "include_inactive": include_inactive,
        },
    )
    return [WardSummary(**row._mapping) for row in rows]


def bed_board(
    session: Session,
    *,
    ward_id: int | None,
    status: str | None,
    limit: int,
    offset: int,
    now: datetime,
    with_alerts: bool,
    bed_id: int | None = None,
) -> tuple[list[BoardRow], int]:
    """The beds (with the patient in each) and, for clinical readers, their alerts."""
    result = session.execute(
        _BOARD,
        {"ward_id": ward_id, "status": status, "limit": limit, "offset": offset, "bed_id": bed_id},
    ).all()
    total = int(result[0].total) if result else 0
    rows = [BoardRow(**{k: v for k, v in r._mapping.items() if k != "total"}) for r in result]
    if with_alerts:
        ids = [r.admission_id for r in rows if r.admission_id is not None]
        alerts = admission_alerts(session, ids, now)
        for row in rows:
            if row.admission_id is not None:
                row.alerts = alerts.get(row.admission_id)
    return rows, total


def admission_alerts(
    session: Session, admission_ids: Sequence[int], now: datetime
) -> dict[int, BedAlertsRow]:
    if not admission_ids:
        return {}
    out: dict[int, BedAlertsRow] = {}
    for r in session.execute(_ALERTS, {"ids": list(admission_ids), "now": now}):
        vitals = {
            "respiratory_rate": r.respiratory_rate,
            "spo2_pct": r.spo2_pct,
            "systolic_mmhg": r.systolic_mmhg,
            "heart_rate_bpm": r.heart_rate_bpm,
            "temperature_c": Decimal(r.temperature_c) if r.temperature_c is not None else None,
            "recorded_at": r.vitals_at,
        }
        out[r.admission_id] = BedAlertsRow(
            bool(r.allergy),
            int(r.overdue_doses),
            int(r.due_doses),
            int(r.overdue_tasks),
            vitals,
            r.news2_answers,
        )
    return out


def admissions(
    session: Session,
    *,
    ids: Sequence[int] | None = None,
    patient_id: int | None = None,
    status: str | None = None,
    ward_ids: Sequence[int] | None = None,
    attending_or_wards: tuple[int, list[int]] | None = None,
    limit: int = 50,
    offset: int = 0,
    with_stays: bool = False,
) -> tuple[list[AdmissionRow], int]:
    """Admissions with their current (or last) bed and ward, newest first.
    ``attending_or_wards = (user_id, ward_ids)``: "mine" — attending, or on those wards."""
    params: dict[str, Any] = {
        "ids": list(ids) if ids is not None else None,
        "patient_id": patient_id,
        "status": status,
        "ward_ids": list(ward_ids) if ward_ids is not None else None,
        "attending": attending_or_wards[0] if attending_or_wards else None,
        "or_ward_ids": attending_or_wards[1] if attending_or_wards else None,
        "limit": limit,
        "offset": offset,
    }
    result = session.execute(_ADMISSIONS, params).all()
    total = int(result[0].total) if result else 0
    rows = [AdmissionRow(**{k: v for k, v in r._mapping.items() if k != "total"}) for r in result]
    if with_stays and rows:
        by_id = {r.id: r for r in rows}
        for s in session.execute(_STAYS, {"ids": list(by_id)}):
            by_id[s.admission_id].stays.append(
                StayRow(
                    s.bed_id,
                    s.bed_label,
                    s.ward_id,
                    s.ward_code,
                    s.ward_class,
                    s.started_at,
                    s.ended_at,
                )
            )
    return rows, total
