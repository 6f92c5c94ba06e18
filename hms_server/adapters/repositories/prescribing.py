"""Prescribing: the formulary, the interaction table, prescriptions, their items and safety
overrides, and a patient's active medications."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, and_, cast, func, literal, or_, select, text

from hms_server.adapters.orm.clinical import Allergy, Encounter
from hms_server.adapters.orm.prescribing import (
    PRESCRIPTION_NUMBER_SEQUENCE,
    Drug,
    DrugInteraction,
    Prescription,
    PrescriptionItem,
    PrescriptionOverride,
)
from hms_server.adapters.orm.scheduling import Doctor
from hms_server.adapters.repositories import Repository
from hms_server.domain.patients import like_escape


def _active_item_filter() -> Any:
    # Active = not cancelled/completed and still within its duration.
    return and_(
        Prescription.status == "active",
        or_(
            PrescriptionItem.duration_days.is_(None),
            Prescription.created_at + func.make_interval(0, 0, 0, PrescriptionItem.duration_days)
            > func.now(),
        ),
    )


class PrescribingRepository(Repository):
    # --- formulary -----------------------------------------------------------------------------
    def search_formulary(self, *, q: str | None, limit: int, offset: int) -> tuple[list[Drug], int]:
        """Active drugs whose name, ingredient, other common name (synonym), brand name,
        class or ATC code contains ``q``; names that start with ``q`` first (a generic name,
        then a synonym or brand)."""
        query = select(Drug).where(Drug.active.is_(True))
        if q and q.strip():
            needle = like_escape(q.strip().lower())
            pattern = f"%{needle}%"
            other_names = func.lower(
                func.array_to_string(func.array_cat(Drug.synonyms, Drug.brand_names), "|")
            )
            query = query.where(
                or_(
                    func.lower(Drug.generic_name).like(pattern, escape="\\"),
                    func.lower(func.array_to_string(Drug.ingredients, " ")).like(
                        pattern, escape="\\"
                    ),
                    other_names.like(pattern, escape="\\"),
                    func.lower(func.coalesce(Drug.class_name, "")).like(pattern, escape="\\"),
                    func.lower(func.coalesce(Drug.atc_code, "")).like(pattern, escape="\\"),
                )
            )
            starts = func.lower(Drug.generic_name).like(f"{needle}%", escape="\\")
            other_starts = func.concat("|", other_names).like(f"%|{needle}%", escape="\\")
            order = [starts.desc(), other_starts.desc(), Drug.generic_name, Drug.id]
        else:
            order = [Drug.generic_name, Drug.id]
        return self.page(query, order, limit, offset)

    def drug(self, drug_id: int) -> Drug | None:
        return self.session.get(Drug, drug_id)

    def drugs(self, ids: Iterable[int]) -> dict[int, Drug]:
        return {d.id: d for d in self.session.scalars(select(Drug).where(Drug.id.in_(set(ids))))}

    def prescriber_registration(self, user_id: int) -> str | None:
        """The prescriber's professional registration number (their doctor record), for the
        printed prescription."""
        return self.session.scalar(
            select(Doctor.registration_number).where(Doctor.user_id == user_id)
        )

    def encounter(self, encounter_id: int | None) -> Encounter | None:
        return self.session.get(Encounter, encounter_id) if encounter_id else None

    def interaction_rules(self) -> list[DrugInteraction]:
        """The interaction table in file order (the ONC list's rules first)."""
        return list(self.session.scalars(select(DrugInteraction).order_by(DrugInteraction.id)))

    def active_allergies(self, patient_id: int) -> list[Allergy]:
        return list(
            self.session.scalars(
                select(Allergy).where(Allergy.patient_id == patient_id, Allergy.status == "active")
            )
        )

    # --- prescriptions ---------------------------------------------------------------------------
    def lock_patient_prescribing(self, patient_id: int) -> None:
        """Serialise prescribing per patient so two concurrent prescriptions cannot each miss
        the interaction with the other."""
        self.session.execute(
            text("SELECT pg_advisory_xact_lock(4004, CAST(:p AS integer))"),
            {"p": patient_id % 2_000_000_000},
        )

    def next_number(self) -> str:
        number = self.session.scalar(
            select(
                literal("RX")
                + func.lpad(cast(PRESCRIPTION_NUMBER_SEQUENCE.next_value(), String), 8, "0")
            )
        )
        assert number is not None
        return str(number)

    def prescription(self, prescription_id: int, *, lock: bool = False) -> Prescription | None:
        return self.session.get(Prescription, prescription_id, with_for_update=lock)

    def prescription_of_item(self, item_id: int) -> int | None:
        return self.session.scalar(
            select(PrescriptionItem.prescription_id).where(PrescriptionItem.id == item_id)
        )

    def items_with_drugs(self, prescription_id: int) -> list[tuple[PrescriptionItem, Drug]]:
        return [
            (i, d)
            for i, d in self.session.execute(
                select(PrescriptionItem, Drug)
                .join(Drug, Drug.id == PrescriptionItem.drug_id)
                .where(PrescriptionItem.prescription_id == prescription_id)
                .order_by(PrescriptionItem.line_no)
            )
        ]

    def overrides(self, prescription_id: int) -> list[PrescriptionOverride]:
        return list(
            self.session.scalars(
                select(PrescriptionOverride).where(
                    PrescriptionOverride.prescription_id == prescription_id
                )
            )
        )

    def prescriptions(
        self, patient_id: int, *, status: str | None, limit: int, offset: int
    ) -> tuple[list[Prescription], int]:
        query = select(Prescription).where(Prescription.patient_id == patient_id)
        if status:
            query = query.where(Prescription.status == status)
        return self.page(
            query, [Prescription.created_at.desc(), Prescription.id.desc()], limit, offset
        )

    def active_medications(
        self,
        patient_id: int,
        *,
        exclude_prescription_id: int | None = None,
    ) -> list[tuple[PrescriptionItem, Drug, Prescription]]:
        """Items of active prescriptions still within their duration, newest first (without
        ``exclude_prescription_id``: dispensing re-checks a prescription against the others)."""
        query = (
            select(PrescriptionItem, Drug, Prescription)
            .join(Prescription, Prescription.id == PrescriptionItem.prescription_id)
            .join(Drug, Drug.id == PrescriptionItem.drug_id)
            .where(Prescription.patient_id == patient_id, _active_item_filter())
        )
        if exclude_prescription_id is not None:
            query = query.where(Prescription.id != exclude_prescription_id)
        return [
            (i, d, p)
            for i, d, p in self.session.execute(
                query.order_by(Prescription.created_at.desc(), PrescriptionItem.line_no)
            )
        ]
