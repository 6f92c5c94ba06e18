"""Queries of the medication administration record: orders, scheduled doses,
administrations, and the formulary and prescription rows they come from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.mar import MedicationAdministration, MedicationOrder, ScheduledDose
from hms_server.adapters.orm.prescribing import Drug, Prescription, PrescriptionItem
from hms_server.adapters.orm.wards import Admission, Bed, BedStay, Ward
from hms_server.domain.mar import DoseAlreadyRecordedError, DrugFacts


@dataclass(frozen=True)
class DoseRow:
    """A scheduled dose with its order, drug and (if recorded) administration."""

    dose: ScheduledDose
    order: MedicationOrder
    drug: Drug
    administration: MedicationAdministration | None
    recorded_by_name: str | None


@dataclass(frozen=True)
class AdministrationRow:
    """A recorded administration with its order, drug, recorder and the admission's
    inpatient encounter (None while the admission has no attending doctor)."""

    administration: MedicationAdministration
    order: MedicationOrder
    drug: Drug
    recorded_by_name: str | None
    encounter_id: int | None


def drug_facts(drug: Drug) -> DrugFacts:
    return DrugFacts(
        drug_id=drug.id,
        generic_name=drug.generic_name,
        ingredients=tuple(drug.ingredients or ()),
        strength=drug.strength,
        form=drug.form,
        route=drug.route,
    )


class MarRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    def flush_administration(self) -> None:
        """Flush a new administration; a second recording of the same dose (two nurses at
        the same moment) is refused by the unique index, whoever checked first."""
        try:
            self.session.flush()
        except IntegrityError as exc:
            diag = getattr(getattr(exc, "orig", None), "diag", None)
            if getattr(diag, "constraint_name", None) == "uq_medication_administrations_dose":
                raise DoseAlreadyRecordedError(
                    "This dose has just been recorded by someone else."
                ) from exc
            raise

    # -- prescriptions and the formulary ----------------------------------------------------
    def prescription(self, prescription_id: int) -> Prescription | None:
        return self.session.get(Prescription, prescription_id)

    def prescription_items(self, prescription_id: int) -> list[PrescriptionItem]:
        return list(
            self.session.scalars(
                select(PrescriptionItem)
                .where(PrescriptionItem.prescription_id == prescription_id)
                .order_by(PrescriptionItem.line_no)
            )
        )

    def drug(self, drug_id: int) -> Drug | None:
        return self.session.get(Drug, drug_id)

    # -- orders --------------------------------------------------------------------------------
    def order(self, order_id: int, *, lock: bool = False) -> MedicationOrder | None:
        return self.session.get(
            MedicationOrder, order_id, with_for_update=lock, populate_existing=lock
        )

    def order_for_item(self, item_id: int) -> MedicationOrder | None:
        return self.session.scalar(
            select(MedicationOrder).where(MedicationOrder.prescription_item_id == item_id)
        )

    def orders_of_admission(
        self, admission_id: int, *, active_only: bool = False
    ) -> list[MedicationOrder]:
        query = select(MedicationOrder).where(MedicationOrder.admission_id == admission_id)
        if active_only:
            query = query.where(MedicationOrder.status == "active")
        return list(self.session.scalars(query.order_by(MedicationOrder.id)))

    def orders_of_prescription(self, prescription_id: int) -> list[MedicationOrder]:
        return list(
            self.session.scalars(
                select(MedicationOrder)
                .where(MedicationOrder.prescription_id == prescription_id)
                .with_for_update()
            )
        )

    def open_ended_orders_due(self, before: datetime) -> list[MedicationOrder]:
        """Active scheduled orders without an end whose doses run out before ``before``."""
        return list(
            self.session.scalars(
                select(MedicationOrder)
                .join(Admission, Admission.id == MedicationOrder.admission_id)
                .where(
                    MedicationOrder.status == "active",
                    MedicationOrder.ends_at.is_(None),
                    MedicationOrder.prn.is_(False),
                    Admission.status == "admitted",
                    MedicationOrder.scheduled_until < before,
                )
                .with_for_update(of=MedicationOrder, skip_locked=True)
            )
        )

    def last_given(self, order_id: int) -> datetime | None:
        return self.session.scalar(
            select(func.max(MedicationAdministration.administered_at)).where(
                MedicationAdministration.order_id == order_id,
                MedicationAdministration.status == "given",
            )
        )

    def last_given_by_order(self, order_ids: Sequence[int]) -> dict[int, datetime]:
        if not order_ids:
            return {}
        rows = self.session.execute(
            select(
                MedicationAdministration.order_id,
                func.max(MedicationAdministration.administered_at),
            )
            .where(
                MedicationAdministration.order_id.in_(order_ids),
                MedicationAdministration.status == "given",
            )
            .group_by(MedicationAdministration.order_id)
        ).all()
        return {order_id: at for order_id, at in rows}

    # -- doses ---------------------------------------------------------------------------------
    def add_doses(self, order: MedicationOrder, instants: Sequence[datetime]) -> int:
        if not instants:
            return 0
        result = self.session.execute(
            insert(ScheduledDose)
            .values(
                [
                    {
                        "order_id": order.id,
                        "admission_id": order.admission_id,
                        "patient_id": order.patient_id,
                        "due_at": at,
                        "status": "scheduled",
                        "version": 1,
                    }
                    for at in instants
                ]
            )
            .on_conflict_do_nothing()
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def cancel_doses_after(self, order_id: int, after: datetime) -> int:
        result = self.session.execute(
            update(ScheduledDose)
            .where(
                ScheduledDose.order_id == order_id,
                ScheduledDose.status == "scheduled",
                ScheduledDose.due_at > after,
            )
            .values(status="cancelled", version=ScheduledDose.version + 1)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def dose(self, dose_id: int, *, lock: bool = False) -> ScheduledDose | None:
        return self.session.get(
            ScheduledDose, dose_id, with_for_update=lock, populate_existing=lock
        )

    def dose_rows(
        self, admission_id: int, since: datetime | None, until: datetime | None
    ) -> list[DoseRow]:
        query = (
            select(ScheduledDose, MedicationOrder, Drug, MedicationAdministration, User.full_name)
            .join(MedicationOrder, MedicationOrder.id == ScheduledDose.order_id)
            .join(Drug, Drug.id == MedicationOrder.drug_id)
            .outerjoin(
                MedicationAdministration, MedicationAdministration.dose_id == ScheduledDose.id
            )
            .outerjoin(User, User.id == MedicationAdministration.recorded_by_user_id)
            .where(ScheduledDose.admission_id == admission_id)
        )
        if since is not None:
            query = query.where(ScheduledDose.due_at >= since)
        if until is not None:
            query = query.where(ScheduledDose.due_at < until)
        rows = self.session.execute(query.order_by(ScheduledDose.due_at, ScheduledDose.id))
        return [DoseRow(d, o, g, a, n) for d, o, g, a, n in rows.all()]

    def order_drugs(self, admission_id: int) -> list[tuple[MedicationOrder, Drug]]:
        rows = self.session.execute(
            select(MedicationOrder, Drug)
            .join(Drug, Drug.id == MedicationOrder.drug_id)
            .where(MedicationOrder.admission_id == admission_id)
            .order_by(MedicationOrder.prn, MedicationOrder.id)
        ).all()
        return [(o, d) for o, d in rows]

    def administrations(
        self,
        *,
        patient_id: int | None = None,
        administration_id: int | None = None,
        statuses: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[AdministrationRow]:
        """Recorded administrations (of a patient, or one by id), oldest first, filtered by
        status and ``administered_at`` in ``[since, until)``."""
        query = (
            select(
                MedicationAdministration,
                MedicationOrder,
                Drug,
                User.full_name,
                Admission.encounter_id,
            )
            .join(MedicationOrder, MedicationOrder.id == MedicationAdministration.order_id)
            .join(Drug, Drug.id == MedicationOrder.drug_id)
            .join(Admission, Admission.id == MedicationAdministration.admission_id)
            .outerjoin(User, User.id == MedicationAdministration.recorded_by_user_id)
        )
        if patient_id is not None:
            query = query.where(MedicationAdministration.patient_id == patient_id)
        if administration_id is not None:
            query = query.where(MedicationAdministration.id == administration_id)
        if statuses is not None:
            query = query.where(MedicationAdministration.status.in_(list(statuses)))
        if since is not None:
            query = query.where(MedicationAdministration.administered_at >= since)
        if until is not None:
            query = query.where(MedicationAdministration.administered_at < until)
        rows = self.session.execute(
            query.order_by(
                MedicationAdministration.administered_at, MedicationAdministration.id
            ).limit(limit)
        )
        return [AdministrationRow(a, o, d, n, e) for a, o, d, n, e in rows.all()]

    # -- the ward the dose is given on ---------------------------------------------------------
    def ward_of_admission(self, admission: Admission) -> Ward | None:
        """The ward the patient is on (or was last on, once discharged)."""
        if admission.current_bed_id is not None:
            return self.session.scalar(
                select(Ward)
                .join(Bed, Bed.ward_id == Ward.id)
                .where(Bed.id == admission.current_bed_id)
            )
        return self.session.scalar(
            select(Ward)
            .join(BedStay, and_(BedStay.ward_id == Ward.id, BedStay.admission_id == admission.id))
            .order_by(BedStay.started_at.desc())
            .limit(1)
        )
