"""Queries of the wards area's write side: wards, rooms, beds, admissions, bed stays, nurse
assignments and the bed-day ledger.

``flush()`` turns a violated ward invariant (a lost race the services could not see: two
admissions to one bed at the same instant) into the domain error the user should read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hms_server.adapters.orm.clinical import Allergy, Encounter
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.wards import (
    Admission,
    Bed,
    BedDay,
    BedStay,
    Room,
    Ward,
    WardNurseAssignment,
)
from hms_server.domain.errors import ConflictError, DomainError
from hms_server.domain.wards import AlreadyAdmittedError, BedOccupiedError

#: Constraint name → the error a user sees when the database refuses the write.
_CONSTRAINT_ERRORS: dict[str, tuple[type[DomainError], str]] = {
    "uq_admissions_current_bed": (
        BedOccupiedError,
        "That bed was just taken by another admission. Choose a free bed.",
    ),
    "ex_bed_stays_bed_overlap": (
        BedOccupiedError,
        "That bed was just taken by another admission. Choose a free bed.",
    ),
    "uq_admissions_open_patient": (
        AlreadyAdmittedError,
        "The patient was just admitted by someone else.",
    ),
    "uq_rooms_ward_label": (ConflictError, "The ward already has a room with that label."),
    "uq_beds_ward_label": (ConflictError, "The ward already has a bed with that label."),
    "uq_wards_code": (ConflictError, "A ward with that code already exists."),
}


def translate_integrity_error(exc: IntegrityError) -> DomainError | None:
    """The domain error for a known constraint, or None (let the API answer 409)."""
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    name = getattr(diag, "constraint_name", None)
    known = _CONSTRAINT_ERRORS.get(name or "")
    if known is None:
        return None
    kind, detail = known
    return kind(detail, extra={"constraint": name})


class WardRepository:
    """Bound to one transaction's session (``uow.repo(WardRepository)``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    def flush(self) -> None:
        try:
            self.session.flush()
        except IntegrityError as exc:
            error = translate_integrity_error(exc)
            if error is None:
                raise
            raise error from exc

    # -- wards, rooms, beds --------------------------------------------------------------
    def ward(self, ward_id: int, *, lock: bool = False) -> Ward | None:
        return self.session.get(Ward, ward_id, with_for_update=lock)

    def room(self, room_id: int) -> Room | None:
        return self.session.get(Room, room_id)

    def rooms(self, ward_id: int) -> list[Room]:
        return list(
            self.session.scalars(select(Room).where(Room.ward_id == ward_id).order_by(Room.label))
        )

    def bed(self, bed_id: int, *, lock: bool = False) -> Bed | None:
        return self.session.get(Bed, bed_id, with_for_update=lock, populate_existing=lock)

    def beds_locked(self, bed_ids: Sequence[int]) -> list[Bed]:
        """Lock several beds in id order (a fixed order, so two transfers between the same
        pair of beds cannot deadlock)."""
        return list(
            self.session.scalars(
                select(Bed)
                .where(Bed.id.in_(sorted(set(bed_ids))))
                .order_by(Bed.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )

    # -- people ----------------------------------------------------------------------------
    def patient(self, patient_id: int, *, lock: bool = False) -> Patient | None:
        return self.session.get(Patient, patient_id, with_for_update=lock)

    def user(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def user_names(self, ids: Sequence[int | None]) -> dict[int, str]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        return dict(
            self.session.execute(select(User.id, User.full_name).where(User.id.in_(wanted))).all()
        )

    def active_allergies(self, patient_id: int) -> list[str]:
        return list(
            self.session.scalars(
                select(Allergy.substance)
                .where(Allergy.patient_id == patient_id, Allergy.status == "active")
                .order_by(Allergy.recorded_at)
            )
        )

    # -- nurse assignments -----------------------------------------------------------------
    def ward_nurse_ids(self, ward_id: int) -> list[int]:
        return list(
            self.session.scalars(
                select(WardNurseAssignment.user_id).where(WardNurseAssignment.ward_id == ward_id)
            )
        )

    def nurse_assignments(self, ward_id: int) -> list[tuple[WardNurseAssignment, User]]:
        rows = self.session.execute(
            select(WardNurseAssignment, User)
            .join(User, User.id == WardNurseAssignment.user_id)
            .where(WardNurseAssignment.ward_id == ward_id)
            .order_by(User.full_name)
        ).all()
        return [(a, u) for a, u in rows]

    def assign_nurse(
        self, ward_id: int, user_id: int, by_user_id: int | None, at: datetime
    ) -> bool:
        added = self.session.execute(
            insert(WardNurseAssignment)
            .values(
                ward_id=ward_id, user_id=user_id, assigned_at=at, assigned_by_user_id=by_user_id
            )
            .on_conflict_do_nothing()
            .returning(WardNurseAssignment.user_id)
        ).first()
        return added is not None

    def unassign_nurse(self, ward_id: int, user_id: int) -> bool:
        row = self.session.get(WardNurseAssignment, (ward_id, user_id))
        if row is None:
            return False
        self.session.delete(row)
        return True

    def wards_of_nurse(self, user_id: int) -> list[int]:
        return list(
            self.session.scalars(
                select(WardNurseAssignment.ward_id).where(WardNurseAssignment.user_id == user_id)
            )
        )

    # -- admissions ------------------------------------------------------------------------
    def admission(self, admission_id: int, *, lock: bool = False) -> Admission | None:
        return self.session.get(
            Admission, admission_id, with_for_update=lock, populate_existing=lock
        )

    def open_admission_of(self, patient_id: int) -> Admission | None:
        return self.session.scalar(
            select(Admission).where(
                Admission.patient_id == patient_id, Admission.status == "admitted"
            )
        )

    def open_admission_in_bed(self, bed_id: int) -> Admission | None:
        return self.session.scalar(
            select(Admission).where(
                Admission.current_bed_id == bed_id, Admission.status == "admitted"
            )
        )

    def open_stay(self, admission_id: int) -> BedStay | None:
        return self.session.scalar(
            select(BedStay).where(BedStay.admission_id == admission_id, BedStay.ended_at.is_(None))
        )

    def stays(self, admission_id: int) -> list[tuple[BedStay, Bed, Ward]]:
        rows = self.session.execute(
            select(BedStay, Bed, Ward)
            .join(Bed, Bed.id == BedStay.bed_id)
            .join(Ward, Ward.id == BedStay.ward_id)
            .where(BedStay.admission_id == admission_id)
            .order_by(BedStay.started_at)
        ).all()
        return [(s, b, w) for s, b, w in rows]

    def encounter(self, encounter_id: int) -> Encounter | None:
        return self.session.get(Encounter, encounter_id)

    # -- bed-days --------------------------------------------------------------------------
    def admissions_to_charge(self, since: datetime) -> list[Admission]:
        """Admissions that may have an uncharged midnight: open ones, and those discharged
        after ``since`` (cancelled admissions are never charged)."""
        return list(
            self.session.scalars(
                select(Admission)
                .where(
                    (Admission.status == "admitted")
                    | ((Admission.status == "discharged") & (Admission.discharged_at >= since))
                )
                .order_by(Admission.id)
            )
        )

    def stays_of(self, admission_ids: Sequence[int]) -> list[BedStay]:
        if not admission_ids:
            return []
        return list(
            self.session.scalars(
                select(BedStay)
                .where(BedStay.admission_id.in_(admission_ids))
                .order_by(BedStay.admission_id, BedStay.started_at)
            )
        )

    def charged_days(self, admission_id: int) -> set[date]:
        return set(
            self.session.scalars(select(BedDay.day).where(BedDay.admission_id == admission_id))
        )

    def has_bed_days(self, admission_id: int) -> bool:
        return (
            self.session.scalar(
                select(func.count()).select_from(BedDay).where(BedDay.admission_id == admission_id)
            )
            != 0
        )

    def record_bed_day(
        self,
        *,
        admission_id: int,
        day: date,
        patient_id: int,
        ward_id: int,
        ward_class: str,
        at: datetime,
    ) -> bool:
        """Insert one ledger row; False if that day was already charged (idempotent, also
        when two capture runs race: the primary key decides)."""
        added = self.session.execute(
            insert(BedDay)
            .values(
                admission_id=admission_id,
                day=day,
                patient_id=patient_id,
                ward_id=ward_id,
                ward_class=ward_class,
                captured_at=at,
            )
            .on_conflict_do_nothing()
            .returning(BedDay.day)
        ).first()
        return added is not None

    # -- patient merge ---------------------------------------------------------------------
    def move_patient(self, loser_id: int, survivor_id: int, models: Sequence[type]) -> None:
        for model in models:
            self.session.execute(
                update(model)
                .where(model.patient_id == loser_id)  # type: ignore[attr-defined]
                .values(patient_id=survivor_id)
                .execution_options(synchronize_session=False)
            )
