"""The chart as a whole: the summary header and one chronological timeline.

Both are read-side queries shaped for the screen (HOUSE_STYLE: read screens may use plain
read-side queries); each read is audited once with its category.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hms_server.adapters.orm.clinical import Allergy, Problem, VitalSigns
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.queries.chart import (
    TIMELINE_KINDS,
    ChartQueries,
    TimelineEntry,
)
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.hospital import age_on
from hms_server.services.access import ensure_chart_access
from hms_server.services.clinical import EncounterView, audit_read
from hms_server.services.prescribing import MedicationView, active_medication_rows


@dataclass(frozen=True)
class ChartSummary:
    patient: Patient
    access: str
    allergies: list[Allergy]
    problems: list[Problem]
    medications: list[MedicationView]
    latest_vitals: VitalSigns | None
    recent_encounters: list[EncounterView]
    counts: dict[str, int]
    #: Completed years on the hospital's today (not the server's).
    age_years: int


def chart_summary(uow: UnitOfWork, patient_id: int) -> ChartSummary:
    """Header and overview: allergies, active problems, current medications, latest vitals,
    recent encounters and counts."""
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        patient = basis.patient
        assert patient is not None
        overview = uow.repo(ChartQueries).overview(patient_id)
        medications = [
            MedicationView(i, d, p) for i, d, p in active_medication_rows(uow, patient_id)
        ]
        audit_read(uow, basis, "chart")
        uow.commit()
        return ChartSummary(
            patient,
            basis.via,
            overview.allergies,
            overview.problems,
            medications,
            overview.latest_vitals,
            [EncounterView(e, name) for e, name in overview.recent_encounters],
            overview.counts,
            age_on(patient.date_of_birth, uow.hospital.today()),
        )


def timeline(
    uow: UnitOfWork,
    patient_id: int,
    *,
    kinds: list[str] | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[TimelineEntry], int]:
    """Encounters, notes, vitals, results, prescriptions, documents, allergies and problems
    in one list, newest first. ``kinds`` are allow-listed names, never SQL."""
    chosen = [k for k in TIMELINE_KINDS if kinds is None or k in kinds]
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        if not chosen:
            uow.commit()
            return [], 0
        rows, total = uow.repo(ChartQueries).timeline(
            patient_id, kinds=chosen, since=since, limit=limit, offset=offset
        )
        audit_read(uow, basis, "timeline", kinds=chosen)
        uow.commit()
        return rows, total
