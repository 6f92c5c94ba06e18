"""Duplicate flags and the merge journal (``orm.duplicates``): queries and writes."""

from __future__ import annotations

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.duplicates import DuplicateFlag, PatientMerge
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.repositories import Repository


class DuplicateRepository(Repository):
    # --- flags ------------------------------------------------------------------------------
    def flag(self, flag_id: int, *, lock: bool = False) -> DuplicateFlag | None:
        return self.session.get(DuplicateFlag, flag_id, with_for_update=lock)

    def open_flag_between(self, a: int, b: int) -> DuplicateFlag | None:
        return self.session.scalars(
            select(DuplicateFlag).where(
                DuplicateFlag.status == "open",
                func.least(DuplicateFlag.patient_id, DuplicateFlag.candidate_id) == min(a, b),
                func.greatest(DuplicateFlag.patient_id, DuplicateFlag.candidate_id) == max(a, b),
            )
        ).first()

    def flags(
        self, *, status: str | None, patient_id: int | None, limit: int, offset: int
    ) -> tuple[list[tuple[DuplicateFlag, Patient, Patient]], int]:
        """Flags with both records, newest first."""
        new, old = aliased(Patient), aliased(Patient)
        query = (
            select(DuplicateFlag, new, old)
            .join(new, new.id == DuplicateFlag.patient_id)
            .join(old, old.id == DuplicateFlag.candidate_id)
        )
        if status:
            query = query.where(DuplicateFlag.status == status)
        if patient_id:
            query = query.where(
                or_(
                    DuplicateFlag.patient_id == patient_id, DuplicateFlag.candidate_id == patient_id
                )
            )
        total = self.count(query)
        rows = [
            (f, p, c)
            for f, p, c in self.session.execute(
                query.order_by(DuplicateFlag.created_at.desc(), DuplicateFlag.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ]
        return rows, total

    def resolve_flags_between(
        self, a: int, b: int, *, status: str, user_id: int | None
    ) -> list[int]:
        """Close the open flags of the pair (a merge decided them); their ids."""
        rows = list(
            self.session.scalars(
                select(DuplicateFlag).where(
                    DuplicateFlag.status == "open",
                    or_(
                        (DuplicateFlag.patient_id == a) & (DuplicateFlag.candidate_id == b),
                        (DuplicateFlag.patient_id == b) & (DuplicateFlag.candidate_id == a),
                    ),
                )
            )
        )
        now = utcnow()
        for row in rows:
            row.status, row.resolved_at, row.resolved_by_user_id = status, now, user_id
        self.session.flush()
        return [row.id for row in rows]

    def move_patient(self, loser_id: int, survivor_id: int) -> None:
        """Patient merge: open flags of the merged-away record now concern the survivor (a
        flag that would pair the survivor with itself, or repeat an open pair, is closed as
        merged). Closed flags stay as they were: they record what was decided."""
        now = utcnow()
        # Flags that would become survivor-vs-survivor, or a second open flag of a pair.
        for flag in list(
            self.session.scalars(
                select(DuplicateFlag)
                .where(
                    DuplicateFlag.status == "open",
                    or_(
                        DuplicateFlag.patient_id == loser_id, DuplicateFlag.candidate_id == loser_id
                    ),
                )
                .with_for_update()
            )
        ):
            other = flag.candidate_id if flag.patient_id == loser_id else flag.patient_id
            if other == survivor_id or self.open_flag_between(survivor_id, other) is not None:
                flag.status, flag.resolved_at = "merged", now
        self.session.flush()
        for column in (DuplicateFlag.patient_id, DuplicateFlag.candidate_id):
            self.session.execute(
                update(DuplicateFlag)
                .where(DuplicateFlag.status == "open", column == loser_id)
                .values({column: survivor_id, DuplicateFlag.version: DuplicateFlag.version + 1})
                .execution_options(synchronize_session=False)
            )

    # --- merges -----------------------------------------------------------------------------
    def merge(self, merge_id: int, *, lock: bool = False) -> PatientMerge | None:
        return self.session.get(PatientMerge, merge_id, with_for_update=lock)

    def pending_merge_of(self, patient_ids: list[int]) -> PatientMerge | None:
        """A pending merge either record is on (as duplicate or survivor)."""
        return self.session.scalars(
            select(PatientMerge)
            .where(
                PatientMerge.status == "pending",
                or_(
                    PatientMerge.duplicate_id.in_(patient_ids),
                    PatientMerge.survivor_id.in_(patient_ids),
                ),
            )
            .limit(1)
        ).first()

    def merges(
        self, *, status: str | None, limit: int, offset: int
    ) -> tuple[list[tuple[PatientMerge, Patient, Patient]], int]:
        survivor, duplicate = aliased(Patient), aliased(Patient)
        query = (
            select(PatientMerge, survivor, duplicate)
            .join(survivor, survivor.id == PatientMerge.survivor_id)
            .join(duplicate, duplicate.id == PatientMerge.duplicate_id)
        )
        if status:
            query = query.where(PatientMerge.status == status)
        total = self.count(query)
        rows = [
            (m, s, d)
            for m, s, d in self.session.execute(
                query.order_by(PatientMerge.requested_at.desc(), PatientMerge.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ]
        return rows, total
