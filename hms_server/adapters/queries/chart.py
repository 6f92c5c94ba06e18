"""The chart as a whole, read-side: the summary header and the one chronological timeline,
each shaped for the clinical screen (HOUSE_STYLE: read screens may use plain read-side
queries). Access checks and audit stay in ``services.chart``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, text
from sqlalchemy.orm import Session

from hms_server.adapters.orm.clinical import (
    Allergy,
    ClinicalNote,
    Encounter,
    LabOrder,
    PatientDocument,
    Problem,
    VitalSigns,
)
from hms_server.adapters.orm.identity import User

RECENT_ENCOUNTERS = 10


@dataclass(frozen=True)
class ChartOverview:
    allergies: list[Allergy]
    problems: list[Problem]
    latest_vitals: VitalSigns | None
    recent_encounters: list[tuple[Encounter, str | None]]
    counts: dict[str, int]


# Each fragment yields (kind, id, at, summary, encounter_id, flag) for one patient.
_TIMELINE_SQL: dict[str, str] = {
    "encounter": """
        SELECT 'encounter' AS kind, e.id, e.started_at AS at,
               initcap(e.kind) || ' encounter' || coalesce(': ' || e.reason, '')
               || CASE WHEN e.status <> 'finished' THEN ' (' || replace(e.status, '_', ' ')
                  || ')' ELSE '' END AS summary,
               e.id AS encounter_id, NULL::text AS flag, e.clinician_user_id AS by_user_id
        FROM encounters e WHERE e.patient_id = :patient_id""",
    "note": """
        SELECT 'note', n.id, n.created_at,
               coalesce(n.title, initcap(n.note_type) || ' note')
               || CASE WHEN n.current_version > 1 THEN ' (amended, v' || n.current_version
                  || ')' ELSE '' END,
               n.encounter_id, NULL, n.author_user_id
        FROM clinical_notes n WHERE n.patient_id = :patient_id""",
    "vitals": """
        SELECT 'vitals', v.id, v.recorded_at,
               concat_ws(', ',
                 'BP ' || v.systolic_mmhg || '/' || v.diastolic_mmhg,
                 'HR ' || v.heart_rate_bpm, 'RR ' || v.respiratory_rate,
                 'T ' || v.temperature_c || ' °C', 'SpO2 ' || v.spo2_pct || '%',
                 'Wt ' || v.weight_kg || ' kg', 'BMI ' || v.bmi),
               v.encounter_id,
               CASE WHEN v.flags <> '{}'::jsonb THEN 'abnormal' END, v.recorded_by_user_id
        FROM vital_signs v WHERE v.patient_id = :patient_id""",
    "lab_result": """
        SELECT 'lab_result', r.id, r.resulted_at,
               t.name || ': ' || coalesce(trim_scale(r.value_numeric)::text, r.value_text)
               || coalesce(' ' || r.unit, ''),
               o.encounter_id, r.flag, r.resulted_by_user_id
        FROM lab_results r JOIN lab_tests t ON t.id = r.test_id
        JOIN lab_orders o ON o.id = r.order_id
        WHERE r.patient_id = :patient_id""",
    "prescription": """
        SELECT 'prescription', p.id, p.created_at,
               p.number || ': ' || (SELECT string_agg(d.generic_name, ', ' ORDER BY i.line_no)
                                    FROM prescription_items i JOIN drugs d ON d.id = i.drug_id
                                    WHERE i.prescription_id = p.id)
               || CASE WHEN p.status <> 'active' THEN ' (' || p.status || ')' ELSE '' END,
               p.encounter_id, NULL, p.prescriber_user_id
        FROM prescriptions p WHERE p.patient_id = :patient_id""",
    "document": """
        SELECT 'document', d.id, d.uploaded_at, d.title, d.encounter_id, NULL,
               d.uploaded_by_user_id
        FROM patient_documents d WHERE d.patient_id = :patient_id""",
    "allergy": """
        SELECT 'allergy', a.id, a.recorded_at,
               'Allergy: ' || a.substance || coalesce(' (' || a.reaction || ')', ''),
               NULL::bigint, a.severity, a.recorded_by_user_id
        FROM allergies a WHERE a.patient_id = :patient_id""",
    "problem": """
        SELECT 'problem', pr.id, pr.recorded_at,
               pr.icd10_code || ' ' || pr.description, pr.encounter_id,
               CASE WHEN pr.status <> 'active' THEN pr.status END, pr.recorded_by_user_id
        FROM problems pr WHERE pr.patient_id = :patient_id""",
}
TIMELINE_KINDS = tuple(_TIMELINE_SQL)


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    id: int
    at: datetime
    summary: str
    encounter_id: int | None
    flag: str | None
    by: str | None = None  # who recorded it (full name)


class ChartQueries:
    """Bound to one unit of work's session: ``uow.repo(ChartQueries)``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def overview(self, patient_id: int) -> ChartOverview:
        """Active allergies and problems, latest vitals, recent encounters with clinician
        names (one round trip), and counts of encounters, notes, open orders, documents."""
        s = self.session
        allergies = list(
            s.scalars(
                select(Allergy)
                .where(Allergy.patient_id == patient_id, Allergy.status == "active")
                .order_by(Allergy.recorded_at)
            )
        )
        problems = list(
            s.scalars(
                select(Problem)
                .where(Problem.patient_id == patient_id, Problem.status == "active")
                .order_by(Problem.recorded_at)
            )
        )
        latest = s.scalar(
            select(VitalSigns)
            .where(VitalSigns.patient_id == patient_id)
            .order_by(VitalSigns.recorded_at.desc())
            .limit(1)
        )
        recent = s.execute(
            select(Encounter, User.full_name)
            .outerjoin(User, User.id == Encounter.clinician_user_id)
            .where(Encounter.patient_id == patient_id)
            .order_by(Encounter.started_at.desc(), Encounter.id.desc())
            .limit(RECENT_ENCOUNTERS)
        ).all()
        counts = dict(
            s.execute(
                select(literal("encounters"), func.count())
                .select_from(Encounter)
                .where(Encounter.patient_id == patient_id)
                .union_all(
                    select(literal("notes"), func.count())
                    .select_from(ClinicalNote)
                    .where(ClinicalNote.patient_id == patient_id),
                    select(literal("open_lab_orders"), func.count())
                    .select_from(LabOrder)
                    .where(LabOrder.patient_id == patient_id, LabOrder.status == "ordered"),
                    select(literal("documents"), func.count())
                    .select_from(PatientDocument)
                    .where(PatientDocument.patient_id == patient_id),
                )
            ).all()
        )
        return ChartOverview(
            allergies,
            problems,
            latest,
            [(e, n) for e, n in recent],
            {k: int(v) for k, v in counts.items()},
        )

    def timeline(
        self, patient_id: int, *, kinds: list[str], since: datetime | None, limit: int, offset: int
    ) -> tuple[list[TimelineEntry], int]:
        """``kinds`` (allow-listed names, never SQL) merged newest first, and the total."""
        union = " UNION ALL ".join(_TIMELINE_SQL[k] for k in kinds)
        where = "WHERE t.at >= :since" if since is not None else ""
        params: dict[str, Any] = {
            "patient_id": patient_id,
            "limit": limit,
            "offset": offset,
            "since": since,
        }
        rows = self.session.execute(
            text(
                f"SELECT t.*, u.full_name AS by_name, count(*) OVER () AS total FROM ({union}) "  # noqa: S608 - fixed fragments
                f"AS t(kind, id, at, summary, encounter_id, flag, by_user_id) "
                f"LEFT JOIN users u ON u.id = t.by_user_id {where} "
                "ORDER BY t.at DESC, t.kind, t.id DESC LIMIT :limit OFFSET :offset"
            ),
            params,
        ).all()
        total = (
            int(rows[0].total)
            if rows
            else (
                0
                if offset == 0
                else int(
                    self.session.scalar(
                        text(
                            f"SELECT count(*) FROM ({union}) AS t(kind, id, at, summary, "  # noqa: S608
                            f"encounter_id, flag, by_user_id) {where}"
                        ),
                        params,
                    )
                    or 0
                )
            )
        )
        return [
            TimelineEntry(r.kind, r.id, r.at, r.summary or "", r.encounter_id, r.flag, r.by_name)
            for r in rows
        ], total
