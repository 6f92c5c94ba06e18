"""Dispensing repository: prescriptions as the pharmacy sees them (locked while dispensing),
what has been dispensed of each item, dispense lines, send-backs and ward requisitions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from hms_server.adapters.orm.dispensing import (
    Dispense,
    DispenseLine,
    PrescriptionSendBack,
    Requisition,
    RequisitionLine,
)
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.pharmacy import StockBatch, StockItem, StockLocation
from hms_server.adapters.orm.prescribing import (
    Drug,
    Prescription,
    PrescriptionItem,
    PrescriptionOverride,
)
from hms_server.adapters.repositories import Repository
from hms_server.domain.errors import NotFoundError


@dataclass(frozen=True)
class DispensedLineRow:
    """One dispensed batch of one prescription item, with everything a dispensing record
    shows: the dispense, the prescription, the batch (lot, expiry), the stock item (unit),
    the formulary drug (if the item is one) and the pharmacist's name."""

    line: DispenseLine
    dispense: Dispense
    prescription: Prescription
    batch: StockBatch
    item: StockItem
    drug: Drug | None
    pharmacist_name: str | None


class DispensingRepository(Repository):
    """Not thread-safe; one per unit of work (``uow.repo(DispensingRepository)``)."""

    # -- prescriptions ---------------------------------------------------------------------
    def prescription(self, prescription_id: int, *, lock: bool = False) -> Prescription:
        """The prescription; ``lock`` serialises two pharmacists dispensing it at once."""
        found = self.session.get(Prescription, prescription_id, with_for_update=lock)
        if found is None:
            raise NotFoundError(f"No prescription with id {prescription_id}.")
        if lock:
            self.session.refresh(found)
        return found

    def prescription_items(self, prescription_id: int) -> list[tuple[PrescriptionItem, Drug]]:
        return [
            (i, d)
            for i, d in self.session.execute(
                select(PrescriptionItem, Drug)
                .join(Drug, Drug.id == PrescriptionItem.drug_id)
                .where(PrescriptionItem.prescription_id == prescription_id)
                .order_by(PrescriptionItem.line_no)
            )
        ]

    def prescription_item(self, item_id: int) -> tuple[PrescriptionItem, Drug]:
        row = self.session.execute(
            select(PrescriptionItem, Drug)
            .join(Drug, Drug.id == PrescriptionItem.drug_id)
            .where(PrescriptionItem.id == item_id)
        ).first()
        if row is None:
            raise NotFoundError(f"No prescription item with id {item_id}.")
        return row[0], row[1]

    def dispensed_totals(self, prescription_item_ids: Iterable[int]) -> dict[int, Decimal]:
        wanted = list(set(prescription_item_ids))
        if not wanted:
            return {}
        rows = self.session.execute(
            select(DispenseLine.prescription_item_id, func.sum(DispenseLine.quantity))
            .where(DispenseLine.prescription_item_id.in_(wanted))
            .group_by(DispenseLine.prescription_item_id)
        )
        totals = {i: Decimal(0) for i in wanted}
        totals.update({pid: qty for pid, qty in rows})
        return totals

    def prescriber_overrode(self, prescription_id: int) -> list[str]:
        """Conflict types the prescriber already overrode when prescribing."""
        types: set[str] = set()
        for conflicts in self.session.scalars(
            select(PrescriptionOverride.conflicts).where(
                PrescriptionOverride.prescription_id == prescription_id
            )
        ):
            types |= {str(c.get("type")) for c in conflicts}
        return sorted(types)

    def send_back(self, prescription_id: int) -> PrescriptionSendBack | None:
        return self.session.get(PrescriptionSendBack, prescription_id)

    def patient(self, patient_id: int) -> Patient:
        found = self.session.get(Patient, patient_id)
        if found is None:
            raise NotFoundError(f"No patient with id {patient_id}.")
        return found

    def user_name(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        return self.session.scalar(select(User.full_name).where(User.id == user_id))

    # -- dispenses -------------------------------------------------------------------------
    def dispense(self, dispense_id: int) -> Dispense:
        found = self.session.get(Dispense, dispense_id)
        if found is None:
            raise NotFoundError(f"No dispense with id {dispense_id}.")
        return found

    def dispenses_of(self, prescription_id: int) -> list[Dispense]:
        return list(
            self.session.scalars(
                select(Dispense)
                .where(Dispense.prescription_id == prescription_id)
                .order_by(Dispense.id)
            )
        )

    def lines_of(self, dispense_id: int) -> list[tuple[DispenseLine, StockBatch, StockItem]]:
        return [
            (line, batch, item)
            for line, batch, item in self.session.execute(
                select(DispenseLine, StockBatch, StockItem)
                .join(StockBatch, StockBatch.id == DispenseLine.batch_id)
                .join(StockItem, StockItem.id == DispenseLine.item_id)
                .where(DispenseLine.dispense_id == dispense_id)
                .order_by(DispenseLine.id)
            )
        ]

    def line(self, line_id: int, *, lock: bool = False) -> DispenseLine:
        found = self.session.get(DispenseLine, line_id, with_for_update=lock)
        if found is None:
            raise NotFoundError(f"No dispense line with id {line_id}.")
        if lock:
            self.session.refresh(found)
        return found

    def dispensed_lines(
        self, *, patient_id: int | None = None, line_id: int | None = None, limit: int = 1000
    ) -> list[DispensedLineRow]:
        """Dispensed lines of a patient (or one by id), oldest first."""
        query = (
            select(
                DispenseLine, Dispense, Prescription, StockBatch, StockItem, Drug, User.full_name
            )
            .join(Dispense, Dispense.id == DispenseLine.dispense_id)
            .join(Prescription, Prescription.id == Dispense.prescription_id)
            .join(StockBatch, StockBatch.id == DispenseLine.batch_id)
            .join(StockItem, StockItem.id == DispenseLine.item_id)
            .outerjoin(Drug, Drug.id == StockItem.drug_id)
            .outerjoin(User, User.id == Dispense.pharmacist_user_id)
        )
        if patient_id is not None:
            query = query.where(Prescription.patient_id == patient_id)
        if line_id is not None:
            query = query.where(DispenseLine.id == line_id)
        rows = self.session.execute(
            query.order_by(Dispense.dispensed_at, DispenseLine.id).limit(limit)
        ).all()
        return [DispensedLineRow(*row) for row in rows]

    # -- requisitions ----------------------------------------------------------------------
    def requisition(self, requisition_id: int, *, lock: bool = False) -> Requisition:
        found = self.session.get(Requisition, requisition_id, with_for_update=lock)
        if found is None:
            raise NotFoundError(f"No requisition with id {requisition_id}.")
        return found

    def requisitions(
        self,
        *,
        ward_location_id: int | None,
        source_location_id: int | None,
        status: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Requisition], int]:
        query = select(Requisition)
        if ward_location_id is not None:
            query = query.where(Requisition.ward_location_id == ward_location_id)
        if source_location_id is not None:
            query = query.where(Requisition.source_location_id == source_location_id)
        if status:
            query = query.where(Requisition.status == status)
        return self.page(query, [Requisition.id.desc()], limit, offset)

    def requisition_sheet(self, requisition_id: int) -> list[tuple[RequisitionLine, StockItem]]:
        return [
            (ln, item)
            for ln, item in self.session.execute(
                select(RequisitionLine, StockItem)
                .join(StockItem, StockItem.id == RequisitionLine.item_id)
                .where(RequisitionLine.requisition_id == requisition_id)
                .order_by(RequisitionLine.id)
            )
        ]

    def location_names(self, ids: Iterable[int]) -> dict[int, str]:
        return dict(
            self.session.execute(
                select(StockLocation.id, StockLocation.name).where(
                    StockLocation.id.in_(list(set(ids)))
                )
            ).all()
        )

    def requisition_lines(self, requisition_id: int) -> list[RequisitionLine]:
        return list(
            self.session.scalars(
                select(RequisitionLine)
                .where(RequisitionLine.requisition_id == requisition_id)
                .order_by(RequisitionLine.id)
            )
        )
