"""The chart's rows: encounters, notes and their versions, vitals, allergies, problems,
documents, and the patient merge of all clinical rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from hms_server.adapters.orm.clinical import (
    Allergy,
    CareTeamMember,
    ClinicalNote,
    ClinicalNoteVersion,
    Encounter,
    LabOrder,
    LabResult,
    PatientDocument,
    Problem,
    VitalSigns,
)
from hms_server.adapters.orm.prescribing import Prescription
from hms_server.adapters.repositories import Repository

# Rows that follow a patient merge wholesale.
_MOVED_ON_MERGE: tuple[Any, ...] = (
    Encounter,
    ClinicalNote,
    VitalSigns,
    Allergy,
    Problem,
    LabOrder,
    LabResult,
    PatientDocument,
    Prescription,
)


class ChartRepository(Repository):
    # --- any chart item by id ---------------------------------------------------------------
    def get(self, model: type[Any], row_id: int, *, lock: bool = False) -> Any | None:
        return self.session.get(model, row_id, with_for_update=lock)

    # --- encounters -----------------------------------------------------------------------
    def encounter(self, encounter_id: int, *, lock: bool = False) -> Encounter | None:
        return self.session.get(Encounter, encounter_id, with_for_update=lock)

    def encounter_patient(self, encounter_id: int) -> int | None:
        return self.session.scalar(select(Encounter.patient_id).where(Encounter.id == encounter_id))

    def open_encounter_for_appointment(self, appointment_id: int) -> Encounter | None:
        return self.session.scalar(
            select(Encounter).where(
                Encounter.appointment_id == appointment_id, Encounter.status == "in_progress"
            )
        )

    def encounters(
        self, patient_id: int, *, status: str | None, limit: int, offset: int
    ) -> tuple[list[Encounter], int]:
        query = select(Encounter).where(Encounter.patient_id == patient_id)
        if status:
            query = query.where(Encounter.status == status)
        return self.page(query, [Encounter.started_at.desc(), Encounter.id.desc()], limit, offset)

    # --- notes ------------------------------------------------------------------------------
    def notes(
        self, patient_id: int, *, encounter_id: int | None, limit: int, offset: int
    ) -> tuple[list[ClinicalNote], int]:
        query = select(ClinicalNote).where(ClinicalNote.patient_id == patient_id)
        if encounter_id is not None:
            query = query.where(ClinicalNote.encounter_id == encounter_id)
        return self.page(
            query, [ClinicalNote.created_at.desc(), ClinicalNote.id.desc()], limit, offset
        )

    def versions_of_notes(self, note_ids: list[int]) -> dict[int, list[ClinicalNoteVersion]]:
        """Every version of each note, oldest first, in one query (a page of notes)."""
        found: dict[int, list[ClinicalNoteVersion]] = {i: [] for i in note_ids}
        if note_ids:
            for version in self.session.scalars(
                select(ClinicalNoteVersion)
                .where(ClinicalNoteVersion.note_id.in_(note_ids))
                .order_by(ClinicalNoteVersion.note_id, ClinicalNoteVersion.version_no)
            ):
                found[version.note_id].append(version)
        return found

    def note_version(self, note_id: int, version_no: int) -> ClinicalNoteVersion | None:
        return self.session.scalar(
            select(ClinicalNoteVersion).where(
                ClinicalNoteVersion.note_id == note_id, ClinicalNoteVersion.version_no == version_no
            )
        )

    # --- vitals ----------------------------------------------------------------------------
    def last_height(self, patient_id: int) -> Any:
        return self.session.scalar(
            select(VitalSigns.height_cm)
            .where(VitalSigns.patient_id == patient_id, VitalSigns.height_cm.is_not(None))
            .order_by(VitalSigns.recorded_at.desc())
            .limit(1)
        )

    def vitals(
        self, patient_id: int, *, since: datetime | None, limit: int, offset: int
    ) -> tuple[list[VitalSigns], int]:
        query = select(VitalSigns).where(VitalSigns.patient_id == patient_id)
        if since is not None:
            query = query.where(VitalSigns.recorded_at >= since)
        return self.page(
            query, [VitalSigns.recorded_at.desc(), VitalSigns.id.desc()], limit, offset
        )

    def latest_vitals(
        self, patient_id: int, *, since: datetime | None, limit: int
    ) -> list[VitalSigns]:
        """The newest ``limit`` sets, oldest first (for trend charts)."""
        query = select(VitalSigns).where(VitalSigns.patient_id == patient_id)
        if since is not None:
            query = query.where(VitalSigns.recorded_at >= since)
        rows = list(
            self.session.scalars(query.order_by(VitalSigns.recorded_at.desc()).limit(limit))
        )
        rows.reverse()
        return rows

    # --- allergies and problems ---------------------------------------------------------------
    def allergies(self, patient_id: int, *, active_only: bool) -> list[Allergy]:
        query = select(Allergy).where(Allergy.patient_id == patient_id)
        if active_only:
            query = query.where(Allergy.status == "active")
        return list(self.session.scalars(query.order_by(Allergy.recorded_at, Allergy.id)))

    def problems(self, patient_id: int, *, status: str | None) -> list[Problem]:
        query = select(Problem).where(Problem.patient_id == patient_id)
        if status:
            query = query.where(Problem.status == status)
        return list(self.session.scalars(query.order_by(Problem.recorded_at, Problem.id)))

    # --- documents ----------------------------------------------------------------------------
    def documents(
        self, patient_id: int, *, limit: int, offset: int
    ) -> tuple[list[PatientDocument], int]:
        query = select(PatientDocument).where(PatientDocument.patient_id == patient_id)
        return self.page(
            query, [PatientDocument.uploaded_at.desc(), PatientDocument.id.desc()], limit, offset
        )

    # --- patient merge ----------------------------------------------------------------------
    def move_patient(self, loser_id: int, survivor_id: int) -> None:
        """Everything clinical follows the survivor; the care team is copied (clinicians keep
        access). Break-the-glass grants stay: they record what was accessed."""
        for model in _MOVED_ON_MERGE:
            self.session.execute(
                update(model)
                .where(model.patient_id == loser_id)
                .values(patient_id=survivor_id)
                .execution_options(synchronize_session=False)
            )
        self.session.execute(
            pg_insert(CareTeamMember)
            .from_select(
                ["patient_id", "user_id", "role", "source", "added_at", "added_by_user_id"],
                select(
                    literal(survivor_id),
                    CareTeamMember.user_id,
                    CareTeamMember.role,
                    literal("merge"),
                    CareTeamMember.added_at,
                    CareTeamMember.added_by_user_id,
                ).where(CareTeamMember.patient_id == loser_id),
            )
            .on_conflict_do_nothing()
        )
