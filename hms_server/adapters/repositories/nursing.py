"""Queries of nursing records: assessments, fluid entries, care tasks, nursing notes and the
vitals of an admission."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hms_server.adapters.orm.clinical import ClinicalNote, ClinicalNoteVersion, VitalSigns
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.nursing import CareTask, FluidEntry, NursingAssessment


class NursingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    def flush(self) -> None:
        self.session.flush()

    # -- assessments -----------------------------------------------------------------------
    def assessments(
        self, admission_id: int, kind: str | None, limit: int
    ) -> list[tuple[NursingAssessment, str | None]]:
        query = (
            select(NursingAssessment, User.full_name)
            .outerjoin(User, User.id == NursingAssessment.assessed_by_user_id)
            .where(NursingAssessment.admission_id == admission_id)
        )
        if kind:
            query = query.where(NursingAssessment.kind == kind)
        rows = self.session.execute(
            query.order_by(NursingAssessment.assessed_at.desc(), NursingAssessment.id.desc()).limit(
                limit
            )
        )
        return [(a, n) for a, n in rows.all()]

    # -- vitals ----------------------------------------------------------------------------
    def latest_vitals(self, patient_id: int) -> VitalSigns | None:
        return self.session.scalar(
            select(VitalSigns)
            .where(VitalSigns.patient_id == patient_id)
            .order_by(VitalSigns.recorded_at.desc(), VitalSigns.id.desc())
            .limit(1)
        )

    def vitals_since(
        self, patient_id: int, since: datetime | None, limit: int
    ) -> list[tuple[VitalSigns, str | None]]:
        query = (
            select(VitalSigns, User.full_name)
            .outerjoin(User, User.id == VitalSigns.recorded_by_user_id)
            .where(VitalSigns.patient_id == patient_id)
        )
        if since is not None:
            query = query.where(VitalSigns.recorded_at >= since)
        rows = self.session.execute(
            query.order_by(VitalSigns.recorded_at.desc(), VitalSigns.id.desc()).limit(limit)
        )
        return [(v, n) for v, n in rows.all()]

    def latest_consciousness(self, admission_id: int) -> tuple[str | None, bool | None]:
        """The consciousness level and oxygen use of the newest NEWS2 assessment (what the
        monitor cannot measure), used for the NEWS2 of later vitals."""
        answers = self.session.scalar(
            select(NursingAssessment.answers)
            .where(
                NursingAssessment.admission_id == admission_id, NursingAssessment.kind == "news2"
            )
            .order_by(NursingAssessment.assessed_at.desc())
            .limit(1)
        )
        if not answers:
            return None, None
        return answers.get("consciousness"), answers.get("on_oxygen")

    # -- fluids ----------------------------------------------------------------------------
    def fluid_entries(
        self, admission_id: int, start: datetime, end: datetime
    ) -> list[tuple[FluidEntry, str | None]]:
        rows = self.session.execute(
            select(FluidEntry, User.full_name)
            .outerjoin(User, User.id == FluidEntry.recorded_by_user_id)
            .where(
                FluidEntry.admission_id == admission_id,
                FluidEntry.recorded_at >= start,
                FluidEntry.recorded_at < end,
            )
            .order_by(FluidEntry.recorded_at, FluidEntry.id)
        )
        return [(f, n) for f, n in rows.all()]

    # -- tasks -----------------------------------------------------------------------------
    def task(self, task_id: int, *, lock: bool = False) -> CareTask | None:
        return self.session.get(CareTask, task_id, with_for_update=lock, populate_existing=lock)

    def tasks(self, admission_id: int, status: str | None) -> list[tuple[CareTask, str | None]]:
        query = (
            select(CareTask, User.full_name)
            .outerjoin(User, User.id == CareTask.completed_by_user_id)
            .where(CareTask.admission_id == admission_id)
        )
        if status:
            query = query.where(CareTask.status == status)
        rows = self.session.execute(query.order_by(CareTask.due_at, CareTask.id))
        return [(t, n) for t, n in rows.all()]

    def cancel_open_tasks(self, admission_id: int) -> int:
        result = self.session.execute(
            update(CareTask)
            .where(CareTask.admission_id == admission_id, CareTask.status == "open")
            .values(status="cancelled", version=CareTask.version + 1)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # -- nursing notes ---------------------------------------------------------------------
    def nursing_notes(
        self, patient_id: int, since: datetime, until: datetime | None, limit: int
    ) -> list[tuple[ClinicalNote, ClinicalNoteVersion, str | None]]:
        """Nursing notes of a patient written during ``[since, until)`` (an admission)."""
        query = (
            select(ClinicalNote, ClinicalNoteVersion, User.full_name)
            .join(
                ClinicalNoteVersion,
                (ClinicalNoteVersion.note_id == ClinicalNote.id)
                & (ClinicalNoteVersion.version_no == ClinicalNote.current_version),
            )
            .outerjoin(User, User.id == ClinicalNote.author_user_id)
            .where(
                ClinicalNote.patient_id == patient_id,
                ClinicalNote.note_type == "nursing",
                ClinicalNote.created_at >= since,
            )
        )
        if until is not None:
            query = query.where(ClinicalNote.created_at < until)
        rows = self.session.execute(
            query.order_by(ClinicalNote.created_at.desc(), ClinicalNote.id.desc()).limit(limit)
        )
        return [(n, v, a) for n, v, a in rows.all()]

    def count_vitals(self, patient_id: int, since: datetime | None) -> int:
        query = (
            select(func.count()).select_from(VitalSigns).where(VitalSigns.patient_id == patient_id)
        )
        if since is not None:
            query = query.where(VitalSigns.recorded_at >= since)
        return int(self.session.scalar(query) or 0)
